#!/usr/bin/env python3
"""Interop check: Tencent Cloud's official Python SDK (tencentcloud-sdk-python-common),
unchanged, against the imageshare emulator's STS, sending exactly what its credential
providers send; the temporary credentials then call CVM DescribeImages.

Usage (tests/interop_sts.rs runs it against an in-process emulator):

    sts.py BASE_URL --caller SECRET_ID:SECRET_KEY --role-arn ARN --provider-id ID
           --oidc-token JWT [--region ap-guangzhou] [--image img-6pb6lrmy]

The providers `STSAssumeRoleCredential` and `OIDCRoleArnCredential`
(tencentcloud/common/credential.py) cannot be pointed at an HTTP endpoint: they build their
own `HttpProfile()` (scheme https) and only take an `endpoint` host, and the SDK verifies TLS
against certifi's bundle only (tencentcloud/common/http/request.py: `certification=None` ->
`certifi.where()`), so neither plain HTTP nor a TLS front with a private CA works without
changing the library or its CA bundle. This script therefore makes the providers' exact
calls with the SDK's public `CommonClient` (service `sts`, version `2018-08-13`):
`call_json("AssumeRole", ...)` TC3-signed, and
`call_json("AssumeRoleWithWebIdentity", ..., options={"SkipSign": True})`
(`Authorization: SKIP`), with `HttpProfile(protocol="http", endpoint=host:port)`, and reads
the answers as the providers do (`Response.Credentials.{Token, TmpSecretId, TmpSecretKey}`,
`Response.ExpiredTime`).
"""

import argparse
import sys
import time
from urllib.parse import urlparse

from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client
from tencentcloud.cvm.v20170312 import models as cvm_models


class Mismatch(Exception):
    """The emulator answered something the real cloud would not."""


def check(cond, what):
    if not cond:
        raise Mismatch(what)


def step(what):
    print(f"ok: {what}", flush=True)


def sts(cred, endpoint, region):
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=endpoint))
    return CommonClient("sts", "2018-08-13", cred, region, profile=profile)


def temporary(rsp, duration):
    r = rsp["Response"]
    c = r["Credentials"]
    check(c["TmpSecretId"].startswith("AKID"), "TmpSecretId")
    check(isinstance(r["ExpiredTime"], int), "ExpiredTime is a unix integer")
    check(abs(r["ExpiredTime"] - int(time.time()) - duration) <= 2, "ExpiredTime = now + DurationSeconds")
    check(r["Expiration"].endswith("Z"), "Expiration is ISO 8601 UTC")
    return credential.Credential(c["TmpSecretId"], c["TmpSecretKey"], c["Token"])


def cvm(cred, endpoint, region):
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=endpoint))
    return cvm_client.CvmClient(cred, region, profile)


def describe(cred, endpoint, region, image):
    req = cvm_models.DescribeImagesRequest()
    req.ImageIds = [image]
    resp = cvm(cred, endpoint, region).DescribeImages(req)
    check(resp.TotalCount == 1 and resp.ImageSet[0].ImageId == image, f"DescribeImages found {image}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("base_url")
    p.add_argument("--caller", required=True)
    p.add_argument("--role-arn", required=True)
    p.add_argument("--provider-id", required=True)
    p.add_argument("--oidc-token", required=True)
    p.add_argument("--region", default="ap-guangzhou")
    p.add_argument("--image", default="img-6pb6lrmy")
    a = p.parse_args()
    url = urlparse(a.base_url)
    endpoint = url.netloc
    secret_id, secret_key = a.caller.split(":", 1)
    caller = credential.Credential(secret_id, secret_key)
    rsp = sts(caller, endpoint, a.region).call_json(
        "AssumeRole", {"RoleArn": a.role_arn, "RoleSessionName": "interop", "DurationSeconds": 7200}
    )
    tmp = temporary(rsp, 7200)
    step("AssumeRole (as STSAssumeRoleCredential sends it)")
    describe(tmp, endpoint, a.region, a.image)
    step("CVM DescribeImages with the AssumeRole credentials")
    who = sts(tmp, endpoint, a.region).call_json("GetCallerIdentity", {})
    check(who["Response"]["AccountId"] == a.role_arn.split("uin/")[1].split(":")[0], "GetCallerIdentity AccountId")
    step("GetCallerIdentity as the assumed role")

    rsp = sts(None, endpoint, a.region).call_json(
        "AssumeRoleWithWebIdentity",
        {
            "ProviderId": a.provider_id,
            "WebIdentityToken": a.oidc_token,
            "RoleArn": a.role_arn,
            "RoleSessionName": "interop-oidc",
            "DurationSeconds": 3600,
        },
        options={"SkipSign": True},
    )
    web = temporary(rsp, 3600)
    step("AssumeRoleWithWebIdentity (Authorization: SKIP, as OIDCRoleArnCredential sends it)")
    describe(web, endpoint, a.region, a.image)
    step("CVM DescribeImages with the web-identity credentials")

    try:
        sts(caller, endpoint, a.region).call_json(
            "AssumeRole", {"RoleArn": a.role_arn.rsplit("/", 1)[0] + "/nope", "RoleSessionName": "x"}
        )
        raise Mismatch("AssumeRole of an unknown role succeeded")
    except TencentCloudSDKException as e:
        check(e.get_code() == "ResourceNotFound.RoleNotFound", f"unknown role code {e.get_code()}")
    step("AssumeRole of an unknown role -> ResourceNotFound.RoleNotFound")
    print("interop: all checks passed", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Mismatch as e:
        print(f"MISMATCH: {e}", flush=True)
        sys.exit(1)
    except Exception as e:  # noqa: BLE001
        print(f"ERROR: {type(e).__name__}: {e}", flush=True)
        sys.exit(2)
