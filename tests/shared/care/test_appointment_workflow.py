"""The appointment status workflow: the allowed changes are one table in the domain, enforced by both services."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from shared.care.appointments import (
    CORRECTIONS,
    STEPS,
    add_appointment,
    next_statuses,
    set_appointment_status,
    update_appointment,
)
from shared.care.models import APPOINTMENT_STATUSES, Appointment
from shared.care.patients import add_patient
from shared.store.db import read_session, unit_of_work
from shared.store.errors import ValidationFailed

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
ALLOWED = {  # before -> every status it may move to (steps, then corrections)
    "scheduled": ("arrived", "in_session", "no_show", "done"),
    "arrived": ("in_session", "done", "no_show", "scheduled"),
    "in_session": ("done", "arrived", "scheduled"),
    "done": ("in_session",),
    "no_show": ("arrived", "scheduled"),
}
PAIRS = [(before, after) for before in APPOINTMENT_STATUSES for after in APPOINTMENT_STATUSES if before != after]


def test_every_status_has_a_row_and_the_arrivals_steps_are_the_front_desk_buttons() -> None:
    assert set(STEPS) == set(CORRECTIONS) == set(APPOINTMENT_STATUSES)
    assert {s: next_statuses(s) for s in APPOINTMENT_STATUSES} == ALLOWED
    assert next_statuses("scheduled", corrections=False) == ("arrived", "in_session", "no_show")
    assert next_statuses("done", corrections=False) == ()


def _appointment_at(engine: Engine, status: str) -> int:
    """A booked appointment forced to `status` (bypassing the workflow, as a fixture)."""
    with unit_of_work(engine) as session:
        patient = add_patient(session=session, first="Maria", last="Gonzalez", dob="1950-04-17")
        assert patient.id is not None
        booked = add_appointment(session=session, patient_id=patient.id, starts_at=NOW, site="main")
        booked.status = status
        session.add(booked)
        session.flush()
        assert booked.id is not None
        return booked.id


def _status(engine: Engine, appointment_id: int) -> str:
    with read_session(engine) as session:
        found = session.get(Appointment, appointment_id)
        assert found is not None
        return found.status


@pytest.mark.parametrize(("before", "after"), PAIRS)
def test_set_status_allows_exactly_the_table(engine: Engine, before: str, after: str) -> None:
    aid = _appointment_at(engine, before)
    if after in ALLOWED[before]:
        with unit_of_work(engine) as session:
            set_appointment_status(session=session, appointment_id=aid, status=after, now=NOW)
        assert _status(engine, aid) == after
    else:
        refused = r"an appointment cannot go from .* to .*; from .* it can go to"
        with pytest.raises(ValidationFailed, match=refused), unit_of_work(engine) as session:
            set_appointment_status(session=session, appointment_id=aid, status=after, now=NOW)
        assert _status(engine, aid) == before


@pytest.mark.parametrize(("before", "after"), [("done", "scheduled"), ("done", "no_show"), ("no_show", "done")])
def test_update_appointment_refuses_the_same_changes_and_names_both_statuses(
    engine: Engine, before: str, after: str
) -> None:
    aid = _appointment_at(engine, before)
    words = {"done": "done", "scheduled": "scheduled", "no_show": "no-show"}
    refused = f"cannot go from {words[before]} to {words[after]}"
    with pytest.raises(ValidationFailed, match=refused), unit_of_work(engine) as session:
        update_appointment(session=session, appointment_id=aid, minutes=30, status=after)
    with read_session(engine) as session:
        found = session.get(Appointment, aid)
        assert found is not None and (found.status, found.minutes) == (before, 45), "nothing was changed"


def test_setting_the_status_it_has_changes_nothing(engine: Engine) -> None:
    aid = _appointment_at(engine, "done")
    with unit_of_work(engine) as session:
        set_appointment_status(session=session, appointment_id=aid, status="done", actor="tech")
        update_appointment(session=session, appointment_id=aid, status="done", actor="tech")
    assert _status(engine, aid) == "done"
