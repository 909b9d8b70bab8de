"""A Spanish-speaking patient answers the due pain rating at the lobby tablet (820x1180, portrait) in a real
Chromium: eleven buttons 0 to 10, each at least 48x48 px, no text under 18 px, axe clean; the answer is stored
with its score and the plan follows."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, expect
from sqlalchemy import Engine, select

from shared.care.patient_language import set_language
from shared.outcomes.questionnaire_models import QuestionnaireAnswerRow
from shared.outcomes.schedule import assign
from shared.store.db import read_session, unit_of_work
from tests.e2e.axe import axe_violations, describe
from tests.e2e.conftest import Lobby, Patient
from tests.e2e.measure import MIN_LOBBY_TEXT_PX, MIN_TARGET_PX, small_targets, small_text
from tests.e2e.steps import enter_birth_date, first_plan_card, open_welcome, scan_with_scanner, title

TABLET = ViewportSize(width=820, height=1180)


def test_a_spanish_patient_answers_the_pain_rating_in_eleven_big_buttons(
    new_page: Callable[..., Page], lobby: Lobby, card: Patient, store: tuple[str, Engine],
    shoot: Callable[[Page, str], Path],
) -> None:
    engine = store[1]
    with unit_of_work(engine) as session:
        assign(session=session, patient_id=card.id, questionnaire="nprs", every_visits=1, actor="cli:test")
        set_language(session=session, patient_id=card.id, code="es", actor="cli:test")
    page = new_page(viewport=TABLET)
    open_welcome(page, lobby.url)
    scan_with_scanner(page, card.card_url)
    enter_birth_date(page, card.dob, "es")
    expect(title(page)).to_have_text("Dolor (0-10)")
    expect(page.get_by_text("¿Cuánto dolor tiene ahora mismo?", exact=False)).to_be_visible()
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')")
    assert page.evaluate("document.documentElement.lang") == "es"
    buttons = [page.get_by_role("button", name=str(n), exact=True) for n in range(11)]
    for button in buttons:
        box = button.bounding_box()
        assert box is not None and box["width"] >= MIN_TARGET_PX and box["height"] >= MIN_TARGET_PX, box
    assert not small_targets(page), small_targets(page)
    assert not small_text(page, MIN_LOBBY_TEXT_PX), small_text(page, MIN_LOBBY_TEXT_PX)
    violations = axe_violations(page)
    assert not violations, describe(violations)
    expect(page.get_by_role("button", name="Pregúntenme en recepción", exact=True)).to_be_visible()
    shoot(page, "pain-rating-es")
    # The same screen in English (the language buttons are on every lobby screen): as big, and axe clean too.
    page.get_by_role("button", name="English", exact=True).click()
    expect(title(page)).to_have_text("Pain rating (0-10)")
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')")
    assert page.evaluate("document.documentElement.lang") == "en"
    expect(page.get_by_role("button", name="Ask me at the desk", exact=True)).to_be_visible()
    assert not small_targets(page), small_targets(page)
    assert not small_text(page, MIN_LOBBY_TEXT_PX), small_text(page, MIN_LOBBY_TEXT_PX)
    violations = axe_violations(page)
    assert not violations, describe(violations)
    page.get_by_role("button", name="Español", exact=True).click()
    expect(title(page)).to_have_text("Dolor (0-10)")
    buttons[7].click()
    expect(title(page)).to_have_text("Ya está registrado")
    expect(first_plan_card(page)).to_be_visible()
    with read_session(engine) as session:
        rows = session.execute(select(QuestionnaireAnswerRow)).scalars().all()
        stored = [(r.questionnaire, r.status, json.loads(r.answers), r.score) for r in rows]
    assert stored == [("nprs", "completed", {"pain": 7}, 7.0)]
