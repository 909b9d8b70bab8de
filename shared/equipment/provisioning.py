"""Provisioning a device, one set of rules for the CLI and the staff app: registering or editing its station,
its broker password (behind `BrokerAccounts`), the refusals, and the audit entries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session

from shared.equipment.models import Equipment
from shared.equipment.stations import is_registered, register_equipment, validate_station
from shared.equipment.topics import equipment_topic
from shared.staff.audit import audit
from shared.store.errors import ValidationFailed


class BrokerAccounts(Protocol):
    """The message broker's device accounts (username = equipment id, or a native device's own name), as the domain
needs them."""

    def account_site(self, equipment_id: str) -> str | None:
        """The site whose station owns the account `equipment_id`, or None when there is none."""
        ...

    def set_password(self, equipment_id: str, *, site: str) -> str:
        """Create or replace the account of `equipment_id` at `site`; returns the new password (shown once)."""
        ...

    def native_account(self, username: str) -> str | None:
        """The dialect (`shelly`, ...) of the native device account `username`, or None when there is none."""
        ...

    def add_native_account(self, username: str, *, via: str) -> str:
        """Create or replace a native device's account, allowed its own native topics only; returns the password."""
        ...

    def remove_native_account(self, username: str) -> None:
        """Delete a native device's account (its device is refused from then on)."""
        ...


class AlreadyRegistered(ValidationFailed):
    """A new station's id is taken at its site (its details are changed by editing it instead)."""


@dataclass(frozen=True, slots=True)
class DevicePassword:
    """A device's new broker password, shown once, and where the device publishes with it."""

    site: str
    username: str
    password: str
    topic: str
    replaced: bool


_registered: list[BrokerAccounts] = []


def use_broker_accounts(accounts: BrokerAccounts) -> None:
    """Register the broker accounts the app uses (done by the composition root, `clinic`, before serving)."""
    _registered[:] = [accounts]


def broker_accounts() -> BrokerAccounts:
    """The registered broker accounts; a `RuntimeError` when the app was started without any."""
    if not _registered:
        raise RuntimeError("no broker accounts registered: start the app through `clinic` (use_broker_accounts)")
    return _registered[0]


def account_taken(equipment_id: str, owner: str) -> str:
    """The refusal when `equipment_id` already has a broker account at another site (usernames are per broker)."""
    return (
        f"equipment id {equipment_id!r} already has a broker account at site {owner!r}; "
        "ids must be unique on one broker"
    )


def account_status(accounts: BrokerAccounts, *, site: str, equipment_id: str) -> str:
    """The station's broker account in words: "none", "yes", or "taken at site <other>"."""
    owner = accounts.account_site(equipment_id)
    if owner is None:
        return "none"
    return "yes" if owner == site else f"taken at site {owner}"


def has_account(accounts: BrokerAccounts, *, site: str, equipment_id: str) -> bool:
    """Whether the station `site/equipment_id` has its broker account."""
    return accounts.account_site(equipment_id) == site


def check_account_free(accounts: BrokerAccounts, *, site: str, equipment_id: str) -> None:
    """Refuse (`ValidationFailed`) an id whose broker account belongs to a station at another site."""
    owner = accounts.account_site(equipment_id)
    if owner is not None and owner != site:
        raise ValidationFailed(account_taken(equipment_id, owner))


def register_station(
    *,
    session: Session,
    accounts: BrokerAccounts,
    site: str,
    equipment_id: str,
    name: str,
    kind: str | None = None,
    zone: str | None = None,
    clean_after_use: bool | None = None,
    maintenance_interval_hours: float | None = None,
    actor: str,
) -> Equipment:
    """Register a new station (refused when its id is registered at the site, or its broker account is another
    site's); audited as `actor`."""
    equipment_id = equipment_id.strip()
    validate_station(site=site, equipment_id=equipment_id, name=name,
                     maintenance_interval_hours=maintenance_interval_hours)  # fmt: skip
    if is_registered(session=session, site=site, equipment_id=equipment_id):
        raise AlreadyRegistered(f"station {equipment_id} is already registered")
    check_account_free(accounts, site=site, equipment_id=equipment_id)
    return register_equipment(session=session, site=site, equipment_id=equipment_id, name=name, kind=kind,
                              zone=zone, clean_after_use=clean_after_use,
                              maintenance_interval_hours=maintenance_interval_hours, actor=actor)  # fmt: skip


def edit_station(
    *,
    session: Session,
    site: str,
    equipment_id: str,
    name: str,
    kind: str,
    zone: str,
    clean_after_use: bool,
    maintenance_interval_hours: float | None,
    actor: str,
) -> Equipment:
    """Change a registered station's details; a maintenance interval (None or 0 = none) can be changed to a
    positive number but, once set, not removed. Audited as `actor`."""
    current = session.get(Equipment, (site, equipment_id))
    interval = maintenance_interval_hours or None
    if current is not None and interval is None and current.maintenance_interval_hours is not None:
        raise ValidationFailed("a maintenance interval cannot be removed, only changed to a positive number")
    return register_equipment(session=session, site=site, equipment_id=equipment_id, name=name, kind=kind,
                              zone=zone, clean_after_use=clean_after_use, maintenance_interval_hours=interval,
                              actor=actor)  # fmt: skip


def set_device_password(
    *, session: Session, accounts: BrokerAccounts, site: str, equipment_id: str, topic_prefix: str,
    actor: str | None = None,
) -> DevicePassword:  # fmt: skip
    """Create or replace the broker password of the station's device (refused when another site's station owns
    the id's account); with `actor`, audited in the caller's transaction.

    The broker change comes after every check, as the last step before the caller commits: a refusal changes
    nothing anywhere. It takes milliseconds (a 101-round hash, three small files, a SIGHUP), so the write lock is
    not held for long; should the commit itself then fail, the device has a password nobody saw, and running
    the action again replaces it."""
    validate_station(site=site, equipment_id=equipment_id)
    check_account_free(accounts, site=site, equipment_id=equipment_id)
    replaced = has_account(accounts, site=site, equipment_id=equipment_id)
    try:
        password = accounts.set_password(equipment_id, site=site)
    except ValueError as exc:  # the broker's own check, should another writer have taken the id meanwhile
        raise ValidationFailed(str(exc)) from exc
    if actor is not None:
        audit(session, actor=actor, action="equipment.broker_password", target=f"{site}/{equipment_id}",
              detail={"replaced": replaced})  # fmt: skip
    return DevicePassword(site, equipment_id, password, device_topics(topic_prefix, site, equipment_id), replaced)


def provision_device(
    *,
    session: Session,
    accounts: BrokerAccounts,
    site: str,
    equipment_id: str,
    topic_prefix: str,
    name: str | None = None,
    kind: str | None = None,
    zone: str | None = None,
    clean_after_use: bool | None = None,
    maintenance_interval_hours: float | None = None,
) -> tuple[Equipment, DevicePassword]:
    """`clinic device add`: register the station (or update the details given) and give its device a new broker
    password, refused first when the id's account belongs to another site."""
    validate_station(site=site, equipment_id=equipment_id, name=name,
                     maintenance_interval_hours=maintenance_interval_hours)  # fmt: skip
    check_account_free(accounts, site=site, equipment_id=equipment_id)
    equipment = register_equipment(session=session, site=site, equipment_id=equipment_id, name=name, kind=kind,
                                   zone=zone, clean_after_use=clean_after_use,
                                   maintenance_interval_hours=maintenance_interval_hours)  # fmt: skip
    password = set_device_password(session=session, accounts=accounts, site=site, equipment_id=equipment_id,
                                   topic_prefix=topic_prefix)  # fmt: skip
    return equipment, password


def device_topics(prefix: str, site: str, equipment_id: str) -> str:
    """The topics a device publishes on, for people: `<prefix>/<site>/equipment/<id>/<channel>`."""
    return equipment_topic(prefix, site, equipment_id, "usage").rsplit("/", 1)[0] + "/<channel>"
