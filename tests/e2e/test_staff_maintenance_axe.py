"""The Maintenance page in a real Chromium, on a phone (390 x 844) as a technician: the tasks' table, an overdue
calibration marked done with notes (the station comes back in service), text of at least 16 px, and axe-core
finds nothing critical or serious and no heading-order problem."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from shared.equipment.maintenance import add_task
from shared.staff.accounts import create_account
from shared.store.db import unit_of_work
from shared.store.types import utcnow
from tests import factories as make
from tests.e2e.axe import BLOCKING, axe_violations, describe
from tests.e2e.measure import MIN_STAFF_TEXT_PX, small_text
from tests.e2e.settle import settled
from tests.e2e.staff_fixtures import PASSWORD, PHONE, StaffApp, sign_in, staff_app  # noqa: F401  (fixture)


def seed(engine: Engine) -> None:
    make.station(engine, "us-1", "Ultrasound 1", zone="Modalities")
    make.station(engine, "tm-1", "Treadmill 1", zone="Gym A")
    with unit_of_work(engine) as session:
        add_task(session=session, site="main", equipment_id="us-1", task="Calibration", every_days=365,
                 blocks_use=True, by="ada", now=utcnow() - timedelta(days=370))  # fmt: skip
        add_task(session=session, site="main", equipment_id="tm-1", task="Belt check", every_days=30, by="ada",
                 now=utcnow() - timedelta(days=3))  # fmt: skip
    create_account(engine=engine, username="tess", password=PASSWORD, role="technician", display_name="tess")


def test_a_technician_marks_the_overdue_calibration_done_on_a_phone(
    store: tuple[str, Engine],
    staff_app: StaffApp,  # noqa: F811  (the fixture)
    new_page: Callable[..., Page],
    shoot: Callable[[Page, str], Path],
) -> None:
    seed(store[1])
    page = new_page(viewport=PHONE)
    page.goto(staff_app.url + "/maintenance")
    sign_in(page, "tess")
    expect(page.get_by_role("heading", level=1)).to_have_text("Maintenance")
    tasks = page.get_by_role("region", name="Maintenance tasks")
    expect(tasks.get_by_role("row")).to_have_count(3)
    expect(tasks.get_by_role("row").nth(1)).to_contain_text("Calibration")
    expect(tasks.get_by_role("row").nth(1)).to_contain_text("overdue")
    assert make.read_station(store[1], "us-1").status == "out_of_service"
    settled(page)
    shoot(page, "maintenance-phone")
    assert small_text(page, MIN_STAFF_TEXT_PX) == []
    problems = [v for v in axe_violations(page) if v["impact"] in BLOCKING or v["id"] == "heading-order"]
    assert not problems, describe(problems)
    page.get_by_role("radio", name="Ultrasound 1: Calibration (overdue)").check(force=True)
    page.get_by_role("textbox", name="Notes (what was done, readings, parts)").fill("output within 2%")
    page.get_by_role("button", name="Mark done").click()
    expect(page.get_by_text("Ultrasound 1: Calibration done; it is back in service.")).to_be_visible()
    expect(tasks).to_contain_text("by tess")
    assert make.read_station(store[1], "us-1").status == "available"
