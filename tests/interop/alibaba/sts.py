#!/usr/bin/env python3
"""Interop check: Alibaba Cloud's official STS SDK (alibabacloud-sts20150401) and
credential library (alibabacloud-credentials), unchanged, against the imageshare emulator's
STS; the temporary credentials then call ECS DescribeImages.

Usage (tests/interop_sts.rs runs it against an in-process emulator):

    sts.py BASE_URL --caller KEY_ID:SECRET --role-arn ARN --provider-arn ARN --oidc-token JWT
           [--region cn-hangzhou] [--image m-golden0001]

The SDKs are pointed at the emulator only through their public knobs
(Config(protocol="http", endpoint="host:port")). The credential library's RAM-role-ARN and
OIDC providers are NOT used: they hard-code `protocol = 'https'` for STS
(alibabacloud_credentials/provider/ram_role_arn.py and oidc.py, `tea_request.protocol =
'https'`) and Tea verifies the server against certifi's bundle only (Tea/core.py `do_action`:
`session.send(..., verify=True)`), so they reach no plain-HTTP endpoint and no TLS endpoint
with a private CA without changing the library or its CA bundle. Their wire requests are
reproduced by the emulator's own tests (crates/imageshare-emulator/tests/sts.rs).
"""

import argparse
import sys
from urllib.parse import urlparse

from alibabacloud_credentials.client import Client as CredClient
from alibabacloud_credentials.models import Config as CredConfig
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi import models as open_api_models
from Tea.exceptions import TeaException


class Mismatch(Exception):
    """The emulator answered something the real cloud would not."""


def check(cond, what):
    if not cond:
        raise Mismatch(what)


def step(what):
    print(f"ok: {what}", flush=True)


def sts_client(endpoint, key_id=None, secret=None, signature_version=None):
    cfg = open_api_models.Config(
        access_key_id=key_id,
        access_key_secret=secret,
        protocol="http",
        endpoint=endpoint,
        region_id="cn-hangzhou",
    )
    if signature_version:
        cfg.signature_version = signature_version
    return StsClient(cfg)


def ecs_with(endpoint, region, creds, signature_version=None):
    cred = CredClient(
        CredConfig(
            type="sts",
            access_key_id=creds.access_key_id,
            access_key_secret=creds.access_key_secret,
            security_token=creds.security_token,
        )
    )
    cfg = open_api_models.Config(credential=cred, protocol="http", endpoint=endpoint, region_id=region)
    if signature_version:
        cfg.signature_version = signature_version
    return EcsClient(cfg)


def describe(ecs, region, image):
    resp = ecs.describe_images(ecs_models.DescribeImagesRequest(region_id=region, image_id=image))
    images = resp.body.images.image
    check(len(images) == 1 and images[0].image_id == image, f"DescribeImages found {image}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("base_url")
    p.add_argument("--caller", required=True)
    p.add_argument("--role-arn", required=True)
    p.add_argument("--provider-arn", required=True)
    p.add_argument("--oidc-token", required=True)
    p.add_argument("--region", default="cn-hangzhou")
    p.add_argument("--image", default="m-golden0001")
    a = p.parse_args()
    endpoint = urlparse(a.base_url).netloc
    key_id, secret = a.caller.split(":", 1)

    # AssumeRole, ACS3-signed (the SDK's default) and V2 (RPC v1).
    for version in (None, "v2"):
        sts = sts_client(endpoint, key_id, secret, version)
        resp = sts.assume_role(
            sts_models.AssumeRoleRequest(role_arn=a.role_arn, role_session_name="interop", duration_seconds=900)
        )
        c = resp.body.credentials
        check(c.access_key_id.startswith("STS."), "AssumeRole AccessKeyId starts with STS.")
        check(c.expiration.endswith("Z"), "Expiration is ISO 8601 UTC")
        check(resp.body.assumed_role_user.arn == f"{a.role_arn}/interop", "AssumedRoleUser.Arn")
        step(f"AssumeRole ({version or 'acs3'}) -> {c.access_key_id[:8]}...")
        describe(ecs_with(endpoint, a.region, c, version), a.region, a.image)
        step(f"ECS DescribeImages with the STS credentials ({version or 'acs3'})")
        who = StsClient(
            open_api_models.Config(
                credential=CredClient(
                    CredConfig(
                        type="sts",
                        access_key_id=c.access_key_id,
                        access_key_secret=c.access_key_secret,
                        security_token=c.security_token,
                    )
                ),
                protocol="http",
                endpoint=endpoint,
            )
        ).get_caller_identity()
        check(who.body.identity_type == "AssumedRoleUser", "GetCallerIdentity IdentityType")
        step("GetCallerIdentity as the assumed role")

    # AssumeRoleWithOIDC: the SDK sends it anonymously (auth_type = 'Anonymous').
    anon = sts_client(endpoint)
    resp = anon.assume_role_with_oidc(
        sts_models.AssumeRoleWithOIDCRequest(
            oidcprovider_arn=a.provider_arn,
            role_arn=a.role_arn,
            oidctoken=a.oidc_token,
            role_session_name="interop-oidc",
        )
    )
    c = resp.body.credentials
    check(c.access_key_id.startswith("STS."), "AssumeRoleWithOIDC AccessKeyId")
    check(resp.body.oidctoken_info.issuer is not None, "OIDCTokenInfo.Issuer")
    step("AssumeRoleWithOIDC (anonymous)")
    describe(ecs_with(endpoint, a.region, c), a.region, a.image)
    step("ECS DescribeImages with the OIDC credentials")

    # A role that does not trust the caller: NoPermission.
    try:
        sts_client(endpoint, key_id, secret).assume_role(
            sts_models.AssumeRoleRequest(role_arn=a.role_arn.rsplit("/", 1)[0] + "/nope", role_session_name="x")
        )
        raise Mismatch("AssumeRole of an unknown role succeeded")
    except TeaException as e:
        check(e.code == "EntityNotExist.Role", f"unknown role code {e.code}")
    step("AssumeRole of an unknown role -> EntityNotExist.Role")
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
