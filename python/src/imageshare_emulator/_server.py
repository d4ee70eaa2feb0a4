"""Runs the emulator binary as a child process on 127.0.0.1 and an ephemeral port.

The binary (`imageshare-emulator serve --port 0`, crates/imageshare-emulator/src/main.rs)
prints `listening on http://127.0.0.1:N` once it accepts connections; SIGINT stops it.
"""

import contextlib
import os
import queue
import signal
import ssl
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence

from ._admin import Admin
from ._binary import binary_path
from ._world import Account, accounts_of, world_source

_LISTENING = "listening on "


class EmulatorError(RuntimeError):
    """The emulator did not start (its own message is included)."""


def _drain(stream, lines: "queue.Queue[Optional[str]]") -> None:
    for line in iter(stream.readline, ""):
        lines.put(line)
    lines.put(None)


class Emulator:
    """A running emulator: its address, the world's accounts and the admin API.

    Start one with `serve()` (a context manager) or the pytest fixture
    `imageshare_emulator`; `stop()` ends it."""

    def __init__(self, world=None, *, tls: bool = False, args: Sequence[str] = (),
                 startup_timeout: float = 20.0, base: Optional[Path] = None):
        self._dir = tempfile.TemporaryDirectory(prefix="imageshare-emulator-")
        binary = binary_path()
        text, world_file = world_source(world, base)
        if text is None:
            text = subprocess.run([binary, "example-world"], check=True, capture_output=True,
                                  text=True, timeout=startup_timeout).stdout
        self.world_toml: str = text
        """The TOML text of the world the emulator loaded."""
        self.accounts: Dict[str, Account] = accounts_of(text)
        """The world's accounts by id, with their keys."""
        if world_file is None:
            world_file = Path(self._dir.name) / "world.toml"
            world_file.write_text(text, encoding="utf-8")
        command = [binary, "serve", "--port", "0", "--world", str(world_file), *args]
        self.ca_path: Optional[str] = None
        """With `tls=True`: the PEM file of the CA that signed the server's certificate."""
        if tls:
            self.ca_path = str(Path(self._dir.name) / "ca.pem")
            command += ["--tls", "--ca-out", self.ca_path]
        self._stderr = open(Path(self._dir.name) / "stderr.log", "w+", encoding="utf-8")
        self._proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._stderr,
                                      stdin=subprocess.DEVNULL, text=True)
        lines: "queue.Queue[Optional[str]]" = queue.Queue()
        threading.Thread(target=_drain, args=(self._proc.stdout, lines), daemon=True).start()
        try:
            line = lines.get(timeout=startup_timeout)
        except queue.Empty:
            line = None
        if not line or not line.startswith(_LISTENING):
            self._stop_process(timeout=5.0)
            message = self._stderr_text() or repr(line)
            self.stop()
            raise EmulatorError(f"the emulator did not start: {message}")
        self.base_url: str = line[len(_LISTENING):].strip()
        """`http://127.0.0.1:N` (or https with `tls=True`)."""
        self.host: str = self.base_url.split("://", 1)[1]
        """`127.0.0.1:N`, the form of endpoint Tencent's and Alibaba's SDKs take."""
        self.port: int = int(self.host.rsplit(":", 1)[1])
        """The port the emulator listens on."""
        context = ssl.create_default_context(cafile=self.ca_path) if tls else None
        self.admin = Admin(self.base_url, context)
        """The admin API client (the methods below forward to it)."""

    def _stderr_text(self) -> str:
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read().strip()

    # The admin API, as methods of the emulator.
    def health(self) -> Dict[str, Any]:
        """`GET /_imageshare/health`."""
        return self.admin.health()

    def state(self) -> Dict[str, Any]:
        """The accounts and the live images with their grants."""
        return self.admin.state()

    def image(self, image_id: str) -> Dict[str, Any]:
        """One image of `state()` by id (KeyError when there is none)."""
        for img in self.state()["images"]:
            if img["id"] == image_id:
                return img
        raise KeyError(image_id)

    def calls(self, provider: Optional[str] = None, action: Optional[str] = None) -> List[Dict[str, Any]]:
        """The calls received, in arrival order, optionally filtered."""
        return self.admin.calls(provider, action)

    def faults(self) -> Dict[str, Any]:
        """The fault plan in force and the faults served so far."""
        return self.admin.faults()

    def set_faults(self, rules=(), seed: Optional[int] = None) -> Dict[str, Any]:
        """Replaces the fault plan: a list of rules (README: "A rule: ..."), or `[]` for none."""
        return self.admin.set_faults(rules, seed)

    def reset(self) -> Dict[str, Any]:
        """Back to the loaded world; the call log and the served faults are emptied."""
        return self.admin.reset()

    def load_world(self, world) -> Dict[str, Any]:
        """Loads a new world (a path or TOML text), which `reset()` returns to."""
        text, _ = world_source(world)
        answer = self.admin.load_world(text)
        self.world_toml, self.accounts = text, accounts_of(text)
        return answer

    def stop(self, timeout: float = 10.0) -> None:
        """Stops the emulator (SIGINT, then a kill after `timeout` seconds)."""
        self._stop_process(timeout)
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._stderr.close()
        self._dir.cleanup()

    def _stop_process(self, timeout: float) -> None:
        proc = self._proc
        if proc.poll() is None:
            if os.name == "posix":
                proc.send_signal(signal.SIGINT)
            else:  # pragma: no cover
                proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)

    def __enter__(self) -> "Emulator":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        url = getattr(self, "base_url", None)
        return f"<imageshare Emulator {url} accounts={sorted(self.accounts)}>"


@contextlib.contextmanager
def serve(world=None, *, tls: bool = False, args: Sequence[str] = (),
          startup_timeout: float = 20.0, base: Optional[Path] = None) -> Iterator[Emulator]:
    """Runs an emulator for the `with` block: `world` is None (the default world,
    examples/world.toml), a path (relative: looked up under `base` first) or TOML text;
    `tls=True` serves https with a CA generated at start (`emu.ca_path`); `args` are more
    `serve` flags (`--header-timeout-ms`, ...)."""
    emu = Emulator(world, tls=tls, args=args, startup_timeout=startup_timeout, base=base)
    try:
        yield emu
    finally:
        emu.stop()


