"""Front-desk services on real SQLite and PostgreSQL: search, edit, cards and appointments, each audited."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from shared.care.appointments import (
    add_appointment,
    import_appointments_csv,
    set_appointment_status,
    update_appointment,
)
from shared.care.arrivals import Arrival, day_appointments, describe_arrival, waits_too_long
from shared.care.cards import active_cards, issue_card, revoke_cards
from shared.care.patients import add_patient, get_patient, search_patients, update_patient
from shared.staff.audit import recent_audit
from shared.store.db import read_session, unit_of_work
from shared.store.errors import NotFound, ValidationFailed

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)


def audit_rows(engine: Engine) -> list[tuple[str, str, str, dict[str, object]]]:
    """(actor, action, target, detail) oldest first."""
    with read_session(engine) as session:
        return [(a.actor, a.action, a.target, json.loads(a.detail)) for a in reversed(recent_audit(session=session))]


@pytest.fixture
def people(engine: Engine) -> dict[str, int]:
    rows = [("Maria", "Gonzalez"), ("Mario", "Rossi"), ("James", "Okafor"), ("Ann_a", "100% Fit")]
    out = {}
    for first, last in rows:
        with unit_of_work(engine) as session:
            patient = add_patient(session=session, first=first, last=last, dob=date(1960, 1, 2))
        assert patient.id is not None
        out[first] = patient.id
    return out


def test_search_matches_every_word_in_either_name_in_any_case(engine: Engine, people: dict[str, int]) -> None:
    def names(text: str, limit: int = 20) -> list[str]:
        with read_session(engine) as session:
            return [f"{p.first_name} {p.last_name}" for p in search_patients(session=session, text=text, limit=limit)]

    assert names("mari") == ["Maria Gonzalez", "Mario Rossi"]  # by last name
    assert names("MARIA gon") == ["Maria Gonzalez"]
    assert names("okafor james") == ["James Okafor"]
    assert names("mari", 1) == ["Maria Gonzalez"]
    assert names(str(people["James"])) == ["James Okafor"]
    assert names(f"#{people['James']}") == ["James Okafor"]
    assert names("") == [] and names("   ") == []
    assert names("nobody") == []


def test_search_treats_sql_and_pattern_characters_as_text(engine: Engine, people: dict[str, int]) -> None:
    with read_session(engine) as session:
        assert [p.first_name for p in search_patients(session=session, text="%")] == ["Ann_a"]
        assert [p.first_name for p in search_patients(session=session, text="n_a")] == ["Ann_a"]
        assert search_patients(session=session, text="_") != [] and len(search_patients(session=session, text="_")) == 1
        assert search_patients(session=session, text="' OR 1=1 --") == []
        assert search_patients(session=session, text="x" * 5000) == []
    with pytest.raises(ValidationFailed, match="limit 0 must be between 1 and 200"), read_session(engine) as session:
        search_patients(session=session, text="maria", limit=0)


def test_update_patient_checks_fields_keeps_the_rest_and_audits_field_names(
    engine: Engine, people: dict[str, int]
) -> None:
    pid = people["Maria"]
    with unit_of_work(engine) as session:
        update_patient(session=session, patient_id=pid, last="  Gonzalez   Ruiz ", phone="555 0101", actor="desk")
    with read_session(engine) as session:
        patient = get_patient(session=session, patient_id=pid)
    assert (patient.first_name, patient.last_name, patient.dob, patient.phone) == (
        "Maria", "Gonzalez Ruiz", date(1960, 1, 2), "555 0101",
    )  # fmt: skip
    with unit_of_work(engine) as session:
        update_patient(session=session, patient_id=pid, dob="1961-03-04", phone="", actor="desk")
    with read_session(engine) as session:
        patient = get_patient(session=session, patient_id=pid)
    assert (patient.dob, patient.phone) == (date(1961, 3, 4), None)
    with unit_of_work(engine) as session:
        update_patient(session=session, patient_id=pid, first="Maria", actor="desk")  # no change: no audit entry
    assert audit_rows(engine) == [
        ("desk", "patient.update", f"patient {pid}", {"changed": ["last_name", "phone"]}),
        ("desk", "patient.update", f"patient {pid}", {"changed": ["dob", "phone"]}),
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"first": "  "}, "first name must not be empty"),
        ({"last": "x" * 101}, "last name is longer than 100 characters"),
        ({"dob": "17/04/1950"}, "date of birth '17/04/1950' is not a date like 1950-04-17"),
        ({"dob": "2999-01-01"}, "date of birth 2999-01-01 is not a plausible birth date"),
        ({"phone": "1" * 41}, "phone is longer than 40 characters"),
    ],
)
def test_update_patient_refuses_bad_values_and_changes_nothing(
    engine: Engine, people: dict[str, int], fields: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationFailed) as caught, unit_of_work(engine) as session:
        update_patient(session=session, patient_id=people["Maria"], actor="desk", **fields)
    assert str(caught.value) == message
    with read_session(engine) as session:
        assert get_patient(session=session, patient_id=people["Maria"]).first_name == "Maria"
    assert audit_rows(engine) == []


def test_update_of_an_unknown_patient_is_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound, match="no patient with id 99"), unit_of_work(engine) as session:
        update_patient(session=session, patient_id=99, first="X")


def test_add_patient_with_actor_is_audited(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        patient = add_patient(session=session, first="Sam", last="Lee", dob="1990-05-06", actor="desk")
    assert audit_rows(engine) == [("desk", "patient.add", f"patient {patient.id}", {})]


def test_cards_issued_and_revoked_are_audited_without_the_token(engine: Engine, people: dict[str, int]) -> None:
    pid = people["James"]
    with read_session(engine) as session:
        assert active_cards(session=session, patient_id=pid) == 0
    with unit_of_work(engine) as session:
        first = issue_card(session=session, patient_id=pid, base_url="https://x", actor="desk")
    with unit_of_work(engine) as session:
        second = issue_card(session=session, patient_id=pid, base_url="https://x", actor="desk")
    with read_session(engine) as session:
        assert active_cards(session=session, patient_id=pid) == 1
    with unit_of_work(engine) as session:
        assert revoke_cards(session=session, patient_id=pid, actor="desk") == 1
    with read_session(engine) as session:
        assert active_cards(session=session, patient_id=pid) == 0
    rows = audit_rows(engine)
    assert [(r[1], r[3]) for r in rows] == [
        ("patient.card_issued", {"older_cards_revoked": 0}),
        ("patient.card_issued", {"older_cards_revoked": 1}),
        ("patient.cards_revoked", {"revoked": 1, "plan_links_revoked": 0}),
    ]
    assert first.token not in str(rows) and second.token not in str(rows)
    with pytest.raises(NotFound), unit_of_work(engine) as session:
        revoke_cards(session=session, patient_id=999, actor="desk")


def test_status_changes_record_who_and_what_and_back_to_scheduled_forgets_arrival(
    engine: Engine, people: dict[str, int]
) -> None:
    with unit_of_work(engine) as session:
        appointment = add_appointment(session=session, patient_id=people["Maria"], starts_at=NOW, site="main",
                                      actor="desk")
    assert appointment.id is not None
    with unit_of_work(engine) as session:
        set_appointment_status(session=session, appointment_id=appointment.id, status="arrived", now=NOW, actor="tech")
    with unit_of_work(engine) as session:
        set_appointment_status(session=session, appointment_id=appointment.id, status="in_session", actor="tech")
    with read_session(engine) as session:
        rows = day_appointments(session=session, site="main", tz=UTC, day=NOW.date(), now=NOW)
    assert [(r.status, r.arrived_at) for r in rows] == [("in_session", NOW)]
    with unit_of_work(engine) as session:
        update_appointment(session=session, appointment_id=appointment.id, status="scheduled", actor="desk")
    with read_session(engine) as session:
        assert day_appointments(session=session, site="main", tz=UTC, day=NOW.date(), now=NOW)[0].arrived_at is None
    assert [(r[0], r[1], r[3]) for r in audit_rows(engine)] == [
        ("desk", "appointment.add", {"patient_id": people["Maria"], "starts_at": NOW.isoformat()}),
        ("tech", "appointment.status", {"from": "scheduled", "to": "arrived"}),
        ("tech", "appointment.status", {"from": "arrived", "to": "in_session"}),
        ("desk", "appointment.update", {"status": "scheduled"}),
    ]
    with (
        pytest.raises(ValidationFailed, match="status 'gone' is not one of scheduled, arrived"),
        unit_of_work(engine) as session,
    ):
        set_appointment_status(session=session, appointment_id=appointment.id, status="gone", actor="tech")
    with pytest.raises(NotFound, match="no appointment with id 999"), unit_of_work(engine) as session:
        set_appointment_status(session=session, appointment_id=999, status="done", actor="tech")


def test_update_appointment_changes_time_length_and_clinician(engine: Engine, people: dict[str, int]) -> None:
    with unit_of_work(engine) as session:
        appointment = add_appointment(
            session=session, patient_id=people["James"], starts_at=NOW, site="main", clinician="Alex"
        )
    assert appointment.id is not None
    later = NOW + timedelta(hours=2)
    with unit_of_work(engine) as session:
        update_appointment(
            session=session, appointment_id=appointment.id, starts_at=later, minutes=30, clinician=" Sam ", actor="desk"
        )
    with read_session(engine) as session:
        row = day_appointments(session=session, site="main", tz=UTC, day=NOW.date(), now=NOW)[0]
    assert (row.starts_at, row.minutes, row.clinician, row.status) == (later, 30, "Sam", "scheduled")
    assert audit_rows(engine)[-1][3] == {"starts_at": later.isoformat(), "minutes": 30, "clinician": "Sam"}
    with (
        pytest.raises(ValidationFailed, match="length 4 min must be between 5 and 480 minutes"),
        unit_of_work(engine) as session,
    ):
        update_appointment(session=session, appointment_id=appointment.id, minutes=4, actor="desk")
    with pytest.raises(ValidationFailed, match="appointment time needs a time zone"), unit_of_work(engine) as session:
        update_appointment(
            session=session, appointment_id=appointment.id, starts_at=datetime(2026, 11, 23, 9), actor="desk"
        )
    with read_session(engine) as session:
        assert day_appointments(session=session, site="main", tz=UTC, day=NOW.date(), now=NOW)[0].minutes == 30
    with pytest.raises(NotFound), unit_of_work(engine) as session:
        update_appointment(session=session, appointment_id=999, minutes=30)


def test_import_with_actor_records_one_entry_with_the_count(engine: Engine, people: dict[str, int]) -> None:
    text = f"patient_id,start,minutes,clinician\n{people['Maria']},10:00,30,Alex\n{people['James']},11:00,,\n"
    with unit_of_work(engine) as session:
        rows = import_appointments_csv(session=session, text=text, site="main", tz=UTC, today=NOW.date(), actor="desk")
    assert len(rows) == 2
    assert audit_rows(engine) == [("desk", "appointment.import", "site main", {"imported": 2})]
    bad = f"patient_id,start\n{people['Maria']},12:00\n{people['James']},25:99\n"
    with pytest.raises(ValidationFailed, match="line 3: time '25:99' is not like"), unit_of_work(engine) as session:
        import_appointments_csv(session=session, text=bad, site="main", tz=UTC, today=NOW.date(), actor="desk")
    assert len(audit_rows(engine)) == 1
    with read_session(engine) as session:
        assert len(day_appointments(session=session, site="main", tz=UTC, day=NOW.date(), now=NOW)) == 2


def test_day_appointments_keep_to_the_clinics_calendar_day(engine: Engine, people: dict[str, int]) -> None:
    from zoneinfo import ZoneInfo

    chicago = ZoneInfo("America/Chicago")
    late = datetime(2026, 11, 23, 23, 30, tzinfo=chicago)  # already the 24th in UTC
    with unit_of_work(engine) as session:
        add_appointment(session=session, patient_id=people["Maria"], starts_at=late, site="main")
    with unit_of_work(engine) as session:
        add_appointment(session=session, patient_id=people["James"], starts_at=late + timedelta(hours=1), site="main")
    with unit_of_work(engine) as session:
        add_appointment(session=session, patient_id=people["James"], starts_at=late, site="other")
    with read_session(engine) as session:
        rows = day_appointments(session=session, site="main", tz=chicago, day=date(2026, 11, 23), now=NOW)
    assert [r.patient_name for r in rows] == ["Maria Gonzalez"]


def arrival(status: str, arrived_at: datetime | None = None, waiting: int | None = None) -> Arrival:
    return Arrival(1, 1, "Maria Gonzalez", NOW, 45, "Alex", status, arrived_at, waiting)


def test_status_in_words_and_the_long_wait() -> None:
    from zoneinfo import ZoneInfo

    arrived = arrival("arrived", datetime(2026, 11, 23, 15, 21, tzinfo=UTC), 9)
    chicago = ZoneInfo("America/Chicago")
    assert describe_arrival(arrived, chicago) == "arrived at 09:21, late (appt 04:30), waiting 9 min"
    assert [describe_arrival(arrival(s), UTC) for s in ("scheduled", "in_session", "done", "no_show")] == [
        "scheduled", "in session", "done", "no-show",
    ]  # fmt: skip
    assert not waits_too_long(arrival("arrived", NOW, 15))
    assert waits_too_long(arrival("arrived", NOW, 16))
    assert not waits_too_long(arrival("scheduled"))
