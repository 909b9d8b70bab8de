"""The plan reads as instructions, not as a chart (issue #28), in a real Chromium on the demo clinic: doses in
words in the clinic's units (the demo's "1.5 km/h" is "about 1 mph" in a US clinic), the therapist note said
once for the exercises it concerns, and a Spanish-speaking patient reads stations and doses in Spanish."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from sqlalchemy import Engine

from shared.care.cards import issue_card
from shared.care.patient_language import set_language
from shared.care.plan_shares import create_share, share_url
from shared.demo.patients import seed_demo_patients
from shared.demo.stations import seed_demo
from shared.equipment.ingest import record_batch
from shared.equipment.payloads import decode
from shared.equipment.station_names import set_station_name
from shared.store.db import unit_of_work
from shared.store.settings import Settings
from tests.e2e.conftest import Lobby
from tests.e2e.measure import MIN_LOBBY_TEXT_PX, small_targets, small_text
from tests.e2e.steps import CHECKED_IN, enter_birth_date, open_welcome, page_text, scan_with_scanner, title

Shoot = Callable[[Page, str], Path]
PORTRAIT = ViewportSize(width=820, height=1180)  # the lobby's tablet
PHONE = ViewportSize(width=390, height=844)
RUTH_DOB, JAMES_DOB = date(1941, 1, 29), date(1962, 9, 3)
CHART = re.compile(r"\d+ x \d+|\d min\b|\d s\b|km/h")  # the shorthand patients could not read


def in_use(engine: Engine, *stations: str) -> None:
    """Someone is on each of these stations right now."""
    now = datetime.now(UTC)
    items = [decode(f"clinic/main/equipment/{s}/usage", f'{{"event_id": "busy-{s}", "event": "start"}}'.encode(),
                    prefix="clinic", received_at=now) for s in stations]  # fmt: skip
    record_batch(engine=engine, items=items, tz=UTC)


@pytest.fixture
def clinic(
    start_lobby: Callable[..., Lobby], store: tuple[str, Engine], tmp_path: Path
) -> tuple[Lobby, dict[str, int]]:
    """The demo clinic (a US one: CLINIC_TIMEZONE=UTC says no country, so US units) and its patients' ids."""
    lobby = start_lobby()
    engine = store[1]
    cfg = Settings(_env_file=None, data_dir=tmp_path / "data", timezone="UTC", kiosk_url=lobby.url)  # type: ignore[call-arg]
    with unit_of_work(engine) as session:
        seed_demo(session=session, site="main")
    # without the demo's questionnaires, so the check-in goes straight to the plan these tests read
    seeded = seed_demo_patients(engine=engine, settings=cfg, now=datetime.now(UTC), questionnaires=False)
    return lobby, {demo.first: card.patient_id for demo, card in seeded}


def card_for(engine: Engine, lobby: Lobby, patient_id: int, lang: str) -> str:
    with unit_of_work(engine) as session:
        set_language(session=session, patient_id=patient_id, code=lang)
    with unit_of_work(engine) as session:
        return issue_card(session=session, patient_id=patient_id, base_url=lobby.url).url


def test_a_patient_reads_her_doses_in_words_and_the_therapist_note_once(
    new_page: Callable[..., Page], clinic: tuple[Lobby, dict[str, int]], store: tuple[str, Engine], shoot: Shoot
):
    """Ruth's plan: parallel bars walk 3 x 2 on the only bars, treadmill 6 min at 1.5 km/h with every treadmill
    taken: both exercises need the therapist, and one note says so."""
    lobby, ids = clinic
    engine = store[1]
    in_use(engine, "bars-1", "treadmill-1", "treadmill-2", "treadmill-3")
    url = card_for(engine, lobby, ids["Ruth"], "en")
    page = new_page(viewport=PORTRAIT)
    open_welcome(page, lobby.url)
    scan_with_scanner(page, url)
    enter_birth_date(page, RUTH_DOB)
    expect(title(page)).to_have_text(CHECKED_IN)

    bars = page.locator(".kiosk-card", has_text="Parallel bars walk")
    treadmill = page.locator(".kiosk-card", has_text="Treadmill walk")
    expect(bars.locator(".kiosk-dose")).to_have_text("3 sets of 2")
    expect(treadmill.locator(".kiosk-dose")).to_have_text("6 minutes, speed about 1 mph")
    expect(treadmill).to_contain_text("Treadmill 2 (Gym A)")
    note = page.locator(".kiosk-ask-therapist")
    expect(note).to_have_count(1)
    expect(note).to_have_text("Please ask your therapist where to do exercises 1 and 2: their stations are not free.")
    text = page_text(page)
    assert text.count("ask your therapist") == 1, text
    assert not CHART.search(text), CHART.search(text)
    assert not small_targets(page), small_targets(page)
    assert not small_text(page, MIN_LOBBY_TEXT_PX), small_text(page, MIN_LOBBY_TEXT_PX)
    shoot(page, "1-plan-en")

    with unit_of_work(engine) as session:  # the take-home link, as the lobby's QR code carries it
        token = create_share(session=session, patient_id=ids["Ruth"], site="main", tz=UTC, language="en")
    phone = new_page(viewport=PHONE)
    phone.goto(share_url(lobby.url, token))
    expect(phone.locator(".kiosk-card", has_text="Treadmill walk").locator(".kiosk-dose")).to_have_text(
        "6 minutes, speed about 1 mph")  # fmt: skip
    expect(phone.locator(".kiosk-card", has_text="Parallel bars walk").locator(".kiosk-dose")).to_have_text(
        "3 sets of 2")  # fmt: skip
    expect(phone.locator(".kiosk-ask-therapist")).to_have_count(0)  # the phone's copy shows no live status
    assert not CHART.search(page_text(phone))
    shoot(phone, "2-take-home-phone")


def test_a_spanish_speaking_patient_reads_stations_and_doses_in_spanish(
    new_page: Callable[..., Page], clinic: tuple[Lobby, dict[str, int]], store: tuple[str, Engine], shoot: Shoot
):
    """James's plan in Spanish: the bike at level 3, step-ups and bridges on the only stairs and plinth, both
    taken; staff named the plinth in Spanish, the others are called by their kind."""
    lobby, ids = clinic
    engine = store[1]
    with unit_of_work(engine) as session:
        set_station_name(session=session, site="main", equipment_id="plinth-1", lang="es", name="Camilla alta")
    in_use(engine, "stairs-1", "plinth-1")
    url = card_for(engine, lobby, ids["James"], "es")
    page = new_page(viewport=PORTRAIT)
    open_welcome(page, lobby.url)
    scan_with_scanner(page, url)
    enter_birth_date(page, JAMES_DOB, "es")
    expect(page.locator(".kiosk-card").first).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "es")

    bike = page.locator(".kiosk-card", has_text="Bicicleta reclinada").first
    expect(bike.locator(".kiosk-dose")).to_have_text("12 minutos, nivel 3")
    expect(bike).to_contain_text("Bicicleta reclinada 1 (Gym A)")
    steps = page.locator(".kiosk-card", has_text="Subir escalón")
    expect(steps.locator(".kiosk-dose")).to_have_text("2 series de 8")
    expect(steps).to_contain_text("Escalera de entrenamiento (Gym B)")
    bridges = page.locator(".kiosk-card", has_text="Puente")
    expect(bridges.locator(".kiosk-dose")).to_have_text("3 series de 12, mantenga 3 segundos")
    expect(bridges).to_contain_text("Camilla alta (Gym B)")
    expect(page.locator(".kiosk-ask-therapist")).to_have_text(
        "Pregunte a su terapeuta dónde hacer los ejercicios 2 y 3: sus estaciones no están libres.")  # fmt: skip
    cards = " ".join(page.locator(".kiosk-card").all_inner_texts())
    english = re.findall(r"\b(level|sets?|minutes?|seconds?|hold|Treadmill|Recumbent bike|Training stairs|"
                         r"plinth|therapist)\b", cards)  # fmt: skip
    assert not english, f"English on a Spanish plan: {english}\n{cards}"
    assert not CHART.search(cards)
    shoot(page, "1-plan-es")
