#!/usr/bin/env python3
"""Interop check: Alibaba Cloud's own Python SDKs, unchanged, against the imageshare emulator.

Usage:
    interop.py BASE_URL OWNER_KEY_ID OWNER_SECRET [--image ID] [--peer ACCOUNT]
               [--quota-image ID] [--extra ACCOUNT] [--sas-image ID] [--region REGION]
               [--peer-key KEY_ID:SECRET]

The emulator at BASE_URL (http://127.0.0.1:PORT) must hold, in REGION:
  * ECS image --image owned by the owner, not shared;
  * ECS image --quota-image owned by the owner and already shared with 50 accounts;
  * SAS image --sas-image owned by the owner, not shared;
  * account --peer (same site as the owner) and account --extra (not a sharee yet);
  * with --peer-key (the peer's key): the owner has signed the community-image terms.

It runs, with each SDK pointed at the emulator over http:
  * alibabacloud-ecs20140526 (Tea, ACS3-HMAC-SHA256 by default): DescribeImages,
    ModifyImageSharePermission (share, unshare), DescribeImageSharePermission; a bad
    secret (SignatureDoesNotMatch), a replayed nonce (SignatureNonceUsed), an over-quota
    share (QuotaExceed.ShareImageUser);
  * the same client with signature_algorithm='v2' (RPC signature v1 over the Tea stack);
  * alibabacloud-swas-open20200601 (Tea, ACS3): ListCustomImages,
    AddCustomImageShareAccount, ListCustomImageShareAccounts, RemoveCustomImageShareAccount;
  * aliyun-python-sdk-core + aliyun-python-sdk-ecs (legacy, RPC signature v1 HMAC-SHA1):
    DescribeImages, ModifyImageSharePermission, DescribeImageSharePermission, bad secret;
  * with --peer-key, community images: the owner publishes --image (ModifyImageSharePermission
    IsPublic=true; Tea ACS3, then the legacy SDK), the peer finds it with DescribeImages
    ImageOwnerAlias=others IsPublic=true (Tea V2) and not among its shared images, the
    owner's DescribeImageSharePermission has ShareGroup "all"; then it is unpublished
    (IsPublic=false), and unpublishing again gives Image.NotPublic.

Prints one line per check and exits non-zero on the first mismatch.
"""

import argparse
import json
import sys
import urllib.parse

CHECKS = []


def check(name, cond, detail=""):
    CHECKS.append(name)
    if not cond:
        print(f"FAIL {name}: {detail}", flush=True)
        sys.exit(1)
    print(f"ok   {name}", flush=True)


def error_code(exc):
    """The Alibaba error code carried by an SDK exception (Tea or legacy core)."""
    for attr in ("code",):
        v = getattr(exc, attr, None)
        if isinstance(v, str) and v:
            return v
    getter = getattr(exc, "get_error_code", None)
    if getter:
        return getter()
    inner = getattr(exc, "inner_exception", None) or getattr(getattr(exc, "retries_context", None), "exception", None)
    if inner is not None and inner is not exc:
        return error_code(inner)
    return f"<no code: {type(exc).__name__}: {exc}>"


def expect_error(name, fn, code):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - any SDK exception carries the code
        got = error_code(e)
        check(name, got == code, f"expected {code}, got {got}")
        return
    check(name, False, f"expected {code}, the call succeeded")


def tea_config(host, key_id, secret, region, algorithm=None):
    from alibabacloud_tea_openapi import utils_models

    cfg = utils_models.Config(
        access_key_id=key_id,
        access_key_secret=secret,
        region_id=region,
        endpoint=host,
        protocol="http",
    )
    if algorithm:
        cfg.signature_algorithm = algorithm
    return cfg


def ecs_tea(args, host, label, algorithm=None):
    from alibabacloud_ecs20140526 import models as ecs_models
    from alibabacloud_ecs20140526.client import Client as EcsClient

    client = EcsClient(tea_config(host, args.key_id, args.secret, args.region, algorithm))

    resp = client.describe_images(ecs_models.DescribeImagesRequest(region_id=args.region, image_id=args.image))
    images = resp.body.images.image
    check(f"{label}: DescribeImages finds the image", len(images) == 1 and images[0].image_id == args.image,
          json.dumps(resp.body.to_map()))
    check(f"{label}: DescribeImages reports it as own", images[0].image_owner_alias == "self")
    check(f"{label}: DescribeImages has a RequestId", bool(resp.body.request_id))
    disks = images[0].disk_device_mappings.disk_device_mapping
    check(f"{label}: DescribeImages has the disk mappings", len(disks) >= 1 and disks[0].type == "system")

    client.modify_image_share_permission(ecs_models.ModifyImageSharePermissionRequest(
        region_id=args.region, image_id=args.image, add_account=[args.peer]))
    perm = client.describe_image_share_permission(ecs_models.DescribeImageSharePermissionRequest(
        region_id=args.region, image_id=args.image, page_size=10, page_number=1)).body
    ids = [a.aliyun_id for a in perm.accounts.account]
    check(f"{label}: share then list sharees", ids == [args.peer], json.dumps(perm.to_map()))
    check(f"{label}: sharee has SharedTime", bool(perm.accounts.account[0].shared_time))
    check(f"{label}: TotalCount", perm.total_count == 1)

    client.modify_image_share_permission(ecs_models.ModifyImageSharePermissionRequest(
        region_id=args.region, image_id=args.image, remove_account=[args.peer]))
    perm = client.describe_image_share_permission(ecs_models.DescribeImageSharePermissionRequest(
        region_id=args.region, image_id=args.image)).body
    check(f"{label}: unshare", perm.total_count == 0 and perm.accounts.account == [], json.dumps(perm.to_map()))

    bad = EcsClient(tea_config(host, args.key_id, "not-the-secret", args.region, algorithm))
    expect_error(f"{label}: bad secret gives SignatureDoesNotMatch",
                 lambda: bad.describe_images(ecs_models.DescribeImagesRequest(region_id=args.region)),
                 "SignatureDoesNotMatch")

    expect_error(f"{label}: over-quota share gives QuotaExceed.ShareImageUser",
                 lambda: client.modify_image_share_permission(ecs_models.ModifyImageSharePermissionRequest(
                     region_id=args.region, image_id=args.quota_image, add_account=[args.extra])),
                 "QuotaExceed.ShareImageUser")

    expect_error(f"{label}: unknown image gives InvalidImageId.NotFound",
                 lambda: client.describe_image_share_permission(ecs_models.DescribeImageSharePermissionRequest(
                     region_id=args.region, image_id="m-doesnotexist")),
                 "InvalidImageId.NotFound")

    # A replayed nonce: make the SDK's nonce generator return the same value twice.
    from alibabacloud_tea_openapi import utils as tea_utils

    original = tea_utils.Utils.get_nonce
    fixed = original()
    tea_utils.Utils.get_nonce = staticmethod(lambda: fixed)
    try:
        client.describe_images(ecs_models.DescribeImagesRequest(region_id=args.region))
        expect_error(f"{label}: replayed nonce gives SignatureNonceUsed",
                     lambda: client.describe_images(ecs_models.DescribeImagesRequest(region_id=args.region)),
                     "SignatureNonceUsed")
    finally:
        tea_utils.Utils.get_nonce = original


def swas_tea(args, host):
    from alibabacloud_swas_open20200601 import models as swas_models
    from alibabacloud_swas_open20200601.client import Client as SwasClient

    label = "swas-open tea ACS3"
    client = SwasClient(tea_config(host, args.key_id, args.secret, args.region))
    resp = client.list_custom_images(swas_models.ListCustomImagesRequest(
        region_id=args.region, image_ids=json.dumps([args.sas_image])))
    imgs = resp.body.custom_images
    check(f"{label}: ListCustomImages finds the image", len(imgs) == 1 and imgs[0].image_id == args.sas_image,
          json.dumps(resp.body.to_map()))
    check(f"{label}: ListCustomImages status available", str(imgs[0].status) == "1")

    client.add_custom_image_share_account(swas_models.AddCustomImageShareAccountRequest(
        region_id=args.region, image_id=args.sas_image, account=[int(args.peer)]))
    resp = client.list_custom_image_share_accounts(swas_models.ListCustomImageShareAccountsRequest(
        region_id=args.region, image_id=args.sas_image, page_number=1, page_size=10))
    users = [str(u.user_id) for u in resp.body.image_share_users]
    check(f"{label}: share then list sharees", users == [args.peer], json.dumps(resp.body.to_map()))

    expect_error(f"{label}: delete while shared gives CustomImageInShare",
                 lambda: client.delete_custom_image(swas_models.DeleteCustomImageRequest(
                     region_id=args.region, image_id=args.sas_image)),
                 "CustomImageInShare")

    client.remove_custom_image_share_account(swas_models.RemoveCustomImageShareAccountRequest(
        region_id=args.region, image_id=args.sas_image, account=[int(args.peer)]))
    resp = client.list_custom_image_share_accounts(swas_models.ListCustomImageShareAccountsRequest(
        region_id=args.region, image_id=args.sas_image))
    check(f"{label}: unshare", resp.body.total_count == 0 and not resp.body.image_share_users,
          json.dumps(resp.body.to_map()))

    bad = SwasClient(tea_config(host, args.key_id, "not-the-secret", args.region))
    expect_error(f"{label}: bad secret gives SignatureDoesNotMatch",
                 lambda: bad.list_custom_images(swas_models.ListCustomImagesRequest(region_id=args.region)),
                 "SignatureDoesNotMatch")


def ecs_legacy(args, host):
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkecs.request.v20140526.DescribeImageSharePermissionRequest import DescribeImageSharePermissionRequest
    from aliyunsdkecs.request.v20140526.DescribeImagesRequest import DescribeImagesRequest
    from aliyunsdkecs.request.v20140526.ModifyImageSharePermissionRequest import ModifyImageSharePermissionRequest

    label = "ecs legacy core RPC v1"

    def prepare(req):
        req.set_endpoint(host)
        req.set_protocol_type("http")
        req.set_accept_format("json")
        return req

    client = AcsClient(args.key_id, args.secret, args.region, auto_retry=False)
    req = prepare(DescribeImagesRequest())
    req.set_ImageId(args.image)
    body = json.loads(client.do_action_with_exception(req))
    check(f"{label}: DescribeImages", body["TotalCount"] == 1 and body["Images"]["Image"][0]["ImageId"] == args.image,
          json.dumps(body))

    req = prepare(ModifyImageSharePermissionRequest())
    req.set_ImageId(args.image)
    req.set_AddAccounts([args.peer])
    client.do_action_with_exception(req)
    req = prepare(DescribeImageSharePermissionRequest())
    req.set_ImageId(args.image)
    body = json.loads(client.do_action_with_exception(req))
    check(f"{label}: share then list sharees", [a["AliyunId"] for a in body["Accounts"]["Account"]] == [args.peer],
          json.dumps(body))

    req = prepare(ModifyImageSharePermissionRequest())
    req.set_ImageId(args.image)
    req.set_RemoveAccounts([args.peer])
    client.do_action_with_exception(req)
    req = prepare(DescribeImageSharePermissionRequest())
    req.set_ImageId(args.image)
    body = json.loads(client.do_action_with_exception(req))
    check(f"{label}: unshare", body["TotalCount"] == 0, json.dumps(body))

    req = prepare(ModifyImageSharePermissionRequest())
    req.set_ImageId(args.quota_image)
    req.set_AddAccounts([args.extra])
    try:
        client.do_action_with_exception(req)
        check(f"{label}: over-quota share gives QuotaExceed.ShareImageUser", False, "the call succeeded")
    except ServerException as e:
        check(f"{label}: over-quota share gives QuotaExceed.ShareImageUser",
              e.get_error_code() == "QuotaExceed.ShareImageUser" and e.get_http_status() == 403,
              f"{e.get_http_status()} {e.get_error_code()} {e.get_error_msg()}")

    # A replayed nonce: make the SDK's nonce generator return the same value twice.
    from aliyunsdkcore.utils import parameter_helper

    original = parameter_helper.get_uuid
    fixed = original()
    parameter_helper.get_uuid = lambda: fixed
    try:
        client.do_action_with_exception(prepare(DescribeImagesRequest()))
        try:
            client.do_action_with_exception(prepare(DescribeImagesRequest()))
            check(f"{label}: replayed nonce gives SignatureNonceUsed", False, "the call succeeded")
        except ServerException as e:
            check(f"{label}: replayed nonce gives SignatureNonceUsed", e.get_error_code() == "SignatureNonceUsed",
                  f"{e.get_http_status()} {e.get_error_code()} {e.get_error_msg()}")
    finally:
        parameter_helper.get_uuid = original

    bad = AcsClient(args.key_id, "not-the-secret", args.region, auto_retry=False)
    try:
        bad.do_action_with_exception(prepare(DescribeImagesRequest()))
        check(f"{label}: bad secret gives SignatureDoesNotMatch", False, "the call succeeded")
    except ServerException as e:
        check(f"{label}: bad secret gives SignatureDoesNotMatch", e.get_error_code() == "SignatureDoesNotMatch",
              f"{e.get_http_status()} {e.get_error_code()} {e.get_error_msg()}")
        check(f"{label}: bad secret is HTTP 403", e.get_http_status() == 403, str(e.get_http_status()))


def ecs_community(args, host):
    from alibabacloud_ecs20140526 import models as ecs_models
    from alibabacloud_ecs20140526.client import Client as EcsClient
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkecs.request.v20140526.ModifyImageSharePermissionRequest import ModifyImageSharePermissionRequest

    label = "ecs community images"
    peer_id, peer_secret = args.peer_key.split(":", 1)
    owner = EcsClient(tea_config(host, args.key_id, args.secret, args.region))
    peer = EcsClient(tea_config(host, peer_id, peer_secret, args.region, "v2"))

    def set_public(public):
        owner.modify_image_share_permission(ecs_models.ModifyImageSharePermissionRequest(
            region_id=args.region, image_id=args.image, is_public=public))

    def community():
        return peer.describe_images(ecs_models.DescribeImagesRequest(
            region_id=args.region, image_owner_alias="others", is_public=True)).body.images.image

    def groups():
        perm = owner.describe_image_share_permission(ecs_models.DescribeImageSharePermissionRequest(
            region_id=args.region, image_id=args.image)).body
        return [g.group for g in perm.share_groups.share_group]

    set_public(True)
    found = community()
    check(f"{label}: the peer finds the published image",
          [i.image_id for i in found] == [args.image], json.dumps([i.to_map() for i in found]))
    check(f"{label}: IsPublic and ImageOwnerAlias", found[0].is_public is True and found[0].image_owner_alias == "others",
          json.dumps(found[0].to_map()))
    shared = peer.describe_images(ecs_models.DescribeImagesRequest(
        region_id=args.region, image_owner_alias="others", is_public=False)).body.images.image
    check(f"{label}: not among the peer's shared images", all(i.image_id != args.image for i in shared))
    check(f"{label}: ShareGroup all", groups() == ["all"], str(groups()))

    set_public(False)
    check(f"{label}: unpublished, the peer no longer finds it", community() == [])
    check(f"{label}: no ShareGroup once unpublished", groups() == [], str(groups()))
    expect_error(f"{label}: unpublishing again gives Image.NotPublic", lambda: set_public(False), "Image.NotPublic")

    # The legacy SDK publishes and unpublishes too (its booleans go as True / False).
    legacy = AcsClient(args.key_id, args.secret, args.region, auto_retry=False)
    for public in (True, False):
        req = ModifyImageSharePermissionRequest()
        req.set_endpoint(host)
        req.set_protocol_type("http")
        req.set_accept_format("json")
        req.set_ImageId(args.image)
        req.set_IsPublic(public)
        legacy.do_action_with_exception(req)
        got = [i.image_id for i in community()]
        check(f"{label}: legacy SDK IsPublic={public}", got == ([args.image] if public else []), str(got))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("base_url")
    p.add_argument("key_id")
    p.add_argument("secret")
    p.add_argument("--region", default="cn-hangzhou")
    p.add_argument("--image", default="m-interop0001")
    p.add_argument("--quota-image", default="m-interopfull")
    p.add_argument("--sas-image", default="m-interopsas1")
    p.add_argument("--peer", default="100000000002")
    p.add_argument("--extra", default="100000000002")
    p.add_argument("--peer-key", default=None)
    args = p.parse_args()
    parsed = urllib.parse.urlparse(args.base_url)
    if parsed.scheme != "http" or not parsed.netloc:
        print(f"BASE_URL must be http://host:port, got {args.base_url!r}")
        return 2
    host = parsed.netloc

    ecs_tea(args, host, "ecs tea ACS3")
    ecs_tea(args, host, "ecs tea V2", algorithm="v2")
    swas_tea(args, host)
    ecs_legacy(args, host)
    if args.peer_key:
        ecs_community(args, host)
    print(f"{len(CHECKS)} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
