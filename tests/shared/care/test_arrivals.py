"""Arrivals: today's appointments with waiting times, and lobby scans without an appointment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from shared.care import checkin
from shared.care.appointments import add_appointment, set_appointment_status
from shared.care.arrivals import todays_arrivals, todays_walk_ins
from shared.care.cards import issue_card
from shared.care.patients import add_patient
from shared.store.settings import Settings

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)


def test_arrivals_show_status_and_how_long_each_arrived_patient_has_waited(engine: Engine) -> None:
    settings = Settings(_env_file=None, timezone="UTC")  # type: ignore[call-arg]
    maria = add_patient(engine, first="Maria", last="Gonzalez", dob=date(1950, 4, 17))
    james = add_patient(engine, first="James", last="Okafor", dob=date(1962, 9, 3))
    assert maria.id is not None and james.id is not None
    add_appointment(engine, patient_id=maria.id, starts_at=NOW - timedelta(minutes=15), site="main", clinician="Alex")
    later = add_appointment(engine, patient_id=james.id, starts_at=NOW + timedelta(hours=1), site="main")
    add_appointment(engine, patient_id=james.id, starts_at=NOW + timedelta(days=1), site="main")
    url = issue_card(engine, maria.id, base_url="https://x").url
    checkin.check_in(engine, settings, url, now=NOW - timedelta(minutes=9))
    rows = todays_arrivals(engine, site="main", tz=UTC, now=NOW)
    assert [(r.patient_name, r.status, r.waiting_min) for r in rows] == [
        ("Maria Gonzalez", "arrived", 9),
        ("James Okafor", "scheduled", None),
    ]
    assert later.id is not None
    set_appointment_status(engine, later.id, "no_show")
    assert todays_arrivals(engine, site="main", tz=UTC, now=NOW)[1].status == "no_show"


def test_walk_ins_without_an_appointment_are_listed_once(engine: Engine) -> None:
    settings = Settings(_env_file=None, timezone="UTC")  # type: ignore[call-arg]
    sam = add_patient(engine, first="Sam", last="Whitfield", dob=date(1988, 6, 11))
    assert sam.id is not None
    url = issue_card(engine, sam.id, base_url="https://x").url
    for minutes in (5, 3):
        checkin.check_in(engine, settings, url, now=NOW - timedelta(minutes=minutes))
    assert [(w.patient_name, w.at) for w in todays_walk_ins(engine, site="main", tz=UTC, now=NOW)] == [
        ("Sam Whitfield", NOW - timedelta(minutes=3))
    ]
