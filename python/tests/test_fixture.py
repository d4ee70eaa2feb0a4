"""The fixture and the context manager without any cloud SDK: worlds (default, marker,
parameter, path), keys, TLS, errors and the process's end."""

import json
import ssl
import urllib.error
import urllib.request

import pytest

import imageshare_emulator as pkg

TINY = """
[[account]]
id = "400000000001"
keys.alibaba = { id = "LTAITINY00000001", secret = "tiny-secret" }

[[image]]
provider = "alibaba-ecs"
id = "m-tiny00000001"
owner = "400000000001"
region = "cn-beijing"
"""


def test_default_world(imageshare_emulator):
    emu = imageshare_emulator
    assert emu.base_url == f"http://127.0.0.1:{emu.port}" and emu.port > 0
    health = emu.health()
    assert health["status"] == "ok" and "tencent-cvm" in health["providers"]
    assert sorted(emu.accounts) == ["100000000001", "100000000002", "200000000001"]
    owner = emu.accounts["100000000001"]
    assert owner.tencent.secret_id.startswith("AKID") and owner.projects == ["org-a1b2c3"]
    assert owner.tencent.secret_key not in repr(owner) and owner.alibaba.access_key_secret not in repr(owner)
    state = emu.state()
    assert {a["id"] for a in state["accounts"]} == set(emu.accounts)
    assert emu.image("img-6pb6lrmy")["owner"] == "100000000001"


@pytest.mark.imageshare_world(TINY)
def test_marker_with_toml_text(imageshare_emulator):
    emu = imageshare_emulator
    assert list(emu.accounts) == ["400000000001"]
    assert [i["id"] for i in emu.state()["images"]] == ["m-tiny00000001"]


@pytest.mark.parametrize("imageshare_emulator", ["worlds/small.toml"], indirect=True)
def test_parameter_with_a_path_beside_the_test(imageshare_emulator):
    emu = imageshare_emulator
    assert sorted(emu.accounts) == ["300000000001", "300000000002"]
    assert emu.image("img-small001")["region"] == "ap-shanghai"


def test_load_world_then_reset_returns_to_it(imageshare_emulator):
    emu = imageshare_emulator
    assert emu.load_world(TINY)["images"] == 1
    assert list(emu.accounts) == ["400000000001"]
    emu.reset()
    assert [i["id"] for i in emu.state()["images"]] == ["m-tiny00000001"]


def test_admin_errors_carry_the_message(imageshare_emulator):
    with pytest.raises(pkg.AdminError) as err:
        imageshare_emulator.set_faults([{"provider": "tencent-cvm", "error_rate": 2.0}])
    assert err.value.status == 400 and err.value.message


@pytest.mark.imageshare_world(tls=True)
def test_tls(imageshare_emulator):
    emu = imageshare_emulator
    assert emu.base_url.startswith("https://127.0.0.1:") and emu.ca_path
    assert emu.health()["status"] == "ok"
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(emu.base_url + "/_imageshare/health", timeout=5,
                               context=ssl.create_default_context())


def test_serve_outside_pytest_and_stop():
    with pkg.serve(TINY) as emu:
        url = emu.base_url + "/_imageshare/health"
        with urllib.request.urlopen(url, timeout=5) as resp:
            assert json.load(resp)["status"] == "ok"
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=2)


def test_bad_world_is_refused_with_the_position():
    with pytest.raises(pkg.EmulatorError) as err:
        with pkg.serve('[[account]]\nid = "1"\nencryption = "cmk"\n'):
            pass
    assert "encryption" in str(err.value) and ":3:" in str(err.value)


def test_binary_is_installed():
    assert pkg.binary_path().endswith("imageshare-emulator")
