"""The issue's demo, in real Chromium: a demo patient checks in at the lobby tablet in Spanish, is asked the due
pain rating and her three PSFS activities, answers, and the staff Patients page on a phone charts her scores and
says both scores improved by more than the MCID since intake; every new screen is measured (targets, text, axe)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, expect
from sqlalchemy import Engine

from shared.care.patient_language import set_language
from shared.demo.patients import seed_demo_patients
from shared.demo.stations import seed_demo
from shared.staff.accounts import create_account
from shared.store.db import unit_of_work
from shared.store.settings import Settings
from tests.e2e.axe import describe
from tests.e2e.conftest import Lobby
from tests.e2e.measure import MIN_LOBBY_TEXT_PX, small_targets, small_text
from tests.e2e.settle import settled
from tests.e2e.staff_fixtures import PASSWORD, PHONE, StaffApp, staff_app  # noqa: F401  (fixture)
from tests.e2e.steps import enter_birth_date, first_plan_card, open_welcome, scan_with_scanner, title
from tests.e2e.test_staff_pages_axe import problems
from tests.e2e.test_staff_phone_sizes import measured, signed_in

TABLET = ViewportSize(width=820, height=1180)
MARIA_BORN = datetime(1950, 4, 17).date()
ACTIVITIES = ("Climbing stairs", "Walking to the shops", "Getting up from a chair")


def _lobby_screen_fits(page: Page, screen: str) -> None:
    settled(page)
    assert not small_targets(page), (screen, small_targets(page))
    assert not small_text(page, MIN_LOBBY_TEXT_PX), (screen, small_text(page, MIN_LOBBY_TEXT_PX))
    assert not problems(page), f"{screen}:\n{describe(problems(page))}"  # type: ignore[arg-type]


def test_a_demo_patient_answers_in_spanish_and_the_staff_page_charts_it(
    start_lobby: Callable[..., Lobby], store: tuple[str, Engine], staff_app: StaffApp,  # noqa: F811
    new_page: Callable[..., Page], shoot: Callable[[Page, str], Path], tmp_path: Path,
) -> None:
    engine = store[1]
    lobby = start_lobby()
    cfg = Settings(_env_file=None, data_dir=tmp_path / "data", timezone="UTC", kiosk_url=lobby.url)  # type: ignore[call-arg]
    with unit_of_work(engine) as session:
        seed_demo(session=session, site="main")
    cards = {demo.first: card for demo, card in seed_demo_patients(engine=engine, settings=cfg, now=datetime.now(UTC))}
    maria = cards["Maria"]
    with unit_of_work(engine) as session:
        set_language(session=session, patient_id=maria.patient_id, code="es")
    create_account(engine=engine, username="desk", password=PASSWORD, role="front_desk", display_name="desk")

    tablet = new_page(viewport=TABLET)
    open_welcome(tablet, lobby.url)
    scan_with_scanner(tablet, maria.url)
    enter_birth_date(tablet, MARIA_BORN, "es")
    expect(title(tablet)).to_have_text("Dolor (0-10)")
    _lobby_screen_fits(tablet, "pain rating (es)")
    tablet.get_by_role("button", name="2", exact=True).click()
    for number, (activity, rating) in enumerate(zip(ACTIVITIES, (5, 6, 7), strict=True), start=1):
        expect(title(tablet)).to_have_text("Escala Funcional Específica del Paciente")
        expect(tablet.get_by_role("heading", name=activity, exact=True)).to_be_visible()
        expect(tablet.get_by_text(f"Pregunta {number} de 3")).to_be_visible()
        settled(tablet)  # the new question's buttons, not the last one's still fading out
        if number == 1:
            _lobby_screen_fits(tablet, "PSFS (es)")
            shoot(tablet, "psfs-es")
        tablet.get_by_role("button", name=str(rating), exact=True).click()
    expect(title(tablet)).to_have_text("Ya está registrado")
    expect(first_plan_card(tablet)).to_be_visible()

    phone = new_page(viewport=PHONE)
    phone.goto(f"{staff_app.url}/patients")
    signed_in(phone, "desk")
    phone.goto(f"{staff_app.url}/patients")  # a fresh load, signed in by the cookie (as the phone-size tests do)
    expect(title(phone)).to_have_text("Patients")
    phone.get_by_label("Find a patient").fill(f"#{maria.patient_id}")
    phone.keyboard.press("Enter")
    # pain 6 -> 2 (down 4) and PSFS 3 -> 6 (up 3): both more than their MCID of 2
    expect(phone.get_by_text("Improved by more than the MCID since intake", exact=True)).to_have_count(2)
    expect(phone.locator('[data-testid="stVegaLiteChart"]')).to_have_count(2)
    phone.locator('[data-testid="stVegaLiteChart"]').first.scroll_into_view_if_needed()
    found = measured(phone)
    shoot(phone, "patient-outcomes-phone")
    assert not found, "\n".join(found)
