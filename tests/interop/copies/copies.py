#!/usr/bin/env python3
"""Interop check: copies into other regions through the clouds' own Python SDKs, unchanged.

Usage:
    copies.py BASE_URL --ali KEY_ID:SECRET --tc SECRET_ID:SECRET_KEY
              [--ecs-image ID] [--cvm-image ID] [--blueprint ID] [--blueprint-name NAME]

The emulator at BASE_URL (http://127.0.0.1:PORT) must hold ECS image --ecs-image in
cn-hangzhou, CVM image --cvm-image and Lighthouse blueprint --blueprint (named
--blueprint-name) in ap-guangzhou, all owned by the keys' account, and make copies take a
couple of seconds (copy_ready_after_ms), so that each copy is seen while it is being made.

What the distribution engine relies on, through each SDK's typed models:
  * alibabacloud-ecs20140526 (Tea, ACS3): CopyImage with DestinationImageName; DescribeImages
    with ImageName + ImageOwnerAlias=self + Status lists the copy while Creating with a
    Progress "N%" below 100; without Status (Available only) it is not listed; then
    Available with Progress "100%";
  * tencentcloud-sdk-python-cvm: SyncImages with ImageName and ImageSetRequired; DescribeImages
    in the target region with Filters image-name + image-type=PRIVATE_IMAGE lists it SYNCING
    with a SyncPercent below 100, then NORMAL with 100;
  * tencentcloud-sdk-python-lighthouse: SyncBlueprint; DescribeBlueprints in the target region
    with Filters blueprint-name + blueprint-type=PRIVATE lists the copy, under the
    blueprint's own name, SYNCING, then NORMAL.

Prints one line per check and exits non-zero on the first mismatch.
"""

import argparse
import json
import sys
import time
from urllib.parse import urlparse

ECS_ALL_STATES = "Creating,Waiting,Available,UnAvailable,CreateFailed"


def check(name, cond, detail=""):
    if not cond:
        print(f"FAIL {name}: {detail}", flush=True)
        sys.exit(1)
    print(f"ok   {name}", flush=True)


def until(what, fn, timeout=20.0):
    """Calls fn every 100 ms until it returns a true value; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            check(what, False, "timed out")
        time.sleep(0.1)


def pair(text):
    a, _, b = text.partition(":")
    if not a or not b:
        raise argparse.ArgumentTypeError("expected ID:SECRET")
    return a, b


def ecs(args):
    from alibabacloud_ecs20140526 import models as m
    from alibabacloud_ecs20140526.client import Client
    from alibabacloud_tea_openapi import models as open_api

    key_id, secret = args.ali
    client = Client(open_api.Config(access_key_id=key_id, access_key_secret=secret,
                                    region_id="cn-hangzhou", endpoint=args.host, protocol="http"))
    name = f"golden-{args.ecs_image}"
    copy = client.copy_image(m.CopyImageRequest(
        region_id="cn-hangzhou", image_id=args.ecs_image,
        destination_region_id="cn-shanghai", destination_image_name=name))
    copy_id = copy.body.image_id
    check("ECS CopyImage answers the copy's id", bool(copy_id) and copy_id != args.ecs_image,
          json.dumps(copy.body.to_map()))

    def lookup(status=None):
        req = m.DescribeImagesRequest(region_id="cn-shanghai", image_name=name,
                                      image_owner_alias="self", status=status)
        return client.describe_images(req).body.images.image

    found = lookup(ECS_ALL_STATES)
    check("ECS DescribeImages ImageName + Status finds the copy being made",
          len(found) == 1 and found[0].image_id == copy_id and found[0].image_name == name,
          [i.to_map() for i in found])
    check("ECS the copy is Creating", found[0].status == "Creating", found[0].status)
    progress = found[0].progress or ""
    check("ECS Progress is a percentage below 100",
          progress.endswith("%") and int(progress[:-1]) < 100, progress)
    check("ECS without Status only Available images are listed", lookup() == [])
    done = until("ECS the copy becomes Available", lambda: [i for i in lookup() if i.status == "Available"])
    check("ECS Progress is 100% once Available", done[0].progress == "100%", done[0].progress)
    check("ECS the copy says it is a copy", done[0].is_copied is True)


def tencent_profile(args):
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile

    http = HttpProfile(protocol="http", endpoint=args.host, reqMethod="POST", reqTimeout=30)
    return ClientProfile(httpProfile=http, language="en-US")


def tc_call(client, models, action, params):
    request = getattr(models, action + "Request")()
    request.from_json_string(json.dumps(params))
    return json.loads(getattr(client, action)(request).to_json_string())


def cvm(args):
    from tencentcloud.common import credential
    from tencentcloud.cvm.v20170312 import cvm_client, models

    cred = credential.Credential(*args.tc)
    source = cvm_client.CvmClient(cred, "ap-guangzhou", tencent_profile(args))
    target = cvm_client.CvmClient(cred, "ap-shanghai", tencent_profile(args))
    name = f"golden-{args.cvm_image}"
    out = tc_call(source, models, "SyncImages", {
        "ImageIds": [args.cvm_image], "DestinationRegions": ["ap-shanghai"],
        "ImageName": name, "ImageSetRequired": True})
    made = out.get("ImageSet") or []
    check("CVM SyncImages answers the copy with ImageSetRequired",
          len(made) == 1 and made[0]["Region"] == "ap-shanghai", out)
    copy_id = made[0]["ImageId"]

    def lookup():
        out = tc_call(target, models, "DescribeImages", {"Filters": [
            {"Name": "image-name", "Values": [name]},
            {"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}]})
        return out["ImageSet"]

    found = lookup()
    check("CVM DescribeImages image-name finds the copy being made",
          len(found) == 1 and found[0]["ImageId"] == copy_id and found[0]["ImageName"] == name, found)
    check("CVM the copy is SYNCING with a SyncPercent below 100",
          found[0]["ImageState"] == "SYNCING" and found[0]["SyncPercent"] < 100, found[0])
    done = until("CVM the copy becomes NORMAL",
                 lambda: [i for i in lookup() if i["ImageState"] == "NORMAL"])
    check("CVM SyncPercent is 100 once NORMAL", done[0]["SyncPercent"] == 100, done[0])


def lighthouse(args):
    from tencentcloud.common import credential
    from tencentcloud.lighthouse.v20200324 import lighthouse_client, models

    cred = credential.Credential(*args.tc)
    source = lighthouse_client.LighthouseClient(cred, "ap-guangzhou", tencent_profile(args))
    target = lighthouse_client.LighthouseClient(cred, "ap-shanghai", tencent_profile(args))
    out = tc_call(source, models, "SyncBlueprint", {
        "BlueprintId": args.blueprint, "DestinationRegions": ["ap-shanghai"]})
    made = out.get("DestinationRegionBlueprintSet") or []
    check("Lighthouse SyncBlueprint answers the copy", len(made) == 1, out)
    copy_id = made[0]["BlueprintId"]

    def lookup():
        out = tc_call(target, models, "DescribeBlueprints", {"Filters": [
            {"Name": "blueprint-name", "Values": [args.blueprint_name]},
            {"Name": "blueprint-type", "Values": ["PRIVATE"]}]})
        return out["BlueprintSet"]

    found = lookup()
    check("Lighthouse DescribeBlueprints blueprint-name finds the copy under the blueprint's name",
          len(found) == 1 and found[0]["BlueprintId"] == copy_id
          and found[0]["BlueprintName"] == args.blueprint_name, found)
    check("Lighthouse the copy is SYNCING", found[0]["BlueprintState"] == "SYNCING", found[0])
    until("Lighthouse the copy becomes NORMAL",
          lambda: [b for b in lookup() if b["BlueprintState"] == "NORMAL"])
    check("Lighthouse the copy becomes NORMAL", True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base_url")
    ap.add_argument("--ali", type=pair, required=True)
    ap.add_argument("--tc", type=pair, required=True)
    ap.add_argument("--ecs-image", default="m-golden0001")
    ap.add_argument("--cvm-image", default="img-golden01")
    ap.add_argument("--blueprint", default="lhbp-golden01")
    ap.add_argument("--blueprint-name", default="golden-bp")
    args = ap.parse_args()
    url = urlparse(args.base_url)
    if url.scheme != "http" or not url.netloc:
        ap.error("BASE_URL must be http://host:port")
    args.host = url.netloc
    ecs(args)
    cvm(args)
    lighthouse(args)
    print("copies interop: all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
