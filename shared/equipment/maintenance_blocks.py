"""Maintenance that blocks use: an overdue task with `blocks_use` takes its station out of service (a critical
fault with code `maintenance`, whose message says which task), and marking it done puts the station back in
service when no other blocking task is still overdue there.

The block is applied by the listener once a minute (`block_overdue`, so a station is out of service on the lobby's
plan too though nobody opened the board), and when someone looks: the staff app's board and Maintenance page, and
`clinic maintenance due` / `done` (`apply_blocks`, one unit of work, and only when a station needs it:
`pending_blocks` reads first).
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy import Engine, select
from sqlmodel import Session

from shared.equipment import board
from shared.equipment.ingest_rows import STATES
from shared.equipment.maintenance import TaskStatus, maintenance_due, mark_done
from shared.store.db import read_session, unit_of_work


def pending_blocks(*, session: Session, now: datetime, site: str | None = None) -> list[TaskStatus]:
    """Overdue tasks that block use at stations still in service (what `apply_blocks` would act on)."""
    overdue = [t for t in maintenance_due(session=session, now=now, site=site)
               if t.blocks_use and t.status in ("overdue", "missed")]  # fmt: skip
    if not overdue:
        return []
    conn = session.connection()
    out = {(s, e) for s, e in conn.execute(select(STATES.c.site, STATES.c.equipment_id).where(STATES.c.out_of_service))}
    found: dict[tuple[str, str], TaskStatus] = {}
    for task in overdue:
        if (task.site, task.station) not in out:
            found.setdefault((task.site, task.station), task)
    return list(found.values())


def apply_blocks(*, session: Session, now: datetime, tz: tzinfo, site: str | None = None) -> list[TaskStatus]:
    """Take out of service each station with an overdue blocking task, in the caller's unit of work; returns the
    tasks that did."""
    blocks = sorted(pending_blocks(session=session, now=now, site=site), key=lambda t: (t.site, t.station))
    conn = session.connection()
    for task in blocks:  # every station row first, in key order (as ingest locks them), then the chain's head
        conn.execute(select(STATES.c.site).where((STATES.c.site == task.site) & (STATES.c.equipment_id == task.station))
                     .with_for_update())  # fmt: skip
    for task in blocks:
        board.block_for_maintenance(session=session, site=task.site, equipment_id=task.station, task=task.task,
                                    tz=tz, now=now)  # fmt: skip
    return blocks


def block_overdue(*, engine: Engine, now: datetime, tz: tzinfo) -> list[TaskStatus]:
    """Every site's stations whose overdue maintenance blocks use, taken out of service (what the listener runs
    between batches): one read, and one unit of work only when a station needs it."""
    with read_session(engine) as session:
        if not pending_blocks(session=session, now=now):
            return []
    with unit_of_work(engine) as session:
        return apply_blocks(session=session, now=now, tz=tz)


def done(
    *, session: Session, site: str, equipment_id: str, task: str, by: str, tz: tzinfo, notes: str = "",
    now: datetime,
) -> bool:  # fmt: skip
    """Mark a task done; when the station was out of service for overdue maintenance and no blocking task is still
    overdue there, put it back in service. Returns whether it did."""
    mark_done(session=session, site=site, equipment_id=equipment_id, task=task, by=by, notes=notes, now=now)
    view = board.get_station(session=session, site=site, equipment_id=equipment_id, tz=tz)
    if view.status != "out_of_service" or view.fault_code != board.MAINTENANCE_FAULT:
        return False
    still = [t for t in maintenance_due(session=session, now=now, site=site)
             if t.station == equipment_id and t.blocks_use and t.status in ("overdue", "missed")]  # fmt: skip
    if still:
        return False
    board.back_in_service(session=session, site=site, equipment_id=equipment_id, by=by, reason=f"maintenance done: "
                          f"{task}", tz=tz, now=now)  # fmt: skip
    return True
