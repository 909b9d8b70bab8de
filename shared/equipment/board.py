"""The equipment board for staff: alerts, urgency order, and actions recorded as events like a device's.

The reads (`board`, `unknown_devices`) take the caller's session. The station actions (mark cleaned, out of /
back in service, start and end use, report, serviced) take the engine, not a session: each is one Core
`write_transaction` (IMMEDIATE on SQLite) through the same ingest as a device's messages (the board's and the
listener's fast path), which must own its transaction to order its writes with ingest.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Connection, Engine, insert, or_, update
from sqlmodel import Session, col, select

from shared.equipment.events import Channel, DeviceEvent
from shared.equipment.ingest import record_batch_in
from shared.equipment.ingest_rows import STATES
from shared.equipment.models import DeadLetter, Equipment
from shared.equipment.stations import StationView, get_station, list_stations
from shared.staff.models import AuditEntry
from shared.store.db import read_session, write_transaction
from shared.store.errors import ValidationFailed
from shared.store.types import utcnow

MANUAL_FAULT = "manual"  # fault code of a station a person took out of service
UNKNOWN_REASON = "is not registered at site"


@dataclass(frozen=True, slots=True)
class BoardRow:
    """A station with the alerts staff should act on."""

    station: StationView
    alerts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UnknownDevice:
    """A device whose messages wait in the dead letters because it was not registered when they came; it may
    be `registered` since (e.g. by `clinic device add`, which leaves them kept until they are replayed)."""

    site: str
    equipment_id: str
    messages: int
    last_seen: datetime
    registered: bool = False


def board(
    *, session: Session, tz: tzinfo, site: str | None = None, zone: str | None = None, status: str | None = None
) -> list[BoardRow]:
    """Stations with alerts in a stable order (zone, then name), so a card keeps its place while its status
    changes; urgency is the cleaning queue's job. `status` filters by the status shown."""
    rows = [BoardRow(v, alerts(v, tz)) for v in list_stations(session=session, tz=tz, site=site)]
    if zone:
        rows = [r for r in rows if r.station.zone == zone]
    if status:
        rows = [
            r
            for r in rows
            if r.station.effective_status == status or (status == "offline" and r.station.online is False)
        ]
    return sorted(rows, key=place)


def alerts(view: StationView, tz: tzinfo) -> tuple[str, ...]:
    """What needs attention at a station, in plain words."""
    found = []
    if view.used_without_cleaning:
        times = "once" if view.used_without_cleaning == 1 else f"{view.used_without_cleaning} times"
        found.append(f"Used again without cleaning ({times})")
    if view.online is False:
        since = view.online_changed_at.astimezone(tz).strftime("%H:%M") if view.online_changed_at else "?"
        found.append(f"Offline since {since}")
    if view.maintenance_due:
        used, every = view.in_use_hours_since_service, view.maintenance_interval_hours
        found.append(f"Maintenance due: {used:g} h of use (every {every:g} h)")
    return tuple(found)


def mark_cleaned(
    *,
    engine: Engine,
    site: str,
    equipment_id: str,
    by: str,
    method: str = "wipe",
    tz: tzinfo,
    now: datetime | None = None,
) -> None:
    """Record a cleaning by a signed-in person, exactly as a device's `cleaned` event (owns its transaction:
    one Core `write_transaction`, IMMEDIATE on SQLite, shared with ingest)."""
    event = _staff_event(site, equipment_id, "cleaning", "cleaned", now, by=by, method=method)
    _record_event(engine, event, tz=tz, actor=by, action="equipment.cleaned", detail=method)


def take_out_of_service(
    *, engine: Engine, site: str, equipment_id: str, by: str, reason: str, tz: tzinfo, now: datetime | None = None
) -> None:
    """Take a station out of service with a reason (a critical fault with code `manual`); owns its transaction
    (one Core `write_transaction`, IMMEDIATE on SQLite, shared with ingest)."""
    if not reason.strip():
        raise ValidationFailed("say why the station is out of service")
    event = _staff_event(site, equipment_id, "fault", "fault", now, code=MANUAL_FAULT, severity="critical",
                         message=reason.strip()[:500], by=by)  # fmt: skip
    _record_event(engine, event, tz=tz, actor=by, action="equipment.out_of_service", detail=reason.strip())


def back_in_service(
    *, engine: Engine, site: str, equipment_id: str, by: str, reason: str = "", tz: tzinfo, now: datetime | None = None
) -> None:
    """Put a station back in service (clears any fault, a device's included); owns its transaction (one Core
    `write_transaction`, IMMEDIATE on SQLite, shared with ingest)."""
    event = _staff_event(site, equipment_id, "fault", "cleared", now, message=reason.strip()[:500] or None, by=by)
    _record_event(engine, event, tz=tz, actor=by, action="equipment.back_in_service", detail=reason.strip())


REPORTED_FAULT = "reported"  # fault code of a problem a person reported at the station
PROBLEM_SEVERITIES = ("warning", "critical")  # critical takes the station out of service, as a device's does
CLEANING_METHODS = ("wipe", "spray", "uv", "other")


def start_use(*, engine: Engine, site: str, equipment_id: str, by: str, tz: tzinfo, now: datetime | None = None) -> str:
    """A person starts using a station (a `usage` `start` with a new session id, as a device sends); returns
    the session id. Refused while the station is in use or out of service (checked inside its own Core
    `write_transaction`, IMMEDIATE on SQLite and shared with ingest, so two taps at once cannot both start it)."""
    session_id = f"staff-{uuid.uuid4().hex[:20]}"
    event = _staff_event(site, equipment_id, "usage", "start", now, session_id=session_id, by=by)

    def refuse_busy(status: str, _current: str | None) -> DeviceEvent:
        if status == "in_use":
            raise ValidationFailed("the station is already in use: end that use first")
        if status == "out_of_service":
            raise ValidationFailed("the station is out of service")
        return event

    _record(engine, refuse_busy, site=site, equipment_id=equipment_id, tz=tz, actor=by,
            action="equipment.use_started", detail=session_id)  # fmt: skip
    return session_id


def end_use(*, engine: Engine, site: str, equipment_id: str, by: str, tz: tzinfo, now: datetime | None = None) -> None:
    """A person ends the station's current use (a `usage` `stop` for the open session, whoever started it);
    the station then needs cleaning, or is available when it is not cleaned after each use. Owns its
    transaction (one Core `write_transaction`, IMMEDIATE on SQLite, shared with ingest)."""
    ended: list[str] = []

    def stop_current(status: str, current: str | None) -> DeviceEvent:
        if status != "in_use":
            raise ValidationFailed("the station is not in use")
        ended.append(current or "")
        return _staff_event(site, equipment_id, "usage", "stop", now, session_id=current, by=by)

    _record(engine, stop_current, site=site, equipment_id=equipment_id, tz=tz, actor=by,
            action="equipment.use_ended", detail=lambda: ended[0])  # fmt: skip


def report_problem(
    *,
    engine: Engine,
    site: str,
    equipment_id: str,
    by: str,
    message: str,
    severity: str = "warning",
    tz: tzinfo,
    now: datetime | None = None,
) -> None:
    """A person reports a problem at a station: a fault event (code `reported`), as a device's; a critical one
    takes the station out of service. Owns its transaction (one Core `write_transaction`, IMMEDIATE on SQLite,
    shared with ingest)."""
    if severity not in PROBLEM_SEVERITIES:
        raise ValidationFailed(f"severity must be one of {', '.join(PROBLEM_SEVERITIES)}")
    text = message.strip()
    if not text:
        raise ValidationFailed("describe the problem")
    event = _staff_event(site, equipment_id, "fault", "fault", now, code=REPORTED_FAULT, severity=severity,
                         message=text[:500], by=by)  # fmt: skip
    _record_event(engine, event, tz=tz, actor=by, action="equipment.problem_reported", detail=f"{severity}: {text}")


def mark_serviced(*, engine: Engine, site: str, equipment_id: str, by: str, tz: tzinfo) -> None:
    """Maintenance done: in-use hours count again from now. Owns its transaction (one Core
    `write_transaction`, IMMEDIATE on SQLite, as the other station actions)."""
    _check_registered(engine, site=site, equipment_id=equipment_id, tz=tz)
    with write_transaction(engine) as conn:
        where = (STATES.c.site == site) & (STATES.c.equipment_id == equipment_id)
        conn.execute(
            update(STATES)
            .where(where)
            .values(serviced_at=utcnow(), serviced_in_use_seconds=STATES.c.in_use_seconds_total)
        )
        conn.execute(insert(AuditEntry).values(actor=by, action="equipment.serviced", target=f"{site}/{equipment_id}",
                                               detail="", at=utcnow()))  # fmt: skip


def unknown_devices(*, session: Session) -> list[UnknownDevice]:
    """Devices whose messages wait in the dead letters because they were not registered, and whether they are now."""
    query = select(DeadLetter).where(
        col(DeadLetter.replayed_at).is_(None), col(DeadLetter.reason).contains(UNKNOWN_REASON)
    )
    found: dict[tuple[str, str], UnknownDevice] = {}
    for letter in session.exec(query):
        if letter.site is None or letter.equipment_id is None:
            continue
        key = (letter.site, letter.equipment_id)
        seen = found.get(key)
        found[key] = UnknownDevice(
            letter.site, letter.equipment_id, (seen.messages if seen else 0) + letter.seen_count,
            max(letter.last_received_at, seen.last_seen) if seen else letter.last_received_at,
        )  # fmt: skip
    if found:
        known = session.exec(select(Equipment.site, Equipment.id).where(
            or_(*((col(Equipment.site) == site) & (col(Equipment.id) == eid) for site, eid in found))
        )).all()  # fmt: skip
        for site, equipment_id in known:
            found[(site, equipment_id)] = replace(found[(site, equipment_id)], registered=True)
    return sorted(found.values(), key=lambda d: (d.site, d.equipment_id))


def _check_registered(engine: Engine, *, site: str, equipment_id: str, tz: tzinfo) -> None:
    """`NotFound` for a typo, read before the write transaction takes the lock."""
    with read_session(engine) as session:
        get_station(session=session, site=site, equipment_id=equipment_id, tz=tz)


def _status_now(conn: Connection, site: str, equipment_id: str) -> tuple[str, str | None]:
    """The station's stored status and open session, read inside the caller's write transaction (row-locked on
    PostgreSQL; SQLite's IMMEDIATE transaction already holds the write lock)."""
    query = (
        select(STATES.c.usage_status, STATES.c.out_of_service, STATES.c.current_session_id)
        .where((STATES.c.site == site) & (STATES.c.equipment_id == equipment_id))
        .with_for_update()
    )
    row = conn.execute(query).first()
    if row is None:
        return "available", None
    status = "out_of_service" if row.out_of_service else str(row.usage_status)
    return status, (str(row.current_session_id) if row.current_session_id is not None else None)


def place(row: BoardRow) -> tuple[bool, str, str, str]:
    """A card's place on the board: by zone (stations without one last), then name, then id."""
    view = row.station
    return (not view.zone, view.zone.casefold(), view.name.casefold(), view.id)


def _staff_event(
    site: str, equipment_id: str, channel: Channel, event: str, now: datetime | None, **fields: Any
) -> DeviceEvent:
    return DeviceEvent(
        site=site, equipment_id=equipment_id, channel=channel, event=event, event_id=f"staff-{uuid.uuid4().hex}",
        received_at=now or utcnow(), source="staff", **fields,
    )  # fmt: skip


def _record_event(engine: Engine, event: DeviceEvent, *, tz: tzinfo, actor: str, action: str, detail: str) -> None:
    """A staff event that needs no check of the current status, with its audit entry."""
    _record(engine, lambda _status, _current: event, site=event.site, equipment_id=event.equipment_id, tz=tz,
            actor=actor, action=action, detail=detail)  # fmt: skip


def _record(
    engine: Engine,
    decide: Callable[[str, str | None], DeviceEvent],
    *,
    site: str,
    equipment_id: str,
    tz: tzinfo,
    actor: str,
    action: str,
    detail: str | Callable[[], str],
) -> None:
    """The event `decide` makes from the station's current status, and its audit entry, in one transaction."""
    _check_registered(engine, site=site, equipment_id=equipment_id, tz=tz)
    with write_transaction(engine) as conn:
        event = decide(*_status_now(conn, site, equipment_id))
        record_batch_in(conn, [event], tz=tz)
        text = detail() if callable(detail) else detail
        conn.execute(insert(AuditEntry).values(actor=actor, action=action, detail=text[:1000], at=event.received_at,
                                               target=f"{event.site}/{event.equipment_id}"))  # fmt: skip
