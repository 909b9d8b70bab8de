"""Check-in rules on real SQLite and PostgreSQL: matching window, idempotency, birth date, lock-out, privacy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, event, func, select
from sqlmodel import col

from shared import i18n
from shared.care import checkin
from shared.care.appointments import add_appointment
from shared.care.cards import issue_card, revoke_cards
from shared.care.checkin_messages import headline
from shared.care.exercises import add_exercise
from shared.care.models import CheckIn, QrToken
from shared.care.patients import add_patient
from shared.care.plans import add_plan_item
from shared.care.qr import new_token, parse_scan
from shared.equipment.ingest import record_batch
from shared.equipment.payloads import decode
from shared.equipment.stations import register_equipment
from shared.store.db import unit_of_work
from shared.store.settings import Settings
from tests import lobby_steps

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
DOB = date(1950, 4, 17)


def settings(**overrides: object) -> Settings:
    return Settings(_env_file=None, timezone="UTC", kiosk_url="https://lobby.example", **overrides)  # type: ignore[call-arg]


@pytest.fixture
def card(engine: Engine) -> str:
    """Maria Gonzalez with a card, a 15:30 appointment with Alex, and a two-line plan on a treadmill."""
    with unit_of_work(engine) as session:
        patient = add_patient(session=session, first="Maria", last="Gonzalez", dob=DOB)
    assert patient.id is not None
    with unit_of_work(engine) as session:
        add_appointment(
            session=session, patient_id=patient.id, starts_at=NOW + timedelta(minutes=30), site="main", clinician="Alex"
        )
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1", name="Treadmill 1", zone="Gym A")
    with unit_of_work(engine) as session:
        add_exercise(
            session=session, name="Treadmill walk", instructions="Walk at an easy pace.", equipment_kind="treadmill"
        )
    with unit_of_work(engine) as session:
        add_exercise(session=session, name="Heel raises", instructions="Rise onto your toes, slowly down.")
    today = NOW.date()
    with unit_of_work(engine) as session:
        add_plan_item(
            session=session, patient_id=patient.id, exercise="Heel raises", sets=3, reps=10, hold_s=2, active_from=today
        )
    with unit_of_work(engine) as session:
        add_plan_item(session=session, patient_id=patient.id, exercise="Treadmill walk", minutes=10,
                      equipment_id="tm-1",
                      active_from=today, position=0)  # fmt: skip
    with unit_of_work(engine) as session:
        return issue_card(session=session, patient_id=patient.id, base_url="https://lobby.example").url


def test_the_card_carries_only_an_opaque_token(card: str) -> None:
    assert card.startswith("https://lobby.example/?t=")
    assert "Maria" not in card and "1950" not in card
    token = parse_scan(card)
    assert token is not None and len(token) >= 32  # 192 bits of randomness, URL-safe


def test_scan_asks_for_birth_date_first_and_shows_nothing_personal(engine: Engine, card: str) -> None:
    outcome = lobby_steps.begin(engine=engine, settings=settings(), scan=card, now=NOW)
    assert outcome.result == "needs_dob"
    assert (outcome.display_name, outcome.plan, outcome.appointment_at) == (None, [], None)


def test_right_birth_date_checks_in_and_shows_the_plan_with_station_status(engine: Engine, card: str) -> None:
    start = decode("clinic/main/equipment/tm-1/usage", b'{"event_id":"u","event":"start"}', prefix="clinic",
                   received_at=NOW)  # fmt: skip
    record_batch(engine=engine, items=[start], tz=UTC)
    token = lobby_steps.begin(engine=engine, settings=settings(), scan=card, now=NOW).token
    assert token is not None
    outcome = lobby_steps.confirm(engine=engine, settings=settings(), token=token, dob=DOB, now=NOW)
    assert (outcome.result, outcome.display_name, outcome.clinician) == ("checked_in", "Maria G.", "Alex")
    assert outcome.appointment_at == NOW + timedelta(minutes=30)
    assert [(line.exercise, line.dose, line.equipment_status) for line in outcome.plan] == [
        ("Treadmill walk", "10 min", "in_use"),
        ("Heel raises", "3 x 10, hold 2 s", None),
    ]


def test_checking_in_twice_is_idempotent_and_shows_the_first_time(engine: Engine, card: str) -> None:
    first = lobby_steps.check_in(engine=engine, settings=settings(), scan=card, now=NOW)
    again = lobby_steps.check_in(engine=engine, settings=settings(), scan=card, now=NOW + timedelta(minutes=3))
    assert (first.result, again.result) == ("checked_in", "already_checked_in")
    assert again.checked_in_at == first.checked_in_at == NOW


@pytest.mark.parametrize(
    ("offset_min", "expected"),
    [(-119, "checked_in"), (-121, "no_appointment"), (59, "checked_in"), (61, "no_appointment")],
    ids=["2h-before-opens", "too-early", "just-late", "too-late"],
)
def test_matching_window_is_two_hours_before_to_one_hour_after(
    engine: Engine, card: str, offset_min: int, expected: str
) -> None:
    start = NOW + timedelta(minutes=30)
    outcome = lobby_steps.check_in(
        engine=engine, settings=settings(), scan=card, now=start + timedelta(minutes=offset_min)
    )
    assert outcome.result == expected


def test_no_appointment_today_is_recorded_for_staff(engine: Engine, card: str) -> None:
    outcome = lobby_steps.check_in(engine=engine, settings=settings(), scan=card, now=NOW + timedelta(days=1))
    assert (outcome.result, outcome.display_name, outcome.plan) == ("no_appointment", "Maria G.", [])
    with engine.connect() as conn:
        results = conn.execute(select(CheckIn.result)).scalars().all()  # type: ignore[call-overload]
    assert results == ["no_appointment"]


def test_five_wrong_birth_dates_lock_the_card_for_fifteen_minutes(engine: Engine, card: str) -> None:
    token = parse_scan(card)
    assert token is not None
    wrong = [
        lobby_steps.confirm(engine=engine, settings=settings(), token=token, dob=date(1960, 1, 1), now=NOW)
        for _ in range(5)
    ]
    assert [o.result for o in wrong] == ["wrong_dob"] * 4 + ["locked"]
    assert [o.attempts_left for o in wrong[:4]] == [4, 3, 2, 1]
    assert (
        lobby_steps.confirm(
            engine=engine, settings=settings(), token=token, dob=DOB, now=NOW + timedelta(minutes=14)
        ).result
        == "locked"
    )
    assert (
        lobby_steps.begin(engine=engine, settings=settings(), scan=card, now=NOW + timedelta(minutes=14)).result
        == "locked"
    )
    assert (
        lobby_steps.confirm(
            engine=engine, settings=settings(), token=token, dob=DOB, now=NOW + timedelta(minutes=16)
        ).result
        == "checked_in"
    )


@pytest.mark.parametrize(
    ("scan", "result"),
    [("", "unreadable"), ("hello", "unreadable"), ("t=<script>", "unreadable"),
     ("https://lobby.example/?t=" + "A" * 32, "invalid"), ("A" * 40, "invalid")],
)  # fmt: skip
def test_misread_and_unknown_codes_are_told_apart_and_reveal_nothing(
    engine: Engine, card: str, scan: str, result: str
) -> None:
    outcome = lobby_steps.begin(engine=engine, settings=settings(), scan=scan, now=NOW)
    assert outcome == checkin.Outcome(result)  # type: ignore[arg-type]


def test_a_revoked_card_stops_working_and_a_new_one_replaces_it(engine: Engine, card: str) -> None:
    with engine.connect() as conn:
        patient_id = conn.execute(select(QrToken.patient_id)).scalar_one()  # type: ignore[call-overload]
    with unit_of_work(engine) as session:
        assert revoke_cards(session=session, patient_id=patient_id) == 1
    assert lobby_steps.check_in(engine=engine, settings=settings(), scan=card, now=NOW) == checkin.Outcome("revoked")
    with unit_of_work(engine) as session:
        fresh = issue_card(session=session, patient_id=patient_id, base_url="https://lobby.example")
    assert lobby_steps.check_in(engine=engine, settings=settings(), scan=fresh.url, now=NOW).result == "checked_in"


def test_a_revoked_card_and_an_unknown_token_tell_a_patient_the_same_in_every_language(
    engine: Engine, card: str
) -> None:
    """docs/security.md "Lost or stolen cards": an old card sends its patient to the desk, and a found or guessed
    one learns nothing. Staff's records still tell the two apart."""
    with engine.connect() as conn:
        patient_id = conn.execute(select(QrToken.patient_id)).scalar_one()  # type: ignore[call-overload]
    with unit_of_work(engine) as session:
        revoke_cards(session=session, patient_id=patient_id)
    unknown = "https://lobby.example/?t=" + new_token()
    cfg = settings()
    statements: list[str] = []

    def statement(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        statements.append(sql)

    def answer(step: Callable[..., checkin.Outcome], scan: str) -> tuple[checkin.Outcome, list[str]]:
        statements.clear()
        outcome = step(engine=engine, settings=cfg, scan=scan, now=NOW)
        return outcome, list(statements)

    event.listen(engine, "before_cursor_execute", statement)
    try:
        answers = [(answer(step, card), answer(step, unknown)) for step in (lobby_steps.begin, lobby_steps.check_in)]
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    for (revoked, revoked_sql), (guessed, guessed_sql) in answers:  # the lobby and the card's link; `clinic checkin`
        assert revoked_sql == guessed_sql, "the same work, so the time taken tells nothing either"
        assert (revoked.result, guessed.result) == ("revoked", "invalid")
        assert revoked.public_result == guessed.public_result == "invalid"
        assert replace(revoked, result="invalid") == guessed, "nothing else in the outcome differs either"
        for lang in (None, *i18n.languages()):
            said = headline(revoked, cfg.tz, lang)
            assert said == headline(guessed, cfg.tz, lang) != headline(checkin.Outcome("unreadable"), cfg.tz, lang)
    assert {"invalid", "revoked"} <= set(checkin.REFUSED), "the lobby's throttle counts both as failed guesses"
    assert headline(revoked, cfg.tz, "en") == "We can't use this card. Please see the front desk."
    assert headline(revoked, cfg.tz, "es") == "No podemos usar esta tarjeta. Acuda a la recepción."
    with engine.connect() as conn:
        recorded = conn.execute(select(col(CheckIn.result)).order_by(col(CheckIn.id))).scalars().all()
    assert recorded == ["revoked", "invalid", "revoked", "invalid"]


def test_tokens_are_stored_only_as_hashes(engine: Engine, card: str) -> None:
    token = parse_scan(card)
    with engine.connect() as conn:
        stored = conn.execute(select(QrToken.token_hash)).scalars().all()  # type: ignore[call-overload]
        count = conn.execute(select(func.count()).select_from(QrToken)).scalar_one()
    assert count == 1 and token not in stored[0] and len(stored[0]) == 64


def test_with_birth_date_check_off_a_scan_checks_in_directly(engine: Engine, card: str) -> None:
    outcome = lobby_steps.begin(engine=engine, settings=settings(confirm_dob=False), scan=card, now=NOW)
    assert outcome.result == "checked_in"


def test_no_patient_data_reaches_the_logs(engine: Engine, card: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    token = lobby_steps.begin(engine=engine, settings=settings(), scan=card, now=NOW).token
    assert token is not None
    lobby_steps.confirm(engine=engine, settings=settings(), token=token, dob=date(1961, 1, 1), now=NOW)
    lobby_steps.confirm(engine=engine, settings=settings(), token=token, dob=DOB, now=NOW)
    lobby_steps.check_in(engine=engine, settings=settings(), scan=card, now=NOW + timedelta(days=1))
    logged = caplog.text
    for secret in ("Maria", "Gonzalez", "1950", "04-17", token):
        assert secret not in logged


def test_no_new_card_token_begins_with_a_dash_which_a_command_line_takes_for_an_option() -> None:
    tokens = [new_token() for _ in range(3000)]  # with a plain token_urlsafe, ~47 of them would
    assert not [t for t in tokens if t.startswith("-")]
    assert all(parse_scan(t) == t for t in tokens) and len(set(tokens)) == len(tokens)
