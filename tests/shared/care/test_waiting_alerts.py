"""Waiting alerts: a checked-in patient not started after CLINIC_WAITING_ALERT_MIN is flagged, and a waiting
patient who scans again is recorded as having asked, so staff see when."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from shared.care.appointments import add_appointment, set_appointment_status
from shared.care.arrivals import describe_arrival, note_waiting_patient, todays_arrivals, waits_too_long
from shared.care.patients import add_patient
from shared.store.db import read_session, unit_of_work
from shared.store.settings import Settings

NOW = datetime(2026, 11, 23, 10, 41, tzinfo=UTC)


@pytest.fixture
def waiting(engine: Engine) -> int:
    """Maria, booked at 10:15, arrived late at 10:21 (so her wait starts then); her appointment id."""
    with unit_of_work(engine) as session:
        maria = add_patient(session=session, first="Maria", last="Gonzalez", dob=date(1950, 4, 17))
    with unit_of_work(engine) as session:
        booked = add_appointment(
            session=session, patient_id=maria.id or 0, starts_at=NOW.replace(minute=15), site="main"
        )
    assert booked.id is not None
    with unit_of_work(engine) as session:
        set_appointment_status(
            session=session, appointment_id=booked.id, status="arrived", now=NOW - timedelta(minutes=20)
        )
    return booked.id


def test_the_threshold_is_a_setting_with_a_default_of_15_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).waiting_alert_min == 15  # type: ignore[call-arg]
    monkeypatch.setenv("CLINIC_WAITING_ALERT_MIN", "25")
    assert Settings(_env_file=None).waiting_alert_min == 25  # type: ignore[call-arg]
    monkeypatch.setenv("CLINIC_WAITING_ALERT_MIN", "0")
    with pytest.raises(ValueError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_waiting_longer_than_the_threshold_is_flagged(engine: Engine, waiting: int) -> None:
    with read_session(engine) as session:
        row = todays_arrivals(session=session, site="main", tz=UTC, now=NOW)[0]
    assert row.waiting_min == 20
    assert waits_too_long(row) and waits_too_long(row, 19)
    assert not waits_too_long(row, 20) and not waits_too_long(row, 25)


def test_a_waiting_patient_who_asks_is_recorded_and_staff_see_when(engine: Engine, waiting: int) -> None:
    with unit_of_work(engine) as session:
        assert not note_waiting_patient(session=session, appointment_id=waiting, limit_min=20, now=NOW), (
            "not longer than 20 min"
        )
    with read_session(engine) as session:
        assert todays_arrivals(session=session, site="main", tz=UTC, now=NOW)[0].asked_at is None
    with unit_of_work(engine) as session:
        assert note_waiting_patient(session=session, appointment_id=waiting, limit_min=15, now=NOW, kiosk="10.0.0.7")
    with read_session(engine) as session:
        row = todays_arrivals(session=session, site="main", tz=UTC, now=NOW + timedelta(minutes=2))[0]
    assert row.asked_at == NOW
    assert describe_arrival(row, UTC) == "arrived at 10:21, late (appt 10:15), waiting 22 min; asked at 10:41"
    with unit_of_work(engine) as session:
        assert note_waiting_patient(
            session=session, appointment_id=waiting, limit_min=15, now=NOW + timedelta(minutes=3)
        )
    with read_session(engine) as session:
        assert todays_arrivals(session=session, site="main", tz=UTC, now=NOW)[0].asked_at == NOW + timedelta(minutes=3)


def test_no_alert_once_the_session_started_or_for_an_unknown_appointment(engine: Engine, waiting: int) -> None:
    with unit_of_work(engine) as session:
        set_appointment_status(session=session, appointment_id=waiting, status="in_session", now=NOW)
    with unit_of_work(engine) as session:
        assert not note_waiting_patient(session=session, appointment_id=waiting, limit_min=15, now=NOW)
    with unit_of_work(engine) as session:
        assert not note_waiting_patient(session=session, appointment_id=waiting + 100, limit_min=15, now=NOW)
    with read_session(engine) as session:
        assert describe_arrival(todays_arrivals(session=session, site="main", tz=UTC, now=NOW)[0], UTC) == "in session"


def test_an_ask_from_before_a_new_arrival_is_not_shown(engine: Engine, waiting: int) -> None:
    with unit_of_work(engine) as session:
        assert note_waiting_patient(session=session, appointment_id=waiting, limit_min=15, now=NOW)
    with unit_of_work(engine) as session:
        set_appointment_status(
            session=session, appointment_id=waiting, status="scheduled"
        )  # a mistaken arrival undone, then arrived again
    with unit_of_work(engine) as session:
        set_appointment_status(
            session=session, appointment_id=waiting, status="arrived", now=NOW + timedelta(minutes=1)
        )
    with read_session(engine) as session:
        assert todays_arrivals(session=session, site="main", tz=UTC, now=NOW + timedelta(minutes=5))[0].asked_at is None
