"""imageshare-emulator: a local emulator of the image-sharing APIs of Alibaba Cloud (ECS,
SAS), Tencent Cloud (CVM, Lighthouse) and UCloud (UHost), for test suites.

    from imageshare_emulator import serve

    with serve() as emu:                      # the default world
        key = emu.accounts["100000000001"].tencent
        ...                                   # point an SDK at emu.base_url / emu.host
        assert emu.image("img-6pb6lrmy")["shared_with"] == ["100000000002"]

With pytest, the `imageshare_emulator` fixture does the same per test (see
`imageshare_emulator.pytest_plugin`). The emulator itself is the Rust binary
`imageshare-emulator` installed with this package (crates/imageshare-emulator).
"""

from ._admin import Admin, AdminError
from ._binary import BINARY_ENV, binary_path
from ._server import Emulator, EmulatorError, serve
from ._world import Account, AlibabaKey, TencentKey, UCloudKey

__all__ = [
    "Account", "Admin", "AdminError", "AlibabaKey", "BINARY_ENV", "Emulator",
    "EmulatorError", "TencentKey", "UCloudKey", "binary_path", "serve",
]
