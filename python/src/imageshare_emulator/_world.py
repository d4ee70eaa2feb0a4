"""World files as the Python side needs them: the TOML text to hand to the binary and the
accounts with their keys (so that tests can configure the clouds' SDKs).

The world format is the emulator's (README.md, "The emulator"; crates/imageshare-emulator/
src/world.rs is the reference). Secrets are kept out of every `repr`.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

try:
    import tomllib  # Python 3.11+
except ImportError:  # pragma: no cover - older Pythons use the backport
    import tomli as tomllib


@dataclass(frozen=True)
class TencentKey:
    """A Tencent Cloud key pair (SecretId / SecretKey)."""

    secret_id: str
    secret_key: str = field(repr=False)


@dataclass(frozen=True)
class AlibabaKey:
    """An Alibaba Cloud AccessKey pair."""

    access_key_id: str
    access_key_secret: str = field(repr=False)


@dataclass(frozen=True)
class UCloudKey:
    """A UCloud API key pair."""

    public_key: str
    private_key: str = field(repr=False)


@dataclass(frozen=True)
class Account:
    """One account of the world: its id, site, UCloud projects and per-cloud keys (None
    for a cloud the world gives it no key on)."""

    id: str
    site: str
    projects: List[str]
    tencent: Optional[TencentKey]
    alibaba: Optional[AlibabaKey]
    ucloud: Optional[UCloudKey]


def _account(raw):
    keys = raw.get("keys", {})
    tc, ali, uc = keys.get("tencent"), keys.get("alibaba"), keys.get("ucloud")
    return Account(
        id=str(raw["id"]),
        site=raw.get("site", "china"),
        projects=list(raw.get("projects", [])),
        tencent=TencentKey(tc["id"], tc["secret"]) if tc else None,
        alibaba=AlibabaKey(ali["id"], ali["secret"]) if ali else None,
        ucloud=UCloudKey(uc["public"], uc["private"]) if uc else None,
    )


def accounts_of(text: str) -> Dict[str, Account]:
    """The accounts of a world file's text, by id (the binary checks the rest)."""
    return {a.id: a for a in map(_account, tomllib.loads(text).get("account", []))}


def world_source(world, base: Optional[Path] = None) -> Tuple[Optional[str], Optional[Path]]:
    """`(text, path)` of `world`: None is the default world (`(None, None)`); TOML text (a
    str with a newline or starting with a table) has no path; a path (str or os.PathLike;
    a relative one is looked up under `base` first when given) gives its text and its
    absolute path (so that the emulator's errors name the caller's file)."""
    if world is None:
        return None, None
    if isinstance(world, str) and ("\n" in world or world.lstrip().startswith("[")):
        return world, None
    path = Path(os.fspath(world))
    if base is not None and not path.is_absolute() and (base / path).is_file():
        path = base / path
    return path.read_text(encoding="utf-8"), path.resolve()
