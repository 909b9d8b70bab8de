"""One patient-side user action, one transaction (issue #24), reads included, on SQLite and PostgreSQL: the lobby's
scan and birth date (the waiting-patient note and the birth-date lock in the same transaction), and the front
desk's patient add, edit and lost card through the use cases the staff app and the CLI call."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from shared.care.appointments import add_appointment
from shared.care.arrivals import WAITING_ASKED
from shared.care.cards import active_cards, issue_card, revoke_lost_card
from shared.care.lobby_scan import LobbyStep, lobby_confirm, lobby_scan
from shared.care.models import CheckIn, Patient
from shared.care.patients import add_patient, edit_patient, get_patient
from shared.care.plan_shares import create_share, open_share
from shared.care.qr import new_token, parse_scan
from shared.care.scan_throttle import ScanThrottle
from shared.fhir.identifiers import parse_identifier
from shared.store.db import read_session, unit_of_work
from shared.store.errors import ValidationFailed
from shared.store.settings import Settings
from tests import factories as make
from tests.lobby_steps import check_in
from tests.transactions import Transactions, count_transactions

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
DOB = date(1950, 4, 17)
MRN = "http://ehr.example/mrn"


def settings(**overrides: Any) -> Settings:
    return Settings(_env_file=None, timezone="UTC", kiosk_url="https://lobby.example", **overrides)  # type: ignore[call-arg]


@pytest.fixture
def card(engine: Engine) -> str:
    """Maria Gonzalez with a card and an appointment at 15:30; her card's link."""
    with unit_of_work(engine) as session:
        patient = add_patient(session=session, first="Maria", last="Gonzalez", dob=DOB)
        assert patient.id is not None
        add_appointment(session=session, patient_id=patient.id, starts_at=NOW + timedelta(minutes=30), site="main")
        return issue_card(session=session, patient_id=patient.id, base_url="https://lobby.example").url


def scan_at(engine: Engine, scanned: str, *, now: datetime = NOW, **overrides: Any) -> tuple[LobbyStep, Transactions]:
    with count_transactions(engine) as seen:
        step = lobby_scan(engine=engine, settings=settings(**overrides), throttle=ScanThrottle(), scan=scanned,
                          kiosk="lobby-1", now=now)  # fmt: skip
    return step, seen


def confirm_at(engine: Engine, scanned: str, dob: date, *, now: datetime = NOW) -> tuple[LobbyStep, Transactions]:
    token = parse_scan(scanned)
    assert token is not None
    with count_transactions(engine) as seen, unit_of_work(engine) as session:  # as the lobby page opens it
        step = lobby_confirm(session=session, settings=settings(), token=token, dob=dob, kiosk="lobby-1", now=now)
    return step, seen


def once(seen: Transactions, *, writing: int) -> None:
    assert (seen.opened, seen.writing) == (1, writing), seen.describe()


def asks(engine: Engine) -> int:
    with read_session(engine) as session:
        return len(session.exec(select(CheckIn).where(col(CheckIn.result) == WAITING_ASKED)).all())


def test_a_good_card_at_the_lobby_is_one_reading_transaction(engine: Engine, card: str) -> None:
    step, seen = scan_at(engine, card)
    assert (step.screen, step.outcome and step.outcome.result) == ("dob", "needs_dob")
    once(seen, writing=0)


def test_an_unknown_card_at_the_lobby_is_recorded_in_its_one_transaction(engine: Engine, card: str) -> None:
    step, seen = scan_at(engine, "https://lobby.example/?t=" + new_token())
    assert (step.screen, step.outcome and step.outcome.result) == ("welcome", "invalid")
    once(seen, writing=1)


def test_the_birth_date_checks_in_and_reads_the_plan_in_one_transaction(engine: Engine, card: str) -> None:
    step, seen = confirm_at(engine, card, DOB)
    assert (step.screen, step.outcome and step.outcome.result) == ("result", "checked_in")
    once(seen, writing=1)


def test_the_last_wrong_birth_date_locks_the_card_in_its_one_transaction(engine: Engine, card: str) -> None:
    for _ in range(4):
        confirm_at(engine, card, date(1961, 1, 1))
    step, seen = confirm_at(engine, card, date(1961, 1, 1))
    assert (step.screen, step.outcome and step.outcome.result) == ("result", "locked")
    once(seen, writing=1)


def test_a_waiting_patient_is_noted_in_the_same_transaction_as_their_check_in(engine: Engine, card: str) -> None:
    """Checked in early; 20 minutes past the appointment's start they confirm again: the team is told."""
    assert check_in(engine=engine, settings=settings(), scan=card, now=NOW).result == "checked_in"
    later = NOW + timedelta(minutes=50)
    step, seen = confirm_at(engine, card, DOB, now=later)
    assert (step.screen, step.outcome and step.outcome.result, step.waiting_told) == (
        "result", "already_checked_in", True,
    )  # fmt: skip
    once(seen, writing=1)
    assert asks(engine) == 1


def test_without_the_birth_date_step_the_scan_notes_a_waiting_patient_in_its_one_transaction(
    engine: Engine, card: str
) -> None:
    check_in(engine=engine, settings=settings(), scan=card, now=NOW)
    step, seen = scan_at(engine, card, now=NOW + timedelta(minutes=50), confirm_dob=False)
    assert (step.screen, step.waiting_told) == ("result", True)
    once(seen, writing=1)
    assert asks(engine) == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_refused_scan_waits_for_a_busy_write_lock_and_is_recorded_once(
    db_url: str, engine: Engine, card: str
) -> None:
    """SQLite refuses to turn the scan's read into a write while another writer holds the lock: the scan runs
    again in a transaction that queues for it, and only that one commits."""
    holder = sqlite3.connect(str(make_url(db_url).database), isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, lambda: holder.execute("ROLLBACK"))
    release.start()
    try:
        step, seen = scan_at(engine, "https://lobby.example/?t=" + new_token())
    finally:
        release.join()
        holder.close()
    assert step.outcome is not None and step.outcome.result == "invalid"
    assert (seen.opened, seen.writing) == (2, 2), seen.describe()  # the first rolled back
    with read_session(engine) as session:
        assert [c.result for c in session.exec(select(CheckIn)).all()] == ["invalid"]


def test_a_staff_patient_add_is_one_transaction_and_audited(engine: Engine) -> None:
    with count_transactions(engine) as seen, unit_of_work(engine) as session:  # as kiosk.staff.actions.run_action
        added = add_patient(session=session, first="Sam", last="Lee", dob="1990-05-06", phone="555 0100",
                            identifier=parse_identifier(f"{MRN}|7"), language="es", actor="desk")  # fmt: skip
    once(seen, writing=1)
    assert added.id is not None
    with read_session(engine) as session:
        saved = get_patient(session=session, patient_id=added.id)
    assert (saved.identifier_value, saved.language) == ("7", "es")
    assert make.audit_log(engine) == [("desk", "patient.add", f"patient {added.id}", {})]


def test_a_staff_patient_edit_is_one_transaction_all_or_nothing(engine: Engine) -> None:
    maria = make.new_patient_id(engine, "Maria", "Gonzalez")
    john = make.new_patient_id(engine, "John", "Smith")
    with count_transactions(engine) as seen, unit_of_work(engine) as session:
        edit_patient(session=session, patient_id=maria, first="Maria", last="Gonzalez Ruiz", dob=DOB, phone="",
                     identifier=parse_identifier(f"{MRN}|1"), language="es", actor="desk")  # fmt: skip
    once(seen, writing=1)
    assert [action for _, action, _, _ in make.audit_log(engine)] == [
        "patient.update", "patient.identifier", "patient.language",
    ]  # fmt: skip
    with pytest.raises(ValidationFailed, match="already belongs to patient"), unit_of_work(engine) as session:
        edit_patient(session=session, patient_id=john, first="John", last="Smithson", dob=DOB, phone=None,
                     identifier=parse_identifier(f"{MRN}|1"), language=None, actor="desk")  # fmt: skip
    with read_session(engine) as session:
        assert session.get(Patient, john).last_name == "Smith"  # type: ignore[union-attr]


def test_revoking_a_lost_card_from_the_staff_app_stops_the_take_home_links_too(engine: Engine, card: str) -> None:
    with read_session(engine) as session:
        patient_id = session.exec(select(Patient.id)).one()
    assert patient_id is not None
    with unit_of_work(engine) as session:
        link = create_share(session=session, patient_id=patient_id, site="main", tz=UTC)
    with count_transactions(engine) as seen, unit_of_work(engine) as session:  # as the Patients page's button
        revoked = revoke_lost_card(session=session, patient_id=patient_id, actor="desk")
    once(seen, writing=1)
    assert (revoked.cards, revoked.plan_links) == (1, 1)
    with read_session(engine) as session:
        assert active_cards(session=session, patient_id=patient_id) == 0
        assert open_share(session=session, token=link) is None, "the take-home link no longer opens the plan"
    assert make.audit_log(engine)[-1] == (
        "desk", "patient.cards_revoked", f"patient {patient_id}", {"revoked": 1, "plan_links_revoked": 1},
    )  # fmt: skip
