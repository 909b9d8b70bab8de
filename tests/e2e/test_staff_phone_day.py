"""A technician's round on a phone (390 x 844) in a real Chromium: sign in once, scan three station labels in a
row (each a new page load), mark each cleaned with its main button, reach another page through the menu, and
sign out; the sign-in cookie is HttpOnly and SameSite=Strict, and useless once signed out or in another browser.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import Engine

from shared.equipment import board
from shared.equipment.faults import CATEGORIES, current_reports
from shared.equipment.stations import get_station, register_equipment
from shared.staff.accounts import create_account
from shared.staff.web_sessions import COOKIE_NAME
from shared.store.db import read_session, unit_of_work
from tests.e2e.measure import MIN_STAFF_TEXT_PX, small_targets, small_text
from tests.e2e.staff_fixtures import PASSWORD, PHONE, StaffApp, sign_in, staff_app  # noqa: F401  (fixture)

STATIONS = {"bike-1": "Recumbent bike 1", "bike-2": "Recumbent bike 2", "tm-1": "Treadmill 1"}
COOKIE_S = 10.0


def used(engine: Engine, equipment_id: str) -> None:
    """A patient used the station: it needs cleaning now."""
    with unit_of_work(engine) as session:
        board.start_use(session=session, site="main", equipment_id=equipment_id, by="device", tz=UTC)
    with unit_of_work(engine) as session:
        board.end_use(session=session, site="main", equipment_id=equipment_id, by="device", tz=UTC)


def session_cookie(context: BrowserContext) -> dict[str, object]:
    """The sign-in cookie once the page has claimed it (it does so right after the sign-in)."""
    deadline = time.monotonic() + COOKIE_S
    while time.monotonic() < deadline:
        found = [c for c in context.cookies() if c["name"] == COOKIE_NAME]
        if found:
            return dict(found[0])
        time.sleep(0.05)
    raise AssertionError("the browser never got its sign-in cookie")


def test_a_technician_cleans_three_stations_with_one_sign_in_and_finds_the_menu(
    store: tuple[str, Engine],
    staff_app: StaffApp,  # noqa: F811  (the fixture)
    new_page: Callable[..., Page],
    shoot: Callable[[Page, str], Path],
) -> None:
    engine = store[1]
    for equipment_id, name in STATIONS.items():
        with unit_of_work(engine) as session:
            register_equipment(session=session, site="main", equipment_id=equipment_id, name=name, zone="Gym A")
        used(engine, equipment_id)
    create_account(engine=engine, username="tess", password=PASSWORD, role="technician", display_name="tess")

    phone = new_page(viewport=PHONE)
    for n, (equipment_id, name) in enumerate(STATIONS.items(), start=1):
        phone.goto(f"{staff_app.url}/scan?s=main/{equipment_id}")  # the label's link: a new page load each time
        if n == 1:
            sign_in(phone, "tess")
            cookie = session_cookie(phone.context)
            assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/")
            assert phone.evaluate("document.cookie").find(COOKIE_NAME) == -1, "page scripts cannot read it"
        expect(phone.get_by_role("heading", name=name)).to_be_visible()
        expect(phone.get_by_role("heading", name="Staff sign-in")).to_have_count(0)
        cleaned = phone.locator(".st-key-scan-clean button")
        expect(cleaned).to_have_attribute("data-testid", "stBaseButton-primary")  # the main action: it needs it
        expect(phone.locator(".st-key-scan-start button")).to_have_attribute("data-testid", "stBaseButton-secondary")
        expect(cleaned).to_be_in_viewport()
        if n == 1:
            small = small_targets(phone) + small_text(phone, MIN_STAFF_TEXT_PX)  # 48 x 48 px, 16 px
            assert not small, "\n".join(small)
            shoot(phone, f"{n}-scanned")
        cleaned.click()
        expect(phone.get_by_text(f"{name}: cleaned (Wipe)")).to_be_visible()
        expect(phone.locator(".st-key-scan-start button")).to_have_attribute("data-testid", "stBaseButton-primary")
        shoot(phone, f"{n}-cleaned")
        with read_session(engine) as session:
            view = get_station(session=session, site="main", equipment_id=equipment_id, tz=UTC)
        assert view.last_cleaned_by == "tess"

    menu = phone.get_by_role("button", name="Expand sidebar")
    expect(menu).to_be_visible()
    menu.click()
    phone.get_by_role("link", name="Equipment board").click()
    expect(phone.get_by_role("heading", name="Equipment board", level=1)).to_be_visible()
    shoot(phone, "4-board-through-the-menu")

    stolen = dict(session_cookie(phone.context))
    elsewhere = new_page(viewport=PHONE)  # the same cookie in another browser (another User-Agent)
    elsewhere.context.set_extra_http_headers({"User-Agent": "Mozilla/5.0 (another device)"})
    elsewhere.context.add_cookies([{k: v for k, v in stolen.items() if k in ("name", "value", "domain", "path")}])  # type: ignore[misc]
    elsewhere.goto(f"{staff_app.url}/scan?s=main/tm-1")
    expect(elsewhere.get_by_role("heading", name="Staff sign-in")).to_be_visible()

    if not phone.get_by_role("button", name="Sign out").is_visible():
        phone.get_by_role("button", name="Expand sidebar").click()
    phone.get_by_role("button", name="Sign out").click()
    expect(phone.get_by_text("You have signed out.")).to_be_visible()
    phone.goto(f"{staff_app.url}/scan?s=main/tm-1")  # the cookie is ended server-side (and cleared)
    expect(phone.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    expect(phone.get_by_text(re.compile("Treadmill 1"))).to_have_count(0)
    shoot(phone, "5-signed-out")


def test_a_problem_report_in_progress_survives_a_status_change(
    store: tuple[str, Engine],
    staff_app: StaffApp,  # noqa: F811  (the fixture)
    new_page: Callable[..., Page],
    shoot: Callable[[Page, str], Path],
) -> None:
    engine = store[1]
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1", name="Treadmill 1", zone="Gym A")
    create_account(engine=engine, username="tess", password=PASSWORD, role="technician", display_name="tess")
    phone = new_page(viewport=PHONE)
    phone.goto(f"{staff_app.url}/scan?s=main/tm-1")
    sign_in(phone, "tess")
    expect(phone.locator("#scan-status")).to_have_text("available")
    phone.get_by_text("Report a problem").click()
    phone.get_by_text("Damaged surface or upholstery", exact=True).click()
    field = phone.get_by_label("Notes (optional)")
    field.fill("the left rail is loose")
    field.press("Tab")
    with unit_of_work(engine) as session:
        board.start_use(
            session=session, site="main", equipment_id="tm-1", by="device", tz=UTC
        )  # a patient starts meanwhile
    expect(phone.locator("#scan-status")).to_have_text(re.compile("^in use"))  # the panel refreshed
    expect(phone.get_by_label("Notes (optional)")).to_have_value("the left rail is loose")
    expect(phone.get_by_role("radio", name="Damaged surface or upholstery")).to_be_checked()
    expect(phone.get_by_role("button", name="Report the problem")).to_be_visible()
    shoot(phone, "report-kept")
    phone.get_by_role("button", name="Report the problem").click()
    expect(phone.get_by_text("Treadmill 1: problem reported (warning)")).to_be_visible()

    # A critical problem takes the station out of service as the board's fault report does: with a photo.
    report_form = phone.locator("details").filter(has_text="Report a problem")
    expect(report_form).not_to_have_attribute("open", "")  # reported: the form has closed (after its animation)
    phone.get_by_text("Report a problem").click()
    phone.get_by_text(CATEGORIES["wont_start"], exact=True).click()
    phone.get_by_text("Critical: take it out of service", exact=True).click()
    picture = io.BytesIO()
    Image.new("RGB", (1200, 900), (180, 40, 40)).save(picture, format="JPEG")
    phone.locator("input[type=file]").set_input_files(files=[{"name": "fault.jpg", "mimeType": "image/jpeg",
                                                              "buffer": picture.getvalue()}])  # fmt: skip
    expect(phone.get_by_text("Photo ready to send: fault.jpg")).to_be_visible()
    phone.get_by_role("button", name="Report the problem").click()
    expect(phone.get_by_text("Treadmill 1: taken out of service")).to_be_visible()
    expect(phone.locator("#scan-status")).to_have_text(re.compile("^out of service"))
    with read_session(engine) as session:
        report = current_reports(session=session, site="main")[("main", "tm-1")]
    assert (report.by, report.photo is not None) == ("tess", True), "the photo is kept with the fault"
    shoot(phone, "critical-with-photo")
