"""The board's actions in a real Chromium (#28): a technician on a phone (390 x 844) marks a station cleaned and
undoes it, one tap each, the confirmation a live region (role=status) within reach of a thumb, axe clean while it
shows; the front desk (1366 x 768) takes a station out of service with a fault category, notes and a photo, and
the card shows them."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, ViewportSize, expect
from sqlalchemy import Engine, select

from shared.equipment import board
from shared.equipment.models import FaultReport
from shared.equipment.stations import register_equipment
from shared.staff.accounts import create_account
from shared.store.db import read_session, unit_of_work
from tests import factories as make
from tests.e2e.axe import BLOCKING, axe_violations, describe
from tests.e2e.measure import MIN_TARGET_PX, small_text
from tests.e2e.settle import settled
from tests.e2e.staff_fixtures import PASSWORD, PHONE, StaffApp, sign_in, staff_app  # noqa: F401  (fixture)

FRONT_DESK = ViewportSize(width=1366, height=768)


def gym(engine: Engine) -> None:
    """A treadmill used and waiting to be cleaned, a free bike; a technician and the front desk."""
    for equipment_id, name in (("tm-1", "Treadmill 1"), ("bike-1", "Bike 1")):
        with unit_of_work(engine) as session:
            register_equipment(session=session, site="main", equipment_id=equipment_id, name=name, zone="Gym A")
    with unit_of_work(engine) as session:
        board.start_use(session=session, site="main", equipment_id="tm-1", by="device", tz=UTC)
    with unit_of_work(engine) as session:
        board.end_use(session=session, site="main", equipment_id="tm-1", by="device", tz=UTC)
    create_account(engine=engine, username="tess", password=PASSWORD, role="technician", display_name="tess")
    create_account(engine=engine, username="desk", password=PASSWORD, role="front_desk", display_name="desk")


def serious(page: Page) -> list[dict[str, object]]:
    return [v for v in axe_violations(page) if v["impact"] in BLOCKING]


def test_a_technician_marks_a_station_cleaned_and_undoes_it_with_one_tap_each(
    store: tuple[str, Engine],
    staff_app: StaffApp,  # noqa: F811  (the fixture)
    new_page: Callable[..., Page],
    shoot: Callable[[Page, str], Path],
) -> None:
    engine = store[1]
    gym(engine)
    phone = new_page(viewport=PHONE)
    phone.goto(staff_app.url + "/")
    sign_in(phone, "tess")
    status = phone.locator("#status-tm-1")
    expect(status).to_have_text(re.compile("^needs cleaning"))
    card = phone.locator(".st-key-card-tm-1")
    queued = phone.locator(".st-key-next-main-tm-1").get_by_role("button", name="Mark cleaned")
    expect(queued).to_be_enabled()  # the one rule: enabled in "Clean next" and in the card alike
    expect(card.get_by_role("button", name="Mark cleaned")).to_be_enabled()

    card.get_by_role("button", name="Mark cleaned").click()  # one tap
    said = phone.locator(".st-key-board-undo [role=status]")
    expect(said).to_have_text("Treadmill 1: marked cleaned.")
    undo = phone.locator(".st-key-board-undo").get_by_role("button", name="Undo")
    expect(undo).to_be_in_viewport()
    # While the tap's rerun replaces the card, Streamlit briefly shows the old and the new one.
    expect(status.filter(has_text=re.compile("^cleaning, ready in"))).to_be_visible()
    expect(status).to_have_count(1)
    expect(queued).to_be_disabled()  # nothing to do but wait, in the queue and the card alike
    expect(card.get_by_role("button", name="Mark cleaned")).to_be_disabled()
    settled(phone)
    box = undo.bounding_box()
    assert box is not None and min(box["width"], box["height"]) >= MIN_TARGET_PX, box
    assert not [t for t in small_text(phone, 16) if "marked cleaned" in t or '"Undo"' in t], "readable at 16 px"
    found = serious(phone)
    assert not found, describe(found)  # the toast it replaces failed aria-dialog-name
    shoot(phone, "1-cleaned-with-undo")
    assert make.read_station(engine, "tm-1").last_cleaned_by == "tess"

    undo.click()  # one tap
    expect(said).to_have_text("Treadmill 1: undone, it needs cleaning again.")
    expect(undo).to_have_count(0)
    expect(status.filter(has_text=re.compile("^needs cleaning"))).to_be_visible()
    expect(status).to_have_count(1)
    expect(queued).to_be_enabled()
    settled(phone)
    found = serious(phone)
    assert not found, describe(found)
    shoot(phone, "2-undone")
    view = make.read_station(engine, "tm-1")
    assert (view.status, view.last_cleaned_by) == ("needs_cleaning", None)
    assert make.last_audit(engine, json_detail=True)[:3] == ("tess", "equipment.undo", "main/tm-1")


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (180, 40, 40)).save(out, format="JPEG")
    return out.getvalue()


def test_a_fault_with_a_category_and_a_photo_shows_on_the_board(
    store: tuple[str, Engine],
    staff_app: StaffApp,  # noqa: F811  (the fixture)
    new_page: Callable[..., Page],
    shoot: Callable[[Page, str], Path],
) -> None:
    engine = store[1]
    gym(engine)
    desk = new_page(viewport=FRONT_DESK)
    desk.goto(staff_app.url + "/")
    sign_in(desk, "desk")
    card = desk.locator(".st-key-card-bike-1")
    expect(desk.locator("#status-bike-1")).to_have_text("available")
    card.get_by_role("button", name="Out of service").click()
    form = desk.locator("[data-testid=stPopoverBody]")
    form.get_by_text("Won't start", exact=True).click()
    form.get_by_label("Notes (optional)").fill("display stays dark")
    form.locator("input[type=file]").set_input_files(files=[{"name": "fault.jpg", "mimeType": "image/jpeg",
                                                             "buffer": photo()}])  # fmt: skip
    expect(form.get_by_text("Photo ready to send: fault.jpg")).to_be_visible()  # uploaded, not only chosen
    shoot(desk, "1-fault-form")
    form.get_by_role("button", name="Take out of service").click()

    expect(desk.locator(".st-key-board-undo [role=status]")).to_have_text("Bike 1: taken out of service.")
    # While the click's rerun replaces the card, Streamlit briefly shows the old and the new one.
    expect(desk.locator("#status-bike-1").filter(has_text="out of service (manual)")).to_be_visible()
    expect(desk.locator("#status-bike-1")).to_have_count(1)
    expect(card.get_by_text("Fault: Won't start: display stays dark")).to_be_visible()
    expect(card.get_by_text("Reported by desk at ")).to_be_visible()
    picture = card.get_by_role("img", name="Photo of the fault at Bike 1")
    expect(picture).to_be_visible()
    assert picture.evaluate("img => img.complete && img.naturalWidth") == 320, "a thumbnail, not the photo"
    settled(desk)
    desk.keyboard.press("Escape")
    found = serious(desk)
    assert not found, describe(found)
    shoot(desk, "2-fault-on-the-board")
    with read_session(engine) as session:
        report = session.exec(select(FaultReport)).one()[0]
    assert (report.category, report.notes, report.by) == ("wont_start", "display stays dark", "desk")
    assert report.photo is not None
