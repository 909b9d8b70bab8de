"""Small factories for test data, built on the real services (so what they make is what the app makes), and the
readers the tests check them back with (a station's state, the audit log).

They call the services the way the services are called today; keyword arguments pass through unchanged.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, overload

from sqlalchemy import Engine

from shared.care.appointments import add_appointment
from shared.care.cards import IssuedCard, issue_card
from shared.care.models import Appointment, Patient
from shared.care.patients import add_patient
from shared.equipment.events import Decoded
from shared.equipment.models import Equipment
from shared.equipment.payloads import decode
from shared.equipment.stations import StationView, get_station, register_equipment
from shared.outcomes.responses import answer
from shared.staff.accounts import create_account
from shared.staff.audit import recent_audit
from shared.store.db import read_session, unit_of_work

PASSWORD = "correct horse battery"  # every staff account's password in the suite
DOB = date(1950, 4, 17)
KIOSK_URL = "https://lobby.example"


def station(engine: Engine, equipment_id: str, name: str | None = None, *, site: str = "main",
            **details: Any) -> Equipment:  # fmt: skip
    """A registered station (`details`: zone, kind, clean_after_use, maintenance_interval_hours)."""
    with unit_of_work(engine) as session:
        return register_equipment(session=session, site=site, equipment_id=equipment_id, name=name, **details)


def read_station(engine: Engine, equipment_id: str, *, site: str = "main") -> StationView:
    """A station's current state, read in a session of its own (so a wait sees each new commit)."""
    with read_session(engine) as session:
        return get_station(session=session, site=site, equipment_id=equipment_id, tz=UTC)


def device_message(equipment_id: str, channel: str, body: dict[str, object], minutes_ago: float) -> Decoded:
    """What the station's device sends on `channel` (at site main), stamped `minutes_ago` before now."""
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)  # now, not at import: the suite may run long
    payload = json.dumps({**body, "ts": at.isoformat()}).encode()
    return decode(f"clinic/main/equipment/{equipment_id}/{channel}", payload, prefix="clinic", received_at=at)


def use_messages(equipment_id: str, n: int, start_ago: float, minutes: float) -> list[Decoded]:
    """One use as its device reports it: started `start_ago` minutes ago (event s<n>), stopped `minutes` later."""
    stop = {"event_id": f"e{n}", "event": "stop", "duration_s": minutes * 60}
    return [
        device_message(equipment_id, "usage", {"event_id": f"s{n}", "event": "start"}, start_ago),
        device_message(equipment_id, "usage", stop, start_ago - minutes),
    ]


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


def new_patient_id(engine: Engine, first: str = "Maria", last: str = "Gonzalez", *, dob: date = DOB,
                   **details: Any) -> int:  # fmt: skip
    """A registered patient's id (`details`: phone)."""
    created = patient(engine, first, last, dob=dob, **details)
    assert created.id is not None
    return created.id


def card(engine: Engine, patient_id: int, *, base_url: str = KIOSK_URL) -> IssuedCard:
    """A new card for the patient (their older cards stop working)."""
    with unit_of_work(engine) as session:
        return issue_card(session=session, patient_id=patient_id, base_url=base_url)


def appointment_today(engine: Engine, patient_id: int, *, in_minutes: int = 20, site: str = "main",
                      **details: Any) -> Appointment:  # fmt: skip
    """An appointment `in_minutes` from now (`details`: minutes, clinician). "Today" is the test's: run it under
    the `clock` fixture (tests/clock.py), not at whatever hour the suite runs."""
    starts = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=in_minutes)
    with unit_of_work(engine) as session:
        return add_appointment(session=session, patient_id=patient_id, starts_at=starts, site=site, **details)


@overload
def last_audit(engine: Engine) -> tuple[str, str, str, str]: ...
@overload
def last_audit(engine: Engine, *, json_detail: Literal[True]) -> tuple[str, str, str, dict[str, object]]: ...
def last_audit(engine: Engine, *, json_detail: bool = False) -> tuple[str, str, str, object]:
    """The newest audit entry as (actor, action, target, detail): detail as stored (JSON text), or parsed."""
    with read_session(engine) as session:
        entry = recent_audit(session=session, limit=1)[0]
    detail = json.loads(entry.detail or "{}") if json_detail else entry.detail
    return entry.actor, entry.action, entry.target, detail


def audit_log(engine: Engine) -> list[tuple[str, str, str, dict[str, object]]]:
    """(actor, action, target, detail), oldest first, without sign-ins and account creations."""
    with read_session(engine) as session:
        entries = recent_audit(session=session)
    return [
        (a.actor, a.action, a.target, json.loads(a.detail))
        for a in reversed(entries)
        if a.action not in ("staff.create", "staff.sign_in")
    ]


def weekly_pain_answers(engine: Engine, patient_id: int, values: list[int], *, start: datetime) -> None:
    """A visit a week from `start`, each with the patient's 0-10 pain rating (the `nprs` questionnaire) answered."""
    for week, value in enumerate(values):
        at = start + timedelta(days=7 * week)
        with unit_of_work(engine) as session:
            visit = Appointment(patient_id=patient_id, site="main", starts_at=at, status="arrived", arrived_at=at)
            session.add(visit)
            session.flush()
            assert visit.id is not None
            answer(session=session, patient_id=patient_id, appointment_id=visit.id, questionnaire="nprs",
                   link_id="pain", value=value, now=at)  # fmt: skip
