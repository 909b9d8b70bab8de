"""The Reports page in a real Chromium at 1366 x 768, signed in as a manager: last week's report with its tables
and charts, text of at least 16 px, the PDF downloads, and axe-core finds nothing critical or serious."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, expect
from sqlalchemy import Engine

from shared.equipment.ingest import record_batch
from shared.reports.weeks import last_full_week
from shared.staff.accounts import create_account
from tests.e2e.axe import BLOCKING, axe_violations, describe
from tests.e2e.measure import MIN_STAFF_TEXT_PX, small_text
from tests.e2e.settle import settled
from tests.e2e.staff_fixtures import PASSWORD, StaffApp, sign_in, staff_app  # noqa: F401  (fixture)
from tests.factories import station
from tests.shared.reports.known_week import cleaned, use

LAPTOP = ViewportSize(width=1366, height=768)


def seed_last_week(engine: Engine) -> None:
    """Two stations used on last week's Tuesday (the page opens on last week), one cleaning late."""
    station(engine, "bike-1", "Bike 1", zone="Gym A", kind="bike", clean_after_use=True)
    station(engine, "table-1", "Table 1", zone="Gym B", kind="table", clean_after_use=True)
    tuesday = last_full_week(datetime.now(UTC), UTC).start + timedelta(days=1, hours=10)
    at = [tuesday + timedelta(minutes=m) for m in range(0, 200, 10)]
    bike = [*use("bike-1", 1, at[0], at[3]), cleaned("bike-1", 1, at[4]), *use("bike-1", 2, at[6], at[9]),
            cleaned("bike-1", 2, at[15])]  # fmt: skip
    messages = [*bike, *use("table-1", 1, at[1], at[5]), cleaned("table-1", 1, at[6])]
    record_batch(engine=engine, items=messages, tz=UTC)
    create_account(engine=engine, username="mia", password=PASSWORD, role="manager", display_name="mia")


def test_a_manager_reads_last_weeks_report_and_axe_finds_nothing_serious(
    store: tuple[str, Engine],
    staff_app: StaffApp,  # noqa: F811  (the fixture)
    new_page: Callable[..., Page],
    shoot: Callable[[Page, str], Path],
) -> None:
    seed_last_week(store[1])
    page = new_page(viewport=LAPTOP)
    page.goto(staff_app.url + "/reports")
    sign_in(page, "mia")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    usage = page.get_by_role("region", name="Uses, in-use hours and downtime per station")
    expect(usage.get_by_role("row")).to_have_count(3)  # the header and two stations
    expect(usage.get_by_role("row").nth(1)).to_contain_text("bike-1")
    expect(page.get_by_role("region", name="Cleaning after each use, per station")).to_contain_text("50.0")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=stVegaLiteChart] canvas, "
                           "[data-testid=stVegaLiteChart] svg').length >= 3")  # fmt: skip
    settled(page)
    shoot(page, "reports")
    for number, chart in enumerate(("uses", "compliance", "heatmap")):
        page.locator("[data-testid=stVegaLiteChart]").nth(number).scroll_into_view_if_needed()
        shoot(page, chart)
    expect(page.get_by_role("button", name="Download CSV")).to_be_visible()
    assert small_text(page, MIN_STAFF_TEXT_PX) == []
    problems = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert not problems, describe(problems)
    with page.expect_download() as download:  # last: the click reruns the page
        page.get_by_role("button", name="Download PDF").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
