"""A technician scans a station's QR label in a real Chromium: the link read back from the printed label (the PNG
`clinic device label` writes) opens the staff app's scan page, sign-in keeps the station, one tap on "Start use"
records the use, and an equipment board open on another tablet shows the station in use without a reload.

`clinic staff` runs as a subprocess on a fresh SQLite store; Chromium is Debian's, driven through the e2e
conftest's session Playwright (`new_page`, `shoot`).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, ViewportSize, expect
from sqlalchemy import Engine, select

from kiosk.camera import read_qr
from shared.ingest import EVENTS
from shared.staff import create_account, recent_audit
from shared.stations import get_station, register_equipment
from tests.helpers import free_port, wait_for_port

PASSWORD = "correct horse battery"
SERVER_START_S = 40.0
LIVE_S = 10.0  # the board refreshes every second: a tap must show well within this
PHONE = ViewportSize(width=412, height=915)
HOSTILE = '<img src=x onerror="window.__xss=1"> **Bars**'


@dataclass
class StaffApp:
    url: str
    env: dict[str, str]
    log: Path


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as response:
            return bool(response.status == 200 and response.read().strip() == b"ok")
    except OSError:
        return False


@pytest.fixture
def staff_app(store: tuple[str, Engine], tmp_path: Path) -> Iterator[StaffApp]:
    """`python -m clinic staff --port N` on the test store; labels link to it (CLINIC_STAFF_URL)."""
    port = free_port()
    url = f"http://localhost:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINIC_")}
    env.update(
        CLINIC_DATABASE_URL=store[0],
        CLINIC_DATA_DIR=str(tmp_path / "data"),
        CLINIC_TIMEZONE="UTC",
        CLINIC_STAFF_URL=url,
        CLINIC_BOARD_REFRESH_S="1",
        CLINIC_LOG_LEVEL="WARNING",
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
    )
    log = tmp_path / "staff.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "clinic", "staff", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + SERVER_START_S
        while not _healthy(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the staff app did not start:\n{log.read_text(errors='replace')[-4000:]}")
            time.sleep(0.05)
        yield StaffApp(url, env, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
        wait_for_port(port, up=False)


def sign_in(page: Page, username: str) -> None:
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_attached()


def board_status(board: Page, equipment_id: str, words: str) -> Locator:
    """The station's status badge on the board when it reads `words` (a redraw may briefly keep the old one)."""
    return board.locator(f"#status-{equipment_id}").filter(has_text=re.compile(f"^{re.escape(words)}$")).first


def test_a_technician_scans_a_station_label_and_the_open_board_shows_it_in_use(
    store: tuple[str, Engine],
    staff_app: StaffApp,
    new_page: Callable[..., Page],
    shoot: Callable[[Page, str], Path],
    tmp_path: Path,
) -> None:
    engine = store[1]
    register_equipment(engine, site="main", equipment_id="tm-1", name="Treadmill 1", zone="Gym A")
    register_equipment(engine, site="main", equipment_id="bars-1", name=HOSTILE, zone="Gym A")
    create_account(engine, username="tess", password=PASSWORD, role="technician", display_name="tess")
    create_account(engine, username="desk", password=PASSWORD, role="front_desk", display_name="desk")

    label = tmp_path / "tm-1.png"  # the label as printed, and what a phone's camera reads from it
    made = subprocess.run([sys.executable, "-m", "clinic", "device", "label", "tm-1", "--out", str(label)],
                          env=staff_app.env, cwd=tmp_path, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert made.returncode == 0, made.stderr
    link = read_qr(label.read_bytes())
    assert link == f"{staff_app.url}/scan?s=main/tm-1"

    board = new_page()  # the equipment board, open on the gym's tablet before the scan
    board.goto(staff_app.url + "/")
    sign_in(board, "desk")
    expect(board.get_by_role("heading", name="Equipment board")).to_be_visible()
    expect(board_status(board, "tm-1", "available")).to_be_visible()
    board.evaluate("window.__sameDocument = true")  # a reload would forget this
    loads: list[str] = []
    board.on("load", lambda _: loads.append(board.url))

    phone = new_page(viewport=PHONE)  # the technician's phone, signed out, opens the label's link
    phone.goto(link)
    sign_in(phone, "tess")
    expect(phone.get_by_role("heading", name="Scan a station")).to_be_visible()
    expect(phone.get_by_role("heading", name="Treadmill 1")).to_be_visible()
    scan_status = phone.locator("#scan-status")
    expect(scan_status).to_have_text("available")
    assert phone.url == link, "the station stays in the address through sign-in"
    expect(phone.get_by_text("Page not found")).to_have_count(0)
    expect(phone.get_by_role("radio", name="UV")).to_be_visible()  # the page has finished drawing
    shoot(phone, "1-scanned")

    phone.get_by_role("button", name="Start use").click()
    expect(scan_status).to_have_text("in use for 0 min")
    expect(phone.get_by_text("Treadmill 1: use started")).to_be_visible()
    expect(phone.get_by_role("button", name="End use")).to_be_enabled(timeout=2 * LIVE_S * 1000)
    expect(phone.get_by_role("button", name="Start use")).to_be_disabled(timeout=2 * LIVE_S * 1000)
    shoot(phone, "2-started")

    expect(board_status(board, "tm-1", "in use for 0 min")).to_be_visible(timeout=LIVE_S * 1000)  # no reload
    mark_cleaned = board.locator(".st-key-card-tm-1").get_by_role("button", name="Mark cleaned")
    expect(mark_cleaned).to_be_disabled(timeout=2 * LIVE_S * 1000)  # the board redraws its cards on its own timer
    shoot(board, "3-board")
    assert board.evaluate("window.__sameDocument === true"), "the board was reloaded"
    assert loads == [], f"the board loaded again: {loads}"
    expect(board.locator(".st-key-card-bars-1 h4")).to_have_text(HOSTILE)
    assert board.evaluate("window.__xss === undefined") and phone.evaluate("window.__xss === undefined")

    view = get_station(engine, site="main", equipment_id="tm-1", tz=UTC)
    assert (view.status, view.uses_today) == ("in_use", 1)
    entry = recent_audit(engine, limit=1)[0]
    assert (entry.actor, entry.action, entry.target) == ("tess", "equipment.use_started", "main/tm-1")
    with engine.connect() as conn:
        rows = conn.execute(select(EVENTS.c.source, EVENTS.c.by, EVENTS.c.session_id)).all()
    assert [(r.source, r.by) for r in rows] == [("staff", "tess")] and rows[0].session_id
