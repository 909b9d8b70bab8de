"""Front-desk times: typed the way people type them, and a wait counted from the later of arrival and the
appointment's start (a patient 73 minutes early is not 'waiting 16 min' when the visit starts)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from shared.care.appointments import add_appointment
from shared.care.arrivals import todays_arrivals, wait_start
from shared.care.cards import issue_card
from shared.care.patients import add_patient
from shared.store.clock import parse_clock_time, parse_local_datetime
from shared.store.db import read_session, unit_of_work
from shared.store.errors import ValidationFailed
from shared.store.settings import Settings
from tests import lobby_steps


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("15:00", time(15, 0)), ("9:05", time(9, 5)), ("3pm", time(15, 0)), ("3:30 pm", time(15, 30)),
     ("12am", time(0, 0)), ("12 PM", time(12, 0)), ("11.15 a.m.", time(11, 15)),
     ("3", None), ("13pm", None), ("25:00", None), ("10:61", None), ("soon", None)],
)  # fmt: skip
def test_times_are_read_the_way_people_type_them(typed: str, expected: time | None) -> None:
    assert parse_clock_time(typed) == expected


def test_a_typed_time_becomes_today_in_the_clinic_zone() -> None:
    oslo = ZoneInfo("Europe/Oslo")
    day = date(2026, 3, 2)
    assert parse_local_datetime("3pm", oslo, today=day) == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    assert parse_local_datetime("2026-03-03 3:30 pm", oslo, today=day) == datetime(2026, 3, 3, 14, 30, tzinfo=UTC)
    assert parse_local_datetime("2026-03-03T10:30", oslo, today=day) == datetime(2026, 3, 3, 9, 30, tzinfo=UTC)
    with pytest.raises(ValidationFailed, match="not like 10:30, 3pm, 3:30 pm or 2026-11-23 10:30"):
        parse_local_datetime("half past three", oslo, today=day)


def test_an_early_patient_waits_from_their_appointment_time_not_from_arrival(engine: Engine) -> None:
    start = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert wait_start(start - timedelta(minutes=73), start) == start
    with unit_of_work(engine) as session:
        patient = add_patient(session=session, first="Maria", last="Gonzalez", dob=date(1950, 4, 17))
    assert patient.id is not None
    with unit_of_work(engine) as session:
        add_appointment(session=session, patient_id=patient.id, starts_at=start, site="main", clinician="Alex")
    with unit_of_work(engine) as session:
        card = issue_card(session=session, patient_id=patient.id, base_url="http://kiosk")
    settings = Settings(timezone="UTC", checkin_before_min=120)
    early = start - timedelta(minutes=73)
    lobby_steps.check_in(engine=engine, settings=settings, scan=card.url, now=early)
    with read_session(engine) as session:
        arrivals = todays_arrivals(session=session, site="main", tz=UTC, now=start - timedelta(minutes=10))
    assert [a.waiting_min for a in arrivals] == [0]  # not 63 min: the visit has not started yet
    with read_session(engine) as session:
        arrivals = todays_arrivals(session=session, site="main", tz=UTC, now=start + timedelta(minutes=16))
    assert [a.waiting_min for a in arrivals] == [16]
