"""Broker set-up: accounts, password file and ACL for the repo's mosquitto.conf, and a rendered copy to run.

Service accounts have a `.` in their names (`svc.listener`), which no equipment id may contain, so a service
account and a device account can never be confused. Each device gets explicit ACL lines for its own topics.
The broker makes every client's id its username (`use_username_as_clientid`), so no account can take over
another's session: each listener of a shared group and each simulated station has an account of its own.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import json
import os
import secrets
import signal
from dataclasses import dataclass
from pathlib import Path

from shared.equipment.provisioning import account_taken
from shared.store.settings import ID_PATTERN, Settings, get_settings
from telemetry.bridge import bridge_lines, bridge_user
from telemetry.broker_tls import BrokerTls

LISTENER_USER = "svc.listener"
SIMULATOR_USER = "svc.simulator"
REGISTRY_USER = "svc.registry"  # publishes a site's registrations (retained); at the center, reads them all
SIMULATOR_POOL = 64  # `svc.simulator-<n>`: one account per simulated station (client id = username)
PBKDF2_ITERATIONS = 101  # what Mosquitto 2.0's own mosquitto_passwd writes (its "$7$" format)
REPO_CONFIG = Path(__file__).resolve().parent.parent / "mosquitto.conf"


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


def listener_user(n: int = 1) -> str:
    """The broker account (and so the client id) of the n-th listener of a shared group: svc.listener, -2, ..."""
    return LISTENER_USER if n == 1 else f"{LISTENER_USER}-{n}"


def simulator_user(n: int) -> str:
    """The account the simulator's n-th station connects as (0 to SIMULATOR_POOL - 1)."""
    return f"{SIMULATOR_USER}-{n}"


def pool_password(simulator_password: str, username: str) -> str:
    """A pool account's password, derived from svc.simulator's, so only that one secret is stored."""
    return hmac.new(simulator_password.encode(), username.encode(), hashlib.sha256).hexdigest()


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """A Mosquitto 2.0 password hash (PBKDF2-SHA512, the `$7$` format of mosquitto_passwd)."""
    salt = salt or secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS, 64)
    return f"$7${PBKDF2_ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def acl_text(
    prefix: str,
    devices: dict[str, str] | None = None,
    listeners: list[str] | None = None,
    bridges: dict[str, str] | None = None,
) -> str:
    """The ACL: the listener reads everything under the prefix; each device writes only its own topics.

    `devices` maps each device account (its equipment id) to its site, so a device can publish neither as
    another station nor as a station of the same id at another site. `bridges` (at a chain's center) maps each
    site to its bridge account, which may write that site's topics only.
    """
    device_rules: list[str] = []
    for equipment_id, site in sorted((devices or {}).items()):
        device_rules += [f"user {equipment_id}", f"topic write {prefix}/{site}/equipment/{equipment_id}/+", ""]
    listener_rules: list[str] = []
    for user in listeners or [LISTENER_USER]:
        listener_rules += [f"user {user}", f"topic read {prefix}/#", ""]
    simulator_rules: list[str] = []
    for user in [SIMULATOR_USER, *(simulator_user(n) for n in range(SIMULATOR_POOL))]:
        simulator_rules += [f"user {user}", f"topic write {prefix}/+/equipment/+/+", ""]
    bridge_rules: list[str] = []
    for site, user in sorted((bridges or {}).items()):
        bridge_rules += [f"user {user}", f"topic write {prefix}/{site}/#", ""]
    return "\n".join(
        [
            "# Written by `clinic init`; edit the generator (telemetry/broker.py), not this file.",
            "# The listeners (one account each: the broker makes the username the client id).",
            *listener_rules,
            "# A chain: equipment registrations (retained) and staff actions, published at each site for the",
            "# center (`clinic chain publish`); at the center the same account reads the registrations.",
            f"user {REGISTRY_USER}",
            f"topic readwrite {prefix}/+/registry/+",
            f"topic write {prefix}/+/equipment/+/+",
            "",
            "# Bridges of the chain's sites (`clinic chain add-site`): each forwards its own site's topics only.",
            *bridge_rules,
            "# Demo and test traffic generator (`clinic simulate`): svc.simulator and one account per simulated",
            "# station; remove their lines from passwd in production.",
            *simulator_rules,
            "# Every device: its username is its equipment id, and it may only publish its own channels.",
            *device_rules,
        ]
    )


def ensure_broker_files(settings: Settings, *, listeners: int = 1) -> dict[str, str]:
    """Create the service accounts (once), the password file and the ACL; returns the service passwords.

    `listeners` is how many listener accounts a shared group needs (svc.listener, svc.listener-2, ...);
    accounts made earlier are kept, so running it again with a smaller number removes none.
    """
    files = BrokerFiles(settings.broker_dir)
    private_dir(files.root)
    accounts = _read_json(files.accounts)
    changed = False
    for user in (*(listener_user(n) for n in range(1, listeners + 1)), SIMULATOR_USER, REGISTRY_USER):
        if user not in accounts:
            accounts[user] = secrets.token_urlsafe(24)
            changed = True
    if changed or not files.accounts.exists():
        _write_private(files.accounts, json.dumps(accounts, indent=2) + "\n")
    entries = _read_passwd(files.passwd)
    pool_users = [simulator_user(n) for n in range(SIMULATOR_POOL)]
    pool = {user: pool_password(accounts[SIMULATOR_USER], user) for user in pool_users}
    for user, password in {**accounts, **pool}.items():
        if user not in entries:
            entries[user] = hash_password(password)
    _write_passwd(files.passwd, entries)
    listener_accounts = sorted(u for u in accounts if u == LISTENER_USER or u.startswith(f"{LISTENER_USER}-"))
    acl = acl_text(settings.topic_prefix, _read_json(files.devices), listener_accounts, _read_json(files.bridges))
    _write_private(files.acl, acl)
    return accounts


def set_bridge_password(settings: Settings, site: str) -> str:
    """At the center: create or replace the bridge account of `site`; returns its password (stored hashed only).

    The ACL lets that account write `<prefix>/<site>/#` and nothing else, so one site's bridge (or its stolen
    password) can never publish as another site.
    """
    if not ID_PATTERN.match(site):
        raise ValueError(f"site {site!r} must match {ID_PATTERN.pattern}")
    files = BrokerFiles(settings.broker_dir)
    private_dir(files.root)
    bridges = _read_json(files.bridges)
    bridges[site] = bridge_user(site)
    _write_private(files.bridges, json.dumps(bridges, indent=2, sort_keys=True) + "\n")
    ensure_broker_files(settings)
    password = secrets.token_urlsafe(24)
    entries = _read_passwd(files.passwd)
    entries[bridge_user(site)] = hash_password(password)
    _write_passwd(files.passwd, entries)
    reload_broker(settings)
    return password


def bridge_sites(settings: Settings) -> dict[str, str]:
    """At the center: the sites that have a bridge account (site -> account)."""
    return _read_json(BrokerFiles(settings.broker_dir).bridges)


def private_dir(path: Path) -> None:
    """Create a folder (and its missing parents, e.g. the data folder) readable by its owner only."""
    for folder in reversed([path, *path.parents]):
        if not folder.exists():
            folder.mkdir(mode=0o700)


def device_account_site(settings: Settings, equipment_id: str) -> str | None:
    """The site whose station owns the broker account `equipment_id`, if there is one."""
    return _read_json(BrokerFiles(settings.broker_dir).devices).get(equipment_id)


def set_device_password(settings: Settings, equipment_id: str, *, site: str | None = None) -> str:
    """Create or replace a device's broker account; returns the new password (shown once, stored hashed).

    Usernames are equipment ids, so an id can have an account at one site per broker only.
    """
    site = site or settings.site
    if not ID_PATTERN.match(equipment_id):
        raise ValueError(f"equipment id {equipment_id!r} must match {ID_PATTERN.pattern}")
    files = BrokerFiles(settings.broker_dir)
    private_dir(files.root)
    devices = _read_json(files.devices)
    if devices.get(equipment_id, site) != site:
        raise ValueError(account_taken(equipment_id, devices[equipment_id]))
    devices[equipment_id] = site
    _write_private(files.devices, json.dumps(devices, indent=2, sort_keys=True) + "\n")
    ensure_broker_files(settings)
    password = secrets.token_urlsafe(18)
    entries = _read_passwd(files.passwd)
    entries[equipment_id] = hash_password(password)
    _write_passwd(files.passwd, entries)
    reload_broker(settings)
    return password


@dataclass(frozen=True, slots=True)
class FileBrokerAccounts:
    """The domain's `BrokerAccounts` on this broker's password file and ACL.

    Without `settings`, each call reads the current settings (`get_settings`), so a long-running app follows
    the environment it was started with.
    """

    settings: Settings | None = None

    def _settings(self) -> Settings:
        return self.settings or get_settings()

    def account_site(self, equipment_id: str) -> str | None:
        """The site whose station owns the broker account `equipment_id`, if there is one."""
        return device_account_site(self._settings(), equipment_id)

    def set_password(self, equipment_id: str, *, site: str) -> str:
        """Create or replace the device account; returns the new password."""
        return set_device_password(self._settings(), equipment_id, site=site)


def reload_broker(settings: Settings) -> bool:
    """Ask a broker started by `clinic up` to re-read its password file and ACL (SIGHUP)."""
    pid_file = BrokerFiles(settings.broker_dir).pid
    try:
        os.kill(int(pid_file.read_text().strip()), signal.SIGHUP)
    except (OSError, ValueError):
        return False
    return True


def render_config(
    files: BrokerFiles,
    *,
    port: int,
    host: str = "127.0.0.1",
    template: Path = REPO_CONFIG,
    tls_listener: tuple[int, str] | None = None,
) -> str:
    """The repo's mosquitto.conf with its listener moved to `host:port` and its paths made absolute.

    With `tls_listener` (port, address) and the certificate from `clinic init --tls`, a second listener
    serves MQTT over TLS there (same accounts and ACL): devices on the Wi-Fi use it.
    """
    root = files.root.resolve()
    replacements = {
        "listener": f"listener {port} {host}",
        "password_file": f"password_file {root / 'passwd'}",
        "acl_file": f"acl_file {root / 'acl'}",
        "persistence_location": f"persistence_location {root}/",
    }
    lines = []
    for line in template.read_text().splitlines():
        key = line.split(" ", 1)[0]
        lines.append(replacements.get(key, line))
    lines += [
        # Stay the user who started it (Mosquitto would otherwise switch to `mosquitto`, who cannot read
        # the owner-only password file).
        f"user {getpass.getuser()}",
        f"pid_file {root / 'mosquitto.pid'}",
        f"log_dest file {root / 'mosquitto.log'}",
    ]
    tls = files.tls
    if tls_listener is not None and tls.exists():
        lines += [
            "# MQTT over TLS (clinic init --tls): devices verify the broker with ca.pem.",
            f"listener {tls_listener[0]} {tls_listener[1]}",
            f"cafile {tls.ca.resolve()}",
            f"certfile {tls.cert.resolve()}",
            f"keyfile {tls.key.resolve()}",
            "tls_version tlsv1.2",
        ]
    return "\n".join(lines) + "\n"


def write_config(settings: Settings, *, port: int, host: str = "127.0.0.1") -> Path:
    """Render the repo's config for this data folder and port; returns the file to pass to `mosquitto -c`.

    With CLINIC_BRIDGE_TO (a site of a chain) it ends with the bridge to the center, whose password makes the
    file readable by its owner only.
    """
    files = BrokerFiles(settings.broker_dir)
    private_dir(files.root)
    tls_listener = (settings.mqtt_tls_port, settings.mqtt_tls_address)
    text = render_config(files, port=port, host=host, tls_listener=tls_listener)
    bridge = bridge_lines(settings)
    _write_private(files.config, text + ("\n".join(bridge) + "\n" if bridge else ""))
    return files.config


def _read_passwd(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    entries = {}
    for line in path.read_text().splitlines():
        if ":" in line and not line.startswith("#"):
            user, hashed = line.split(":", 1)
            entries[user] = hashed
    return entries


def _write_passwd(path: Path, entries: dict[str, str]) -> None:
    _write_private(path, "".join(f"{user}:{hashed}\n" for user, hashed in sorted(entries.items())))


def _read_json(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {str(k): str(v) for k, v in data.items()}


def _write_private(path: Path, text: str) -> None:
    """Write a secret file readable by its owner only (atomically, so a running broker never sees half)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)
