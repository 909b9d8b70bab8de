"""Maintenance plans: several tasks per station, each due every N days (calibration, an electrical safety check) or
every H in-use hours (the station's maintenance interval is its task "Maintenance"), and their done records.

A task is due `every_days` after it was last done (or added), or once the station has been in use `every_hours`
since. Its status: `ok`; `due_soon` (within a week, or a quarter of the interval if shorter; 90% of its hours);
`overdue` (past due, not done); `missed` (overdue by a whole further interval: an occurrence went by undone).
Marking a task done appends a `maintenance` record to the records' chain (with the notes and who) and counts the
next interval from then. A task with `blocks_use` takes its station out of service while it is overdue
(shared/equipment/maintenance_blocks.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, Table, select
from sqlmodel import Session, col
from sqlmodel import select as orm_select

from shared.equipment.ingest_rows import EQUIPMENT, STATES
from shared.equipment.record_chain import RECORDS, NewRecord, append
from shared.equipment.record_models import MaintenanceTask
from shared.staff.audit import audit
from shared.store.errors import NotFound, ValidationFailed
from shared.store.types import utcnow

TASKS: Table = MaintenanceTask.__table__  # type: ignore[attr-defined]
INTERVAL_TASK = "Maintenance"  # the task a station's in-use-hours maintenance interval is
TaskStatusName = Literal["ok", "due_soon", "overdue", "missed"]
STATUS_WORDS: dict[TaskStatusName, str] = {"ok": "ok", "due_soon": "due soon", "overdue": "overdue",
                                           "missed": "missed"}  # fmt: skip
_URGENCY: dict[TaskStatusName, int] = {"missed": 0, "overdue": 1, "due_soon": 2, "ok": 3}
SOON_DAYS = 7.0
SOON_SHARE = 0.9  # of an hours task's interval used


@dataclass(frozen=True, slots=True)
class TaskStatus:
    """A maintenance task and where it stands at `now` (times UTC); the JSON of `clinic maintenance due --json`."""

    site: str
    station: str
    station_name: str
    task: str
    every_days: float | None
    every_hours: float | None
    blocks_use: bool
    last_done: datetime | None
    last_done_by: str | None
    due_at: datetime | None  # calendar tasks
    hours_used: float | None  # in-use hours since last done (hours tasks)
    status: TaskStatusName

    @property
    def schedule(self) -> str:
        """"every 365 days" or "every 500 h of use"."""
        if self.every_days is not None:
            return f"every {self.every_days:g} days"
        return f"every {self.every_hours:g} h of use"

    def as_json(self) -> dict[str, object]:
        """The documented JSON shape (times as RFC 3339)."""
        out: dict[str, object] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            out[name] = value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value
        return out


def add_task(
    *, session: Session, site: str, equipment_id: str, task: str, every_days: float | None = None,
    every_hours: float | None = None, blocks_use: bool = False, by: str, now: datetime | None = None,
    audited: bool = True,
) -> MaintenanceTask:  # fmt: skip
    """Add a task to a station's plan (or change the schedule of the task of that name); it is first due one
    interval from now. `audited=False` for a caller whose own audit entry says it (a station's registration)."""
    task = " ".join(task.split())
    if not task or len(task) > 200:
        raise ValidationFailed("describe the task in 1 to 200 characters")
    if (every_days is None) == (every_hours is None):
        raise ValidationFailed("give the task one schedule: every N days or every H hours of use")
    interval = every_days if every_days is not None else every_hours
    if interval is None or not interval > 0:
        raise ValidationFailed("the interval must be more than 0")
    conn = session.connection()
    in_use = _in_use_seconds(conn, site, equipment_id)
    row = _find(session, site, equipment_id, task, required=False)
    now = now or utcnow()
    if row is None:
        row = MaintenanceTask(site=site, equipment_id=equipment_id, task=task, since=now, since_in_use_seconds=in_use,
                              created_by=by)  # fmt: skip
    row.every_days, row.every_hours, row.blocks_use = every_days, every_hours, blocks_use
    session.add(row)
    if audited:
        audit(session, actor=by, action="maintenance.task", target=f"{site}/{equipment_id}",
              detail={"task": task, "every_days": every_days, "every_hours": every_hours,
                      "blocks_use": blocks_use})  # fmt: skip
    session.flush()
    return row


def set_interval_task(*, session: Session, site: str, equipment_id: str, every_hours: float, by: str) -> None:
    """A station's maintenance interval (`clinic device add --maintenance-hours`) as its task "Maintenance"."""
    row = _find(session, site, equipment_id, INTERVAL_TASK, required=False)
    if row is not None and row.every_hours == every_hours:
        return
    add_task(session=session, site=site, equipment_id=equipment_id, task=INTERVAL_TASK, every_hours=every_hours,
             by=by, blocks_use=row.blocks_use if row is not None else False, audited=False)  # fmt: skip


def interval_task_of(session: Session, *, site: str, equipment_id: str) -> bool:
    """Whether the station's plan has the task its maintenance interval became ("Maintenance")."""
    return _find(session, site, equipment_id, INTERVAL_TASK, required=False) is not None


def mark_done(
    *, session: Session, site: str, equipment_id: str, task: str, by: str, notes: str = "",
    now: datetime | None = None, audited: bool = True,
) -> int:  # fmt: skip
    """Record a task done (with notes and who) on the records' chain; the next interval counts from now. Returns
    the record's place in the chain. `audited=False` for a caller whose own audit entry says it ("Mark
    serviced")."""
    row = _find(session, site, equipment_id, " ".join(task.split()), required=True)
    assert row is not None and row.id is not None
    conn = session.connection()
    now = now or utcnow()
    in_use = _in_use_seconds(conn, site, equipment_id)
    record = NewRecord(site=site, equipment_id=equipment_id, kind="maintenance", at=now, by=by, task_id=row.id,
                       task=row.task, in_use_seconds=in_use, notes=notes.strip()[:4000])  # fmt: skip
    row.since, row.since_in_use_seconds = now, in_use
    session.add(row)
    if audited:
        audit(session, actor=by, action="maintenance.done", target=f"{site}/{equipment_id}",
              detail={"task": row.task})  # fmt: skip
    session.flush()
    (seq,) = append(conn, [record], now=now)
    return seq


def maintenance_due(
    *, session: Session, now: datetime, site: str | None = None, include_ok: bool = False
) -> list[TaskStatus]:
    """Every task of every plan that is due soon, overdue or missed at `now` (all of them with `include_ok`),
    the most urgent first, then by station and task."""
    conn = session.connection()
    station = (EQUIPMENT.c.site == TASKS.c.site) & (EQUIPMENT.c.id == TASKS.c.equipment_id)
    state = (STATES.c.site == TASKS.c.site) & (STATES.c.equipment_id == TASKS.c.equipment_id)
    query = select(TASKS, EQUIPMENT.c.name.label("station_name"), STATES.c.in_use_seconds_total).select_from(
        TASKS.join(EQUIPMENT, station).outerjoin(STATES, state)
    )
    if site is not None:
        query = query.where(TASKS.c.site == site)
    rows = conn.execute(query).all()
    last = _last_done(conn, [int(r.id) for r in rows])
    found = [_status(r, last.get(int(r.id)), now) for r in rows]
    found = [t for t in found if include_ok or t.status != "ok"]
    return sorted(found, key=lambda t: (_URGENCY[t.status], t.site, t.station_name.casefold(), t.task.casefold()))


def task_alerts(*, session: Session, now: datetime, site: str | None = None) -> dict[str, list[str]]:
    """For the board's cards, by station id: each overdue or missed task in words ("Calibration overdue (every 365
    days)"); the interval's task "Maintenance" is left to the board's own "Maintenance due" alert."""
    found: dict[str, list[str]] = {}
    for task in maintenance_due(session=session, now=now, site=site):
        if task.status in ("overdue", "missed") and task.task != INTERVAL_TASK:
            found.setdefault(task.station, []).append(f"{task.task} {STATUS_WORDS[task.status]} ({task.schedule})")
    return found


def done_records(*, session: Session, start: datetime, end: datetime, site: str | None = None) -> list[Any]:
    """Maintenance done in [start, end) (record rows: station, task, at, by, notes, seq), oldest first."""
    query = select(RECORDS).where((RECORDS.c.kind == "maintenance") & (RECORDS.c.at >= start) & (RECORDS.c.at < end))
    if site is not None:
        query = query.where(RECORDS.c.site == site)
    return list(session.connection().execute(query.order_by(RECORDS.c.at, RECORDS.c.seq)).all())


def _status(row: Any, last: tuple[datetime, str] | None, now: datetime) -> TaskStatus:
    status: TaskStatusName = "ok"
    due_at = hours_used = None
    if row.every_days is not None:
        interval = timedelta(days=float(row.every_days))
        due_at = row.since + interval
        soon = min(timedelta(days=SOON_DAYS), interval / 4)
        if now >= due_at + interval:
            status = "missed"
        elif now >= due_at:
            status = "overdue"
        elif now >= due_at - soon:
            status = "due_soon"
    else:
        every = float(row.every_hours)
        hours_used = max(0.0, (float(row.in_use_seconds_total or 0.0) - float(row.since_in_use_seconds)) / 3600)
        if hours_used >= 2 * every:
            status = "missed"
        elif hours_used >= every:
            status = "overdue"
        elif hours_used >= SOON_SHARE * every:
            status = "due_soon"
        hours_used = round(hours_used, 2)
    return TaskStatus(
        site=str(row.site), station=str(row.equipment_id), station_name=str(row.station_name), task=str(row.task),
        every_days=row.every_days, every_hours=row.every_hours, blocks_use=bool(row.blocks_use),
        last_done=last[0] if last else None, last_done_by=last[1] if last else None, due_at=due_at,
        hours_used=hours_used, status=status,
    )  # fmt: skip


def _last_done(conn: Connection, task_ids: list[int]) -> dict[int, tuple[datetime, str]]:
    """Each task's latest done record that no correction voided: when and by whom."""
    if not task_ids:
        return {}
    fix = RECORDS.alias("fix")
    voided = select(fix.c.corrects).where(fix.c.void & fix.c.corrects.is_not(None))
    query = (
        select(RECORDS.c.task_id, RECORDS.c.at, RECORDS.c.by)
        .where((RECORDS.c.kind == "maintenance") & RECORDS.c.task_id.in_(task_ids) & RECORDS.c.seq.not_in(voided))
        .order_by(RECORDS.c.at)
    )
    return {int(task_id): (at, str(by)) for task_id, at, by in conn.execute(query)}


def _find(session: Session, site: str, equipment_id: str, task: str, *, required: bool) -> MaintenanceTask | None:
    """The station's task called `task` (case-insensitive); `NotFound` naming the plan's tasks when `required`."""
    query = orm_select(MaintenanceTask).where(col(MaintenanceTask.site) == site,
                                              col(MaintenanceTask.equipment_id) == equipment_id)  # fmt: skip
    tasks = list(session.exec(query).all())
    for row in tasks:
        if row.task.casefold() == task.casefold():
            return row
    if required:
        names = ", ".join(sorted(t.task for t in tasks))
        raise NotFound(f"no task {task!r} in the plan of {equipment_id!r}" + (f" (its tasks: {names})" if names else
                       " (it has none: clinic maintenance add)"))  # fmt: skip
    return None


def _in_use_seconds(conn: Connection, site: str, equipment_id: str) -> float:
    """The station's in-use seconds so far (`NotFound` for a station not registered), its state row locked: a
    writer takes station rows before the records' chain head, as ingest does, so the two never deadlock."""
    known = conn.execute(select(EQUIPMENT.c.id).where((EQUIPMENT.c.site == site) & (EQUIPMENT.c.id == equipment_id)))
    if known.first() is None:
        raise NotFound(f"no equipment {equipment_id!r} at site {site!r}")
    value = conn.execute(select(STATES.c.in_use_seconds_total).where(
        (STATES.c.site == site) & (STATES.c.equipment_id == equipment_id)).with_for_update()).scalar()  # fmt: skip
    return float(value or 0.0)
