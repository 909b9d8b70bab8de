"""Questionnaires in the store, on SQLite and PostgreSQL: assigning, what is due at a visit, answers kept per
visit (resumed after a reset), skipping, the score and the progress; a pain answer of 7 flags the patient; a
patient with nothing assigned costs the check-in one query, inside its one transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import Engine

from shared.care.appointments import add_appointment
from shared.care.cards import issue_card
from shared.care.lobby_scan import LobbyStep, lobby_confirm, lobby_scan
from shared.care.models import Appointment
from shared.care.scan_throttle import ScanThrottle
from shared.outcomes.alerts import open_alerts
from shared.outcomes.catalogue import add_questionnaire, catalogue
from shared.outcomes.progress import IMPROVED, patient_outcomes
from shared.outcomes.responses import answer, skip
from shared.outcomes.schedule import assign, assignments, due_after_check_in, due_at_visit
from shared.store.db import read_session, unit_of_work
from shared.store.errors import NotFound, ValidationFailed
from shared.store.settings import Settings
from tests.factories import DOB, audit_log, new_patient_id
from tests.shared.outcomes.test_questionnaire_scoring import _lefs_like
from tests.transactions import Transactions, count_transactions

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def _visit(engine: Engine, patient_id: int, at: datetime) -> int:
    """An appointment the patient arrived for at `at`; its id."""
    with unit_of_work(engine) as session:
        row = Appointment(patient_id=patient_id, site="main", starts_at=at, status="arrived", arrived_at=at)
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def _due(engine: Engine, patient_id: int, visit: int, now: datetime) -> list[str]:
    with read_session(engine) as session:
        return [d.instrument.code for d in due_at_visit(session=session, patient_id=patient_id, appointment_id=visit,
                                                         now=now, tz=UTC)]  # fmt: skip


def _answer(engine: Engine, patient_id: int, visit: int, code: str, link_id: str, value: int, now: datetime) -> bool:
    with unit_of_work(engine) as session:
        done = answer(session=session, patient_id=patient_id, appointment_id=visit, questionnaire=code,
                      link_id=link_id, value=value, now=now)  # fmt: skip
    return done.complete


def test_pain_every_visit_is_asked_each_visit_and_scored(engine: Engine) -> None:
    maria = new_patient_id(engine)
    with unit_of_work(engine) as session:
        assign(session=session, patient_id=maria, questionnaire="nprs", every_visits=1, actor="cli:test", now=T0)
    first = _visit(engine, maria, T0)
    assert _due(engine, maria, first, T0) == ["nprs"]
    assert _answer(engine, maria, first, "nprs", "pain", 8, T0)
    assert _due(engine, maria, first, T0) == []  # answered at this visit
    second = _visit(engine, maria, T0 + timedelta(days=3))
    assert _due(engine, maria, second, T0 + timedelta(days=3)) == ["nprs"]
    assert _answer(engine, maria, second, "nprs", "pain", 4, T0 + timedelta(days=3))
    with read_session(engine) as session:
        [progress] = patient_outcomes(session=session, patient_id=maria)
        alerts = open_alerts(session=session)
    assert [p.score for p in progress.points] == [8, 4]
    assert progress.verdict.words == IMPROVED
    assert [(a.patient_id, a.value, a.source) for a in alerts] == [(maria, 8, "questionnaire")]
    assert ("cli:test", "questionnaire.assign", f"patient:{maria}") in [row[:3] for row in audit_log(engine)]


def test_partial_answers_resume_at_the_next_question_and_skip_ends_this_visit(engine: Engine) -> None:
    maria = new_patient_id(engine)
    with unit_of_work(engine) as session:
        assign(session=session, patient_id=maria, questionnaire="psfs", at_intake=True,
               activities=["Climbing stairs", "Gardening", "Walking the dog"], actor="cli:test", now=T0)  # fmt: skip
    visit = _visit(engine, maria, T0)
    assert not _answer(engine, maria, visit, "psfs", "activity-1", 3, T0)
    assert not _answer(engine, maria, visit, "psfs", "activity-1", 9, T0)  # a late second tap changes nothing
    with read_session(engine) as session:  # the screen reset: the same visit is read again
        [due] = due_at_visit(session=session, patient_id=maria, appointment_id=visit, now=T0, tz=UTC)
    assert due.answers == {"activity-1": 3}
    assert due.next_question is not None
    assert (due.next_question.item.link_id, due.next_question.activity) == ("activity-2", "Gardening")
    with unit_of_work(engine) as session:
        skip(session=session, patient_id=maria, appointment_id=visit, questionnaire="psfs", now=T0)
    assert _due(engine, maria, visit, T0) == []
    later = _visit(engine, maria, T0 + timedelta(days=1))
    assert _due(engine, maria, later, T0 + timedelta(days=1)) == ["psfs"]  # intake still not done
    for n, value in enumerate([3, 5, 6], start=1):
        _answer(engine, maria, later, "psfs", f"activity-{n}", value, T0 + timedelta(days=1))
    with read_session(engine) as session:
        [progress] = patient_outcomes(session=session, patient_id=maria)
    assert [p.score for p in progress.points] == [4.67]
    assert _due(engine, maria, _visit(engine, maria, T0 + timedelta(days=9)), T0 + timedelta(days=9)) == []


def test_assign_refuses_what_cannot_be_asked(engine: Engine) -> None:
    maria = new_patient_id(engine)
    with unit_of_work(engine) as session, pytest.raises(ValidationFailed, match="say when it is due"):
        assign(session=session, patient_id=maria, questionnaire="nprs", actor="t")
    with unit_of_work(engine) as session, pytest.raises(ValidationFailed, match="name at least one"):
        assign(session=session, patient_id=maria, questionnaire="psfs", every_days=14, actor="t")
    with unit_of_work(engine) as session, pytest.raises(NotFound, match="no questionnaire 'sf-36'"):
        assign(session=session, patient_id=maria, questionnaire="sf-36", every_days=14, actor="t")
    with unit_of_work(engine) as session, pytest.raises(ValidationFailed, match="--every-visits must be"):
        assign(session=session, patient_id=maria, questionnaire="nprs", every_visits=0, actor="t")
    with unit_of_work(engine) as session:
        assign(session=session, patient_id=maria, questionnaire="nprs", every_visits=3, actor="t")
        assign(session=session, patient_id=maria, questionnaire="nprs", every_days=14, at_discharge=True, actor="t")
    with read_session(engine) as session:
        [only] = assignments(session=session, patient_id=maria)
    assert only.rule.words == "every 14 days, at discharge (the next visit)"


def test_a_clinic_adds_its_own_questionnaire(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        add_questionnaire(session=session, resource=_lefs_like(), actor="cli:test")
    with read_session(engine) as session:
        assert [i.code for i in catalogue(session=session)] == ["nprs", "psfs", "lower-limb"]
    with unit_of_work(engine) as session, pytest.raises(ValidationFailed, match="'nprs' is a shipped"):
        add_questionnaire(session=session, resource=_lefs_like(id="nprs"), actor="cli:test")


def _check_in_at_the_lobby(engine: Engine, patient_id: int) -> tuple[LobbyStep, Transactions]:
    """A card scanned and the birth date typed, as the lobby runs them with the questionnaires' hook; the birth
    date's transaction counted."""
    settings = Settings(_env_file=None, timezone="UTC", kiosk_url="https://lobby.example")  # type: ignore[call-arg]
    hook = partial(due_after_check_in, tz=UTC)
    with unit_of_work(engine) as session:
        add_appointment(session=session, patient_id=patient_id, starts_at=T0 + timedelta(minutes=20), site="main")
        token = issue_card(session=session, patient_id=patient_id, base_url="https://lobby.example").token
    first = lobby_scan(engine=engine, settings=settings, throttle=ScanThrottle(), scan=token, kiosk="k", now=T0,
                       after_check_in=hook)  # fmt: skip
    assert first.screen == "dob"
    with count_transactions(engine) as seen, unit_of_work(engine) as session:
        step = lobby_confirm(session=session, settings=settings, token=token, dob=DOB, kiosk="k", now=T0,
                             after_check_in=hook)  # fmt: skip
    return step, seen


def test_nothing_assigned_costs_the_check_in_one_query_in_its_own_transaction(engine: Engine) -> None:
    maria = new_patient_id(engine)
    step, seen = _check_in_at_the_lobby(engine, maria)
    assert (step.screen, step.ask_more, step.outcome and step.outcome.result) == ("result", False, "checked_in")
    assert seen.opened == 1, seen.describe()
    asked = [s for s in seen.statements[0] if "questionnaire" in s]
    assert len(asked) == 1 and asked[0].upper().startswith("SELECT") and "questionnaire_assignment" in asked[0]


def test_a_due_questionnaire_is_found_in_the_check_ins_own_transaction(engine: Engine) -> None:
    maria = new_patient_id(engine)
    with unit_of_work(engine) as session:
        assign(session=session, patient_id=maria, questionnaire="nprs", every_visits=1, actor="t", now=T0)
    step, seen = _check_in_at_the_lobby(engine, maria)
    assert (step.screen, step.ask_more) == ("result", True)
    assert seen.opened == 1, seen.describe()
