#!/usr/bin/env python3
"""Interop check: Alibaba Cloud's official Resource Sharing SDK
(alibabacloud-resourcesharing20200110) and ECS SDK (alibabacloud-ecs20140526), unchanged,
against the imageshare emulator's Resource Sharing and resource directory.

Usage (tests/interop_alibaba.rs runs it against an in-process emulator whose world has a
resource directory with folder FOLDER holding MEMBER, and OTHER outside that folder):

    resource_sharing.py BASE_URL --owner KEY_ID:SECRET --member KEY_ID:SECRET
                        --other KEY_ID:SECRET --folder fd-... --image m-...
                        [--region cn-hangzhou]

Per signature version (ACS3, the SDK's default, and V2 = RPC v1): CreateResourceShare with
the image and the folder; ListResourceShares (Self) finds it by name;
ListResourceShareAssociations lists the folder `Associated` and the image; the member (and
not the other account) sees the image with ECS DescribeImages ImageOwnerAlias=others; six
targets in one call are refused with InvalidParameter.Targets.Length; a target outside the
directory with AccountNotInResourceDirectory; DisassociateResourceShare removes the folder
and the member no longer sees the image.
"""

import argparse
import sys
from urllib.parse import urlparse

from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_resourcesharing20200110 import models as rs
from alibabacloud_resourcesharing20200110.client import Client as RsClient
from alibabacloud_tea_openapi import models as open_api_models
from Tea.exceptions import TeaException


class Mismatch(Exception):
    """The emulator answered something the real cloud would not."""


def check(cond, what):
    if not cond:
        raise Mismatch(what)


def step(what):
    print(f"ok: {what}", flush=True)


def config(endpoint, region, key, signature_version):
    key_id, secret = key.split(":", 1)
    cfg = open_api_models.Config(
        access_key_id=key_id,
        access_key_secret=secret,
        protocol="http",
        endpoint=endpoint,
        region_id=region,
    )
    if signature_version:
        cfg.signature_version = signature_version
    return cfg


def sees(ecs, region, image):
    resp = ecs.describe_images(
        ecs_models.DescribeImagesRequest(region_id=region, image_owner_alias="others", page_size=100)
    )
    return any(i.image_id == image for i in resp.body.images.image)


def refused(call, code):
    try:
        call()
    except TeaException as e:
        check(e.code == code, f"expected {code}, got {e.code}: {e.message}")
        return
    raise Mismatch(f"expected {code}, the call succeeded")


def run(a, endpoint, version):
    label = version or "acs3"
    owner = RsClient(config(endpoint, a.region, a.owner, version))
    member_ecs = EcsClient(config(endpoint, a.region, a.member, version))
    other_ecs = EcsClient(config(endpoint, a.region, a.other, version))
    name = f"interop-{label}"

    check(not sees(member_ecs, a.region, a.image), "the member does not see the image before the share")
    created = owner.create_resource_share(
        rs.CreateResourceShareRequest(
            resource_share_name=name,
            resources=[rs.CreateResourceShareRequestResources(resource_id=a.image, resource_type="Image")],
            targets=[a.folder],
        )
    ).body.resource_share
    check(created.resource_share_id.startswith("rs-"), f"ResourceShareId {created.resource_share_id}")
    check(created.resource_share_name == name, "ResourceShareName echoed")
    check(created.resource_share_status == "Active", f"status {created.resource_share_status}")
    check(created.create_time.endswith("Z"), f"CreateTime {created.create_time} is UTC")
    share_id = created.resource_share_id
    step(f"CreateResourceShare ({label}) -> {share_id}")

    found = owner.list_resource_shares(
        rs.ListResourceSharesRequest(resource_owner="Self", resource_share_name=name)
    ).body.resource_shares
    check([s.resource_share_id for s in found] == [share_id], "ListResourceShares finds the share by name")
    step(f"ListResourceShares Self ({label})")

    targets = owner.list_resource_share_associations(
        rs.ListResourceShareAssociationsRequest(association_type="Target", resource_share_ids=[share_id])
    ).body.resource_share_associations
    check(
        [(t.entity_id, t.association_status, t.external) for t in targets] == [(a.folder, "Associated", False)],
        f"target associations: {[(t.entity_id, t.association_status) for t in targets]}",
    )
    resources = owner.list_resource_share_associations(
        rs.ListResourceShareAssociationsRequest(association_type="Resource", resource_share_ids=[share_id])
    ).body.resource_share_associations
    check(
        [(r.entity_id, r.entity_type) for r in resources] == [(a.image, "Image")],
        "the resource association is the image",
    )
    step(f"ListResourceShareAssociations Target and Resource ({label})")

    check(sees(member_ecs, a.region, a.image), "the member in the folder sees the image (DescribeImages others)")
    check(not sees(other_ecs, a.region, a.image), "an account outside the folder does not see it")
    step(f"ECS DescribeImages ImageOwnerAlias=others as member / non-member ({label})")

    refused(
        lambda: owner.associate_resource_share(
            rs.AssociateResourceShareRequest(
                resource_share_id=share_id,
                targets=[f"fd-Many{i}" for i in range(6)],
            )
        ),
        "InvalidParameter.Targets.Length",
    )
    refused(
        lambda: owner.associate_resource_share(
            rs.AssociateResourceShareRequest(resource_share_id=share_id, targets=["100000000777"])
        ),
        "AccountNotInResourceDirectory",
    )
    step(f"AssociateResourceShare refusals ({label})")

    owner.disassociate_resource_share(
        rs.DisassociateResourceShareRequest(resource_share_id=share_id, targets=[a.folder])
    )
    check(not sees(member_ecs, a.region, a.image), "after DisassociateResourceShare the member no longer sees it")
    refused(
        lambda: owner.disassociate_resource_share(
            rs.DisassociateResourceShareRequest(resource_share_id=share_id, targets=[a.folder])
        ),
        "DisassociateInvalid",
    )
    step(f"DisassociateResourceShare ({label})")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("base_url")
    p.add_argument("--owner", required=True)
    p.add_argument("--member", required=True)
    p.add_argument("--other", required=True)
    p.add_argument("--folder", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--region", default="cn-hangzhou")
    a = p.parse_args()
    endpoint = urlparse(a.base_url).netloc
    passed = failed = 0
    for version in (None, "v2"):
        try:
            run(a, endpoint, version)
            passed += 1
        except (Mismatch, TeaException) as e:
            failed += 1
            print(f"FAIL ({version or 'acs3'}): {e}", flush=True)
    print(f"resource sharing interop: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
