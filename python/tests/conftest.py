"""Helpers of the package's own tests: the clouds' official Python SDKs pointed at the
fixture's emulator the way their docs set an endpoint (each test skips when its SDK is
not installed). The plugin itself comes from the installed package's `pytest11` entry
point, as it would for any user."""

import json

import pytest


@pytest.fixture
def tencent_cvm():
    """`make(emu, account_id, region)`: a CVM client of tencentcloud-sdk-python."""
    pytest.importorskip("tencentcloud.cvm.v20170312")
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.cvm.v20170312 import cvm_client

    def make(emu, account_id, region="ap-guangzhou"):
        key = emu.accounts[account_id].tencent
        scheme = emu.base_url.split("://", 1)[0]
        http = HttpProfile(protocol=scheme, endpoint=emu.host, reqTimeout=10,
                           certification=emu.ca_path)
        return cvm_client.CvmClient(credential.Credential(key.secret_id, key.secret_key),
                                    region, ClientProfile(httpProfile=http))

    return make


def cvm_call(client, action, params):
    """Calls `action` through the SDK's typed models; the answer as a dict."""
    from tencentcloud.cvm.v20170312 import models

    request = getattr(models, action + "Request")()
    request.from_json_string(json.dumps(params))
    return json.loads(getattr(client, action)(request).to_json_string())
