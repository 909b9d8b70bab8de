"""Issue #28: where older, low-vision and Spanish-speaking patients tripped at the lobby tablet (820x1180, in
portrait), each walked through in a real Chromium as such a patient would: a wrong day corrected with Backspace
alone, a birth date whose message names what is wrong, a language switch that keeps the patient where they are,
a "Larger text" label that shows whole, a card scanned before the scan field had the focus, and every screen
measured (48x48 px targets, 18 px text, axe) in both languages.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, ViewportSize, expect

from tests.e2e.axe import axe_violations, describe
from tests.e2e.conftest import Lobby, Patient
from tests.e2e.measure import MIN_LOBBY_TEXT_PX, small_targets, small_text
from tests.e2e.steps import (
    CHECKED_IN,
    CLINIC_NAME,
    CONFIRM,
    CONTINUE,
    DOB_ORDER,
    PAD_DELAY_MS,
    dob_field,
    enter_birth_date,
    first_plan_card,
    open_welcome,
    scan_field,
    scan_with_scanner,
    title,
)

Shoot = Callable[[Page, str], Path]
TABLET = ViewportSize(width=820, height=1180)  # the lobby tablet, in portrait
SPANISH, ENGLISH = "Español", "English"
WORDS = {  # language -> what the patient reads on each screen
    "en": {"welcome": CLINIC_NAME, "confirm": CONFIRM, "checked_in": CHECKED_IN, "done": "I'm done with my session",
           "pain": "How much pain do you have right now?", "difficulty": "How hard was today's session?",
           "about_right": "About right", "exercises": "And each exercise? (optional)", "skip": "Skip",
           "thanks": "Thank you!", "switch": SPANISH},
    "es": {"welcome": CLINIC_NAME, "confirm": "Confirme que es usted", "checked_in": "Ya está registrado",
           "done": "Ya terminé mi sesión", "pain": "¿Cuánto dolor tiene ahora mismo?",
           "difficulty": "¿Qué tan difícil fue la sesión de hoy?", "about_right": "Adecuada",
           "exercises": "¿Y cada ejercicio? (opcional)", "skip": "Omitir", "thanks": "¡Gracias!", "switch": ENGLISH},
}  # fmt: skip


def warning(page: Page) -> Locator:
    return page.locator("[data-testid=stAlertContentWarning]")


def button(page: Page, name: str) -> Locator:
    return page.get_by_role("button", name=name, exact=True)


def scanned(page: Page, lobby: Lobby, card: Patient) -> None:
    """The tablet in portrait, the card scanned: the birth-date screen."""
    page.set_viewport_size(TABLET)
    open_welcome(page, lobby.url)
    scan_with_scanner(page, card.card_url)
    expect(title(page)).to_have_text(CONFIRM)
    expect(dob_field(page, "Month")).to_have_attribute("inputmode", "numeric")  # the fields' script runs


def test_a_wrong_day_is_corrected_with_backspace_alone(page: Page, lobby: Lobby, card: Patient, shoot: Shoot):
    scanned(page, lobby, card)
    month, day, year = (dob_field(page, label) for label in DOB_ORDER["en"])
    month.click()
    page.keyboard.type("0418", delay=PAD_DELAY_MS)  # 18 for 17: the fields have already moved on to the year
    expect(year).to_be_focused()
    page.keyboard.press("Backspace")  # in the empty year: back to the day, whose last digit goes
    expect(day).to_be_focused()
    expect(day).to_have_value("1")
    shoot(page, "1-back-in-the-day")
    page.keyboard.type("7", delay=PAD_DELAY_MS)
    expect(year).to_be_focused()
    page.keyboard.type("1905", delay=PAD_DELAY_MS)  # and a slip in the year, noticed on Continue
    continue_button = button(page, CONTINUE["en"])
    expect(continue_button).to_be_focused()
    for _ in range(2):
        page.keyboard.press("Backspace")
    expect(year).to_be_focused()
    expect(year).to_have_value("19")
    page.keyboard.type("50", delay=PAD_DELAY_MS)
    expect(continue_button).to_be_focused()
    assert [month.input_value(), day.input_value(), year.input_value()] == ["04", "17", "1950"]
    shoot(page, "2-corrected")
    continue_button.click()
    expect(title(page)).to_have_text(CHECKED_IN)


@pytest.mark.parametrize(
    ("lang", "typed", "said"),
    [("en", "01011900", "That year is too long ago. Please check the year."),
     ("en", "04311950", "April has only 30 days. Please check the day."),
     ("es", "01011900", "Ese año es de hace demasiado tiempo. Revise el año."),
     ("es", "31041950", "Abril solo tiene 30 días. Revise el día.")],
)  # fmt: skip
def test_a_wrong_birth_date_is_told_what_is_wrong(
    page: Page, lobby: Lobby, card: Patient, shoot: Shoot, lang: str, typed: str, said: str
):
    scanned(page, lobby, card)
    if lang == "es":
        button(page, SPANISH).click()  # on the birth-date screen itself
        expect(title(page)).to_have_text(WORDS["es"]["confirm"])
        expect(dob_field(page, "Día")).to_have_attribute("inputmode", "numeric")
    dob_field(page, DOB_ORDER[lang][0]).click()
    page.keyboard.type(typed, delay=PAD_DELAY_MS)
    expect(dob_field(page, DOB_ORDER[lang][2])).to_have_value(typed[4:])
    button(page, CONTINUE[lang]).click()
    expect(warning(page)).to_have_text(said)
    assert "four digits" not in said and "cuatro cifras" not in said
    shoot(page, f"{lang}-{typed}")


def test_switching_language_keeps_the_patient_where_they_are(page: Page, lobby: Lobby, card: Patient, shoot: Shoot):
    scanned(page, lobby, card)
    dob_field(page, "Month").click()
    page.keyboard.type("0417", delay=PAD_DELAY_MS)  # half typed, not yet sent
    expect(dob_field(page, "Year")).to_be_focused()
    button(page, SPANISH).click()
    expect(title(page)).to_have_text(WORDS["es"]["confirm"])  # still the birth date: no re-scan
    expect(dob_field(page, "Mes")).to_have_value("04")  # and nothing typed is lost
    expect(dob_field(page, "Día")).to_have_value("17")
    dob_field(page, "Año").click()
    page.keyboard.type("1950", delay=PAD_DELAY_MS)
    button(page, CONTINUE["es"]).click()
    expect(title(page)).to_have_text(WORDS["es"]["checked_in"])
    cards = page.locator(".kiosk-card")
    expect(cards).to_have_count(2)
    tap_language(page, ENGLISH, CHECKED_IN)  # on the plan: the plan stays, in English
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Today's exercises")).to_be_visible()
    expect(cards).to_have_count(2)
    tap_language(page, SPANISH, WORDS["es"]["checked_in"])
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name="Ejercicios de hoy")).to_be_visible()
    expect(first_plan_card(page)).to_be_visible()
    shoot(page, "1-plan-in-spanish")
    button(page, WORDS["es"]["done"]).click()
    expect(title(page)).to_have_text(WORDS["es"]["pain"])
    tap_language(page, ENGLISH, WORDS["en"]["pain"])  # and on the questions after the session


def tap_language(page: Page, name: str, title_text: str) -> None:
    """Tap a language button on the plan screen and see the title change. The buttons act in callbacks, so a tap
    the server handles in the plan's 5-second refresh (a fragment) still switches the whole screen. A tap can
    still, rarely, do nothing at all (taps at random moments on a loaded machine: 0 of 110 lost before that
    change, 2 of 270 after; CI lost one before it): the patient taps again, and so does this test, once."""
    button(page, name).click()
    try:
        expect(title(page)).to_have_text(title_text, timeout=8_000)
    except AssertionError:
        button(page, name).click()
        expect(title(page)).to_have_text(title_text)


def cut_labels(page: Page) -> list[str]:
    """Every visible button whose label does not fit in it (cut with "..." or overflowing its box)."""
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('button')].filter((b) => b.checkVisibility()).flatMap((b) => {
             const box = b.getBoundingClientRect();
             const parts = [b, ...b.querySelectorAll('*')];
             const cut = parts.some((el) => el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0)
               || parts.some((el) => { const r = el.getBoundingClientRect();
                                       return r.width > 0 && (r.right > box.right + 1 || r.left < box.left - 1); })
               || box.right > window.innerWidth;
             return cut ? [`${b.innerText.trim()} ${Math.round(box.width)}px`] : [];
           })"""
    )
    return found


def test_the_larger_text_button_shows_its_whole_label(page: Page, lobby: Lobby, card: Patient, shoot: Shoot):
    page.set_viewport_size(TABLET)
    open_welcome(page, lobby.url)
    button(page, "Larger text").click()
    toggle = button(page, "Normal text size")
    expect(toggle).to_be_visible()
    assert not cut_labels(page), cut_labels(page)
    shoot(page, "1-welcome-large")
    button(page, SPANISH).click()
    expect(button(page, "Texto normal")).to_be_visible()
    assert not cut_labels(page), cut_labels(page)
    shoot(page, "2-welcome-large-es")


def test_a_card_scanned_before_the_field_has_the_focus_checks_in(page: Page, lobby: Lobby, card: Patient):
    page.set_viewport_size(TABLET)
    open_welcome(page, lobby.url)
    button(page, "Larger text").click()
    toggle = button(page, "Normal text size")
    toggle.focus()  # where a tap leaves the focus: on that button, not in the scan field
    expect(scan_field(page)).not_to_be_focused()
    scan_with_scanner(page, card.card_url)  # the scanner does not wait for anyone to tap the field
    expect(title(page)).to_have_text(CONFIRM)
    expect(toggle).to_be_visible()  # the scan's Enter did not press the button


def test_a_keyboard_user_still_presses_the_focused_button(page: Page, lobby: Lobby):
    """The catch for the scanner leaves Tab, Space and Enter alone when no scan is under way."""
    page.set_viewport_size(TABLET)
    open_welcome(page, lobby.url)
    button(page, "Larger text").focus()
    page.keyboard.press("Enter")
    expect(button(page, "Normal text size")).to_be_visible()
    expect(scan_field(page)).to_have_value("")


def assert_fits(page: Page, screen: str, lang: str, shoot: Shoot) -> None:
    """Every control at least 48x48 px, no text under 18 px, axe clean, and the language switch on offer."""
    expect(button(page, WORDS[lang]["switch"])).to_be_visible()
    # The previous screen's elements fade out (data-stale) until the new screen's run ends: measure the new one.
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')")
    assert page.evaluate("document.documentElement.lang") == lang
    assert not small_targets(page), (screen, small_targets(page))
    assert not small_text(page, MIN_LOBBY_TEXT_PX), (screen, small_text(page, MIN_LOBBY_TEXT_PX))
    violations = axe_violations(page)
    assert not violations, f"{screen}:\n{describe(violations)}"
    shoot(page, screen)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_lobby_screen_measures_up_on_the_tablet(page: Page, lobby: Lobby, card: Patient, shoot: Shoot, lang: str):
    words = WORDS[lang]
    page.set_viewport_size(TABLET)
    open_welcome(page, lobby.url)
    if lang == "es":
        button(page, SPANISH).click()
        expect(page.get_by_role("textbox", name="Escanee su tarjeta")).to_be_focused()
    assert_fits(page, "1-welcome", lang, shoot)
    scan_with_scanner(page, card.card_url)
    expect(title(page)).to_have_text(words["confirm"])
    assert_fits(page, "2-birth-date", lang, shoot)
    enter_birth_date(page, card.dob.replace(year=1900), lang)
    expect(warning(page)).to_be_visible()
    assert_fits(page, "3-birth-date-explained", lang, shoot)
    for label in DOB_ORDER[lang]:
        dob_field(page, label).fill("")
    enter_birth_date(page, card.dob.replace(year=1951), lang)
    expect(page.locator("[data-testid=stAlertContentError]")).to_be_visible()
    assert_fits(page, "4-birth-date-refused", lang, shoot)
    for label in DOB_ORDER[lang]:
        dob_field(page, label).fill("")
    enter_birth_date(page, card.dob, lang)
    expect(title(page)).to_have_text(words["checked_in"])
    expect(first_plan_card(page)).to_be_visible()
    assert_fits(page, "5-plan", lang, shoot)
    button(page, words["done"]).click()
    expect(title(page)).to_have_text(words["pain"])
    assert_fits(page, "6-pain", lang, shoot)
    button(page, "3").click()
    expect(title(page)).to_have_text(words["difficulty"])
    assert_fits(page, "7-difficulty", lang, shoot)
    button(page, words["about_right"]).click()
    expect(title(page)).to_have_text(words["exercises"])
    assert_fits(page, "8-exercises", lang, shoot)
    button(page, words["skip"]).click()
    expect(title(page)).to_have_text(words["thanks"])
    assert_fits(page, "9-thanks", lang, shoot)
