#!/usr/bin/env python3
"""Runs tccli, unchanged, trusting the emulator's CA.

Usage: run_tccli.py CA_PEM TCCLI_ARGS...

tccli talks https only (its HttpProfile keeps the default scheme; `--endpoint` sets the
host) and the Tencent Python SDK under it verifies certificates against certifi's bundle,
passed to requests explicitly (tencentcloud/common/http/request.py), so neither
REQUESTS_CA_BUNDLE nor SSL_CERT_FILE reaches it. This wrapper makes `certifi.where()` name
the emulator's CA file, then runs tccli's own entry point with the remaining arguments.
Outside tests, the same is done by adding the CA to the bundle `certifi.where()` names.
"""

import sys

import certifi


def main():
    ca = sys.argv.pop(1)
    certifi.where = lambda: ca
    from tccli.main import main as tccli_main

    sys.argv[0] = "tccli"
    return tccli_main()


if __name__ == "__main__":
    sys.exit(main())
