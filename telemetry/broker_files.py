"""Where a broker's files live, and how they are read and written (owner-only, atomically)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from shared.store.private_files import write_private
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

    def kept_by_backups(self) -> list[Path]:
        """What a backup must hold for the site's devices to connect after a restore: accounts, ACL, TLS.

        Not the rendered mosquitto.conf (`clinic up` writes it anew for the machine), the pid, the log, or the
        broker's persistence (sessions and retained messages the devices and the listener renew on connect).
        """
        secrets = [self.passwd, self.acl, self.accounts, self.devices, self.natives, self.bridges]
        tls = [self.tls.ca, self.tls.ca_key, self.tls.cert, self.tls.key]
        return [path for path in secrets + tls if path.is_file()]


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
