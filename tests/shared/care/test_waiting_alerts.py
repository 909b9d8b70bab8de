"""Waiting alerts: a checked-in patient not started after CLINIC_WAITING_ALERT_MIN is flagged, and a waiting
patient who scans again is recorded as having asked, so staff see when."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from shared.care.appointments import add_appointment, set_appointment_status
from shared.care.arrivals import describe_arrival, note_waiting_patient, todays_arrivals, waits_too_long
from shared.care.patients import add_patient
from shared.store.settings import Settings

NOW = datetime(2026, 11, 23, 10, 41, tzinfo=UTC)


@pytest.fixture
def waiting(engine: Engine) -> int:
    """Maria, booked at 10:15, arrived late at 10:21 (so her wait starts then); her appointment id."""
    maria = add_patient(engine, first="Maria", last="Gonzalez", dob=date(1950, 4, 17))
    booked = add_appointment(engine, patient_id=maria.id or 0, starts_at=NOW.replace(minute=15), site="main")
    assert booked.id is not None
    set_appointment_status(engine, booked.id, "arrived", now=NOW - timedelta(minutes=20))
    return booked.id


def test_the_threshold_is_a_setting_with_a_default_of_15_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).waiting_alert_min == 15  # type: ignore[call-arg]
    monkeypatch.setenv("CLINIC_WAITING_ALERT_MIN", "25")
    assert Settings(_env_file=None).waiting_alert_min == 25  # type: ignore[call-arg]
    monkeypatch.setenv("CLINIC_WAITING_ALERT_MIN", "0")
    with pytest.raises(ValueError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_waiting_longer_than_the_threshold_is_flagged(engine: Engine, waiting: int) -> None:
    row = todays_arrivals(engine, site="main", tz=UTC, now=NOW)[0]
    assert row.waiting_min == 20
    assert waits_too_long(row) and waits_too_long(row, 19)
    assert not waits_too_long(row, 20) and not waits_too_long(row, 25)


def test_a_waiting_patient_who_asks_is_recorded_and_staff_see_when(engine: Engine, waiting: int) -> None:
    assert not note_waiting_patient(engine, appointment_id=waiting, limit_min=20, now=NOW), "not longer than 20 min"
    assert todays_arrivals(engine, site="main", tz=UTC, now=NOW)[0].asked_at is None
    assert note_waiting_patient(engine, appointment_id=waiting, limit_min=15, now=NOW, kiosk="10.0.0.7")
    row = todays_arrivals(engine, site="main", tz=UTC, now=NOW + timedelta(minutes=2))[0]
    assert row.asked_at == NOW
    assert describe_arrival(row, UTC) == "arrived at 10:21, waiting 22 min; asked at 10:41"
    assert note_waiting_patient(engine, appointment_id=waiting, limit_min=15, now=NOW + timedelta(minutes=3))
    assert todays_arrivals(engine, site="main", tz=UTC, now=NOW)[0].asked_at == NOW + timedelta(minutes=3)


def test_no_alert_once_the_session_started_or_for_an_unknown_appointment(engine: Engine, waiting: int) -> None:
    set_appointment_status(engine, waiting, "in_session", now=NOW)
    assert not note_waiting_patient(engine, appointment_id=waiting, limit_min=15, now=NOW)
    assert not note_waiting_patient(engine, appointment_id=waiting + 100, limit_min=15, now=NOW)
    assert describe_arrival(todays_arrivals(engine, site="main", tz=UTC, now=NOW)[0], UTC) == "in session"


def test_an_ask_from_before_a_new_arrival_is_not_shown(engine: Engine, waiting: int) -> None:
    assert note_waiting_patient(engine, appointment_id=waiting, limit_min=15, now=NOW)
    set_appointment_status(engine, waiting, "scheduled")  # a mistaken arrival undone, then arrived again
    set_appointment_status(engine, waiting, "arrived", now=NOW + timedelta(minutes=1))
    assert todays_arrivals(engine, site="main", tz=UTC, now=NOW + timedelta(minutes=5))[0].asked_at is None
