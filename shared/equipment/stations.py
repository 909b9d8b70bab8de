"""Equipment services: register stations and read the board (state comes from the current-state table)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Literal

from sqlalchemy import Connection, Table, select, type_coerce
from sqlalchemy.types import NullType
from sqlmodel import Session

from shared.equipment.maintenance import set_interval_task
from shared.equipment.models import Equipment, EquipmentState
from shared.equipment.record_chain import RECORDS
from shared.equipment.state_machine import Status
from shared.staff.audit import audit
from shared.store.errors import NotFound, ValidationFailed
from shared.store.settings import ID_PATTERN, MAX_CONTACT_TIME_MIN, contact_time_for, get_settings
from shared.store.types import utcnow

# What staff and patients see: the stored status, or "cleaning" while a disinfectant's contact time runs.
ShownStatus = Literal["available", "in_use", "needs_cleaning", "out_of_service", "cleaning"]


@dataclass(slots=True)
class StationView:
    """One row of the equipment board, ready to print or serialise. Read-only by convention, not `frozen`: a frozen
    dataclass sets each of its 24 fields through `object.__setattr__`, 3.6 us a view against 0.35, which was a
    fifth of the all-sites board's time at 1,000 stations (docs/benchmarks.md, issue #23)."""

    site: str
    id: str
    name: str
    kind: str
    zone: str
    clean_after_use: bool
    status: Status
    online: bool | None
    online_changed_at: datetime | None
    last_seen: datetime | None
    in_use_since: datetime | None
    needs_cleaning_since: datetime | None
    last_cleaned_at: datetime | None
    last_cleaned_by: str | None
    used_without_cleaning: int
    uses_today: int
    uses_total: int
    in_use_seconds_total: float
    fault_code: str | None
    fault_severity: str | None
    fault_message: str | None
    maintenance_interval_hours: float | None
    in_use_hours_since_service: float
    ready_at: datetime | None = None  # while the contact time after the last cleaning runs (as read), its end

    @property
    def effective_status(self) -> ShownStatus:
        """The status to show: "cleaning" while the disinfectant's contact time runs, else the stored one."""
        return "cleaning" if self.ready_at is not None else self.status

    @property
    def maintenance_due(self) -> bool:
        """In-use hours since the last service have reached the station's maintenance interval."""
        interval = self.maintenance_interval_hours
        return interval is not None and self.in_use_hours_since_service >= interval

    def as_json(self) -> dict[str, object]:
        """The documented JSON shape of `clinic equipment list --json` (times as RFC 3339)."""
        out: dict[str, object] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            out[name] = value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value
        return out


def describe_status(view: StationView, now: datetime) -> str:
    """The status in plain words, as the board and the CLI show it ("in use for 12 min")."""
    if view.ready_at is not None and now < view.ready_at:
        return f"cleaning, ready in {_minutes_left(view.ready_at - now)}"
    if view.status == "out_of_service":
        return f"out of service ({view.fault_code})" if view.fault_code else "out of service"
    if view.status == "in_use" and view.in_use_since:
        return f"in use for {_minutes(now - view.in_use_since)}"
    if view.status == "needs_cleaning" and view.needs_cleaning_since:
        return f"needs cleaning for {_minutes(now - view.needs_cleaning_since)}"
    return view.status.replace("_", " ")


def _minutes_left(delta: timedelta) -> str:
    """A countdown in whole minutes, rounded up: 2 min 1 s left is "3 min", a few seconds is "1 min"."""
    return _minutes(timedelta(minutes=max(1, math.ceil(delta.total_seconds() / 60))))


def _minutes(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def register_equipment(
    *,
    session: Session,
    site: str,
    equipment_id: str,
    name: str | None = None,
    kind: str | None = None,
    zone: str | None = None,
    clean_after_use: bool | None = None,
    maintenance_interval_hours: float | None = None,
    actor: str | None = None,
) -> Equipment:
    """Register a station, or update the details given for one that exists (None keeps what it has).

    With `actor` (a signed-in user), the change is recorded in the audit log in the caller's transaction.
    """
    validate_station(site=site, equipment_id=equipment_id, name=name,
                     maintenance_interval_hours=maintenance_interval_hours)  # fmt: skip
    equipment = session.get(Equipment, (site, equipment_id)) or Equipment(site=site, id=equipment_id, name=equipment_id)
    if name is not None:
        equipment.name = name.strip()
    if kind is not None:
        equipment.kind = kind.strip() or "other"
    if zone is not None:
        equipment.zone = zone.strip()
    if clean_after_use is not None:
        equipment.clean_after_use = clean_after_use
    if maintenance_interval_hours is not None:
        equipment.maintenance_interval_hours = maintenance_interval_hours
    session.add(equipment)
    if session.get(EquipmentState, (site, equipment_id)) is None:
        session.add(EquipmentState(site=site, equipment_id=equipment_id))
    if actor is not None:
        details = {"name": name, "kind": kind, "zone": zone, "clean_after_use": clean_after_use,
                   "maintenance_interval_hours": maintenance_interval_hours}  # fmt: skip
        changed: dict[str, object] = {k: v for k, v in details.items() if v is not None}
        audit(session, actor=actor, action="equipment.register", target=f"{site}/{equipment_id}", detail=changed)
    session.flush()
    if maintenance_interval_hours is not None:  # the interval is the plan's task "Maintenance"
        set_interval_task(session=session, site=site, equipment_id=equipment_id,
                          every_hours=maintenance_interval_hours, by=actor or "")  # fmt: skip
    return equipment


def validate_station(
    *, site: str, equipment_id: str, name: str | None = None, maintenance_interval_hours: float | None = None
) -> None:
    """The rules for a station's ids and details (`ValidationFailed` names the first one broken)."""
    for label, value in (("site", site), ("equipment id", equipment_id)):
        if not ID_PATTERN.match(value):
            raise ValidationFailed(f"{label} {value!r} must match {ID_PATTERN.pattern} (lower case, digits, - and _)")
    if name is not None and not 0 < len(name.strip()) <= 200:
        raise ValidationFailed("name must be 1 to 200 characters")
    if maintenance_interval_hours is not None and maintenance_interval_hours <= 0:
        raise ValidationFailed("maintenance interval must be a positive number of hours")


def is_registered(*, session: Session, site: str, equipment_id: str) -> bool:
    """Whether the station `site/equipment_id` is registered."""
    return session.get(Equipment, (site, equipment_id)) is not None


def list_stations(
    *,
    session: Session,
    tz: tzinfo,
    site: str | None = None,
    today: date | None = None,
    now: datetime | None = None,
    contact_time_min: Mapping[str, float] | None = None,
) -> list[StationView]:
    """Every registered station with its current state, ordered by site, zone and name.

    A station cleaned less than its kind's contact time before `now` gets `ready_at` (shown as "cleaning");
    the times per kind come from `contact_time_min`, by default the `CLINIC_CONTACT_TIME_MIN` setting.
    Read through the session's Core connection without per-column type processing, and each view built straight
    from its row by position: ORM objects, SQLAlchemy's datetime processing and a StationState per row were
    nearly all of the all-sites board's time at 1,000 stations (docs/benchmarks.md, issue #23).
    """
    now = now or utcnow()
    day = today or now.astimezone(tz).date()
    table = contact_time_min if contact_time_min is not None else get_settings().contact_time_min
    connection = session.connection()
    query = _BOARD_QUERY if site is None else _BOARD_QUERY.where(EQUIPMENT.c.site == site)
    rows = connection.execute(query.order_by(*_BOARD_ORDER)).all()
    # SQLite keeps dates as ISO text ("2026-11-23"), PostgreSQL returns them as dates
    day_key: date | str = day.isoformat() if connection.dialect.name == "sqlite" else day
    return _views(rows, day_key, now, _ContactTimes(table), _recent_contact(connection, now))


def _recent_contact(connection: Connection, now: datetime) -> dict[tuple[str, str, datetime], timedelta]:
    """The contact time of each cleaning recorded with a disinfectant in the last hour (the longest contact time),
    by (site, station, when): a station cleaned with one is "cleaning" for its contact time, not its kind's."""
    query = select(RECORDS.c.site, RECORDS.c.equipment_id, RECORDS.c.at, RECORDS.c.contact_min).where(
        (RECORDS.c.at >= now - timedelta(minutes=MAX_CONTACT_TIME_MIN)) & (RECORDS.c.kind == "cleaning")
        & RECORDS.c.contact_min.is_not(None))  # fmt: skip
    return {(str(site), str(eid), at): timedelta(minutes=float(minutes))
            for site, eid, at, minutes in connection.execute(query)}  # fmt: skip


EQUIPMENT: Table = Equipment.__table__  # type: ignore[attr-defined]
STATES: Table = EquipmentState.__table__  # type: ignore[attr-defined]
# The columns _views unpacks, in its order, as the driver returns them (NullType: no result processing here;
# _utc converts the times, the only columns that need it besides booleans and the date).
_BOARD_COLUMNS = (
    *(EQUIPMENT.c[n] for n in ("site", "id", "name", "kind", "zone", "clean_after_use", "maintenance_interval_hours")),
    *(STATES.c[n] for n in ("equipment_id", "usage_status", "out_of_service", "online", "online_changed_at",
                            "last_seen", "in_use_since", "needs_cleaning_since", "last_cleaned_at", "last_cleaned_by",
                            "used_without_cleaning", "uses_total", "uses_today", "uses_today_date",
                            "in_use_seconds_total", "serviced_in_use_seconds", "fault_code", "fault_severity",
                            "fault_message", "last_event_at")),
)  # fmt: skip
_BOARD_QUERY = select(
    *(type_coerce(c, NullType()).label(f"{c.table.name}_{c.name}") for c in _BOARD_COLUMNS)
).join_from(EQUIPMENT, STATES, (STATES.c.site == EQUIPMENT.c.site) & (STATES.c.equipment_id == EQUIPMENT.c.id),
            isouter=True)  # fmt: skip
_BOARD_ORDER = (EQUIPMENT.c.site, EQUIPMENT.c.zone, EQUIPMENT.c.name, EQUIPMENT.c.id)


def get_station(*, session: Session, site: str, equipment_id: str, tz: tzinfo) -> StationView:
    """One station's board row, or `NotFound`."""
    for view in list_stations(session=session, tz=tz, site=site):
        if view.id == equipment_id:
            return view
    raise NotFound(f"no equipment {equipment_id!r} at site {site!r}")


class _ContactTimes(dict[str, timedelta]):
    """Contact time per equipment kind, worked out once per call from the kind -> minutes table."""

    def __init__(self, table: Mapping[str, float]) -> None:
        super().__init__()
        self.table = table

    def __missing__(self, kind: str) -> timedelta:
        self[kind] = delta = contact_time_for(self.table, kind)
        return delta


_fromisoformat = datetime.fromisoformat


def _utc(value: datetime | str | None) -> datetime | None:
    """A time as the driver returns it, as `UTCDateTime` reads it: SQLite's stored UTC text
    ("2026-11-23 10:30:00.000000") gets its zone in the one parse, aware datetimes are converted to UTC."""
    if value is None:
        return None
    if value.__class__ is datetime and value.tzinfo is UTC:  # PostgreSQL's (sessions in UTC: shared/store/db.py)
        return value
    if isinstance(value, str):
        try:
            return _fromisoformat(value + "+00:00")
        except ValueError:  # text with an offset (or a "Z") of its own, not what UTCDateTime writes
            value = _fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _views(rows: Sequence[Any], day_key: date | str, now: datetime, contact: _ContactTimes,
           recent: Mapping[tuple[str, str, datetime], timedelta] | None = None) -> list[StationView]:  # fmt: skip
    """The board's views, one per row of _BOARD_QUERY (unpacked by position; no state row: a new station).

    The contact time of the last cleaning runs (`ready_at`) only on an available station: the cleaning made it so
    and nothing has used it since. Where cleaning after use is off, a use leaves the station available, so the
    cleaning must also be its newest event. Computed at read time, so nothing about it is stored.
    Views are built with positional arguments in StationView's field order (keywords cost a tenth of the call);
    tests/shared/equipment/test_station_list.py checks every field by name.
    """
    views: list[StationView] = []
    append = views.append
    for (site, station_id, name, kind, zone, clean_after_use, maintenance_h, state_id, usage_status, out_of_service,
         online, online_changed_at, last_seen, in_use_since, needs_cleaning_since, last_cleaned_at, last_cleaned_by,
         used_without_cleaning, uses_total, uses_today, uses_today_date, in_use_s, serviced_s, fault_code,
         fault_severity, fault_message, last_event_at) in rows:  # fmt: skip
        if state_id is None:
            append(StationView(site, station_id, name, kind, zone, bool(clean_after_use), "available",
                               None, None, None, None, None, None, None, 0, 0, 0, 0.0, None, None, None,
                               maintenance_h, 0.0))  # fmt: skip
            continue
        cleaned_at = _utc(last_cleaned_at)
        ready_at = None
        if (cleaned_at is not None and not out_of_service and usage_status == "available"
                and (clean_after_use or _utc(last_event_at) == cleaned_at)):  # fmt: skip
            chosen = recent.get((site, station_id, cleaned_at)) if recent else None  # its disinfectant's
            ready_at = cleaned_at + (chosen if chosen is not None else contact[kind])
            if not now < ready_at:
                ready_at = None
        append(StationView(
            site, station_id, name, kind, zone, bool(clean_after_use),
            "out_of_service" if out_of_service else usage_status, None if online is None else bool(online),
            _utc(online_changed_at), _utc(last_seen), _utc(in_use_since), _utc(needs_cleaning_since), cleaned_at,
            last_cleaned_by, used_without_cleaning, uses_today if uses_today_date == day_key else 0, uses_total,
            round(in_use_s, 1), fault_code, fault_severity, fault_message, maintenance_h,
            round((in_use_s - serviced_s) / 3600, 2), ready_at,
        ))  # fmt: skip
    return views
