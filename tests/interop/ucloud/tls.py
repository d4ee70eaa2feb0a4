#!/usr/bin/env python3
"""Interop check: UCloud's official Python SDK (ucloud-sdk-python3) over https against the
emulator started with TLS, trusting the emulator's generated CA through
REQUESTS_CA_BUNDLE: the SDK leaves `verify` unset when no `ssl_cacert` is configured, so
requests reads that variable
(https://requests.readthedocs.io/en/latest/user/advanced/#ssl-cert-verification).

Usage (crates/imageshare-emulator/tests/tls.rs runs it):

    REQUESTS_CA_BUNDLE=ca.pem tls.py https://HOST:PORT PUBLIC_KEY PRIVATE_KEY PROJECT_ID

The SDK is pointed at the emulator only through its documented `base_url` setting.
Prints one JSON line: the image described and the projects it is shared with after
imageshare's ShareCustomImage (through the SDK's generic invoke).
"""

import json
import logging
import sys

from ucloud.client import Client
from ucloud.core import exc


def main():
    base_url, public_key, private_key, project_id = sys.argv[1:5]
    uhost = Client({
        "base_url": base_url,
        "public_key": public_key,
        "private_key": private_key,
        "project_id": project_id,
        "region": "cn-bj2",
        "max_retries": 0,
        "timeout": 10,
        "log_level": logging.WARNING,
    }).uhost()
    out = {}
    got = uhost.describe_image({"ImageId": "uimage-golden01"})
    out["describe"] = [i["ImageId"] for i in got["ImageSet"]]
    uhost.invoke("ShareCustomImage", {"ImageId": "uimage-golden01",
                                      "TargetProjectIds": ["org-d4e5f6"]})
    r = uhost.invoke("DescribeCustomImageShare", {"ImageId": "uimage-golden01",
                                                  "Offset": 0, "Limit": 10})
    out["shared"] = r
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    try:
        main()
    except exc.UCloudException as e:
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(2)
