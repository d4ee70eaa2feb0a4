#!/usr/bin/env python3
"""Signing cost of the clouds' official Python SDKs, on the same input as imageshare's
signers, and a cross-check that both produce the same signature.

Run by benches/sign_ratio.rs (`cargo bench --bench sign_ratio`), which builds the inputs
of benches/signing.rs (a ModifyImageSharePermission / ShareCustomImage request for 10
accounts, fixed time and nonce), signs them with imageshare, and passes the inputs and
imageshare's signatures here. Usage:

    sign.py CONFIG_JSON

Each algorithm runs the SDK's own signing code, with the per-request work the SDK does
around it (the same work imageshare's signer does in its timed loop):

    TC3-HMAC-SHA256  tencentcloud-sdk-python-common: AbstractClient._get_tc3_signature
                     (canonical request, string to sign, Sign.sign_tc3) after setting the
                     request headers as _build_req_with_tc3_signature does, then the
                     Authorization header
    RPC v1           alibabacloud-tea-openapi: Utils.get_rpcsignature over the common
                     parameters (AccessKeyId, Format, SignatureMethod, ...) merged with the
                     request's, as Client.call_api does for signature_algorithm='v2'
    ACS3-HMAC-SHA256 alibabacloud-tea-openapi: Utils.hash of the body, the x-acs-*
                     headers, then Utils.get_authorization, as Client.call_api does
    UCloud SHA1      ucloud-sdk-python3: Credential.verify_ac over a copy of the
                     parameters (it adds PublicKey), as Client._send does

A signature that differs from imageshare's is printed and the script exits with status 1
(a correctness cross-check, not only a timing). Timing: timeit, `repeat` rounds of
`number` calls, best round, in ns per signature. The last line of stdout is a JSON
object {"tc3": NS, "rpc_v1": NS, "acs3": NS, "ucloud": NS}.
"""

import json
import sys
import timeit
from datetime import datetime, timezone


def iso8601(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def tc3_signer(cfg):
    from tencentcloud.common import credential
    from tencentcloud.common.http.request import RequestInternal
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.cvm.v20170312 import cvm_client

    t = cfg["tencent"]
    ts = cfg["timestamp"]
    cred = credential.Credential(t["secret_id"], t["secret_key"])
    client = cvm_client.CvmClient(
        cred, t["region"], ClientProfile(httpProfile=HttpProfile(endpoint=t["host"]))
    )
    params = json.loads(t["body"])
    body = t["body"]

    def sign():
        # As AbstractClient._build_req_with_tc3_signature, with the fixed timestamp and
        # the body already serialized (imageshare's timed loop gets it serialized too).
        req = RequestInternal(t["host"], "POST", "/")
        req.header["Content-Type"] = "application/json"
        req.header["Host"] = t["host"]
        req.header["X-TC-Action"] = t["action"]
        req.header["X-TC-Timestamp"] = str(ts)
        req.header["X-TC-Version"] = t["version"]
        req.header["X-TC-Region"] = t["region"]
        req.data = body
        secret_id, secret_key, _ = client.credential.get_credential_info()
        date = datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d")
        signature = client._get_tc3_signature(params, req, date, t["service"], secret_key)
        req.header["Authorization"] = (
            "TC3-HMAC-SHA256 Credential=%s/%s/%s/tc3_request, "
            "SignedHeaders=content-type;host, Signature=%s"
            % (secret_id, date, t["service"], signature)
        )
        return req.header["Authorization"]

    return sign


def rpc_v1_signer(cfg):
    from alibabacloud_tea_openapi.utils import Utils

    a = cfg["alibaba"]
    ts = cfg["timestamp"]
    business = dict(a["rpc_params"])

    def sign():
        # As Client.call_api for RPC with signature_algorithm='v2' (fixed time and nonce).
        # The Tea SDK sends Format=json; imageshare's input (the signed bytes must be the
        # same) has Format=JSON, as the legacy aliyun-python-sdk-core sends.
        query = {
            "Action": a["action"],
            "Format": "JSON",
            "Version": a["version"],
            "Timestamp": iso8601(ts),
            "SignatureNonce": cfg["nonce"],
        }
        query.update(business)
        query["SignatureMethod"] = "HMAC-SHA1"
        query["SignatureVersion"] = "1.0"
        query["AccessKeyId"] = a["key_id"]
        return Utils.get_rpcsignature(dict(query), "POST", a["secret"])

    return sign


def acs3_signer(cfg):
    from alibabacloud_tea_openapi.utils import Utils
    from darabonba.request import DaraRequest

    a = cfg["alibaba"]
    ts = cfg["timestamp"]
    algorithm = "ACS3-HMAC-SHA256"
    query = dict(a["acs3_query"])
    body = b""

    def sign():
        # As Client.call_api for ACS3 (fixed time and nonce; no user-agent header, which
        # imageshare's input does not sign either).
        req = DaraRequest()
        req.method = "POST"
        req.pathname = "/"
        req.query = dict(query)
        req.headers = {
            "host": a["host"],
            "x-acs-version": a["version"],
            "x-acs-action": a["action"],
            "x-acs-date": iso8601(ts),
            "x-acs-signature-nonce": cfg["nonce"],
        }
        hashed = Utils.hash(body, algorithm)
        req.headers["x-acs-content-sha256"] = hashed.hex()
        return Utils.get_authorization(req, algorithm, hashed.hex(), a["key_id"], a["secret"])

    return sign


def ucloud_signer(cfg):
    from ucloud.core.auth import Credential

    u = cfg["ucloud"]
    cred = Credential(u["public_key"], u["private_key"])
    params = dict(u["params"])

    def sign():
        payload = dict(params)
        payload["Signature"] = cred.verify_ac(payload)
        return payload["Signature"]

    return sign


# name -> (label, signer factory, what to compare with imageshare's output)
SIGNERS = {
    "tc3": ("TC3-HMAC-SHA256 (Authorization)", tc3_signer),
    "rpc_v1": ("Alibaba RPC v1 (Signature)", rpc_v1_signer),
    "acs3": ("Alibaba ACS3-HMAC-SHA256 (Authorization)", acs3_signer),
    "ucloud": ("UCloud SHA1 (Signature)", ucloud_signer),
}


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    cfg = json.loads(sys.argv[1])
    fns = {name: factory(cfg) for name, (_, factory) in SIGNERS.items()}

    mismatches = 0
    for name, fn in fns.items():
        ours, theirs = cfg["expected"][name], fn()
        if ours != theirs:
            mismatches += 1
            print(f"MISMATCH {SIGNERS[name][0]}:\n  imageshare: {ours}\n  python SDK: {theirs}",
                  file=sys.stderr, flush=True)
        else:
            print(f"ok   {SIGNERS[name][0]}: python SDK == imageshare", file=sys.stderr, flush=True)
    if mismatches:
        return 1

    number, repeat = cfg["number"], cfg["repeat"]
    out = {}
    for name, fn in fns.items():
        best = min(timeit.Timer(fn).repeat(repeat=repeat, number=number))
        out[name] = best / number * 1e9
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
