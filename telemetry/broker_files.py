"""Where a broker's files live, and how they are read and written (owner-only, atomically)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from telemetry.broker_tls import BrokerTls


@dataclass(frozen=True, slots=True)
class BrokerFiles:
    """Where one broker's files live (all inside `<data dir>/mosquitto`)."""

    root: Path

    @property
    def passwd(self) -> Path:
        return self.root / "passwd"

    @property
    def acl(self) -> Path:
        return self.root / "acl"

    @property
    def accounts(self) -> Path:
        """Passwords of the service accounts, readable by the owner only; never committed."""
        return self.root / "accounts.json"

    @property
    def devices(self) -> Path:
        """Which site each device account belongs to (for the ACL)."""
        return self.root / "devices.json"

    @property
    def natives(self) -> Path:
        """Native devices' accounts (Shelly, Tasmota, ESPHome, the Zigbee2MQTT bridge): username -> dialect."""
        return self.root / "natives.json"

    @property
    def bridges(self) -> Path:
        """At a chain's center: the sites whose bridges may connect (site -> its bridge account)."""
        return self.root / "bridges.json"

    @property
    def config(self) -> Path:
        return self.root / "mosquitto.conf"

    @property
    def pid(self) -> Path:
        return self.root / "mosquitto.pid"

    @property
    def log(self) -> Path:
        return self.root / "mosquitto.log"

    @property
    def tls(self) -> BrokerTls:
        """The broker's CA and server certificate (made by `clinic init --tls`)."""
        return BrokerTls(self.root / "tls")


def private_dir(path: Path) -> None:
    """Create a folder (and its missing parents, e.g. the data folder) readable by its owner only."""
    for folder in reversed([path, *path.parents]):
        if not folder.exists():
            folder.mkdir(mode=0o700)


def read_passwd(path: Path) -> dict[str, str]:
    """A Mosquitto password file as user -> hash (empty when there is none yet)."""
    if not path.exists():
        return {}
    entries = {}
    for line in path.read_text().splitlines():
        if ":" in line and not line.startswith("#"):
            user, hashed = line.split(":", 1)
            entries[user] = hashed
    return entries


def write_passwd(path: Path, entries: dict[str, str]) -> None:
    """Write a Mosquitto password file, one `user:hash` line per account, owner-only."""
    write_private(path, "".join(f"{user}:{hashed}\n" for user, hashed in sorted(entries.items())))


def read_json(path: Path) -> dict[str, str]:
    """A JSON file of string -> string (empty when there is none yet)."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {str(k): str(v) for k, v in data.items()}


def write_private(path: Path, text: str) -> None:
    """Write a secret file readable by its owner only (atomically, so a running broker never sees half)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)
