"""Arrivals for the front desk: today's appointments with who is waiting and for how long."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import Engine
from sqlmodel import col, select

from shared.care_models import Appointment, CheckIn, Patient
from shared.clock import local_today
from shared.db import session_for

STATUS_WORDS = {"scheduled": "scheduled", "arrived": "arrived", "in_session": "in session", "done": "done",
                "no_show": "no-show"}  # fmt: skip
LONG_WAIT_MIN = 15


@dataclass(frozen=True, slots=True)
class Arrival:
    """One of today's appointments as the arrivals view shows it (staff see full names)."""

    appointment_id: int
    patient_id: int
    patient_name: str
    starts_at: datetime
    minutes: int
    clinician: str
    status: str
    arrived_at: datetime | None
    waiting_min: int | None


@dataclass(frozen=True, slots=True)
class WalkIn:
    """A patient who scanned a card but had no appointment today."""

    patient_id: int | None
    patient_name: str
    at: datetime


def todays_arrivals(engine: Engine, *, site: str, tz: tzinfo, now: datetime) -> list[Arrival]:
    """Today's appointments at the site in start order; waiting time for those arrived but not started."""
    return day_appointments(engine, site=site, tz=tz, day=local_today(now, tz), now=now)


def day_appointments(engine: Engine, *, site: str, tz: tzinfo, day: date, now: datetime) -> list[Arrival]:
    """The appointments at the site on the clinic's calendar `day`, in start order, with full names.

    Waiting minutes (up to `now`) are given for those arrived but not yet started.
    """
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    query = (
        select(Appointment, Patient)
        .join(Patient, col(Patient.id) == col(Appointment.patient_id))
        .where(Appointment.site == site, col(Appointment.starts_at) >= start, col(Appointment.starts_at) < end)
        .order_by(col(Appointment.starts_at), col(Appointment.id))
    )
    with session_for(engine) as session:
        rows = session.exec(query).all()
    out = []
    for appointment, patient in rows:
        assert appointment.id is not None and patient.id is not None
        waiting = None
        if appointment.status == "arrived" and appointment.arrived_at is not None:
            waiting = max(0, int((now - appointment.arrived_at).total_seconds() // 60))
        out.append(
            Arrival(
                appointment.id,
                patient.id,
                f"{patient.first_name} {patient.last_name}",
                appointment.starts_at,
                appointment.minutes,
                appointment.clinician,
                appointment.status,
                appointment.arrived_at,
                waiting,
            )
        )
    return out


def todays_walk_ins(engine: Engine, *, site: str, tz: tzinfo, now: datetime) -> list[WalkIn]:
    """'No appointment' scans from the lobby today, newest first, one per patient."""
    start, end = _day_bounds(now, tz)
    query = (
        select(CheckIn, Patient)
        .join(Patient, col(Patient.id) == col(CheckIn.patient_id))
        .where(
            CheckIn.site == site, CheckIn.result == "no_appointment", col(CheckIn.at) >= start, col(CheckIn.at) < end
        )
        .order_by(col(CheckIn.at).desc())
    )
    seen: set[int] = set()
    out = []
    with session_for(engine) as session:
        for check_in, patient in session.exec(query).all():
            if patient.id in seen:
                continue
            seen.add(patient.id or 0)
            out.append(WalkIn(patient.id, f"{patient.first_name} {patient.last_name}", check_in.at))
    return out


def _day_bounds(now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    start = datetime.combine(local_today(now, tz), time.min, tzinfo=tz)
    return start, start + timedelta(days=1)


def describe_arrival(arrival: Arrival, tz: tzinfo) -> str:
    """The status in words: 'scheduled', 'arrived at 10:21, waiting 9 min', 'in session', 'done', 'no-show'."""
    if arrival.status == "arrived" and arrival.arrived_at is not None:
        at = arrival.arrived_at.astimezone(tz).strftime("%H:%M")
        waiting = f", waiting {arrival.waiting_min} min" if arrival.waiting_min is not None else ""
        return f"arrived at {at}{waiting}"
    return STATUS_WORDS.get(arrival.status, arrival.status)


def waits_too_long(arrival: Arrival) -> bool:
    """Whether an arrived patient has waited longer than LONG_WAIT_MIN minutes (staff see a warning)."""
    return arrival.waiting_min is not None and arrival.waiting_min > LONG_WAIT_MIN
