"""Finds the `imageshare-emulator` binary that the wheel installed.

maturin's binary wheels put the executable in the environment's scripts directory
(https://www.maturin.rs/bindings#bin), which is where ruff's package looks for its own
(ruff/__main__.py, `find_ruff_bin`); this does the same, with an override for a binary
built elsewhere (`cargo build -p imageshare-emulator`).
"""

import os
import shutil
import sys
import sysconfig
from pathlib import Path

#: Environment variable naming a binary to use instead of the installed one.
BINARY_ENV = "IMAGESHARE_EMULATOR_BIN"

_NAME = "imageshare-emulator" + (".exe" if os.name == "nt" else "")


def _candidates():
    yield Path(sysconfig.get_path("scripts"))
    user_scheme = {"nt": "nt_user", "posix": "posix_user"}.get(os.name)
    if user_scheme:
        try:
            yield Path(sysconfig.get_path("scripts", scheme=user_scheme))
        except KeyError:
            pass
    yield Path(sys.executable).parent


def binary_path():
    """The path of the emulator binary: `$IMAGESHARE_EMULATOR_BIN`, else the one installed
    with this package, else one on `PATH`. Raises FileNotFoundError when there is none."""
    override = os.environ.get(BINARY_ENV)
    if override:
        if not os.access(override, os.X_OK):
            raise FileNotFoundError(f"{BINARY_ENV}={override} is not an executable file")
        return override
    for directory in _candidates():
        path = directory / _NAME
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    found = shutil.which(_NAME)
    if found:
        return found
    raise FileNotFoundError(
        "the imageshare-emulator binary is not installed next to this Python "
        f"({sysconfig.get_path('scripts')}); reinstall the package or set {BINARY_ENV}"
    )
