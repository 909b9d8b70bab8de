"""The lobby as older, Spanish-speaking and low-vision patients use it, in a real Chromium at tablet sizes:
typed birth dates on the number pad, English and Spanish, where to start and where to go instead, pictures,
the warning before the reset, the plan on a phone, large text and 200% zoom; axe-core on every screen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from sqlalchemy import Engine

from kiosk.lobby.camera import read_qr
from shared.care.cards import issue_card
from shared.care.patient_language import set_language
from shared.demo.patients import seed_demo_patients
from shared.demo.stations import seed_demo
from shared.equipment.ingest import record_batch
from shared.equipment.payloads import decode
from shared.store.db import unit_of_work
from shared.store.settings import Settings
from tests.e2e.axe import axe_violations, describe
from tests.e2e.conftest import Lobby
from tests.e2e.steps import (
    PAD_DELAY_MS,
    dob_field,
    enter_birth_date,
    open_welcome,
    page_text,
    private_details,
    scan_with_scanner,
    title,
)

Shoot = Callable[[Page, str], Path]
PORTRAIT = ViewportSize(width=820, height=1180)
LANDSCAPE = ViewportSize(width=1180, height=820)
PHONE = ViewportSize(width=390, height=844)
ZOOM_200 = ViewportSize(width=410, height=590)  # an 820 x 1180 tablet at 200% zoom: half the CSS pixels
MIN_TARGET = 48


@dataclass
class Demo:
    lobby: Lobby
    maria_card: str
    ruth_card: str
    maria_dob: date = date(1950, 4, 17)
    ruth_dob: date = date(1941, 1, 29)


@pytest.fixture
def demo(start_lobby: Callable[..., Lobby], store: tuple[str, Engine], tmp_path: Path) -> Demo:
    """The demo clinic (stations, drawn pictures, Spanish texts) with Treadmill 1 in use; Ruth prefers Spanish."""
    lobby = start_lobby(idle_s=60)
    engine = store[1]
    cfg = Settings(_env_file=None, data_dir=tmp_path / "data", timezone="UTC", kiosk_url=lobby.url)  # type: ignore[call-arg]
    with unit_of_work(engine) as session:
        seed_demo(session=session, site="main")
    seeded = seed_demo_patients(engine=engine, settings=cfg, now=datetime.now(UTC), questionnaires=False)  # to the plan
    cards = {demo.first: card for demo, card in seeded}
    with unit_of_work(engine) as session:
        set_language(session=session, patient_id=cards["Ruth"].patient_id, code="es")
    start = b'{"event_id": "busy-1", "event": "start"}'
    record_batch(engine=engine, items=[decode("clinic/main/equipment/treadmill-1/usage", start, prefix="clinic",
                                              received_at=datetime.now(UTC))], tz=UTC)  # fmt: skip
    with unit_of_work(engine) as session:
        maria = issue_card(session=session, patient_id=cards["Maria"].patient_id, base_url=lobby.url).url
    with unit_of_work(engine) as session:
        ruth = issue_card(session=session, patient_id=cards["Ruth"].patient_id, base_url=lobby.url).url
    return Demo(lobby=lobby, maria_card=maria, ruth_card=ruth)


def assert_axe_clean(page: Page, screen: str) -> None:
    """No axe-core violation of any impact."""
    violations = axe_violations(page)
    assert not violations, f"{screen}:\n{describe(violations)}"


def small_targets(page: Page) -> list[str]:
    """Every visible control smaller than 48 px in either direction (the lobby's minimum)."""
    found: list[str] = page.evaluate(
        """(min) => {
          const doc = document;
          const out = [];
          for (const el of doc.querySelectorAll('button, input, select, summary, a[href], [role=button]')) {
            const box = el.getBoundingClientRect();
            const style = getComputedStyle(el);
            if (box.width === 0 || box.height === 0 || style.visibility === 'hidden') continue;
            if (el.matches('[data-testid=stSkipToContent]')) continue;  // shown only while focused, then large
            if (el.tagName !== 'SUMMARY' && el.closest('details:not([open])')) continue;  // folded away
            const name = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 40);
            const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
            if (box.height < min || box.width < min) out.push(`${el.tagName} "${name}" ${size}`);
          }
          return out;
        }""",
        MIN_TARGET,
    )
    return found


def test_an_english_patient_types_the_birth_date_and_is_guided(
    new_page: Callable[..., Page], demo: Demo, shoot: Shoot, browser_phone: Callable[[str], Page]
):
    page = new_page(viewport=PORTRAIT)
    open_welcome(page, demo.lobby.url)
    assert page.evaluate("document.documentElement.lang") == "en"
    assert_axe_clean(page, "welcome (en)")
    assert not small_targets(page), small_targets(page)
    shoot(page, "1-welcome")
    scan_with_scanner(page, demo.maria_card)

    month, day, year = (dob_field(page, label) for label in ("Month", "Day", "Year"))
    expect(month).to_be_visible()
    for field in (month, day, year):
        expect(field).to_have_attribute("inputmode", "numeric")  # the tablet offers digits (set by a page script)
        box = field.bounding_box()
        assert box is not None and box["height"] >= MIN_TARGET, box
    assert_axe_clean(page, "birth date (en)")
    assert not small_targets(page), small_targets(page)
    month.click()  # a wrong date first: what was typed stays, to be corrected
    page.keyboard.type("04181950", delay=PAD_DELAY_MS)
    expect(year).to_have_value("1950")
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.get_by_text("That date of birth doesn't match our records")).to_be_visible()
    expect(month).to_have_value("04")
    expect(day).to_have_value("18")
    shoot(page, "2-wrong-date-kept")
    day.fill("")
    day.click()
    page.keyboard.type("17", delay=PAD_DELAY_MS)
    expect(year).to_be_focused()  # a complete day moves on by itself
    page.get_by_role("button", name="Continue", exact=True).click()

    expect(title(page)).to_have_text("You're checked in")
    treadmill = page.locator(".kiosk-card", has_text="Treadmill walk")
    expect(treadmill.locator(".kiosk-badge")).to_have_text("In use")
    expect(treadmill.locator(".kiosk-instead")).to_have_text("Use Treadmill 2 (Gym A) instead: it is free.")
    start = page.locator(".kiosk-card-start")
    expect(start).to_have_count(1)
    expect(start).to_contain_text("Start here")
    expect(start).to_contain_text("Heel raises")
    cards = page.locator(".kiosk-card")
    expect(cards).to_have_count(3)
    for n in range(3):
        picture = cards.nth(n).locator("img.kiosk-picture")
        expect(picture).to_be_visible()
        assert (picture.get_attribute("alt") or "").startswith("Picture: how to do ")
        assert picture.evaluate("img => img.complete && img.naturalWidth > 0")
    for pattern in private_details("Gonzalez", demo.maria_dob):
        assert not pattern.search(page_text(page)), pattern.pattern
    assert_axe_clean(page, "plan (en)")
    assert not small_targets(page), small_targets(page)
    shoot(page, "3-plan-top")
    qr = page.locator(".kiosk-qr img")
    qr.scroll_into_view_if_needed()
    shoot(page, "4-plan-qr")
    page.set_viewport_size(LANDSCAPE)
    expect(start).to_be_visible()
    shoot(page, "5-plan-landscape")

    link = read_qr(qr.screenshot())
    assert link is not None and "?p=" in link and "Gonzalez" not in link, link
    phone = browser_phone(link)
    expect(phone.get_by_role("heading", level=2)).to_contain_text("Your exercises for")
    expect(phone.locator(".kiosk-card")).to_have_count(3)
    expect(phone.locator(".kiosk-card img.kiosk-picture")).to_have_count(3)
    for pattern in private_details("Gonzalez", demo.maria_dob):
        assert not pattern.search(page_text(phone)), pattern.pattern
    assert "Maria" not in page_text(phone)
    assert_axe_clean(phone, "phone plan (en)")
    shoot(phone, "6-phone")


def test_a_spanish_speaking_patient_gets_spanish_after_the_scan(
    new_page: Callable[..., Page], demo: Demo, shoot: Shoot
):
    page = new_page(viewport=LANDSCAPE)
    open_welcome(page, demo.lobby.url)
    scan_with_scanner(page, demo.ruth_card)
    expect(title(page)).to_have_text("Confirme que es usted")
    assert page.evaluate("document.documentElement.lang") == "es"
    expect(page.locator("[class*=st-key-dob_] label")).to_have_text(["Día", "Mes", "Año"])
    assert_axe_clean(page, "birth date (es)")
    shoot(page, "1-fecha")
    enter_birth_date(page, demo.ruth_dob, "es")
    expect(title(page)).to_have_text("Ya está registrado")
    expect(page.get_by_text("Bienvenido, Ruth L. Su llegada está registrada para las")).to_be_visible()
    expect(page.get_by_role("heading", name="Ejercicios de hoy")).to_be_visible()
    expect(page.locator(".kiosk-card", has_text="Caminar en barras paralelas")).to_contain_text("Sujétese")
    expect(page.locator(".kiosk-card-start")).to_contain_text("Empiece aquí")
    expect(page.locator(".kiosk-card", has_text="Caminar en la cinta")).to_be_visible()
    assert_axe_clean(page, "plan (es)")
    assert not small_targets(page), small_targets(page)
    shoot(page, "2-plan")


def test_the_welcome_screen_switches_to_spanish_and_back(new_page: Callable[..., Page], demo: Demo, shoot: Shoot):
    page = new_page(viewport=PORTRAIT)
    open_welcome(page, demo.lobby.url)
    page.get_by_role("button", name="Español").click()
    expect(page.get_by_text("¡Bienvenido! Escanee el código de su tarjeta")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("button", name="English")).to_have_attribute("lang", "en")
    expect(page.get_by_role("textbox", name="Escanee su tarjeta")).to_be_focused()
    assert_axe_clean(page, "welcome (es)")
    shoot(page, "1-bienvenida")
    scan_with_scanner(page, demo.maria_card)  # Maria has no stored language: the patient's choice stays
    expect(title(page)).to_have_text("Confirme que es usted")
    page.get_by_role("button", name="Empezar de nuevo").click()
    expect(page.get_by_role("button", name="Español")).to_be_visible()  # a reset goes back to English
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_a_warning_with_a_countdown_comes_before_the_reset(
    start_lobby: Callable[..., Lobby], demo: Demo, new_page: Callable[..., Page], shoot: Shoot
):
    lobby = start_lobby(idle_s=10)
    page = new_page(viewport=PORTRAIT)
    open_welcome(page, lobby.url)
    scan_with_scanner(page, demo.maria_card.replace(demo.lobby.url, lobby.url))
    enter_birth_date(page, demo.maria_dob)
    expect(title(page)).to_have_text("You're checked in")
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_be_visible(timeout=15_000)  # nobody touches it
    expect(dialog).to_contain_text("This screen closes in")
    still_here = page.get_by_role("button", name="I'm still here")
    box = still_here.bounding_box()
    assert box is not None and box["height"] >= MIN_TARGET
    assert_axe_clean(page, "idle warning")
    shoot(page, "1-warning")
    still_here.click()
    expect(dialog).to_have_count(0)
    expect(title(page)).to_have_text("You're checked in")
    expect(dialog).to_be_visible(timeout=15_000)
    expect(title(page)).to_have_text("Riverside Physical Therapy", timeout=15_000)  # and then it resets


def test_large_text_and_200_percent_zoom_keep_the_layout(new_page: Callable[..., Page], demo: Demo, shoot: Shoot):
    page = new_page(viewport=ZOOM_200)
    open_welcome(page, demo.lobby.url)
    page.get_by_role("button", name="Larger text").click()
    expect(page.get_by_role("button", name="Normal text size")).to_be_visible()
    assert page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)") == 24
    shoot(page, "1-welcome-large")
    scan_with_scanner(page, demo.maria_card)
    enter_birth_date(page, demo.maria_dob)
    expect(title(page)).to_have_text("You're checked in")
    assert no_sideways_scroll(page)
    shoot(page, "2-plan-large")
    page.get_by_role("button", name="I'm done with my session").click()
    expect(title(page)).to_have_text("How much pain do you have right now?")
    expect(page.locator(".st-key-fb_pain_10 button")).to_be_visible()
    page.wait_for_function("document.querySelectorAll('[class*=st-key-fb_pain_] button').length === 11")
    rows = page.evaluate(  # measured in one frame, so a scroll between two buttons cannot skew it
        "() => new Set([...document.querySelectorAll('[class*=st-key-fb_pain_] button')]"
        ".map(b => Math.round(b.getBoundingClientRect().top))).size"
    )
    assert rows <= 4, f"the pain scale stacks into {rows} rows"
    assert no_sideways_scroll(page)
    assert not small_targets(page), small_targets(page)
    assert_axe_clean(page, "pain question (large, 200%)")
    shoot(page, "3-pain-large-200")


def no_sideways_scroll(page: Page) -> bool:
    return bool(page.evaluate(
        """() => { const main = document.querySelector('[data-testid=stMain]');
                   return document.documentElement.scrollWidth <= window.innerWidth
                          && main.scrollWidth <= main.clientWidth; }"""
    ))  # fmt: skip


@pytest.fixture
def browser_phone(new_page: Callable[..., Page]) -> Callable[[str], Page]:
    """A phone opening a link (its own browser context: no lobby session)."""

    def open_link(url: str) -> Page:
        phone = new_page(viewport=PHONE)
        phone.goto(url)
        return phone

    return open_link


FEEDBACK = {  # language -> (I'm done, pain title, difficulty title, a difficulty, exercises title, skip, thanks)
    "en": ("I'm done with my session", "How much pain do you have right now?", "How hard was today's session?",
           "About right", "And each exercise? (optional)", "Skip", "Thank you!"),
    "es": ("Ya terminé mi sesión", "¿Cuánto dolor tiene ahora mismo?", "¿Qué tan difícil fue la sesión de hoy?",
           "Adecuada", "¿Y cada ejercicio? (opcional)", "Omitir", "¡Gracias!"),
}  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_questions_after_the_session_pass_axe_in_both_languages(
    new_page: Callable[..., Page], demo: Demo, shoot: Shoot, lang: str
):
    done, pain, difficulty, about_right, each, skip, thanks = FEEDBACK[lang]
    page = new_page(viewport=PORTRAIT)
    open_welcome(page, demo.lobby.url)
    scan_with_scanner(page, demo.ruth_card if lang == "es" else demo.maria_card)
    enter_birth_date(page, demo.ruth_dob if lang == "es" else demo.maria_dob, lang)
    page.get_by_role("button", name=done).click()
    for screen, heading in (("pain", pain), ("difficulty", difficulty), ("exercises", each), ("thanks", thanks)):
        expect(title(page)).to_have_text(heading)
        assert page.evaluate("document.documentElement.lang") == lang
        assert_axe_clean(page, f"{screen} ({lang})")
        assert not small_targets(page), (screen, small_targets(page))
        shoot(page, screen)
        if screen == "pain":
            page.get_by_role("button", name="3", exact=True).click()
        elif screen == "difficulty":
            page.get_by_role("button", name=about_right).click()
        elif screen == "exercises":
            page.get_by_role("button", name=skip).click()


REFUSALS = {
    "en": ("We can't use this card. Please see the front desk.", "Please see the front desk"),
    "es": ("No podemos usar esta tarjeta. Acuda a la recepción.", "Acuda a la recepción"),
}


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_refusal_screens_pass_axe_in_both_languages(
    new_page: Callable[..., Page], demo: Demo, shoot: Shoot, lang: str
):
    """An unknown card on the welcome screen, a wrong birth date, and the paused card's "see the front desk"."""
    unknown, paused = REFUSALS[lang]
    page = new_page(viewport=PORTRAIT)
    open_welcome(page, demo.lobby.url)
    if lang == "es":
        page.get_by_role("button", name="Español").click()
        expect(page.locator("html")).to_have_attribute("lang", "es")
        # A scanner types into whatever has the focus: wait until the Spanish screen's scan field has it, as a
        # patient would see the screen change first (keystrokes typed during the rerun went elsewhere).
        expect(page.get_by_role("textbox", name="Escanee su tarjeta")).to_be_focused()
    scan_with_scanner(page, "t=" + "A" * 32)
    expect(page.get_by_text(unknown)).to_be_visible()
    assert_axe_clean(page, f"unknown card ({lang})")
    shoot(page, "1-unknown-card")
    card, dob = (demo.ruth_card, demo.ruth_dob) if lang == "es" else (demo.maria_card, demo.maria_dob)
    scan_with_scanner(page, card)
    wrong = dob.replace(year=dob.year + 1)
    enter_birth_date(page, wrong, lang)
    expect(page.locator("[data-testid=stAlertContentError]")).to_be_visible()
    assert_axe_clean(page, f"wrong birth date ({lang})")
    assert not small_targets(page), small_targets(page)
    shoot(page, "2-wrong-date")
    for _ in range(4):
        enter_birth_date(page, wrong, lang)
    expect(title(page)).to_have_text(paused)
    assert page.evaluate("document.documentElement.lang") == lang
    assert_axe_clean(page, f"card paused ({lang})")
    assert not small_targets(page), small_targets(page)
    shoot(page, "3-paused")
