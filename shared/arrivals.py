"""Arrivals for the front desk: today's appointments with who is waiting and for how long."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from sqlalchemy import Engine
from sqlmodel import col, select

from shared.care_models import Appointment, CheckIn, Patient
from shared.clock import local_today
from shared.db import session_for


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
    start, end = _day_bounds(now, tz)
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
