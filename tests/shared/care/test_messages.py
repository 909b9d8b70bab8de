"""The check-in sentences shared by the lobby and the CLI, and the demo-patient lookup that changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

from kiosk.lobby import checkin_screens
from shared.care import checkin_messages as messages
from shared.care.checkin import Outcome
from shared.care.models import QrToken
from shared.demo.patients import DEMO_PATIENTS, existing_demo_patients, seed_demo_patients
from shared.store.db import read_session
from shared.store.settings import Settings

AT = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)


def test_headline_speaks_local_time_and_the_lobby_uses_the_same_function() -> None:
    outcome = Outcome("checked_in", display_name="Maria G.", appointment_at=AT, clinician="Alex")
    assert (
        messages.headline(outcome, ZoneInfo("Europe/Berlin"))
        == "Welcome, Maria G. You're checked in for 16:30 with Alex."
    )
    assert messages.headline(Outcome("unreadable"), UTC).startswith("Sorry, we couldn't read that card.")
    assert (checkin_screens.headline, checkin_screens.clock) == (messages.headline, messages.clock)


def test_a_misread_card_may_be_tried_again_and_an_unknown_or_revoked_one_is_told_the_same() -> None:
    said = {result: messages.headline(Outcome(result), UTC) for result in ("unreadable", "invalid", "revoked")}
    assert said == {
        "unreadable": "Sorry, we couldn't read that card. Please try again, or see the front desk.",
        "invalid": "We can't use this card. Please see the front desk.",
        "revoked": "We can't use this card. Please see the front desk.",
    }


def test_the_lobby_says_it_in_the_patients_language_and_time_format() -> None:
    outcome = Outcome("checked_in", display_name="Maria G.", appointment_at=AT, clinician="Alex")
    berlin = ZoneInfo("Europe/Berlin")
    assert messages.headline(outcome, berlin, "en") == "Welcome, Maria G. You're checked in for 4:30\u202fPM with Alex."
    assert messages.headline(outcome, berlin, "es") == (
        "Bienvenido, Maria G. Su llegada está registrada para las 16:30 con Alex."
    )
    assert messages.headline(Outcome("revoked"), UTC, "es") == "No podemos usar esta tarjeta. Acuda a la recepción."
    assert messages.headline(Outcome("invalid"), UTC, "es") == messages.headline(Outcome("revoked"), UTC, "es")
    assert messages.headline(Outcome("revoked"), UTC, "xx") == messages.headline(Outcome("revoked"), UTC)


def test_existing_demo_patients_finds_them_without_issuing_cards(engine: Engine) -> None:
    with read_session(engine) as session:
        assert existing_demo_patients(session=session) == []
    cfg = Settings(_env_file=None, timezone="UTC", kiosk_url="https://lobby.example")  # type: ignore[call-arg]
    cards = seed_demo_patients(engine=engine, settings=cfg, now=AT)
    with engine.connect() as conn:
        tokens = conn.execute(select(func.count()).select_from(QrToken)).scalar_one()
    with read_session(engine) as session:
        found = existing_demo_patients(session=session)
    assert [(demo.first, pid) for demo, pid in found] == [(d.first, c.patient_id) for d, c in cards]
    assert len(found) == len(DEMO_PATIENTS)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(QrToken)).scalar_one() == tokens
