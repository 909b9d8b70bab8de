"""The home-exercise loop in a real Chromium (issue #25): the take-home link on a phone (390 x 844) ticks two
exercises "Done" and the staff Patients page's adherence figure changes; axe finds nothing serious on the phone
page in English or in Spanish, whose buttons say "Hecho"; every target is a thumb's size."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from shared.care.home_links import link_key
from shared.care.plan_shares import share_url
from shared.staff.accounts import create_account
from tests.e2e.axe import BLOCKING, axe_violations, describe
from tests.e2e.conftest import Lobby
from tests.e2e.measure import MIN_LOBBY_TEXT_PX, small_targets, small_text
from tests.e2e.settle import settled
from tests.e2e.staff_fixtures import DESKTOP, PASSWORD, PHONE, StaffApp, sign_in, staff_app  # noqa: F401  (fixture)
from tests.shared.outcomes.home_support import plan_with_link

Shoot = Callable[[Page, str], Path]


def serious(page: Page) -> list[dict[str, object]]:
    return [v for v in axe_violations(page) if v["impact"] in BLOCKING]


def test_a_phone_ticks_two_exercises_and_the_staff_adherence_figure_changes(
    store: tuple[str, Engine],
    lobby: Lobby,
    staff_app: StaffApp,  # noqa: F811  (the fixture)
    new_page: Callable[..., Page],
    shoot: Shoot,
    tmp_path: Path,
) -> None:
    engine = store[1]
    now = datetime.now(UTC)
    key = link_key(tmp_path / "data")  # the data folder both apps share
    maria, _, token = plan_with_link(engine, active_from=now.date(), now=now, key=key, language="en")
    _, _, ana_token = plan_with_link(engine, first="Ana", active_from=now.date(), now=now, key=key, language="es")
    create_account(engine=engine, username="desk", password=PASSWORD, role="front_desk", display_name="desk")

    staff = new_page(viewport=DESKTOP)
    staff.goto(staff_app.url + "/patients")
    sign_in(staff, "desk")
    staff.get_by_role("textbox", name="Find a patient").fill(f"#{maria}")
    staff.keyboard.press("Enter")
    figure = staff.locator(f"#adherence-{maria}")
    expect(figure).to_have_text("This week 0 of 2 done (0%); 30 days 0 of 2 (0%); 0 of 30 days with data")

    phone = new_page(viewport=PHONE)
    phone.goto(share_url(lobby.url, token))
    done = phone.get_by_role("button", name="Done", exact=True)
    expect(done).to_have_count(2)
    settled(phone)
    assert not serious(phone), describe(serious(phone))
    assert not small_targets(phone), small_targets(phone)
    assert not small_text(phone, MIN_LOBBY_TEXT_PX), small_text(phone, MIN_LOBBY_TEXT_PX)
    done.first.click()
    expect(done).to_have_count(1)
    done.first.click()
    expect(done).to_have_count(0)
    expect(phone.get_by_text("Done today")).to_have_count(2)
    expect(phone.get_by_role("button", name="Undo")).to_have_count(2)
    shoot(phone, "1-phone-two-done")

    staff.reload()
    staff.get_by_role("textbox", name="Find a patient").fill(f"#{maria}")
    staff.keyboard.press("Enter")
    expect(figure).to_have_text("This week 2 of 2 done (100%); 30 days 2 of 2 (100%); 1 of 30 days with data")
    shoot(staff, "2-staff-adherence")

    spanish = new_page(viewport=PHONE)
    spanish.goto(share_url(lobby.url, ana_token))
    expect(spanish.get_by_role("button", name="Hecho", exact=True)).to_have_count(2)
    expect(spanish.locator("html")).to_have_attribute("lang", "es")
    settled(spanish)
    assert not serious(spanish), describe(serious(spanish))
    assert not small_targets(spanish), small_targets(spanish)
    shoot(spanish, "3-phone-es")
