#!/usr/bin/env python3
"""Client overhead of the clouds' official Python SDKs against the imageshare emulator.

Run by benches/overhead.rs (`cargo bench --bench overhead`), which starts the emulator on
loopback, measures imageshare on the same actions, and prints both side by side. Usage:

    overhead.py CONFIG_JSON

CONFIG_JSON (a JSON object, given as the only argument):

    {"base_url": "http://127.0.0.1:PORT", "warmup": 20,
     "sequential": 1000, "parallel": 2000, "in_flight": 16,
     "clouds": ["tencent", "alibaba", "ucloud"],
     "tencent": {"secret_id": .., "secret_key": .., "region": .., "image": ..},
     "alibaba": {"key_id": .., "secret": .., "region": .., "image": ..},
     "ucloud":  {"public_key": .., "private_key": .., "project_id": .., "region": ..,
                 "image": ..}}

For each cloud it calls one action through the SDK's public client, pointed at the
emulator only through the SDK's documented knobs (as tests/interop/*/interop.py do):

    tencent  CvmClient.DescribeImageSharePermission  (tencentcloud-sdk-python-cvm)
    alibaba  Client.describe_image_share_permission  (alibabacloud-ecs20140526, ACS3)
    ucloud   uhost().describe_image                  (ucloud-sdk-python3)

first `warmup` calls untimed, then `sequential` calls one after another, then `parallel`
calls from a pool of `in_flight` threads (one client per thread, as the SDKs' clients are
not documented as thread-safe). Every answer is checked (the image id is in it); any error
exits with status 1. The last line of stdout is a JSON object:

    {"tencent": {"sequential": REQ_PER_S, "parallel": REQ_PER_S, "calls": N,
                 "cpu_us": {"sequential": US, "parallel": US}}, ...}

where `cpu_us` is this process's CPU time (time.process_time, every thread) per request
in the timed part, and `calls` is how many requests the script sent in all (warm-up included), so the
caller can check them against the emulator's call log.
"""

import json
import logging
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse


class Failed(Exception):
    """An answer that is not the expected one."""


def tencent_factory(base_url, c):
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.cvm.v20170312 import cvm_client
    from tencentcloud.cvm.v20170312 import models

    endpoint = urlparse(base_url).netloc

    def make():
        http = HttpProfile(protocol="http", endpoint=endpoint, reqTimeout=30)
        cred = credential.Credential(c["secret_id"], c["secret_key"])
        client = cvm_client.CvmClient(cred, c["region"], ClientProfile(httpProfile=http))

        def call():
            req = models.DescribeImageSharePermissionRequest()
            req.ImageId = c["image"]
            resp = client.DescribeImageSharePermission(req)
            if not resp.RequestId or resp.SharePermissionSet is None:
                raise Failed(f"DescribeImageSharePermission: {resp.to_json_string()}")

        return call

    return make


def alibaba_factory(base_url, c):
    from alibabacloud_ecs20140526 import models
    from alibabacloud_ecs20140526.client import Client
    from alibabacloud_tea_openapi import utils_models

    endpoint = urlparse(base_url).netloc

    def make():
        cfg = utils_models.Config(
            access_key_id=c["key_id"],
            access_key_secret=c["secret"],
            region_id=c["region"],
            endpoint=endpoint,
            protocol="http",
        )
        client = Client(cfg)

        def call():
            req = models.DescribeImageSharePermissionRequest(
                region_id=c["region"], image_id=c["image"], page_number=1, page_size=100
            )
            resp = client.describe_image_share_permission(req)
            if resp.body.image_id != c["image"] or not resp.body.request_id:
                raise Failed(f"DescribeImageSharePermission: {resp.body.to_map()}")

        return call

    return make


def ucloud_factory(base_url, c):
    from ucloud.client import Client

    logging.getLogger("ucloud").setLevel(logging.WARNING)

    def make():
        client = Client({
            "base_url": base_url,
            "public_key": c["public_key"],
            "private_key": c["private_key"],
            "project_id": c["project_id"],
            "region": c["region"],
            "max_retries": 0,
            "timeout": 30,
            "log_level": logging.WARNING,
        })
        uhost = client.uhost()

        def call():
            resp = uhost.describe_image({"ImageId": c["image"]})
            ids = [i.get("ImageId") for i in resp.get("ImageSet", [])]
            if c["image"] not in ids:
                raise Failed(f"DescribeImage: {resp}")

        return call

    return make


FACTORIES = {"tencent": tencent_factory, "alibaba": alibaba_factory, "ucloud": ucloud_factory}


def sequential(make, count):
    """(requests/s, CPU microseconds of this process per request)."""
    call = make()
    cpu, start = time.process_time(), time.perf_counter()
    for _ in range(count):
        call()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return count / wall, cpu * 1e6 / count


def parallel(make, count, in_flight):
    local = threading.local()

    def one(_):
        call = getattr(local, "call", None)
        if call is None:
            call = local.call = make()
        call()

    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        # Build every thread's client before the clock starts.
        list(pool.map(one, range(in_flight)))
        cpu, start = time.process_time(), time.perf_counter()
        # map re-raises the first exception; the iteration is bounded by `count`.
        for _ in pool.map(one, range(count)):
            pass
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        return count / wall, cpu * 1e6 / count


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    cfg = json.loads(sys.argv[1])
    out = {}
    for cloud in cfg["clouds"]:
        make = FACTORIES[cloud](cfg["base_url"], cfg[cloud])
        warm = make()
        for _ in range(cfg["warmup"]):
            warm()
        seq, seq_cpu = sequential(make, cfg["sequential"])
        par, par_cpu = parallel(make, cfg["parallel"], cfg["in_flight"])
        calls = cfg["warmup"] + cfg["sequential"] + cfg["in_flight"] + cfg["parallel"]
        out[cloud] = {"sequential": seq, "parallel": par, "calls": calls,
                      "cpu_us": {"sequential": seq_cpu, "parallel": par_cpu}}
        print(f"python {cloud}: sequential {seq:.0f} req/s, "
              f"{cfg['in_flight']} in flight {par:.0f} req/s", file=sys.stderr, flush=True)
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001 - any SDK error fails the benchmark
        print(f"overhead.py: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
