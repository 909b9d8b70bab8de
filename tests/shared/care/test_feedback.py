"""Patient feedback after a session: validation, what staff see, the pain threshold; and scanning again after
the check-in window has closed still finds the session (so the patient can answer on the way out)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from shared.care.appointments import add_appointment, set_appointment_status
from shared.care.cards import issue_card
from shared.care.feedback import (
    PAIN_ALERT,
    add_exercise_feedback,
    describe_exercises,
    describe_feedback,
    latest_feedback,
    pain_alert,
    record_feedback,
)
from shared.care.patients import add_patient
from shared.store.db import read_session, unit_of_work
from shared.store.errors import NotFound, ValidationFailed
from shared.store.settings import Settings
from tests import lobby_steps

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
SETTINGS = Settings(_env_file=None, timezone="UTC")  # type: ignore[call-arg]


@pytest.fixture
def visit(engine: Engine) -> tuple[int, int]:
    """Maria's 10:00 appointment, checked in at 09:55; (patient id, appointment id)."""
    with unit_of_work(engine) as session:
        maria = add_patient(session=session, first="Maria", last="Gonzalez", dob=date(1950, 4, 17))
    assert maria.id is not None
    with unit_of_work(engine) as session:
        booked = add_appointment(
            session=session, patient_id=maria.id, starts_at=NOW - timedelta(minutes=30), site="main"
        )
    assert booked.id is not None
    with unit_of_work(engine) as session:
        set_appointment_status(
            session=session, appointment_id=booked.id, status="arrived", now=NOW - timedelta(minutes=35)
        )
    return maria.id, booked.id


def test_answers_are_stored_and_the_latest_one_is_shown(engine: Engine, visit: tuple[int, int]) -> None:
    patient, appointment = visit
    with unit_of_work(engine) as session:
        first = record_feedback(
            session=session, appointment_id=appointment, patient_id=patient, pain=3, difficulty="easy", now=NOW
        )
    assert (first.pain, first.difficulty, first.exercises, first.pain_alert) == (3, "easy", {}, False)
    with unit_of_work(engine) as session:
        again = record_feedback(session=session, appointment_id=appointment, patient_id=patient, pain=8,
                                difficulty="too_hard",
                                exercises={"  Treadmill   walk ": "too_hard"},
                                now=NOW + timedelta(minutes=2))  # fmt: skip
    with read_session(engine) as session:
        shown = latest_feedback(session=session, appointment_ids=[appointment, 999])
    assert list(shown) == [appointment]
    assert shown[appointment] == again
    assert describe_feedback(again, UTC) == "Feedback at 10:32: pain 8/10, too hard"
    assert describe_exercises(again) == "Treadmill walk: too hard"
    assert again.pain_alert
    with read_session(engine) as session:
        assert latest_feedback(session=session, appointment_ids=[]) == {}


def test_the_optional_second_step_adds_each_exercise(engine: Engine, visit: tuple[int, int]) -> None:
    patient, appointment = visit
    with unit_of_work(engine) as session:
        saved = record_feedback(
            session=session, appointment_id=appointment, patient_id=patient, pain=0, difficulty="about_right"
        )
    with unit_of_work(engine) as session:
        updated = add_exercise_feedback(session=session, feedback_id=saved.id, patient_id=patient,
                                        exercises={"Treadmill walk": "easy", "Heel raises": "about_right"})  # fmt: skip
    assert describe_exercises(updated) == "Treadmill walk: easy · Heel raises: about right"
    with read_session(engine) as session:
        assert (
            latest_feedback(session=session, appointment_ids=[appointment])[appointment].exercises == updated.exercises
        )
    with pytest.raises(NotFound), unit_of_work(engine) as session:
        add_exercise_feedback(session=session, feedback_id=saved.id, patient_id=patient + 1, exercises={"Walk": "easy"})


@pytest.mark.parametrize("pain", [-1, 11, 7.5, "5", True, None])
def test_pain_is_a_whole_number_from_0_to_10(engine: Engine, visit: tuple[int, int], pain: object) -> None:
    patient, appointment = visit
    with (
        pytest.raises(ValidationFailed, match="pain must be a whole number from 0 to 10"),
        unit_of_work(engine) as session,
    ):
        record_feedback(session=session, appointment_id=appointment, patient_id=patient, pain=pain, difficulty="easy")  # type: ignore[arg-type]
    with read_session(engine) as session:
        assert latest_feedback(session=session, appointment_ids=[appointment]) == {}


def test_difficulty_and_exercises_are_checked(engine: Engine, visit: tuple[int, int]) -> None:
    patient, appointment = visit
    for difficulty in ("hard", "", "Easy"):
        with (
            pytest.raises(ValidationFailed, match="difficulty must be one of easy, about_right, too_hard"),
            unit_of_work(engine) as session,
        ):
            record_feedback(
                session=session, appointment_id=appointment, patient_id=patient, pain=2, difficulty=difficulty
            )
    for exercises, message in (
        ({"Walk": "meh"}, "difficulty must be one of"),
        ({"   ": "easy"}, "exercise name must be 1 to 120 characters"),
        ({"x" * 121: "easy"}, "exercise name must be 1 to 120 characters"),
        ({f"e{n}": "easy" for n in range(51)}, "at most 50 exercises"),
    ):
        with pytest.raises(ValidationFailed, match=message), unit_of_work(engine) as session:
            record_feedback(session=session, appointment_id=appointment, patient_id=patient, pain=2, difficulty="easy",
                            exercises=exercises)  # fmt: skip
    with read_session(engine) as session:
        assert latest_feedback(session=session, appointment_ids=[appointment]) == {}


def test_only_the_patients_own_checked_in_appointment_takes_feedback(engine: Engine, visit: tuple[int, int]) -> None:
    patient, appointment = visit
    with pytest.raises(NotFound), unit_of_work(engine) as session:
        record_feedback(session=session, appointment_id=appointment, patient_id=patient + 1, pain=2, difficulty="easy")
    with pytest.raises(NotFound), unit_of_work(engine) as session:
        record_feedback(
            session=session, appointment_id=appointment + 100, patient_id=patient, pain=2, difficulty="easy"
        )
    with unit_of_work(engine) as session:
        later = add_appointment(session=session, patient_id=patient, starts_at=NOW + timedelta(days=2), site="main")
    with pytest.raises(ValidationFailed, match="checked in for"), unit_of_work(engine) as session:
        record_feedback(session=session, appointment_id=later.id or 0, patient_id=patient, pain=2, difficulty="easy")
    for status in ("in_session", "done"):
        with unit_of_work(engine) as session:
            set_appointment_status(session=session, appointment_id=appointment, status=status)
        with unit_of_work(engine) as session:
            record_feedback(session=session, appointment_id=appointment, patient_id=patient, pain=2, difficulty="easy")


def test_pain_of_seven_or_more_is_highlighted() -> None:
    assert PAIN_ALERT == 7
    assert [pain for pain in range(11) if pain_alert(pain)] == [7, 8, 9, 10]


def test_a_scan_after_the_check_in_window_still_finds_todays_session(engine: Engine, visit: tuple[int, int]) -> None:
    patient, appointment = visit
    with unit_of_work(engine) as session:
        set_appointment_status(session=session, appointment_id=appointment, status="done", now=NOW)
    with unit_of_work(engine) as session:
        card = issue_card(session=session, patient_id=patient, base_url="https://x").url
    way_out = NOW + timedelta(minutes=50)  # 80 min after the start: the 60-min check-in window has closed
    outcome = lobby_steps.check_in(engine=engine, settings=SETTINGS, scan=card, now=way_out)
    assert (outcome.result, outcome.appointment_id, outcome.appointment_status) == (
        "already_checked_in", appointment, "done",
    )  # fmt: skip
    # A patient who never came in is still a walk-in after the window.
    with unit_of_work(engine) as session:
        other = add_patient(session=session, first="Sam", last="Whitfield", dob=date(1988, 6, 11))
    with unit_of_work(engine) as session:
        add_appointment(session=session, patient_id=other.id or 0, starts_at=NOW - timedelta(minutes=30), site="main")
    with unit_of_work(engine) as session:
        scanned = issue_card(session=session, patient_id=other.id or 0, base_url="https://x").url
    late = lobby_steps.check_in(
        engine=engine,
        settings=SETTINGS,
        scan=scanned,
        now=way_out,
    )
    assert late.result == "no_appointment"
