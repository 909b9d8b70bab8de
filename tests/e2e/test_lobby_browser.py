"""The lobby kiosk in a real Chromium: what AppTest cannot drive (focus, keystrokes, camera, timers, layout).

Every wait is event-driven with a deadline (Playwright's `expect`/`wait_for`); the only timed pauses are the
pacing of a patient who keeps tapping and scrolling, and they are not what the test waits on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, ViewportSize, expect
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.axe import BLOCKING, axe_violations, describe
from tests.e2e.conftest import Lobby, Patient
from tests.e2e.fake_camera import card_frame, write_y4m
from tests.e2e.steps import (
    CHECKED_IN,
    CLINIC_NAME,
    CONFIRM,
    check_in,
    done_button,
    enter_birth_date,
    first_plan_card,
    open_welcome,
    page_text,
    private_details,
    scan_field,
    scan_with_scanner,
    title,
)

Shoot = Callable[[Page, str], Path]
IDLE_S = 10  # short for a test, but longer than a loaded CI machine once took to answer Continue (over 6 s)
PORTRAIT = ViewportSize(width=820, height=1180)
LANDSCAPE = ViewportSize(width=1180, height=820)


def assert_nothing_private(page: Page, card: Patient) -> None:
    text, url = page_text(page), page.url
    for pattern in private_details(card.last, card.dob):
        assert not pattern.search(text), f"{pattern.pattern!r} is on the page:\n{text}"
        assert not pattern.search(url), f"{pattern.pattern!r} is in the address {url}"
    token = card.card_url.split("t=", 1)[1]
    assert token not in url and token not in text, "the card's token must not linger"


def test_a_usb_scanner_checks_in_without_touching_the_screen(page: Page, lobby: Lobby, card: Patient, shoot: Shoot):
    open_welcome(page, lobby.url)  # waits until the scan field has the focus all by itself
    shoot(page, "1-welcome")
    scan_with_scanner(page, card.card_url)

    expect(title(page)).to_have_text(CONFIRM)
    assert card.first not in page_text(page), "nothing personal before the birth date"
    assert_nothing_private(page, card)
    shoot(page, "2-birth-date")
    enter_birth_date(page, card.dob)

    expect(title(page)).to_have_text(CHECKED_IN)
    expect(page.get_by_text(f"Welcome, {card.first} {card.last[0]}.")).to_be_visible()
    expect(page.get_by_role("heading", name="Today's exercises")).to_be_visible()
    treadmill = page.locator(".kiosk-card", has_text="Treadmill walk")
    expect(treadmill).to_contain_text("10 min")
    expect(treadmill).to_contain_text("Treadmill 1 (Gym A)")
    expect(treadmill.locator(".kiosk-badge")).to_have_text("In use")
    expect(page.locator(".kiosk-card", has_text="Sit to stand")).to_contain_text("3 sets of 10")
    assert_nothing_private(page, card)
    shoot(page, "3-plan")


def test_a_scan_straight_after_a_tap_on_the_screen_is_not_lost(page: Page, lobby: Lobby, card: Patient):
    open_welcome(page, lobby.url)
    page.mouse.click(8, 600)  # a tap on empty space takes the focus away from the scan field...
    expect(scan_field(page)).not_to_be_focused()
    scan_with_scanner(page, card.card_url)  # ...and the card is scanned before the field gets it back
    expect(title(page)).to_have_text(CONFIRM)


def test_the_lobby_resets_itself_when_nobody_touches_it(
    start_lobby: Callable[..., Lobby], card_for: Callable[[Lobby], Patient], page: Page, shoot: Shoot
):
    lobby = start_lobby(idle_s=IDLE_S)
    card = card_for(lobby)
    check_in(page, lobby.url, card.card_url, card.dob)
    shoot(page, "1-plan")

    expect(title(page)).to_have_text(CLINIC_NAME, timeout=(IDLE_S + 10) * 1000)  # nobody touches it
    expect(scan_field(page)).to_be_focused()
    assert card.first not in page_text(page)
    shoot(page, "2-reset")

    page.go_back()  # the next person presses Back: the lobby replaced its history entry, so it leaves the app
    assert page.url in ("about:blank", lobby.url), page.url
    for gone in (card.first, "Today's exercises"):
        expect(page.get_by_text(gone)).to_have_count(0)
    if page.url == "about:blank":
        page.go_forward()
    expect(title(page)).to_have_text(CLINIC_NAME)
    page.reload()  # ...or reloads
    expect(title(page)).to_have_text(CLINIC_NAME)
    expect(scan_field(page)).to_be_focused()
    for gone in (card.first, "Today's exercises"):
        expect(page.get_by_text(gone)).to_have_count(0)


def test_scrolling_and_tapping_keep_the_plan_on_screen(
    start_lobby: Callable[..., Lobby], card_for: Callable[[Lobby], Patient], page: Page, shoot: Shoot
):
    lobby = start_lobby(idle_s=IDLE_S)
    card = card_for(lobby)
    check_in(page, lobby.url, card.card_url, card.dob)
    until = time.monotonic() + IDLE_S * 1.5  # half as long again as the idle time, reading the plan
    while time.monotonic() < until:
        page.mouse.wheel(0, 120)
        page.wait_for_timeout(700)  # a patient's pace, not a synchronisation
        page.mouse.click(8, 400)  # a tap on empty space at the left edge
        page.wait_for_timeout(700)
        expect(title(page)).to_have_text(CHECKED_IN, timeout=1)
    expect(first_plan_card(page)).to_be_visible()
    shoot(page, "plan-still-there")


def test_a_scan_right_after_a_server_restart_is_not_lost(page: Page, lobby: Lobby, card: Patient, shoot: Shoot):
    open_welcome(page, lobby.url)
    lobby.stop()
    app = page.locator("[data-testid=stApp]")
    expect(app).not_to_have_attribute("data-test-connection-state", "CONNECTED")  # the page noticed
    expect(scan_field(page)).to_be_disabled()  # (and the field lost the focus)
    shoot(page, "1-server-down")
    lobby.start()
    expect(scan_field(page)).to_be_enabled(timeout=30_000)  # the page reconnected by itself
    # The next card is scanned straight away: no waiting for the focus to come back, no tap on the field.
    scan_with_scanner(page, card.card_url)
    expect(title(page)).to_have_text(CONFIRM)
    shoot(page, "2-birth-date")


def test_the_welcome_birth_date_and_plan_screens_pass_axe(page: Page, lobby: Lobby, card: Patient, shoot: Shoot):
    open_welcome(page, lobby.url)
    screens = {"welcome": axe_violations(page)}
    scan_with_scanner(page, card.card_url)
    expect(page.get_by_role("textbox", name="Year", exact=True)).to_be_visible()
    screens["birth date"] = axe_violations(page)
    enter_birth_date(page, card.dob)
    expect(first_plan_card(page)).to_be_visible()
    screens["plan"] = axe_violations(page)
    shoot(page, "plan")
    for screen, violations in screens.items():
        minor = [v for v in violations if v["impact"] not in BLOCKING]
        if minor:
            print(f"axe, {screen} screen, not blocking:\n{describe(minor)}")
    blocking = {screen: [v for v in vs if v["impact"] in BLOCKING] for screen, vs in screens.items()}
    assert not any(blocking.values()), "\n".join(f"{s}:\n{describe(vs)}" for s, vs in blocking.items() if vs)


def test_the_plan_fits_a_tablet_in_portrait_and_in_landscape(
    new_page: Callable[..., Page], lobby: Lobby, card: Patient, shoot: Shoot
):
    page = new_page(viewport=PORTRAIT)
    check_in(page, lobby.url, card.card_url, card.dob)
    for name, size in (("portrait", PORTRAIT), ("landscape", LANDSCAPE)):
        page.set_viewport_size(size)  # the tablet turned on its stand
        page.locator("[data-testid=stMain]").evaluate("main => main.scrollTo(0, 0)")
        expect(first_plan_card(page)).to_be_in_viewport()  # the plan starts on the first screen
        shoot(page, f"{name}-1-top")
        widths = page.evaluate(
            """() => {
              const main = document.querySelector('[data-testid=stMain]');  // Streamlit's scrolling container
              return {page: document.documentElement.scrollWidth, main: main.scrollWidth,
                      mainBox: main.clientWidth, inner: window.innerWidth};
            }"""
        )
        assert widths["inner"] == size["width"]
        assert widths["page"] <= widths["inner"], f"{name}: the page scrolls sideways: {widths}"
        assert widths["main"] <= widths["mainBox"], f"{name}: the content scrolls sideways: {widths}"
        for element in (first_plan_card(page), done_button(page)):
            box = element.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= widths["inner"], (name, box)
        done_button(page).scroll_into_view_if_needed()  # a patient scrolls down (only down) to reach Done
        expect(done_button(page)).to_be_in_viewport()
        shoot(page, f"{name}-2-bottom")


def clear_photo(page: Page) -> None:
    """After an unreadable photo, clear it for another try, as a patient would: the notice's timer may redraw the
    welcome screen meanwhile and close the camera panel, which the patient then opens again."""
    take = page.get_by_role("button", name="Take Photo")
    taken = page.get_by_role("button", name="Clear photo")
    deadline = time.monotonic() + 60
    while not (take.is_visible() and take.is_enabled()):
        assert time.monotonic() < deadline, "the camera never came back for another photo"
        try:
            if taken.is_visible():
                taken.click(timeout=3_000)
            else:
                page.get_by_text("No scanner? Use the camera").click(timeout=3_000)
            expect(take).to_be_enabled(timeout=5_000)
        except (AssertionError, PlaywrightError):
            continue  # the screen changed under the tap: look again


def test_the_tablet_camera_reads_the_card(
    launch_chromium: Callable[..., Browser],
    new_page: Callable[..., Page],
    lobby: Lobby,
    card: Patient,
    shoot: Shoot,
    tmp_path: Path,
):
    video = write_y4m(tmp_path / "card.y4m", card_frame(card.card_url))
    camera = launch_chromium(
        "--use-fake-ui-for-media-stream",  # allow the camera without asking
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    )
    page = new_page(camera)
    open_welcome(page, lobby.url)
    page.get_by_text("No scanner? Use the camera").click()
    take = page.get_by_role("button", name="Take Photo")
    expect(take).to_be_enabled()  # the camera is streaming
    violations = axe_violations(page)
    assert not violations, "the camera panel: " + describe(violations)  # none of any impact, as every lobby screen
    shoot(page, "1-camera")
    unreadable = page.get_by_text("We couldn't see a code in that picture")
    confirm = title(page).filter(has_text=CONFIRM)
    taken = page.get_by_role("button", name="Clear photo")
    for _attempt in range(4):  # under load a tap can take no photo, or a blank one: the patient simply tries again
        take.click()
        try:  # the photo was taken (or already read): a tap that took nothing is tapped again, as a patient would
            expect(taken.or_(confirm).or_(unreadable).first).to_be_visible(timeout=10_000)
        except AssertionError:
            continue
        # The photo's upload and decode is a Streamlit run that a loaded CI machine has taken over 10 s to finish.
        expect(confirm.or_(unreadable).first).to_be_visible(timeout=60_000)
        if unreadable.count() == 0:
            break
        clear_photo(page)
    expect(title(page)).to_have_text(CONFIRM)
    shoot(page, "2-birth-date")
