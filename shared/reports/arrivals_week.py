"""Arrivals over a week: appointments, arrivals, no-shows and waits per local day.

A wait runs from the later of arrival and the appointment's start (as the front desk counts it,
`shared.care.arrivals.wait_start`) to the moment staff started the session (the audit entry of the change to
"in session"); an appointment never marked in session has no wait.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from sqlmodel import Session, col, select

from shared.care.arrivals import wait_start
from shared.care.models import Appointment
from shared.staff.models import AuditEntry


@dataclass(slots=True)
class DayArrivals:
    """One local day's front-desk figures."""

    day: date
    appointments: int = 0
    arrivals: int = 0
    no_shows: int = 0
    waits_min: list[float] = field(default_factory=list)


def week_arrivals(
    *, session: Session, site: str, days: list[date], start: datetime, end: datetime, tz: tzinfo
) -> list[DayArrivals]:
    """Each of `days`: appointments starting that day at `site`, who arrived, who did not come, the waits."""
    found = {day: DayArrivals(day) for day in days}
    query = select(Appointment).where(
        Appointment.site == site, col(Appointment.starts_at) >= start, col(Appointment.starts_at) < end
    )
    appointments = list(session.exec(query))
    started = _session_starts(session, start, end + timedelta(days=1))
    for appointment in appointments:
        day = found.get(appointment.starts_at.astimezone(tz).date())
        if day is None:
            continue
        day.appointments += 1
        if appointment.status == "no_show":
            day.no_shows += 1
        if appointment.arrived_at is not None or appointment.status in ("in_session", "done"):
            day.arrivals += 1
        if appointment.arrived_at is not None:
            began = started.get(appointment.id or 0)
            if began is not None:
                waited = began - wait_start(appointment.arrived_at, appointment.starts_at)
                day.waits_min.append(max(0.0, waited.total_seconds() / 60))
    return [found[day] for day in days]


def _session_starts(session: Session, start: datetime, end: datetime) -> dict[int, datetime]:
    """The first change to "in session" of each appointment, from the audit log, between `start` and `end`."""
    query = (
        select(AuditEntry.target, AuditEntry.detail, AuditEntry.at)
        .where(AuditEntry.action == "appointment.status", col(AuditEntry.at) >= start, col(AuditEntry.at) < end)
        .order_by(col(AuditEntry.at))
    )
    starts: dict[int, datetime] = {}
    for target, detail, at in session.exec(query):
        try:
            moved_to = json.loads(detail).get("to")
            appointment_id = int(target.removeprefix("appointment "))
        except (ValueError, AttributeError):
            continue
        if moved_to == "in_session":
            starts.setdefault(appointment_id, at)
    return starts
