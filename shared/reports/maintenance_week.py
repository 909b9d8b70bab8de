"""The week's maintenance: every task of the site's plans as it stood at the week's end (due soon, overdue,
missed), and the tasks done during the week (the maintenance records, with who and their notes).

Status comes from `shared.equipment.maintenance.maintenance_due` judged at the week's end, on the plans as they
are now: a task done after the week counts from then (ok). Tasks by hours of use are judged on the station's
in-use hours as stored now.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlmodel import Session

from shared.equipment.maintenance import done_records, maintenance_due
from shared.reports.table import Cell, Table
from shared.reports.weeks import Week

STATUSES = ("due_soon", "overdue", "missed")


def local_text(moment: datetime | None, tz: tzinfo) -> str | None:
    """A time as the clinic's clock shows it ("2026-10-28 10:00"), None for none."""
    return None if moment is None else moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def maintenance_tables(*, session: Session, site: str, week: Week) -> tuple[Table, Table]:
    """The plan's tasks at the week's end, and the maintenance done in the week."""
    done = done_records(session=session, start=week.start, end=week.end, site=site)
    done_count: dict[tuple[str, str], int] = {}
    for record in done:
        key = (str(record.equipment_id), str(record.task))
        done_count[key] = done_count.get(key, 0) + 1
    tasks = maintenance_due(session=session, now=week.end, site=site, include_ok=True)
    rows: list[tuple[Cell, ...]] = [
        (t.station, t.task, t.every_days, t.every_hours, t.status, local_text(t.due_at, week.tz), t.hours_used,
         local_text(t.last_done, week.tz), t.last_done_by, done_count.get((t.station, t.task), 0))
        for t in sorted(tasks, key=lambda t: (t.station, t.task.casefold()))
    ]  # fmt: skip
    columns = ("station", "task", "every_days", "every_hours", "status_at_week_end", "due_at", "hours_used",
               "last_done_at", "last_done_by", "done_this_week")  # fmt: skip
    plan = Table("maintenance", "Maintenance tasks at the end of the week", columns, rows)
    done_rows: list[tuple[Cell, ...]] = [
        (str(r.equipment_id), str(r.task), local_text(r.at, week.tz), str(r.by), str(r.notes or "")) for r in done
    ]
    log = Table("maintenance_done", "Maintenance done during the week", ("station", "task", "done_at", "by", "notes"),
                done_rows)  # fmt: skip
    return plan, log
