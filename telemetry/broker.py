"""Broker accounts: service and device passwords in the password file, with the ACL rewritten to match.

Service accounts have a `.` in their names (`svc.listener`), which no equipment id may contain, so a service
account and a device account can never be confused. Each device gets explicit ACL lines for its own topics.
The broker makes every client's id its username (`use_username_as_clientid`), so no account can take over
another's session: each listener of a shared group and each simulated station has an account of its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from shared.equipment.provisioning import account_taken
from shared.store.private_files import private_dir, write_private
from shared.store.settings import ID_PATTERN, Settings, get_settings
from telemetry.bridge import bridge_user
from telemetry.broker_acl import (
    LISTENER_USER,
    NATIVE_USER,
    REGISTRY_USER,
    SIMULATOR_POOL,
    SIMULATOR_USER,
    acl_text,
    listener_user,
    simulator_user,
)
from telemetry.broker_config import reload_broker
from telemetry.broker_files import BrokerFiles, read_json, read_passwd, write_passwd

PBKDF2_ITERATIONS = 101  # what Mosquitto 2.0's own mosquitto_passwd writes (its "$7$" format)


def pool_password(simulator_password: str, username: str) -> str:
    """A pool account's password, derived from svc.simulator's, so only that one secret is stored."""
    return hmac.new(simulator_password.encode(), username.encode(), hashlib.sha256).hexdigest()


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """A Mosquitto 2.0 password hash (PBKDF2-SHA512, the `$7$` format of mosquitto_passwd)."""
    salt = salt or secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS, 64)
    return f"$7${PBKDF2_ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def ensure_broker_files(settings: Settings, *, listeners: int = 1) -> dict[str, str]:
    """Create the service accounts (once), the password file and the ACL; returns the service passwords.

    `listeners` is how many listener accounts a shared group needs (svc.listener, svc.listener-2, ...);
    accounts made earlier are kept, so running it again with a smaller number removes none.
    """
    files = BrokerFiles(settings.broker_dir)
    private_dir(files.root)
    accounts = read_json(files.accounts)
    changed = False
    for user in (*(listener_user(n) for n in range(1, listeners + 1)), SIMULATOR_USER, REGISTRY_USER, NATIVE_USER):
        if user not in accounts:
            accounts[user] = secrets.token_urlsafe(24)
            changed = True
    if changed or not files.accounts.exists():
        write_private(files.accounts, json.dumps(accounts, indent=2) + "\n")
    entries = read_passwd(files.passwd)
    pool_users = [simulator_user(n) for n in range(SIMULATOR_POOL)]
    pool = {user: pool_password(accounts[SIMULATOR_USER], user) for user in pool_users}
    for user, password in {**accounts, **pool}.items():
        if user not in entries:
            entries[user] = hash_password(password)
    write_passwd(files.passwd, entries)
    listener_accounts = sorted(u for u in accounts if u == LISTENER_USER or u.startswith(f"{LISTENER_USER}-"))
    acl = acl_text(settings.topic_prefix, read_json(files.devices), listener_accounts, read_json(files.bridges),
                   read_json(files.natives))  # fmt: skip
    write_private(files.acl, acl)
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
    bridges = read_json(files.bridges)
    bridges[site] = bridge_user(site)
    write_private(files.bridges, json.dumps(bridges, indent=2, sort_keys=True) + "\n")
    ensure_broker_files(settings)
    password = secrets.token_urlsafe(24)
    entries = read_passwd(files.passwd)
    entries[bridge_user(site)] = hash_password(password)
    write_passwd(files.passwd, entries)
    reload_broker(settings)
    return password


def bridge_sites(settings: Settings) -> dict[str, str]:
    """At the center: the sites that have a bridge account (site -> account)."""
    return read_json(BrokerFiles(settings.broker_dir).bridges)


def native_account(settings: Settings, username: str) -> str | None:
    """The dialect of the native device account `username`, if there is one."""
    return read_json(BrokerFiles(settings.broker_dir).natives).get(username)


def set_native_password(settings: Settings, username: str, *, via: str) -> str:
    """Create or replace a native device's account (allowed its own vendor topics only); returns the password.

    The name is the device's own MQTT name, so it must be no station's account and no service account.
    """
    files = BrokerFiles(settings.broker_dir)
    private_dir(files.root)
    if "." in username or username in read_json(files.devices):
        raise ValueError(f"{username!r} is already a broker account of this clinic; rename the device")
    natives = read_json(files.natives)
    natives[username] = via
    write_private(files.natives, json.dumps(natives, indent=2, sort_keys=True) + "\n")
    return _new_password(settings, username)


def remove_native_account(settings: Settings, username: str) -> None:
    """Delete a native device's account and its ACL lines; the broker refuses it from then on."""
    files = BrokerFiles(settings.broker_dir)
    natives = read_json(files.natives)
    if natives.pop(username, None) is None:
        return
    write_private(files.natives, json.dumps(natives, indent=2, sort_keys=True) + "\n")
    entries = read_passwd(files.passwd)
    entries.pop(username, None)
    write_passwd(files.passwd, entries)
    ensure_broker_files(settings)
    reload_broker(settings)


def _new_password(settings: Settings, username: str) -> str:
    """Give `username` a new random password in the password file, rewrite the ACL, and tell the broker."""
    files = BrokerFiles(settings.broker_dir)
    ensure_broker_files(settings)
    password = secrets.token_urlsafe(18)
    entries = read_passwd(files.passwd)
    entries[username] = hash_password(password)
    write_passwd(files.passwd, entries)
    reload_broker(settings)
    return password


def device_account_site(settings: Settings, equipment_id: str) -> str | None:
    """The site whose station owns the broker account `equipment_id`, if there is one."""
    return read_json(BrokerFiles(settings.broker_dir).devices).get(equipment_id)


def set_device_password(settings: Settings, equipment_id: str, *, site: str | None = None) -> str:
    """Create or replace a device's broker account; returns the new password (shown once, stored hashed).

    Usernames are equipment ids, so an id can have an account at one site per broker only.
    """
    site = site or settings.site
    if not ID_PATTERN.match(equipment_id):
        raise ValueError(f"equipment id {equipment_id!r} must match {ID_PATTERN.pattern}")
    files = BrokerFiles(settings.broker_dir)
    private_dir(files.root)
    devices = read_json(files.devices)
    if devices.get(equipment_id, site) != site:
        raise ValueError(account_taken(equipment_id, devices[equipment_id]))
    if equipment_id in read_json(files.natives):
        raise ValueError(f"{equipment_id!r} is already the broker account of a native device (`clinic device bind`)")
    devices[equipment_id] = site
    write_private(files.devices, json.dumps(devices, indent=2, sort_keys=True) + "\n")
    return _new_password(settings, equipment_id)


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

    def native_account(self, username: str) -> str | None:
        """The dialect of the native device account `username`, if there is one."""
        return native_account(self._settings(), username)

    def add_native_account(self, username: str, *, via: str) -> str:
        """Create or replace a native device's account; returns the password."""
        return set_native_password(self._settings(), username, via=via)

    def remove_native_account(self, username: str) -> None:
        """Delete a native device's account."""
        remove_native_account(self._settings(), username)
