"""The front desk in a real Chromium at 1400 x 900: a walk-in checked in from Arrivals in one step (from the
no-appointment scans, and as a new patient), and a new card printed as a card-size PDF from Patients."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from shared.care.arrivals import todays_arrivals
from shared.care.cards import issue_card
from shared.care.patients import add_patient, search_patients
from shared.staff.accounts import create_account
from shared.store.db import read_session, unit_of_work
from shared.store.settings import Settings
from tests import lobby_steps
from tests.e2e.staff_fixtures import DESKTOP, PASSWORD, StaffApp, sign_in, staff_app  # noqa: F401  (fixture)
from tests.pdf_support import pdf_pages, read_qr_codes


def arrived(engine: Engine) -> list[tuple[str, str]]:
    with read_session(engine) as session:
        return [
            (r.patient_name, r.status)
            for r in todays_arrivals(session=session, site="main", tz=UTC, now=datetime.now(UTC))
        ]


def test_walk_ins_are_checked_in_from_arrivals_in_one_step(
    store: tuple[str, Engine],
    staff_app: StaffApp,  # noqa: F811  (the fixture)
    new_page: Callable[..., Page],
    shoot: Callable[[Page, str], Path],
) -> None:
    engine = store[1]
    with unit_of_work(engine) as session:
        zed = add_patient(session=session, first="Zed", last="Walker", dob=date(1980, 5, 5))
    assert zed.id is not None
    settings = Settings(_env_file=None, timezone="UTC")  # type: ignore[call-arg]
    with unit_of_work(engine) as session:
        scanned = issue_card(session=session, patient_id=zed.id, base_url="https://x").url
    lobby_steps.check_in(
        engine=engine,
        settings=settings,
        scan=scanned,
    )
    create_account(engine=engine, username="desk", password=PASSWORD, role="front_desk", display_name="desk")
    page = new_page(viewport=DESKTOP)
    page.goto(staff_app.url + "/arrivals")
    sign_in(page, "desk")
    expect(page.get_by_role("heading", level=1)).to_have_text("Arrivals")
    row = page.locator(f".st-key-scan-{zed.id}")
    expect(row).to_contain_text("Zed Walker")
    shoot(page, "1-scanned-without-appointment")
    row.get_by_role("button", name="Check in as a walk-in").click()  # the one step
    expect(page.get_by_text("Zed Walker is checked in as a walk-in.")).to_be_visible()
    expect(page.get_by_text("Nobody waiting to be sorted out.")).to_be_visible()
    expect(page.get_by_text("arrived at ")).to_have_count(1)
    assert arrived(engine) == [("Zed Walker", "arrived")]

    form = page.locator(".stForm")
    form.get_by_label("First name").fill("Ada")
    form.get_by_label("Last name").fill("Lovelace")
    form.get_by_label("Date of birth (YYYY-MM-DD)").fill("1952-12-10")
    form.get_by_role("button", name="Add and check in").click()  # the one step for a new patient
    done = re.compile(r"^Added Ada Lovelace as patient #\d+ and checked them in as a walk-in\.$")
    expect(page.get_by_text(done)).to_be_visible()
    with read_session(engine) as session:
        [ada] = search_patients(session=session, text="lovelace")
    expect(page.get_by_text(f"as patient #{ada.id} ")).to_be_visible()
    expect(page.get_by_text("arrived at ")).to_have_count(2)
    assert sorted(arrived(engine)) == [("Ada Lovelace", "arrived"), ("Zed Walker", "arrived")]
    shoot(page, "2-two-walk-ins-arrived")


def test_a_new_card_prints_as_a_card_size_pdf(
    store: tuple[str, Engine],
    staff_app: StaffApp,  # noqa: F811  (the fixture)
    new_page: Callable[..., Page],
    shoot: Callable[[Page, str], Path],
    tmp_path: Path,
) -> None:
    engine = store[1]
    with unit_of_work(engine) as session:
        add_patient(session=session, first="Maria", last="Gonzalez", dob=date(1950, 4, 17))
    create_account(engine=engine, username="desk", password=PASSWORD, role="front_desk", display_name="desk")
    page = new_page(viewport=DESKTOP)
    page.goto(staff_app.url + "/patients")
    sign_in(page, "desk")
    page.get_by_role("textbox", name="Find a patient").fill("Gonzalez")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Issue a new card").click()
    expect(page.get_by_role("img", name="The new check-in card of patient")).to_be_visible()
    button = page.get_by_role("button", name="Print card (PDF)")
    button.scroll_into_view_if_needed()
    shoot(page, "card-ready")
    with page.expect_download() as download:
        button.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".pdf"
    [printed] = pdf_pages(saved.read_bytes())
    assert (round(printed.width_mm, 1), round(printed.height_mm, 1)) == (85.7, 54.0)
    [code] = read_qr_codes(printed.image)
    assert code.text.startswith("http://localhost:8501/?t="), "the lobby's link with the token, nothing else"
