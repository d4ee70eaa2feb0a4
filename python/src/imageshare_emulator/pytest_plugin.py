"""The pytest plugin (entry point `pytest11`): the `imageshare_emulator` fixture.

Each test that asks for the fixture gets its own emulator on 127.0.0.1 and a free port,
stopped after the test. The world is, first found:

* the fixture's parameter, `@pytest.mark.parametrize("imageshare_emulator", [WORLD],
  indirect=True)` (WORLD, or a dict `{"world": WORLD, "tls": True}`);
* the marker `@pytest.mark.imageshare_world(WORLD, tls=False)` on the test, its class or
  module;
* the default world (examples/world.toml in the imageshare repository).

WORLD is a path (a relative one is looked up beside the test file first) or TOML text.
"""

from pathlib import Path

import pytest

from ._server import serve

MARKER = "imageshare_world"


def pytest_configure(config):
    """Registers the `imageshare_world` marker."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(world=None, tls=False): the world (path or TOML text) and transport "
        "of the imageshare_emulator fixture",
    )


def _settings(request):
    world, tls = None, False
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        world = marker.args[0] if marker.args else marker.kwargs.get("world")
        tls = bool(marker.kwargs.get("tls", False))
    param = getattr(request, "param", None)
    if isinstance(param, dict):
        world = param.get("world", world)
        tls = bool(param.get("tls", tls))
    elif param is not None:
        world = param
    return world, tls


@pytest.fixture
def imageshare_emulator(request):
    """A running emulator (`imageshare_emulator.Emulator`): `base_url`, `host`, `accounts`
    with each account's keys, and the admin API as methods (`state()`, `calls()`,
    `reset()`, `set_faults()`, ...)."""
    world, tls = _settings(request)
    base = getattr(request, "path", None) or getattr(request.node, "fspath", None)
    base_dir = Path(str(base)).parent if base is not None else None
    with serve(world, tls=tls, base=base_dir) as emu:
        yield emu
