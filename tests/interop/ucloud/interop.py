#!/usr/bin/env python3
"""Interop check: UCloud's official Python SDK (ucloud-sdk-python3), unchanged, against the
imageshare emulator.

The SDK is pointed at the emulator only through its documented `base_url` setting. It runs
the documented UHost actions through its typed client (DescribeImage, CopyCustomImage with
TargetProjectId, TerminateCustomImage) and imageshare's project-sharing actions, which are
NOT part of UCloud's published API, through its generic `invoke(action, params)`.

Usage:
    interop.py BASE_URL [--public-key K --private-key K --project-id P]
                        [--recipient-public-key K --recipient-private-key K
                         --recipient-project-id P] [--region R] [--image ID]

The defaults match examples/world.toml (the emulator's default world). Prints one JSON
object with what it created on the last line of stdout; exits non-zero at the first
mismatch.
"""

import argparse
import json
import logging
import sys

from ucloud.client import Client
from ucloud.core import exc

# imageshare's sharing actions (imageshare_ucloud::SharingActions defaults).
SHARE = "ShareCustomImage"
CANCEL_SHARE = "CancelShareCustomImage"
DESCRIBE_SHARE = "DescribeCustomImageShare"
DESCRIBE_SHARED = "DescribeSharedImage"
SAVE_SHARED = "SaveSharedImage"

# Every documented UHostImageSet field with its Python type after the SDK's schema.
IMAGE_FIELDS = {
    "Zone": str, "ImageId": str, "ImageName": str, "Tag": str, "OsType": str,
    "OsName": str, "ImageType": str, "Features": list, "FuncType": str,
    "IntegratedSoftware": str, "Vendor": str, "Links": str, "State": str,
    "ImageDescription": str, "CreateTime": int, "ImageSize": int, "MinimalCPU": str,
    "MaintainEol": str, "DataSnapshotIds": list, "SupportedGPUTypes": list,
    "SceneCategories": list, "PrimarySoftware": str,
}


class Mismatch(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Mismatch(what)
    print("ok  " + what, file=sys.stderr)


def client(base_url, public_key, private_key, project_id, region):
    return Client({
        "base_url": base_url,
        "public_key": public_key,
        "private_key": private_key,
        "project_id": project_id,
        "region": region,
        "max_retries": 0,
        "timeout": 10,
        "log_level": logging.WARNING,
    })


def ret_code_of(call):
    """The RetCode of a call that must fail with RetCodeException."""
    try:
        call()
    except exc.RetCodeException as e:
        return e.code
    raise Mismatch("expected a RetCodeException")


def run(a):
    logging.getLogger("ucloud").setLevel(logging.WARNING)
    owner = client(a.base_url, a.public_key, a.private_key, a.project_id, a.region)
    recipient = client(a.base_url, a.recipient_public_key, a.recipient_private_key,
                       a.recipient_project_id, a.region)
    uhost = owner.uhost()
    created = {}

    # DescribeImage through the typed client: one image, every documented field.
    resp = uhost.describe_image({"ImageId": a.image})
    check(resp.get("TotalCount") == 1, "DescribeImage ImageId: TotalCount 1")
    img = resp["ImageSet"][0]
    check(img["ImageId"] == a.image and img["ImageType"] == "Custom", "DescribeImage: the custom image")
    for field, ty in IMAGE_FIELDS.items():
        check(isinstance(img.get(field), ty), "DescribeImage: %s is a %s" % (field, ty.__name__))
    check(img["State"] == "Available", "DescribeImage: State Available")

    # Paging: Offset / Limit / TotalCount.
    full = uhost.describe_image({"ImageType": "Custom"})
    total = full["TotalCount"]
    check(total >= 2 and len(full["ImageSet"]) == total, "DescribeImage ImageType=Custom lists %d" % total)
    seen = []
    offset = 0
    while offset < total:
        page = uhost.describe_image({"ImageType": "Custom", "Offset": offset, "Limit": 1})
        check(page["TotalCount"] == total and len(page["ImageSet"]) == 1, "DescribeImage page at Offset %d" % offset)
        seen.append(page["ImageSet"][0]["ImageId"])
        offset += 1
    check(sorted(seen) == sorted(i["ImageId"] for i in full["ImageSet"]), "DescribeImage pages cover the list once")
    missing = uhost.describe_image({"ImageId": "uimage-doesnotexist"})
    check(missing.get("TotalCount") == 0 and missing.get("ImageSet") == [], "DescribeImage unknown id: empty ImageSet")

    # CopyCustomImage with TargetProjectId (own project, other region), then terminate the copy.
    copy = uhost.copy_custom_image({
        "SourceImageId": a.image,
        "TargetProjectId": a.project_id,
        "TargetRegion": a.copy_region,
        "TargetImageName": "interop-copy",
    })
    target = copy.get("TargetImageId", "")
    check(target.startswith("uimage-") and copy.get("TaskId", "").startswith("task-"),
          "CopyCustomImage: TargetImageId and TaskId")
    created["copied"] = target
    there = client(a.base_url, a.public_key, a.private_key, a.project_id, a.copy_region).uhost()
    got = there.describe_image({"ImageId": target})
    check(got["TotalCount"] == 1 and got["ImageSet"][0]["ImageName"] == "interop-copy",
          "DescribeImage in %s: the copy" % a.copy_region)
    same = ret_code_of(lambda: uhost.copy_custom_image({"SourceImageId": a.image, "TargetProjectId": a.project_id}))
    check(same == 8962, "CopyCustomImage to the same project and region: RetCode 8962")
    term = there.terminate_custom_image({"ImageId": target})
    check(term.get("ImageId") == target, "TerminateCustomImage: the copy")
    check(there.describe_image({"ImageId": target})["TotalCount"] == 0, "DescribeImage: the copy is gone")
    gone = ret_code_of(lambda: there.terminate_custom_image({"ImageId": target}))
    check(gone == 8956, "TerminateCustomImage again: RetCode 8956")

    # Project sharing through the SDK's generic invoke (imageshare's action names).
    r = uhost.invoke(SHARE, {"ImageId": a.image, "TargetProjectIds": [a.recipient_project_id]})
    check(r["RetCode"] == 0 and r["Action"] == SHARE + "Response", "%s with TargetProjectIds.N" % SHARE)
    r = uhost.invoke(DESCRIBE_SHARE, {"ImageId": a.image, "Offset": 0, "Limit": 10})
    projects = [p["ProjectId"] for p in r["ProjectSet"]]
    check(r["TotalCount"] == 1 and projects == [a.recipient_project_id], "%s lists the recipient" % DESCRIBE_SHARE)
    r = recipient.uhost().invoke(DESCRIBE_SHARED, {})
    shared = {i["ImageId"]: i for i in r["ImageSet"]}
    check(a.image in shared and shared[a.image]["OwnerProjectId"] == a.project_id,
          "%s: the recipient sees the image and its owner project" % DESCRIBE_SHARED)
    if a.lightweight_image:
        code = ret_code_of(lambda: uhost.invoke(SHARE, {"ImageId": a.lightweight_image,
                                                        "TargetProjectIds": [a.recipient_project_id]}))
        check(code == 8992, "%s of a ULHost image: RetCode 8992" % SHARE)
    code = ret_code_of(lambda: recipient.uhost().invoke(CANCEL_SHARE, {
        "ImageId": a.image, "TargetProjectIds": [a.recipient_project_id]}))
    check(code == 8994, "%s by the recipient: RetCode 8994" % CANCEL_SHARE)
    r = recipient.uhost().invoke(SAVE_SHARED, {"ImageId": a.image, "ImageName": "interop-saved"})
    saved = r.get("ImageId", "")
    check(saved.startswith("uimage-"), "%s: a new image" % SAVE_SHARED)
    created["saved"] = saved
    mine = recipient.uhost().describe_image({"ImageId": saved})
    check(mine["TotalCount"] == 1 and mine["ImageSet"][0]["ImageName"] == "interop-saved",
          "DescribeImage (recipient): the saved image")
    r = uhost.invoke(CANCEL_SHARE, {"ImageId": a.image, "TargetProjectIds": [a.recipient_project_id]})
    check(r["RetCode"] == 0, "%s by the sharer" % CANCEL_SHARE)
    r = recipient.uhost().invoke(DESCRIBE_SHARED, {"ImageId": a.image})
    check(r["TotalCount"] == 0, "%s: the share is gone" % DESCRIBE_SHARED)

    # A wrong private key: RetCode 171.
    bad = client(a.base_url, a.public_key, a.private_key + "-wrong", a.project_id, a.region)
    code = ret_code_of(lambda: bad.uhost().describe_image({"ImageId": a.image}))
    check(code == 171, "a wrong private key: RetCode 171")
    code = ret_code_of(lambda: client(a.base_url, "nobody-" + a.public_key, a.private_key,
                                      a.project_id, a.region).uhost().describe_image({}))
    check(code == 172, "an unknown public key: RetCode 172")
    return created


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("base_url")
    p.add_argument("--public-key", default="emu-ucloud-public-1")
    p.add_argument("--private-key", default="emu-ucloud-private-1")
    p.add_argument("--project-id", default="org-a1b2c3")
    p.add_argument("--recipient-public-key", default="emu-ucloud-public-2")
    p.add_argument("--recipient-private-key", default="emu-ucloud-private-2")
    p.add_argument("--recipient-project-id", default="org-d4e5f6")
    p.add_argument("--region", default="cn-bj2")
    p.add_argument("--copy-region", default="cn-sh2")
    p.add_argument("--image", default="uimage-golden01")
    p.add_argument("--lightweight-image", default="uimage-ulhost01")
    a = p.parse_args()
    try:
        created = run(a)
    except Mismatch as e:
        print("MISMATCH: %s" % e, file=sys.stderr)
        return 1
    except exc.UCloudException as e:
        print("UNEXPECTED SDK ERROR: %s" % e, file=sys.stderr)
        return 1
    print(json.dumps(created))
    return 0


if __name__ == "__main__":
    sys.exit(main())
