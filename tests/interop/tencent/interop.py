#!/usr/bin/env python3
"""Interop check: Tencent Cloud's official Python SDK, unchanged, against the imageshare
emulator.

Usage (tests/interop_tencent.rs runs it against an in-process emulator):

    interop.py BASE_URL --owner ID:SECRET_ID:SECRET_KEY --peer ID:SECRET_ID:SECRET_KEY
               [--region ap-guangzhou] [--image img-6pb6lrmy] [--blueprint lhbp-6jc6l8yb]
               [--encrypted-image img-enc00001]
               [--quota-first 300000000000 --quota-count 501]

The SDK is pointed at the emulator only through its public knobs: HttpProfile(protocol="http",
endpoint="host:port"). With it, the script runs share / list / unshare / describe on CVM and
Lighthouse, the CVM -> Lighthouse move, CBS DescribeSnapshots of the CVM images' snapshots
(Encrypt), a GET-signed request, and checks that a bad secret
gives AuthFailure.SignatureFailure and that over-quota requests get Tencent's documented codes
(CVM: OverQuota past 500 accounts per image; Lighthouse: InvalidParameterValue.LimitExceeded
past 10 accounts per call). Every step prints one line; the first mismatch exits with 1, an
unexpected SDK error with 2.
"""

import argparse
import json
import sys
from urllib.parse import urlparse

from tencentcloud.cbs.v20170312 import cbs_client
from tencentcloud.cbs.v20170312 import models as cbs_models
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
    TencentCloudSDKException,
)
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client
from tencentcloud.cvm.v20170312 import models as cvm_models
from tencentcloud.lighthouse.v20200324 import lighthouse_client
from tencentcloud.lighthouse.v20200324 import models as lh_models


class Mismatch(Exception):
    """The emulator answered something the real cloud would not."""


def check(cond, what):
    if not cond:
        raise Mismatch(what)


def step(what):
    print(f"ok: {what}", flush=True)


def account(spec):
    parts = spec.split(":")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError("expected ACCOUNT_ID:SECRET_ID:SECRET_KEY")
    return {"id": parts[0], "secret_id": parts[1], "secret_key": parts[2]}


def profile(endpoint, method="POST"):
    http = HttpProfile(protocol="http", endpoint=endpoint, reqMethod=method, reqTimeout=30)
    return ClientProfile(httpProfile=http, language="en-US")


def cvm(args, who, secret_key=None, method="POST"):
    cred = credential.Credential(who["secret_id"], secret_key or who["secret_key"])
    return cvm_client.CvmClient(cred, args.region, profile(args.endpoint, method))


def cbs(args, who, secret_key=None):
    cred = credential.Credential(who["secret_id"], secret_key or who["secret_key"])
    return cbs_client.CbsClient(cred, args.region, profile(args.endpoint))


def lighthouse(args, who, secret_key=None):
    cred = credential.Credential(who["secret_id"], secret_key or who["secret_key"])
    return lighthouse_client.LighthouseClient(cred, args.region, profile(args.endpoint))


def call(client, action, params):
    """Calls `action` through the SDK's typed request and response models."""
    models = {
        cvm_client.CvmClient: cvm_models,
        cbs_client.CbsClient: cbs_models,
    }.get(type(client), lh_models)
    request = getattr(models, action + "Request")()
    request.from_json_string(json.dumps(params))
    response = getattr(client, action)(request)
    out = json.loads(response.to_json_string())
    check(out.get("RequestId"), f"{action}: no RequestId in the response")
    return out


def expect_error(code, client, action, params):
    try:
        call(client, action, params)
    except TencentCloudSDKException as e:
        check(
            e.get_code() == code,
            f"{action}: expected {code}, got {e.get_code()}: {e.get_message()}",
        )
        check(e.get_request_id(), f"{action}: error {code} without a RequestId")
        return e
    raise Mismatch(f"{action}: expected {code}, but the call succeeded")


def sharees(client, image):
    out = call(client, "DescribeImageSharePermission", {"ImageId": image})
    for p in out["SharePermissionSet"]:
        check(
            set(p) == {"CreatedTime", "AccountId"},
            f"SharePermission has fields {sorted(p)}",
        )
    return [p["AccountId"] for p in out["SharePermissionSet"]]


def run_cvm(args):
    owner, peer = args.owner, args.peer
    c = cvm(args, owner)
    img = call(c, "DescribeImages", {"ImageIds": [args.image]})
    check(img["TotalCount"] == 1, f"DescribeImages TotalCount {img['TotalCount']}")
    first = img["ImageSet"][0]
    check(first["ImageId"] == args.image, "DescribeImages returned another image")
    check(first["ImageState"] == "NORMAL", f"image state {first['ImageState']}")
    check(first["ImageType"] == "PRIVATE_IMAGE", f"image type {first['ImageType']}")
    check(first["ImageCreator"] == owner["id"], f"creator {first['ImageCreator']}")
    step(f"CVM DescribeImages {args.image}: NORMAL PRIVATE_IMAGE of {owner['id']}")

    expect_error(
        "InvalidParameter.InvalidParameterCoexistImageIdsFilters",
        c,
        "DescribeImages",
        {
            "ImageIds": [args.image],
            "Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}],
        },
    )
    step("CVM DescribeImages refuses ImageIds together with Filters")

    call(
        c,
        "ModifyImageSharePermission",
        {"ImageId": args.image, "AccountIds": [peer["id"]], "Permission": "SHARE"},
    )
    check(sharees(c, args.image) == [peer["id"]], "sharee missing after SHARE")
    step(f"CVM ModifyImageSharePermission SHARE -> {peer['id']}, DescribeImageSharePermission lists it")

    expect_error(
        "FailedOperation.AccountAlreadyExists",
        c,
        "ModifyImageSharePermission",
        {"ImageId": args.image, "AccountIds": [peer["id"]], "Permission": "SHARE"},
    )
    step("CVM re-SHARE to the same account: FailedOperation.AccountAlreadyExists")

    # The recipient pages through what was shared with it.
    p = cvm(args, peer)
    seen, offset = [], 0
    while True:
        page = call(
            p,
            "DescribeImages",
            {
                "Filters": [{"Name": "image-type", "Values": ["SHARED_IMAGE"]}],
                "Offset": offset,
                "Limit": 1,
            },
        )
        seen.extend(i["ImageId"] for i in page["ImageSet"])
        offset += len(page["ImageSet"])
        if not page["ImageSet"] or offset >= page["TotalCount"]:
            break
    check(args.image in seen, f"{args.image} not in the recipient's SHARED_IMAGE list {seen}")
    step(f"CVM DescribeImages SHARED_IMAGE for the recipient, paged by 1: {len(seen)} images")

    # The GET form of the protocol (parameters in the query string) works too.
    g = call(cvm(args, peer, method="GET"), "DescribeImages", {"ImageIds": [args.image]})
    check(g["ImageSet"][0]["ImageType"] == "SHARED_IMAGE", "GET DescribeImages")
    step("CVM DescribeImages signed as GET")

    expect_error(
        "UnauthorizedOperation.ImageNotBelongToAccount",
        p,
        "ModifyImageSharePermission",
        {"ImageId": args.image, "AccountIds": [owner["id"]], "Permission": "SHARE"},
    )
    step("CVM re-sharing a received image is refused")

    expect_error(
        "InvalidImageId.InShared",
        c,
        "DeleteImages",
        {"ImageIds": [args.image]},
    )
    step("CVM DeleteImages while shared: InvalidImageId.InShared")

    call(
        c,
        "ModifyImageSharePermission",
        {"ImageId": args.image, "AccountIds": [peer["id"]], "Permission": "CANCEL"},
    )
    check(sharees(c, args.image) == [], "sharee still listed after CANCEL")
    step("CVM ModifyImageSharePermission CANCEL, DescribeImageSharePermission empty")

    expect_error(
        "AuthFailure.SignatureFailure",
        cvm(args, owner, secret_key="not-the-secret"),
        "DescribeImages",
        {"ImageIds": [args.image]},
    )
    step("CVM bad secret: AuthFailure.SignatureFailure")

    if args.quota_count:
        quota = [str(args.quota_first + i) for i in range(args.quota_count)]
        granted = quota[:500]
        for i in range(0, len(granted), 100):
            call(
                c,
                "ModifyImageSharePermission",
                {"ImageId": args.image, "AccountIds": granted[i : i + 100], "Permission": "SHARE"},
            )
        check(len(sharees(c, args.image)) == 500, "not 500 sharees")
        expect_error(
            "OverQuota",
            c,
            "ModifyImageSharePermission",
            {"ImageId": args.image, "AccountIds": quota[500:501], "Permission": "SHARE"},
        )
        step("CVM 500 sharees (100 per call), the 501st: OverQuota")
        for i in range(0, len(granted), 100):
            call(
                c,
                "ModifyImageSharePermission",
                {"ImageId": args.image, "AccountIds": granted[i : i + 100], "Permission": "CANCEL"},
            )
        check(sharees(c, args.image) == [], "sharees left after cancelling the quota test")
        step("CVM cancelled all 500")


def run_lighthouse(args):
    owner, peer = args.owner, args.peer
    lh = lighthouse(args, owner)
    bps = call(lh, "DescribeBlueprints", {"BlueprintIds": [args.blueprint]})
    check(bps["TotalCount"] == 1, f"DescribeBlueprints TotalCount {bps['TotalCount']}")
    bp = bps["BlueprintSet"][0]
    check(bp["BlueprintType"] == "PRIVATE", f"blueprint type {bp['BlueprintType']}")
    check(bp["BlueprintState"] == "NORMAL", f"blueprint state {bp['BlueprintState']}")
    step(f"Lighthouse DescribeBlueprints {args.blueprint}: NORMAL PRIVATE")

    call(
        lh,
        "ShareBlueprintAcrossAccounts",
        {"BlueprintId": args.blueprint, "AccountIds": [peer["id"]]},
    )
    infos = call(
        lh,
        "DescribeBlueprintsShareAcrossAccountInfos",
        {"BlueprintIds": [args.blueprint], "Offset": 0, "Limit": 20},
    )
    check(infos["TotalCount"] == 1, f"share infos TotalCount {infos['TotalCount']}")
    info = infos["BlueprintShareAcrossAccountInfoSet"][0]
    check(
        info["AccountId"] == peer["id"] and info["BlueprintId"] == args.blueprint,
        f"share info {info}",
    )
    step("Lighthouse ShareBlueprintAcrossAccounts, DescribeBlueprintsShareAcrossAccountInfos lists it")

    shared = call(
        lighthouse(args, peer),
        "DescribeBlueprints",
        {"Filters": [{"Name": "blueprint-type", "Values": ["SHARED"]}]},
    )
    check(
        [b["BlueprintId"] for b in shared["BlueprintSet"]] == [args.blueprint],
        f"recipient's SHARED blueprints {shared['BlueprintSet']}",
    )
    step("Lighthouse DescribeBlueprints SHARED for the recipient")

    call(
        lh,
        "CancelShareBlueprintAcrossAccounts",
        {"BlueprintId": args.blueprint, "AccountIds": [peer["id"]]},
    )
    infos = call(
        lh, "DescribeBlueprintsShareAcrossAccountInfos", {"BlueprintIds": [args.blueprint]}
    )
    check(infos["TotalCount"] == 0, "grant still listed after cancel")
    step("Lighthouse CancelShareBlueprintAcrossAccounts")

    if args.quota_count >= 11:
        eleven = [str(args.quota_first + i) for i in range(11)]
        expect_error(
            "InvalidParameterValue.LimitExceeded",
            lh,
            "ShareBlueprintAcrossAccounts",
            {"BlueprintId": args.blueprint, "AccountIds": eleven},
        )
        step("Lighthouse 11 accounts in one call: InvalidParameterValue.LimitExceeded")

    to_share = call(lh, "DescribeImagesToShare", {"ImageIds": [args.image]})
    check(to_share["ImageSet"][0]["IsShareable"] is True, f"DescribeImagesToShare {to_share}")
    moved = call(lh, "ModifyImageSharePermission", {"ImageId": args.image, "Permission": "SHARE"})
    new_bp = moved["BlueprintId"]
    check(new_bp and new_bp.startswith("lhbp-"), f"ModifyImageSharePermission {moved}")
    again = call(lh, "DescribeImagesToShare", {"ImageIds": [args.image]})["ImageSet"][0]
    check(
        again["IsShareable"] is False and again["UnshareableReason"],
        f"still shareable after the move: {again}",
    )
    made = call(lh, "DescribeBlueprints", {"BlueprintIds": [new_bp]})["BlueprintSet"][0]
    check(made["ImageId"] == args.image, f"blueprint {new_bp} does not name {args.image}")
    cancelled = call(
        lh, "ModifyImageSharePermission", {"ImageId": args.image, "Permission": "CANCEL"}
    )
    check(cancelled["BlueprintId"] is None, f"CANCEL answered {cancelled}")
    step(f"Lighthouse CVM -> Lighthouse: DescribeImagesToShare, SHARE as {new_bp}, CANCEL")

    expect_error(
        "AuthFailure.SignatureFailure",
        lighthouse(args, owner, secret_key="not-the-secret"),
        "DescribeBlueprints",
        {},
    )
    step("Lighthouse bad secret: AuthFailure.SignatureFailure")


def run_cbs(args):
    """CBS DescribeSnapshots answers the snapshot ids CVM DescribeImages lists, with
    Encrypt true exactly for the encrypted image's (#17 bug 8a)."""
    images = [args.image, args.encrypted_image]
    out = call(cvm(args, args.owner), "DescribeImages", {"ImageIds": images})
    check(out["TotalCount"] == 2, f"DescribeImages TotalCount {out['TotalCount']}")
    image_of = {
        s["SnapshotId"]: i["ImageId"] for i in out["ImageSet"] for s in i["SnapshotSet"]
    }
    c = cbs(args, args.owner)
    snaps = call(c, "DescribeSnapshots", {"SnapshotIds": sorted(image_of), "Limit": 100})
    check(
        snaps["TotalCount"] == len(image_of),
        f"DescribeSnapshots TotalCount {snaps['TotalCount']}, asked {len(image_of)}",
    )
    for s in snaps["SnapshotSet"]:
        encrypted = image_of[s["SnapshotId"]] == args.encrypted_image
        check(s["Encrypt"] is encrypted, f"{s['SnapshotId']}: Encrypt {s['Encrypt']}")
    step(f"CBS DescribeSnapshots: Encrypt of {len(image_of)} snapshots of {images}")

    expect_error(
        "AuthFailure.SignatureFailure",
        cbs(args, args.owner, secret_key="not-the-secret"),
        "DescribeSnapshots",
        {"SnapshotIds": sorted(image_of)},
    )
    step("CBS bad secret: AuthFailure.SignatureFailure")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base_url", help="the emulator, e.g. http://127.0.0.1:8080")
    ap.add_argument("--owner", type=account, required=True)
    ap.add_argument("--peer", type=account, required=True)
    ap.add_argument("--region", default="ap-guangzhou")
    ap.add_argument("--image", default="img-6pb6lrmy")
    ap.add_argument("--blueprint", default="lhbp-6jc6l8yb")
    ap.add_argument("--encrypted-image", default="img-enc00001")
    ap.add_argument("--quota-first", type=int, default=300000000000)
    ap.add_argument("--quota-count", type=int, default=0)
    args = ap.parse_args()
    url = urlparse(args.base_url)
    if url.scheme != "http" or not url.netloc:
        ap.error("BASE_URL must be http://host:port")
    args.endpoint = url.netloc
    try:
        run_cvm(args)
        run_cbs(args)
        run_lighthouse(args)
    except Mismatch as e:
        print(f"MISMATCH: {e}", file=sys.stderr)
        return 1
    except TencentCloudSDKException as e:
        print(
            f"UNEXPECTED SDK ERROR: {e.get_code()}: {e.get_message()} "
            f"(request id {e.get_request_id()})",
            file=sys.stderr,
        )
        return 2
    print("interop: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
