"""Board actions that can be undone for a short while: "Mark cleaned", "Out of service" (a fault report),
"Back in service" and "Mark serviced", each one user action in the caller's unit of work, returning a `Done` the
page keeps to offer Undo.

Undo deletes nothing. It records a correction, an event on the station's log (channel `correction`, its `code`
the undone event's id) and an audit entry (`equipment.undo`, pointing at the undone entry's id), by the person
who undoes it and when, and puts back the station's state as it was before the action; the day's figures stop
counting what the action added (a cleaning, a fault). It is refused after `UNDO_WINDOW`, by anyone but the person
who acted, and when the station changed meanwhile (a device started a use, someone else acted, ...): then nothing
is changed and the refusal says why.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Table, func, insert, select, update
from sqlmodel import Session

from shared.equipment import board
from shared.equipment.faults import report_fault
from shared.equipment.ingest_rows import EVENTS, STATES
from shared.equipment.maintenance import INTERVAL_TASK, TASKS
from shared.equipment.models import StationDay
from shared.equipment.record_chain import RECORDS, NewRecord, append
from shared.staff.models import AuditEntry
from shared.store.errors import ValidationFailed
from shared.store.types import utcnow

UNDO_WINDOW = timedelta(minutes=2)
UndoableAction = Literal["cleaned", "out", "back", "serviced"]
DONE_WORDS: dict[UndoableAction, str] = {"cleaned": "marked cleaned", "out": "taken out of service",
                                         "back": "back in service", "serviced": "marked serviced"}  # fmt: skip
AUDIT_ACTIONS: dict[UndoableAction, str] = {
    "cleaned": "equipment.cleaned", "out": "equipment.out_of_service", "back": "equipment.back_in_service",
    "serviced": "equipment.serviced",
}  # fmt: skip
# The state an action may change, and what a later change to the station shows in: compared before an undo, put
# back by it. (Online status and last-seen are the device's connection, not what the action did.)
TRACKED = ("usage_status", "out_of_service", "in_use_since", "current_session_id", "needs_cleaning_since",
           "last_cleaned_at", "last_cleaned_by", "used_without_cleaning", "fault_code", "fault_severity",
           "fault_message", "fault_since", "last_event_at", "uses_total", "in_use_seconds_total", "serviced_at",
           "serviced_in_use_seconds")  # fmt: skip
DAYS: Table = StationDay.__table__  # type: ignore[attr-defined]
AUDIT: Table = AuditEntry.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Done:
    """A board action that went through, with what an undo needs: the state before and after it, the newest
    event row on the station's log after it, and the event and audit entry it recorded."""

    site: str
    equipment_id: str
    name: str
    action: UndoableAction
    by: str
    at: datetime
    audit_id: int
    event_id: str | None  # None for "Mark serviced" (no event)
    before: tuple[Any, ...]
    after: tuple[Any, ...]
    last_event_row: int

    @property
    def sentence(self) -> str:
        """What was done, for the confirmation: "Treadmill 1: marked cleaned"."""
        return f"{self.name}: {DONE_WORDS[self.action]}"

    def undoable(self, now: datetime) -> bool:
        """Whether Undo is still offered at `now`."""
        return now - self.at < UNDO_WINDOW


def act(
    *,
    session: Session,
    action: UndoableAction,
    site: str,
    equipment_id: str,
    by: str,
    tz: tzinfo,
    method: str = "wipe",
    note: str = "",
    category: str | None = None,
    photo: bytes | None = None,
    data_dir: Path | None = None,
    now: datetime | None = None,
    disinfectant: str | None = None,
) -> Done:
    """Do one board action as `by` in the caller's unit of work (the board's services, audited as ever) and
    return what an undo needs. "out" is a fault report (`category`, `note` as its notes, `photo`)."""
    at = now or utcnow()
    where: dict[str, Any] = {"session": session, "site": site, "equipment_id": equipment_id, "by": by}
    view = board.get_station(session=session, site=site, equipment_id=equipment_id, tz=tz)
    conn = session.connection()
    before, before_row = _snapshot(conn, site, equipment_id), _last_event_row(conn, site, equipment_id)
    if action == "cleaned":
        board.mark_cleaned(method=method, tz=tz, now=at, disinfectant=disinfectant, **where)
    elif action == "out":
        if data_dir is None:
            raise ValueError("a fault report needs the data folder (for its photo)")
        report_fault(category=category, notes=note, photo=photo, data_dir=data_dir, tz=tz, now=at, **where)
    elif action == "back":
        board.back_in_service(reason=note, tz=tz, now=at, **where)
    else:
        board.mark_serviced(tz=tz, **where)
    last_row = _last_event_row(conn, site, equipment_id)
    event_id = None
    if last_row > before_row:
        event_id = conn.execute(select(EVENTS.c.event_id).where(EVENTS.c.id == last_row)).scalar_one()
    audit_id = conn.execute(select(func.max(AUDIT.c.id)).where(
        (AUDIT.c.target == f"{site}/{equipment_id}") & (AUDIT.c.action == AUDIT_ACTIONS[action]) & (AUDIT.c.actor == by)
    )).scalar_one()  # fmt: skip
    return Done(site, equipment_id, view.name, action, by, at, int(audit_id), event_id, before,
                _snapshot(conn, site, equipment_id), last_row)  # fmt: skip


def undo(*, session: Session, done: Done, by: str, tz: tzinfo, now: datetime | None = None) -> str:
    """Undo `done` as `by` in the caller's unit of work (see the module); returns what the station is now, in
    words ("Treadmill 1: undone, it needs cleaning again")."""
    now = now or utcnow()
    if by != done.by:
        raise ValidationFailed(f"only {done.by} can undo this")
    if not done.undoable(now):
        raise ValidationFailed(f"{done.sentence} more than {UNDO_WINDOW.seconds // 60} minutes ago: too late to undo")
    board.require_station(session=session, site=done.site, equipment_id=done.equipment_id)
    conn = session.connection()
    current = _snapshot(conn, done.site, done.equipment_id, lock=True)
    if current != done.after or _last_event_row(conn, done.site, done.equipment_id) != done.last_event_row:
        words = _status_words(current)
        now_words = f"{words} now" if words.startswith("it ") else f"it is {words} now"  # never "it is it needs"
        raise ValidationFailed(f"{done.name} changed since it was {DONE_WORDS[done.action]} "
                               f"({now_words}): nothing was undone")  # fmt: skip
    where = (STATES.c.site == done.site) & (STATES.c.equipment_id == done.equipment_id)
    conn.execute(update(STATES).where(where).values(**dict(zip(TRACKED, done.before, strict=True)), updated_at=now))
    _uncount(conn, done, tz)
    target = f"{done.site}/{done.equipment_id}"
    if done.event_id is not None:
        conn.execute(insert(EVENTS).values(
            site=done.site, equipment_id=done.equipment_id, event_id=f"undo-{uuid.uuid4().hex}", channel="correction",
            event="undo", event_at=now, received_at=now, code=done.event_id[:64], by=by, source="staff",
            message=f"undoes {AUDIT_ACTIONS[done.action]} by {done.by} at {done.at.isoformat()}",
        ))  # fmt: skip
        _void_records(conn, done, by=by, now=now)
    elif done.action == "serviced":
        _void_service(conn, done, by=by, now=now)
    restored = _status_words(done.before)
    detail = {"undoes": done.audit_id, "action": AUDIT_ACTIONS[done.action], "event": done.event_id,
              "status": restored}  # fmt: skip
    conn.execute(insert(AUDIT).values(actor=by, action="equipment.undo", target=target, detail=json.dumps(detail),
                                      at=now))  # fmt: skip
    return f"{done.name}: undone, {restored} again"


def _void_records(conn: Connection, done: Done, *, by: str, now: datetime) -> None:
    """The undone event's records (its cleaning, out of or back in service) stay, each with a correction that voids
    it: the chain is append-only."""
    query = select(RECORDS.c.seq, RECORDS.c.kind).where(
        (RECORDS.c.event_id == done.event_id) & (RECORDS.c.site == done.site) & (RECORDS.c.kind != "correction")
    )
    fixes = [NewRecord(site=done.site, equipment_id=done.equipment_id, kind="correction", at=now, by=by,
                       event_id=done.event_id, corrects=int(seq), void=True,
                       notes=f"undone: {kind} recorded by {done.by} at {done.at.isoformat()} should not stand")
             for seq, kind in conn.execute(query)]  # fmt: skip
    append(conn, fixes, now=now)


def _void_service(conn: Connection, done: Done, *, by: str, now: datetime) -> None:
    """An undone "Mark serviced": its record of the task "Maintenance" done stays, voided by a correction, and the
    task counts again from the service before."""
    query = (
        select(RECORDS.c.seq).where(
            (RECORDS.c.kind == "maintenance") & (RECORDS.c.site == done.site)
            & (RECORDS.c.equipment_id == done.equipment_id) & (RECORDS.c.task == INTERVAL_TASK)
            & (RECORDS.c.by == done.by) & (RECORDS.c.recorded_at >= done.at - timedelta(minutes=1)))
        .order_by(RECORDS.c.seq.desc()).limit(1)
    )  # fmt: skip
    seq = conn.execute(query).scalar()
    if seq is None:
        return
    append(conn, [NewRecord(site=done.site, equipment_id=done.equipment_id, kind="correction", at=now, by=by,
                            corrects=int(seq), void=True, task=INTERVAL_TASK,
                            notes=f"undone: maintenance recorded by {done.by} at {done.at.isoformat()} "
                                  "should not stand")], now=now)  # fmt: skip
    before = dict(zip(TRACKED, done.before, strict=True))
    task = (TASKS.c.site == done.site) & (TASKS.c.equipment_id == done.equipment_id) & (TASKS.c.task == INTERVAL_TASK)
    since = before["serviced_at"] if before["serviced_at"] is not None else TASKS.c.created_at
    conn.execute(update(TASKS).where(task).values(since=since,
                                                  since_in_use_seconds=before["serviced_in_use_seconds"] or 0.0))


def _snapshot(conn: Connection, site: str, equipment_id: str, *, lock: bool = False) -> tuple[Any, ...]:
    query = select(*(STATES.c[name] for name in TRACKED)).where(
        (STATES.c.site == site) & (STATES.c.equipment_id == equipment_id)
    )
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:  # a station whose state row ingest has not made yet: the defaults it would make
        return ("available", False, None, None, None, None, None, 0, None, None, None, None, None, 0, 0.0, None, 0.0)
    return tuple(row)


def _last_event_row(conn: Connection, site: str, equipment_id: str) -> int:
    query = select(func.max(EVENTS.c.id)).where((EVENTS.c.site == site) & (EVENTS.c.equipment_id == equipment_id))
    return int(conn.execute(query).scalar_one() or 0)


def _status_words(state: tuple[Any, ...]) -> str:
    values = dict(zip(TRACKED, state, strict=True))
    if values["out_of_service"]:
        return "out of service"
    return {"needs_cleaning": "it needs cleaning", "in_use": "in use"}.get(values["usage_status"], "available")


def _uncount(conn: Connection, done: Done, tz: tzinfo) -> None:
    """The day's figures no longer count what the undone event added (as rollups.DayTotals counted it)."""
    if done.action not in ("cleaned", "out"):
        return
    day: date = done.at.astimezone(tz).date()
    key = (DAYS.c.site == done.site) & (DAYS.c.equipment_id == done.equipment_id) & (DAYS.c.day == day)
    row = conn.execute(select(DAYS.c.clean_wait_minutes).where(key)).first()
    if row is None:
        return
    if done.action == "out":
        conn.execute(update(DAYS).where(key).values(faults=DAYS.c.faults - 1))
        return
    before = dict(zip(TRACKED, done.before, strict=True))
    waited_since, last_event = before["needs_cleaning_since"], before["last_event_at"]
    ended_wait = (before["usage_status"] == "needs_cleaning" and waited_since is not None
                  and (last_event is None or done.at >= last_event))  # fmt: skip
    values: dict[str, Any] = {"cleanings": DAYS.c.cleanings - 1}
    if ended_wait:
        token = f"{max(0.0, (done.at - waited_since).total_seconds() / 60):.3f} "
        waits = str(row.clean_wait_minutes)
        cut = waits.rfind(token)
        values["cleaned_before_next_use"] = DAYS.c.cleaned_before_next_use - 1
        if cut >= 0:
            values["clean_wait_minutes"] = waits[:cut] + waits[cut + len(token):]
    conn.execute(update(DAYS).where(key).values(**values))
