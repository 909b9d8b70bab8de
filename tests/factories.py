"""Small factories for test data, built on the real services (so what they make is what the app makes).

They call the services the way the services are called today; keyword arguments pass through unchanged.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from shared.care.appointments import add_appointment
from shared.care.cards import IssuedCard, issue_card
from shared.care.models import Appointment, Patient
from shared.care.patients import add_patient
from shared.equipment.models import Equipment
from shared.equipment.stations import register_equipment
from shared.staff.accounts import create_account
from shared.store.db import unit_of_work

PASSWORD = "correct horse battery"  # every staff account's password in the suite
DOB = date(1950, 4, 17)
KIOSK_URL = "https://lobby.example"


def station(engine: Engine, equipment_id: str, name: str | None = None, *, site: str = "main",
            **details: Any) -> Equipment:  # fmt: skip
    """A registered station (`details`: zone, kind, clean_after_use, maintenance_interval_hours)."""
    with unit_of_work(engine) as session:
        return register_equipment(session=session, site=site, equipment_id=equipment_id, name=name, **details)


def staff_account(engine: Engine, username: str, role: str, display_name: str = "") -> str:
    """A staff account with the suite's password; returns the username."""
    create_account(engine=engine, username=username, password=PASSWORD, role=role,
                   display_name=display_name or username)  # fmt: skip
    return username


def patient(engine: Engine, first: str = "Maria", last: str = "Gonzalez", *, dob: date = DOB,
            **details: Any) -> Patient:  # fmt: skip
    """A registered patient (`details`: phone)."""
    with unit_of_work(engine) as session:
        return add_patient(session=session, first=first, last=last, dob=dob, **details)


def card(engine: Engine, patient_id: int, *, base_url: str = KIOSK_URL) -> IssuedCard:
    """A new card for the patient (their older cards stop working)."""
    with unit_of_work(engine) as session:
        return issue_card(session=session, patient_id=patient_id, base_url=base_url)


def appointment_today(engine: Engine, patient_id: int, *, in_minutes: int = 20, site: str = "main",
                      **details: Any) -> Appointment:  # fmt: skip
    """An appointment `in_minutes` from now, kept on today's date (UTC): near midnight it starts a few minutes
    ago instead, still inside the check-in window (`details`: minutes, clinician)."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    later = now + timedelta(minutes=in_minutes)
    starts = later if later.date() == now.date() else now - timedelta(minutes=5)
    with unit_of_work(engine) as session:
        return add_appointment(session=session, patient_id=patient_id, starts_at=starts, site=site, **details)
