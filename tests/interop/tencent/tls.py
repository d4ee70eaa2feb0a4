#!/usr/bin/env python3
"""Interop check: Tencent Cloud's official Python SDK over https against the emulator
started with TLS, trusting the emulator's generated CA.

Usage (crates/imageshare-emulator/tests/tls.rs runs it):

    tls.py HOST:PORT SECRET_ID SECRET_KEY [CA_PEM]

The SDK passes `verify=certifi.where()` to requests itself (tencentcloud/common/http/
request.py), so REQUESTS_CA_BUNDLE does not reach it; its documented knob is
HttpProfile(certification=PATH), used here when CA_PEM is given. The SDK is pointed at the
emulator only through HttpProfile(protocol="https", endpoint="host:port", certification).
Prints one JSON line: the images described and the sharees after a share.
"""

import json
import sys

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
    TencentCloudSDKException,
)
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client
from tencentcloud.cvm.v20170312 import models


def client(endpoint, secret_id, secret_key, ca):
    http = HttpProfile(protocol="https", endpoint=endpoint, reqTimeout=30)
    if ca:
        http.certification = ca
    return cvm_client.CvmClient(
        credential.Credential(secret_id, secret_key),
        "ap-guangzhou",
        ClientProfile(httpProfile=http, language="en-US"),
    )


def main():
    endpoint, secret_id, secret_key = sys.argv[1:4]
    ca = sys.argv[4] if len(sys.argv) > 4 else None
    cvm = client(endpoint, secret_id, secret_key, ca)
    out = {}
    req = models.DescribeImagesRequest()
    req.ImageIds = ["img-6pb6lrmy"]
    out["describe"] = [i.ImageId for i in cvm.DescribeImages(req).ImageSet]
    req = models.ModifyImageSharePermissionRequest()
    req.ImageId = "img-6pb6lrmy"
    req.AccountIds = ["100000000002"]
    req.Permission = "SHARE"
    cvm.ModifyImageSharePermission(req)
    req = models.DescribeImageSharePermissionRequest()
    req.ImageId = "img-6pb6lrmy"
    out["sharees"] = [
        p.AccountId for p in cvm.DescribeImageSharePermission(req).SharePermissionSet
    ]
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    try:
        main()
    except TencentCloudSDKException as e:
        print(f"{e.get_code()} {e.get_message()}", file=sys.stderr)
        sys.exit(2)
