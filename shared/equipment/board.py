"""The equipment board for staff: alerts, urgency order, and actions recorded as events like a device's.

Every service takes the caller's session. A station action (mark cleaned, out of / back in service, start and
end use, report, serviced) is one user action: the caller's unit of work (IMMEDIATE on SQLite, so it holds the
write lock from its first read) checks the station, reads its status on the locked row, and records the event
through the same ingest as a device's messages (Core, on the session's connection) with its audit entry.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Connection, insert, or_, update
from sqlmodel import Session, col, select

from shared.equipment.disinfectants import Choice, find_disinfectant
from shared.equipment.events import Channel, DeviceEvent
from shared.equipment.ingest import record_batch_in
from shared.equipment.ingest_rows import EQUIPMENT, STATES
from shared.equipment.maintenance import INTERVAL_TASK, interval_task_of, mark_done
from shared.equipment.models import DeadLetter, Equipment
from shared.equipment.payloads import ReasonCode
from shared.equipment.stations import StationView, list_stations
from shared.equipment.stations import get_station as get_station  # a station's row, as callers read it from here
from shared.staff.models import AuditEntry
from shared.store.errors import NotFound, ValidationFailed
from shared.store.types import utcnow

MANUAL_FAULT = "manual"  # fault code of a station a person took out of service
UNKNOWN_DEVICE: ReasonCode = "unknown_device"  # the code of a kept message from a station not registered


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
    session: Session,
    site: str,
    equipment_id: str,
    by: str,
    method: str = "wipe",
    tz: tzinfo,
    now: datetime | None = None,
    disinfectant: str | None = None,
) -> None:
    """Record a cleaning by a signed-in person, exactly as a device's `cleaned` event, and its cleaning record
    with the `disinfectant` named (one the clinic lists), else the station's usual one."""
    event = _staff_event(site, equipment_id, "cleaning", "cleaned", now, by=by, method=method)
    choice = find_disinfectant(session.connection(), disinfectant) if disinfectant else None
    _record(session, lambda _status, _current: event, site=site, equipment_id=equipment_id, tz=tz, actor=by,
            action="equipment.cleaned", detail=f"{method}, {choice.name}" if choice else method,
            cleaned_with={event.event_id: choice} if choice else None)  # fmt: skip


def take_out_of_service(
    *, session: Session, site: str, equipment_id: str, by: str, reason: str, tz: tzinfo, now: datetime | None = None,
    detail: str | None = None,
) -> str:  # fmt: skip
    """Take a station out of service with a reason (a critical fault with code `manual`); returns the event's id.
    The audit entry's detail is the reason, or `detail` (a fault report's, shared/equipment/faults.py)."""
    if not reason.strip():
        raise ValidationFailed("say why the station is out of service")
    event = _staff_event(site, equipment_id, "fault", "fault", now, code=MANUAL_FAULT, severity="critical",
                         message=reason.strip()[:500], by=by)  # fmt: skip
    _record_event(session, event, tz=tz, actor=by, action="equipment.out_of_service", detail=detail or reason.strip())
    return event.event_id


def back_in_service(
    *, session: Session, site: str, equipment_id: str, by: str, reason: str = "", tz: tzinfo,
    now: datetime | None = None,
) -> None:  # fmt: skip
    """Put a station back in service (clears any fault, a device's included)."""
    event = _staff_event(site, equipment_id, "fault", "cleared", now, message=reason.strip()[:500] or None, by=by)
    _record_event(session, event, tz=tz, actor=by, action="equipment.back_in_service", detail=reason.strip())


MAINTENANCE_FAULT = "maintenance"  # fault code of a station an overdue maintenance task took out of service
MAINTENANCE_ACTOR = "maintenance plan"


def block_for_maintenance(
    *, session: Session, site: str, equipment_id: str, task: str, tz: tzinfo, now: datetime | None = None
) -> None:
    """Take a station out of service because a maintenance task that blocks use is overdue; the card says which."""
    event = _staff_event(site, equipment_id, "fault", "fault", now, code=MAINTENANCE_FAULT, severity="critical",
                         message=f"Maintenance overdue: {task}"[:500], by=MAINTENANCE_ACTOR)  # fmt: skip
    _record_event(session, event, tz=tz, actor=MAINTENANCE_ACTOR, action="equipment.out_of_service",
                  detail=f"maintenance overdue: {task}")  # fmt: skip


REPORTED_FAULT = "reported"  # fault code of a problem a person reported at the station
PROBLEM_SEVERITIES = ("warning", "critical")  # critical takes the station out of service, as a device's does
CLEANING_METHODS = ("wipe", "spray", "uv", "other")


def start_use(
    *, session: Session, site: str, equipment_id: str, by: str, tz: tzinfo, now: datetime | None = None
) -> str:
    """A person starts using a station (a `usage` `start` with a new session id, as a device sends); returns
    the session id. Refused while the station is in use or out of service (checked on the row locked in the
    unit of work, so two taps at once cannot both start it)."""
    session_id = f"staff-{uuid.uuid4().hex[:20]}"
    event = _staff_event(site, equipment_id, "usage", "start", now, session_id=session_id, by=by)

    def refuse_busy(status: str, _current: str | None) -> DeviceEvent:
        if status == "in_use":
            raise ValidationFailed("the station is already in use: end that use first")
        if status == "out_of_service":
            raise ValidationFailed("the station is out of service")
        return event

    _record(session, refuse_busy, site=site, equipment_id=equipment_id, tz=tz, actor=by,
            action="equipment.use_started", detail=session_id)  # fmt: skip
    return session_id


def end_use(
    *, session: Session, site: str, equipment_id: str, by: str, tz: tzinfo, now: datetime | None = None
) -> None:
    """A person ends the station's current use (a `usage` `stop` for the open session, whoever started it);
    the station then needs cleaning, or is available when it is not cleaned after each use."""
    ended: list[str] = []

    def stop_current(status: str, current: str | None) -> DeviceEvent:
        if status != "in_use":
            raise ValidationFailed("the station is not in use")
        ended.append(current or "")
        return _staff_event(site, equipment_id, "usage", "stop", now, session_id=current, by=by)

    _record(session, stop_current, site=site, equipment_id=equipment_id, tz=tz, actor=by,
            action="equipment.use_ended", detail=lambda: ended[0])  # fmt: skip


def report_problem(
    *,
    session: Session,
    site: str,
    equipment_id: str,
    by: str,
    message: str,
    severity: str = "warning",
    tz: tzinfo,
    now: datetime | None = None,
) -> None:
    """A person reports a problem at a station: a fault event (code `reported`), as a device's; a critical one
    takes the station out of service."""
    if severity not in PROBLEM_SEVERITIES:
        raise ValidationFailed(f"severity must be one of {', '.join(PROBLEM_SEVERITIES)}")
    text = message.strip()
    if not text:
        raise ValidationFailed("describe the problem")
    event = _staff_event(site, equipment_id, "fault", "fault", now, code=REPORTED_FAULT, severity=severity,
                         message=text[:500], by=by)  # fmt: skip
    _record_event(session, event, tz=tz, actor=by, action="equipment.problem_reported", detail=f"{severity}: {text}")


def mark_serviced(*, session: Session, site: str, equipment_id: str, by: str, tz: tzinfo) -> None:
    """Maintenance done: in-use hours count again from now."""
    conn = _checked_connection(session, site=site, equipment_id=equipment_id)
    where = (STATES.c.site == site) & (STATES.c.equipment_id == equipment_id)
    conn.execute(
        update(STATES).where(where).values(serviced_at=utcnow(), serviced_in_use_seconds=STATES.c.in_use_seconds_total)
    )
    conn.execute(insert(AuditEntry).values(actor=by, action="equipment.serviced", target=f"{site}/{equipment_id}",
                                           detail="", at=utcnow()))  # fmt: skip
    if interval_task_of(session, site=site, equipment_id=equipment_id):  # the interval's task: done now
        mark_done(session=session, site=site, equipment_id=equipment_id, task=INTERVAL_TASK, by=by, notes="serviced",
                  audited=False)  # fmt: skip


def unknown_devices(*, session: Session) -> list[UnknownDevice]:
    """Devices whose messages wait in the dead letters because they were not registered, and whether they are now."""
    query = select(DeadLetter).where(col(DeadLetter.replayed_at).is_(None), col(DeadLetter.code) == UNKNOWN_DEVICE)
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


def require_station(*, session: Session, site: str, equipment_id: str) -> None:
    """`NotFound` unless the station is registered (for a service that must know before it writes a file)."""
    _checked_connection(session, site=site, equipment_id=equipment_id)


def _checked_connection(session: Session, *, site: str, equipment_id: str) -> Connection:
    """The unit of work's connection, once the station is known to be registered (`NotFound` for a typo, before
    anything is written: ingest would keep an unknown station's event as a dead letter)."""
    conn = session.connection()
    known = select(EQUIPMENT.c.id).where((EQUIPMENT.c.site == site) & (EQUIPMENT.c.id == equipment_id))
    if conn.execute(known).first() is None:
        raise NotFound(f"no equipment {equipment_id!r} at site {site!r}")
    return conn


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


def _record_event(session: Session, event: DeviceEvent, *, tz: tzinfo, actor: str, action: str, detail: str) -> None:
    """A staff event that needs no check of the current status, with its audit entry."""
    _record(session, lambda _status, _current: event, site=event.site, equipment_id=event.equipment_id, tz=tz,
            actor=actor, action=action, detail=detail)  # fmt: skip


def _record(
    session: Session,
    decide: Callable[[str, str | None], DeviceEvent],
    *,
    site: str,
    equipment_id: str,
    tz: tzinfo,
    actor: str,
    action: str,
    detail: str | Callable[[], str],
    cleaned_with: Mapping[str, Choice] | None = None,
) -> None:
    """The event `decide` makes from the station's current status, through the same ingest as a device's, and
    its audit entry, in the caller's unit of work."""
    conn = _checked_connection(session, site=site, equipment_id=equipment_id)
    event = decide(*_status_now(conn, site, equipment_id))
    record_batch_in(conn, [event], tz=tz, cleaned_with=cleaned_with)
    text = detail() if callable(detail) else detail
    conn.execute(insert(AuditEntry).values(actor=actor, action=action, detail=text[:1000], at=event.received_at,
                                           target=f"{event.site}/{event.equipment_id}"))  # fmt: skip
