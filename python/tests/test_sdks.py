"""The fixture with the clouds' official Python SDKs: each SDK, pointed at the emulator,
changes the state that the admin API then shows."""

import logging

import pytest

from conftest import cvm_call

OWNER, PEER = "100000000001", "100000000002"


def test_tencent_cvm_share_shows_in_state_and_calls(imageshare_emulator, tencent_cvm):
    emu = imageshare_emulator
    cvm = tencent_cvm(emu, OWNER)
    cvm_call(cvm, "ModifyImageSharePermission",
             {"ImageId": "img-6pb6lrmy", "AccountIds": [PEER], "Permission": "SHARE"})
    assert emu.image("img-6pb6lrmy")["shared_with"] == [PEER]
    [call] = emu.calls(provider="tencent-cvm", action="ModifyImageSharePermission")
    assert call["caller"] == OWNER and call["outcome"] == "ok" and call["request_id"]
    answer = cvm_call(cvm, "DescribeImageSharePermission", {"ImageId": "img-6pb6lrmy"})
    assert [s["AccountId"] for s in answer["SharePermissionSet"]] == [PEER]


def test_alibaba_ecs_tea_sdk(imageshare_emulator):
    pytest.importorskip("alibabacloud_ecs20140526")
    from alibabacloud_ecs20140526 import models
    from alibabacloud_ecs20140526.client import Client
    from alibabacloud_tea_openapi import utils_models

    emu = imageshare_emulator
    key = emu.accounts[OWNER].alibaba
    ecs = Client(utils_models.Config(access_key_id=key.access_key_id,
                                     access_key_secret=key.access_key_secret,
                                     region_id="cn-hangzhou", endpoint=emu.host,
                                     protocol="http"))
    ecs.modify_image_share_permission(models.ModifyImageSharePermissionRequest(
        region_id="cn-hangzhou", image_id="m-bp18ygjuqnwhechc", add_account=[PEER]))
    assert emu.image("m-bp18ygjuqnwhechc")["shared_with"] == [PEER]
    images = ecs.describe_images(models.DescribeImagesRequest(
        region_id="cn-hangzhou", image_id="m-bp18ygjuqnwhechc")).body.images.image
    assert [i.image_id for i in images] == ["m-bp18ygjuqnwhechc"]
    assert [c["action"] for c in emu.calls(provider="alibaba-ecs")] == [
        "ModifyImageSharePermission", "DescribeImages"]


def test_ucloud_sdk(imageshare_emulator):
    pytest.importorskip("ucloud.client")
    from ucloud.client import Client

    emu = imageshare_emulator
    account = emu.accounts[OWNER]
    client = Client({"base_url": emu.base_url, "public_key": account.ucloud.public_key,
                     "private_key": account.ucloud.private_key,
                     "project_id": account.projects[0], "region": "cn-bj2",
                     "max_retries": 0, "timeout": 10, "log_level": logging.WARNING})
    answer = client.uhost().describe_image({"ImageId": "uimage-golden01"})
    assert [i["ImageId"] for i in answer["ImageSet"]] == ["uimage-golden01"]
    [call] = emu.calls(provider="ucloud")
    assert call["action"] == "DescribeImage" and call["caller"] == OWNER


def test_faults_then_reset(imageshare_emulator, tencent_cvm):
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
        TencentCloudSDKException,
    )

    emu = imageshare_emulator
    cvm = tencent_cvm(emu, OWNER)
    emu.set_faults([{"provider": "tencent-cvm", "action": "DescribeImages", "throttle_rate": 1.0}],
                   seed=7)
    with pytest.raises(TencentCloudSDKException) as err:
        cvm_call(cvm, "DescribeImages", {"ImageIds": ["img-6pb6lrmy"]})
    assert err.value.get_code() == "RequestLimitExceeded"
    assert [f["kind"] for f in emu.faults()["served"]] == ["throttle"]
    cvm_call(cvm, "ModifyImageSharePermission",
             {"ImageId": "img-6pb6lrmy", "AccountIds": [PEER], "Permission": "SHARE"})
    emu.reset()
    assert emu.image("img-6pb6lrmy")["shared_with"] == []
    assert emu.calls() == [] and emu.faults()["served"] == []
    answer = cvm_call(cvm, "DescribeImages", {"ImageIds": ["img-6pb6lrmy"]})
    assert answer["TotalCount"] == 1
