"""Walk-ins: one action finds or adds the patient and marks them arrived; their no-appointment scan is resolved."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from shared.care.appointments import add_appointment
from shared.care.arrivals import todays_arrivals, todays_walk_ins
from shared.care.cards import issue_card
from shared.care.models import Appointment
from shared.care.patients import add_patient, search_patients
from shared.care.walk_ins import NewPatient, check_in_walk_in
from shared.staff.audit import recent_audit
from shared.store.db import read_session, unit_of_work
from shared.store.errors import ValidationFailed
from shared.store.settings import Settings
from tests import lobby_steps

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
SETTINGS = Settings(_env_file=None, timezone="UTC")  # type: ignore[call-arg]


def scan_without_appointment(engine: Engine, patient_id: int, at: datetime) -> None:
    with unit_of_work(engine) as session:
        scanned = issue_card(session=session, patient_id=patient_id, base_url="https://x").url
    outcome = lobby_steps.check_in(
        engine=engine,
        settings=SETTINGS,
        scan=scanned,
        now=at,
    )
    assert outcome.result == "no_appointment"


def test_a_known_patient_who_scanned_without_an_appointment_is_checked_in_and_leaves_the_list(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        sam = add_patient(session=session, first="Sam", last="Whitfield", dob=date(1988, 6, 11))
    with unit_of_work(engine) as session:
        zoe = add_patient(session=session, first="Zoe", last="Adams", dob=date(1990, 1, 2))
    assert sam.id is not None and zoe.id is not None
    scan_without_appointment(engine, sam.id, NOW - timedelta(minutes=4))
    scan_without_appointment(engine, zoe.id, NOW - timedelta(minutes=2))
    with unit_of_work(engine) as session:
        done = check_in_walk_in(session=session, site="main", tz=UTC, now=NOW, actor="desk", patient_id=sam.id)
    assert (done.patient_name, done.new_patient, done.booked_at) == ("Sam Whitfield", False, None)
    with read_session(engine) as session:
        assert [w.patient_name for w in todays_walk_ins(session=session, site="main", tz=UTC, now=NOW)] == ["Zoe Adams"]
        rows = todays_arrivals(session=session, site="main", tz=UTC, now=NOW + timedelta(minutes=5))
    assert [(r.patient_name, r.status, r.arrived_at, r.waiting_min) for r in rows] == [
        ("Sam Whitfield", "arrived", NOW, 5)
    ]
    with read_session(engine) as session:
        entry = recent_audit(session=session)[0]
    assert (entry.actor, entry.action, entry.target) == (
        "desk",
        "appointment.walk_in",
        f"appointment {rows[0].appointment_id}",
    )


def test_a_new_patient_is_added_and_arrived_in_one_transaction(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        done = check_in_walk_in(session=session, site="main", tz=UTC, now=NOW, actor="desk",
                                new_patient=NewPatient(first=" Ada ", last="Lovelace", dob="1952-12-10"))  # fmt: skip
    assert done.new_patient and done.patient_name == "Ada Lovelace"
    with read_session(engine) as session:
        [found] = search_patients(session=session, text="lovelace")
    assert (found.id, found.dob) == (done.patient_id, date(1952, 12, 10))
    with read_session(engine) as session:
        assert [r.status for r in todays_arrivals(session=session, site="main", tz=UTC, now=NOW)] == ["arrived"]
        assert [e.action for e in recent_audit(session=session)][:2] in (
            ["appointment.walk_in", "patient.add"],
            ["patient.add", "appointment.walk_in"],  # same timestamp: either order
        )


@pytest.mark.parametrize(
    ("first", "last", "dob", "message"),
    [
        ("", "Lovelace", "1952-12-10", "first name must not be empty"),
        ("Ada", "Lovelace", "next tuesday", "date of birth"),
        ("Ada", "Lovelace", "2199-01-01", "not a plausible birth date"),
    ],
)
def test_a_bad_new_patient_is_refused_and_nothing_is_stored(
    engine: Engine, first: str, last: str, dob: str, message: str
) -> None:
    with pytest.raises(ValidationFailed, match=message), unit_of_work(engine) as session:
        check_in_walk_in(session=session, site="main", tz=UTC, now=NOW, actor="desk",
                         new_patient=NewPatient(first=first, last=last, dob=dob))  # fmt: skip
    with read_session(engine) as session:
        assert search_patients(session=session, text="lovelace") == []
        assert todays_arrivals(session=session, site="main", tz=UTC, now=NOW) == []
        assert recent_audit(session=session) == []


def test_the_same_person_twice_is_refused_with_their_number(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        ada = add_patient(session=session, first="Ada", last="Lovelace", dob=date(1952, 12, 10))
    with (
        pytest.raises(ValidationFailed, match=rf"already patient #{ada.id}: find them by name instead"),
        unit_of_work(engine) as session,
    ):
        check_in_walk_in(session=session, site="main", tz=UTC, now=NOW, actor="desk",
                         new_patient=NewPatient(first="ada", last="LOVELACE", dob="1952-12-10"))  # fmt: skip
    with read_session(engine) as session:
        assert len(search_patients(session=session, text="lovelace")) == 1


def test_a_patient_booked_later_today_is_arrived_for_that_booking_not_booked_twice(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        maria = add_patient(session=session, first="Maria", last="Gonzalez", dob=date(1950, 4, 17))
    assert maria.id is not None
    later = NOW + timedelta(hours=3)
    with unit_of_work(engine) as session:
        add_appointment(session=session, patient_id=maria.id, starts_at=later, site="main")
    with unit_of_work(engine) as session:
        done = check_in_walk_in(session=session, site="main", tz=UTC, now=NOW, actor="desk", patient_id=maria.id)
    assert done.booked_at == later
    with read_session(engine) as session:
        assert [(r.starts_at, r.status) for r in todays_arrivals(session=session, site="main", tz=UTC, now=NOW)] == [
            (later, "arrived")
        ]
    with (
        pytest.raises(ValidationFailed, match="Maria Gonzalez is already checked in since 10:30"),
        unit_of_work(engine) as session,
    ):
        check_in_walk_in(session=session, site="main", tz=UTC, now=NOW + timedelta(minutes=1), actor="desk",
                         patient_id=maria.id)  # fmt: skip


def test_a_patient_who_checks_in_after_scanning_too_early_leaves_the_list(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        ann = add_patient(session=session, first="Ann", last="Park", dob=date(1971, 3, 3))
    with unit_of_work(engine) as session:
        bob = add_patient(session=session, first="Bob", last="Stone", dob=date(1966, 8, 8))
    assert ann.id is not None and bob.id is not None
    with unit_of_work(engine) as session:
        booking = add_appointment(session=session, patient_id=ann.id, starts_at=NOW + timedelta(hours=2), site="main")
    with unit_of_work(engine) as session:  # booked the day before, as most are
        row = session.get(Appointment, booking.id)
        assert row is not None
        row.created_at = NOW - timedelta(days=1)
    scan_without_appointment(engine, ann.id, NOW - timedelta(minutes=30))  # too early for her booking
    scan_without_appointment(engine, bob.id, NOW - timedelta(minutes=10))
    with read_session(engine) as session:
        assert [w.patient_name for w in todays_walk_ins(session=session, site="main", tz=UTC, now=NOW)] == [
            "Bob Stone",
            "Ann Park",
        ]
    with unit_of_work(engine) as session:
        url = issue_card(session=session, patient_id=ann.id, base_url="https://x").url
    assert (
        lobby_steps.check_in(
            engine=engine, settings=SETTINGS, scan=url, now=NOW + timedelta(hours=1, minutes=55)
        ).result
        == "checked_in"
    )
    with read_session(engine) as session:
        assert [w.patient_name for w in todays_walk_ins(session=session, site="main", tz=UTC, now=NOW)] == ["Bob Stone"]
