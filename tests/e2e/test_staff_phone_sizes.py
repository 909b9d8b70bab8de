"""The staff app on a phone (390 x 844) in a real Chromium, as a technician and as the front desk (issue #28):
on every page the role uses, every control is at least 48 x 48 px and every text at least 16 px
(tests/e2e/measure.py), axe finds nothing serious, and a bar along the bottom reaches each of the role's main
pages with one tap, the current one marked; at 1366 x 768 the bar gives way to the sidebar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Locator, Page, ViewportSize, expect
from sqlalchemy import Engine

from shared.staff.accounts import create_account
from shared.staff.web_sessions import COOKIE_NAME
from tests.e2e.axe import describe
from tests.e2e.measure import MIN_STAFF_TEXT_PX, small_targets, small_text
from tests.e2e.staff_fixtures import PASSWORD, PHONE, StaffApp, sign_in, staff_app  # noqa: F401  (fixture)
from tests.e2e.test_staff_pages_axe import problems, seed_day, settled
from tests.helpers import wait_until

LAPTOP = ViewportSize(width=1366, height=768)
# Every page a technician's role opens (address, title): the station page as a label's link opens it.
TECHNICIAN_PAGES = [("board", "Equipment board"), ("scan?s=main/tm-1", "Scan a station"), ("arrivals", "Arrivals"),
                    ("charts", "Usage and cleaning"), ("devices", "Devices")]  # fmt: skip
TECHNICIAN_BAR = [("Board", "Equipment board"), ("Scan", "Scan a station"), ("Arrivals", "Arrivals"),
                  ("Devices", "Devices")]  # fmt: skip
FRONT_DESK_PAGES = [("arrivals", "Arrivals"), ("patients", "Patients"), ("appointments", "Appointments"),
                    ("board", "Equipment board")]  # fmt: skip
FRONT_DESK_BAR = [("Arrivals", "Arrivals"), ("Patients", "Patients"), ("Appointments", "Appointments"),
                  ("Board", "Equipment board")]  # fmt: skip


def title(page: Page) -> Locator:
    return page.locator('[data-testid="stElementContainer"]:not([data-stale="true"])').get_by_role("heading", level=1)


def signed_in(page: Page, username: str) -> None:
    """Sign in, and wait until the browser holds its sign-in cookie (a page load before that signs nobody in)."""
    sign_in(page, username)
    wait_until(lambda: any(c["name"] == COOKIE_NAME for c in page.context.cookies()), timeout=10, what="the cookie")


def measured(page: Page) -> list[str]:
    """What is too small to hit or read on the page as it is now, and what axe finds serious."""
    settled(page)
    found = [f"target {t}" for t in small_targets(page)] + [f"text {t}" for t in small_text(page, MIN_STAFF_TEXT_PX)]
    violations = problems(page)
    if violations:
        found.append(describe(violations))  # type: ignore[arg-type]
    return found


def bar(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main pages")


def walk_the_bar(page: Page, tabs: list[tuple[str, str]], shoot: Callable[[Page, str], Path]) -> None:
    """Tap each of the bar's links once, from wherever the last tap led: its page opens, and is the one marked."""
    links = bar(page).get_by_role("link")
    expect(links).to_have_text([label for label, _ in tabs])
    for label, page_title in [*tabs[1:], tabs[0]]:
        bar(page).get_by_role("link", name=label, exact=True).click()  # one tap
        expect(title(page)).to_have_text(page_title)
        expect(bar(page).get_by_role("link", name=label, exact=True)).to_have_attribute("aria-current", "page")
        expect(bar(page).locator("[aria-current=page]")).to_have_count(1)
        expect(bar(page)).to_be_in_viewport()
        shoot(page, f"bar-{label.lower()}")


def test_every_technician_page_has_big_targets_and_text_and_the_bar_reaches_the_main_ones(
    store: tuple[str, Engine],
    staff_app: StaffApp,  # noqa: F811  (the fixture)
    new_page: Callable[..., Page],
    shoot: Callable[[Page, str], Path],
) -> None:
    seed_day(store[1])
    create_account(engine=store[1], username="tess", password=PASSWORD, role="technician", display_name="tess")
    phone = new_page(viewport=PHONE)
    phone.goto(f"{staff_app.url}/board")
    expect(phone.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    found = {"sign-in": measured(phone)}
    shoot(phone, "sign-in")
    signed_in(phone, "tess")
    for path, page_title in TECHNICIAN_PAGES:
        phone.goto(f"{staff_app.url}/{path}")
        expect(title(phone)).to_have_text(page_title)
        found[path] = measured(phone)
        shoot(phone, path.split("?")[0])
    phone.goto(f"{staff_app.url}/board")
    phone.get_by_role("button", name="Out of service").first.click()  # a station card's popover, open
    expect(phone.get_by_role("button", name="Take out of service")).to_be_visible()
    found["board, taking a station out of service"] = measured(phone)
    shoot(phone, "board-out-of-service")
    phone.goto(f"{staff_app.url}/scan?s=main/tm-1")
    phone.get_by_text("Report a problem").click()  # the station page's folded form, open
    expect(phone.get_by_label("What is wrong?")).to_be_visible()
    found["scan, reporting a problem"] = measured(phone)
    shoot(phone, "scan-report")

    phone.goto(f"{staff_app.url}/board")
    expect(title(phone)).to_have_text("Equipment board")
    walk_the_bar(phone, TECHNICIAN_BAR, shoot)
    phone.get_by_role("button", name="Expand sidebar").click()  # the menu, for every other page
    expect(phone.get_by_role("button", name="Sign out")).to_be_visible()
    found["menu"] = measured(phone)
    shoot(phone, "menu")
    assert not any(found.values()), "\n".join(f"{where}:\n  " + "\n  ".join(f) for where, f in found.items() if f)


def test_the_front_desk_s_main_pages_have_big_targets_and_text_and_the_bar_reaches_them(
    store: tuple[str, Engine],
    staff_app: StaffApp,  # noqa: F811  (the fixture)
    new_page: Callable[..., Page],
    shoot: Callable[[Page, str], Path],
) -> None:
    seed_day(store[1])
    create_account(engine=store[1], username="desk", password=PASSWORD, role="front_desk", display_name="desk")
    phone = new_page(viewport=PHONE)
    phone.goto(f"{staff_app.url}/arrivals")
    signed_in(phone, "desk")
    found = {}
    for path, page_title in FRONT_DESK_PAGES:
        phone.goto(f"{staff_app.url}/{path}")
        expect(title(phone)).to_have_text(page_title)
        found[path] = measured(phone)
        shoot(phone, path)
    assert not any(found.values()), "\n".join(f"{where}:\n  " + "\n  ".join(f) for where, f in found.items() if f)

    phone.goto(f"{staff_app.url}/arrivals")
    expect(title(phone)).to_have_text("Arrivals")
    walk_the_bar(phone, FRONT_DESK_BAR, shoot)


def test_a_laptop_keeps_the_sidebar_and_shows_no_bar(
    store: tuple[str, Engine],
    staff_app: StaffApp,  # noqa: F811  (the fixture)
    new_page: Callable[..., Page],
    shoot: Callable[[Page, str], Path],
) -> None:
    seed_day(store[1])
    create_account(engine=store[1], username="tess", password=PASSWORD, role="technician", display_name="tess")
    laptop = new_page(viewport=LAPTOP)
    laptop.goto(f"{staff_app.url}/board")
    signed_in(laptop, "tess")
    expect(title(laptop)).to_have_text("Equipment board")
    expect(laptop.get_by_role("link", name="Scan a station")).to_be_visible()  # the sidebar, open
    expect(bar(laptop)).to_be_hidden()
    queue, stations = laptop.get_by_role("heading", name="Clean next"), laptop.get_by_label("Zone")
    expect(queue).to_be_in_viewport()
    expect(stations).to_be_in_viewport()
    queue_box, stations_box = queue.bounding_box(), stations.bounding_box()
    assert queue_box and stations_box and queue_box["x"] < stations_box["x"], "the board's two columns side by side"
    shoot(laptop, "board")
