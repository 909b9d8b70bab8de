"""Binding a native device to a station, one set of rules for `clinic device bind` and the staff app: the
refusals, the thresholds (kind defaults, then what was given), the device's broker account, the audit entry."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, delete, select

from shared.equipment.models import Equipment
from shared.equipment.native.defaults import defaults_for
from shared.equipment.native.dialects import native_topics, source_name_problem
from shared.equipment.native.inference import Role, Thresholds, check_thresholds
from shared.equipment.native.models import NativeBinding
from shared.equipment.native.readings import VIAS, Via
from shared.equipment.provisioning import BrokerAccounts
from shared.equipment.stations import validate_station
from shared.staff.audit import audit
from shared.store.errors import NotFound, ValidationFailed
from shared.store.types import utcnow

ROLES: tuple[Role, ...] = ("usage", "cleaned", "fault")
ZIGBEE2MQTT_ACCOUNT = "zigbee2mqtt"  # one bridge publishes for every Zigbee sensor of the site
CHANNELED: tuple[Via, ...] = ("shelly", "tasmota")  # plugs and relays with numbered switches or meters


@dataclass(frozen=True, slots=True)
class BindingView:
    """A binding as people and the adapter see it."""

    id: int
    site: str
    equipment_id: str
    via: Via
    source: str
    channel: str
    entity: str
    thresholds: Thresholds

    @property
    def role(self) -> Role:
        """What the device tells about the station: its use, its cleaning, or faults."""
        return self.thresholds.role

    def as_json(self) -> dict[str, object]:
        """For `--json`: every field, thresholds flat."""
        return {"id": self.id, "site": self.site, "station": self.equipment_id, "via": self.via,
                "source": self.source, "channel": self.channel, "entity": self.entity,
                **thresholds_detail(self.thresholds)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class BindOutcome:
    """What a bind did: the binding, the device's broker account (a password only when one was made now)."""

    binding: BindingView
    username: str
    topics: tuple[str, ...]
    password: str | None
    updated: bool  # the same device already fed this station: its thresholds were changed
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ThresholdChanges:
    """Thresholds given by a person; None keeps the kind's default (or the binding's current value)."""

    on_watts: float | None = None
    off_watts: float | None = None
    on_hold_s: float | None = None
    off_hold_s: float | None = None
    idle_s: float | None = None

    def over(self, base: Thresholds) -> Thresholds:
        """`base` with the values given here."""
        given: dict[str, Any] = {k: float(v) for k, v in self._asdict().items() if v is not None}
        return replace(base, **given)

    def _asdict(self) -> dict[str, float | None]:
        return {"on_watts": self.on_watts, "off_watts": self.off_watts, "on_hold_s": self.on_hold_s,
                "off_hold_s": self.off_hold_s, "idle_s": self.idle_s}  # fmt: skip


def native_username(via: Via, source: str) -> str:
    """The broker account a native device connects with: its own name, or the site's Zigbee2MQTT bridge."""
    return ZIGBEE2MQTT_ACCOUNT if via == "zigbee2mqtt" else source


def check_source(via: str, source: str, *, topic_prefix: str = "clinic") -> Via:
    """Refuse an unknown dialect or a name the device could not have; returns the dialect."""
    if via not in VIAS:
        raise ValidationFailed(f"--via {via!r} is not one of {', '.join(VIAS)}")
    if source == topic_prefix:  # its ACL would be `<prefix>/#`: every station's topics
        raise ValidationFailed(f"{source!r} is the clinic's own topic prefix; give the device another name")
    problem = source_name_problem(via, source)
    if problem:
        raise ValidationFailed(problem)
    return via


def bind_source(
    *, session: Session, accounts: BrokerAccounts, site: str, equipment_id: str, via: str, source: str,
    role: str = "usage", channel: str | None = None, entity: str | None = None,
    thresholds: ThresholdChanges | None = None, report_interval_s: float | None = None, actor: str,
    topic_prefix: str = "clinic",
) -> BindOutcome:  # fmt: skip
    """Bind `source` (its `channel` or `entity`) to a station, or change the thresholds of that binding; makes
    the device's broker account when it has none (its password, shown once, is in the outcome)."""
    dialect = check_source(via, source, topic_prefix=topic_prefix)
    station = _station(session, site, equipment_id)
    if role not in ROLES:
        raise ValidationFailed(f"--role {role!r} is not one of {', '.join(ROLES)}")
    channel_key, entity_key = _parts(dialect, channel, entity)
    row = _binding_row(session, dialect, source, channel_key, entity_key)
    if row is not None and (row.site, row.equipment_id) != (site, equipment_id):
        raise ValidationFailed(f"{_label(dialect, source, channel_key, entity_key)} is already bound to station "
                               f"{row.equipment_id} (site {row.site}); unbind it there first")  # fmt: skip
    base = _thresholds(row) if row is not None and row.role == role else defaults_for(station.kind, role)
    wanted = (thresholds or ThresholdChanges()).over(base)
    errors, warnings = check_thresholds(wanted, report_interval_s=report_interval_s)
    if errors:
        raise ValidationFailed("; ".join(errors))
    username = native_username(dialect, source)
    _check_account_free(accounts, username, dialect)
    updated = row is not None
    row = row or NativeBinding(site=site, equipment_id=equipment_id, via=dialect, source=source,
                               channel=channel_key, entity=entity_key)  # fmt: skip
    _store_thresholds(row, wanted)
    session.add(row)
    session.flush()
    audit(session, actor=actor, action="equipment.bind", target=f"{site}/{equipment_id}",
          detail={"via": dialect, "source": source, "channel": channel_key, "entity": entity_key,
                  **thresholds_detail(wanted)})  # fmt: skip
    # The broker change is the last step before the caller commits: a refusal above changes nothing anywhere.
    try:
        password = None if accounts.native_account(username) else accounts.add_native_account(username, via=dialect)
    except ValueError as exc:  # the broker's own check, should another writer have taken the name meanwhile
        raise ValidationFailed(str(exc)) from exc
    topics = native_topics(dialect, source)
    return BindOutcome(binding_view(row), username, topics, password, updated, tuple(warnings))


def unbind_source(
    *, session: Session, accounts: BrokerAccounts, site: str, equipment_id: str, source: str,
    via: str | None = None, remove_account: bool = False, actor: str,
) -> list[BindingView]:  # fmt: skip
    """Remove every binding of `source` to the station (all its channels and entities); with `remove_account`
    also its broker account (never the shared Zigbee2MQTT one). Returns what was removed."""
    _station(session, site, equipment_id)
    query = select(NativeBinding).where(
        col(NativeBinding.site) == site, col(NativeBinding.equipment_id) == equipment_id,
        col(NativeBinding.source) == source,
    )  # fmt: skip
    if via is not None:
        query = query.where(col(NativeBinding.via) == check_source(via, source))
    rows = list(session.exec(query).all())
    if not rows:
        raise NotFound(f"{source} is not bound to station {equipment_id} (site {site})")
    removed = [binding_view(row) for row in rows]
    session.exec(delete(NativeBinding).where(col(NativeBinding.id).in_([r.id for r in removed])))
    audit(session, actor=actor, action="equipment.unbind", target=f"{site}/{equipment_id}",
          detail={"source": source, "via": removed[0].via, "remove_account": remove_account})  # fmt: skip
    username = native_username(removed[0].via, source)
    if remove_account and username != ZIGBEE2MQTT_ACCOUNT and not _still_bound(session, removed[0].via, source):
        accounts.remove_native_account(username)
    return removed


def list_bindings(*, session: Session, site: str | None = None, equipment_id: str | None = None) -> list[BindingView]:
    """Bindings, by station then device."""
    query = select(NativeBinding)
    if site is not None:
        query = query.where(col(NativeBinding.site) == site)
    if equipment_id is not None:
        query = query.where(col(NativeBinding.equipment_id) == equipment_id)
    query = query.order_by(col(NativeBinding.site), col(NativeBinding.equipment_id), col(NativeBinding.source),
                            col(NativeBinding.channel), col(NativeBinding.entity))  # fmt: skip
    return [binding_view(row) for row in session.exec(query).all()]


def bindings_changed_since(*, session: Session, since: datetime | None) -> bool:
    """Whether a binding was added or changed after `since` (the adapter polls this; removals it sees by count)."""
    query = select(NativeBinding.id).limit(1)
    if since is not None:
        query = query.where(col(NativeBinding.updated_at) > since)
    return session.exec(query).first() is not None


def thresholds_detail(t: Thresholds) -> dict[str, object]:
    """Thresholds as a flat dict (the audit log, `--json`)."""
    return {"role": t.role, "on_watts": t.on_watts, "off_watts": t.off_watts, "on_hold_s": t.on_hold_s,
            "off_hold_s": t.off_hold_s, "idle_s": t.idle_s}  # fmt: skip


def _station(session: Session, site: str, equipment_id: str) -> Equipment:
    validate_station(site=site, equipment_id=equipment_id)
    station = session.get(Equipment, (site, equipment_id))
    if station is None:
        raise NotFound(f"station {equipment_id} is not registered at site {site} (see `clinic device add`)")
    return station


def _parts(via: Via, channel: str | None, entity: str | None) -> tuple[str, str]:
    """The binding's channel and entity keys, with the dialect's rules."""
    if channel is not None and via not in CHANNELED:
        raise ValidationFailed(f"--channel is for Shelly and Tasmota plugs, not {via}")
    if channel is not None and not (channel.isdigit() and int(channel) < 100):
        raise ValidationFailed(f"--channel must be a switch number such as 0 or 1, got {channel!r}")
    if entity is not None and via != "esphome":
        raise ValidationFailed(f"--entity is for ESPHome nodes, not {via}")
    if via == "esphome" and not entity:
        raise ValidationFailed("an ESPHome node needs --entity: the object id of its sensor or binary_sensor")
    if entity is not None and source_name_problem("esphome", entity):
        raise ValidationFailed(f"--entity {entity!r} must be an ESPHome object id (letters, digits, - and _)")
    return (str(int(channel or 0)) if via in CHANNELED else ""), (entity or "")


def _binding_row(session: Session, via: str, source: str, channel: str, entity: str) -> NativeBinding | None:
    query = select(NativeBinding).where(
        col(NativeBinding.via) == via, col(NativeBinding.source) == source,
        col(NativeBinding.channel) == channel, col(NativeBinding.entity) == entity,
    )  # fmt: skip
    return session.exec(query).first()


def _still_bound(session: Session, via: str, source: str) -> bool:
    query = select(NativeBinding.id).where(col(NativeBinding.via) == via, col(NativeBinding.source) == source)
    return session.exec(query).first() is not None


def _check_account_free(accounts: BrokerAccounts, username: str, via: Via) -> None:
    """A native device's account name must not be a station's account, nor another dialect's device."""
    station_site = accounts.account_site(username)
    if station_site is not None:
        raise ValidationFailed(f"{username!r} is already the broker account of station {username} at site "
                               f"{station_site}; rename the device (its MQTT topic or prefix)")  # fmt: skip
    other = accounts.native_account(username)
    if other is not None and other != via:
        raise ValidationFailed(f"{username!r} is already the broker account of a {other} device")


def _label(via: Via, source: str, channel: str, entity: str) -> str:
    part = f" channel {channel}" if channel not in ("", "0") else (f" entity {entity}" if entity else "")
    return f"{via} device {source}{part}"


def _thresholds(row: NativeBinding) -> Thresholds:
    return Thresholds(role=row.role, on_watts=row.on_watts, off_watts=row.off_watts,  # type: ignore[arg-type]
                      on_hold_s=row.on_hold_s, off_hold_s=row.off_hold_s, idle_s=row.idle_s)  # fmt: skip


def _store_thresholds(row: NativeBinding, t: Thresholds) -> None:
    row.role, row.on_watts, row.off_watts = t.role, t.on_watts, t.off_watts
    row.on_hold_s, row.off_hold_s, row.idle_s = t.on_hold_s, t.off_hold_s, t.idle_s
    row.updated_at = utcnow()


def binding_view(row: NativeBinding) -> BindingView:
    """The view of a binding row."""
    assert row.id is not None, "a binding is flushed before it is shown"
    return BindingView(row.id, row.site, row.equipment_id, row.via, row.source, row.channel,  # type: ignore[arg-type]
                       row.entity, _thresholds(row))  # fmt: skip
