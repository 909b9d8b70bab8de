"""Arrivals: today's appointments with waiting times, and lobby scans without an appointment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from shared.care.appointments import add_appointment, set_appointment_status
from shared.care.arrivals import todays_arrivals, todays_walk_ins
from shared.care.cards import issue_card
from shared.care.patients import add_patient
from shared.store.db import read_session, unit_of_work
from shared.store.settings import Settings
from tests import lobby_steps

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)


def test_arrivals_show_status_and_how_long_each_arrived_patient_has_waited(engine: Engine) -> None:
    settings = Settings(_env_file=None, timezone="UTC")  # type: ignore[call-arg]
    with unit_of_work(engine) as session:
        maria = add_patient(session=session, first="Maria", last="Gonzalez", dob=date(1950, 4, 17))
    with unit_of_work(engine) as session:
        james = add_patient(session=session, first="James", last="Okafor", dob=date(1962, 9, 3))
    assert maria.id is not None and james.id is not None
    with unit_of_work(engine) as session:
        add_appointment(
            session=session, patient_id=maria.id, starts_at=NOW - timedelta(minutes=15), site="main", clinician="Alex"
        )
    with unit_of_work(engine) as session:
        later = add_appointment(session=session, patient_id=james.id, starts_at=NOW + timedelta(hours=1), site="main")
    with unit_of_work(engine) as session:
        add_appointment(session=session, patient_id=james.id, starts_at=NOW + timedelta(days=1), site="main")
    with unit_of_work(engine) as session:
        url = issue_card(session=session, patient_id=maria.id, base_url="https://x").url
    lobby_steps.check_in(engine=engine, settings=settings, scan=url, now=NOW - timedelta(minutes=9))
    with read_session(engine) as session:
        rows = todays_arrivals(session=session, site="main", tz=UTC, now=NOW)
    assert [(r.patient_name, r.status, r.waiting_min) for r in rows] == [
        ("Maria Gonzalez", "arrived", 9),
        ("James Okafor", "scheduled", None),
    ]
    assert later.id is not None
    with unit_of_work(engine) as session:
        set_appointment_status(session=session, appointment_id=later.id, status="no_show")
    with read_session(engine) as session:
        assert todays_arrivals(session=session, site="main", tz=UTC, now=NOW)[1].status == "no_show"


def test_walk_ins_without_an_appointment_are_listed_once(engine: Engine) -> None:
    settings = Settings(_env_file=None, timezone="UTC")  # type: ignore[call-arg]
    with unit_of_work(engine) as session:
        sam = add_patient(session=session, first="Sam", last="Whitfield", dob=date(1988, 6, 11))
    assert sam.id is not None
    with unit_of_work(engine) as session:
        url = issue_card(session=session, patient_id=sam.id, base_url="https://x").url
    for minutes in (5, 3):
        lobby_steps.check_in(engine=engine, settings=settings, scan=url, now=NOW - timedelta(minutes=minutes))
    with read_session(engine) as session:
        assert [(w.patient_name, w.at) for w in todays_walk_ins(session=session, site="main", tz=UTC, now=NOW)] == [
            ("Sam Whitfield", NOW - timedelta(minutes=3))
        ]
