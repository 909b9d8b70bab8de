"""A technician scans a station's QR label in a real Chromium: the link read back from the printed label (the PNG
`clinic device label` writes) opens the staff app's scan page, sign-in keeps the station, one tap on "Start use"
records the use, and an equipment board open on another tablet shows the station in use without a reload.

`clinic staff` runs as a subprocess on a fresh SQLite store; Chromium is Debian's, driven through the e2e
conftest's session Playwright (`new_page`, `shoot`).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

from playwright.sync_api import Locator, Page, ViewportSize, expect
from sqlalchemy import Engine, select

from kiosk.lobby.camera import read_qr
from shared.equipment.ingest_rows import EVENTS
from shared.equipment.stations import get_station, register_equipment
from shared.staff.accounts import create_account
from shared.staff.audit import recent_audit
from shared.store.db import read_session, unit_of_work
from tests.e2e.staff_fixtures import PASSWORD, StaffApp, sign_in, staff_app  # noqa: F401  (fixture)

LIVE_S = 10.0  # the board refreshes every second: a tap must show well within this
PHONE = ViewportSize(width=412, height=915)
HOSTILE = '<img src=x onerror="window.__xss=1"> **Bars**'


def board_status(board: Page, equipment_id: str, words: str) -> Locator:
    """The station's status badge on the board when it reads `words` (a redraw may briefly keep the old one)."""
    return board.locator(f"#status-{equipment_id}").filter(has_text=re.compile(f"^{re.escape(words)}$")).first


def test_a_technician_scans_a_station_label_and_the_open_board_shows_it_in_use(
    store: tuple[str, Engine],
    staff_app: StaffApp,  # noqa: F811  (the fixture)
    new_page: Callable[..., Page],
    shoot: Callable[[Page, str], Path],
    tmp_path: Path,
) -> None:
    engine = store[1]
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1", name="Treadmill 1", zone="Gym A")
        register_equipment(session=session, site="main", equipment_id="bars-1", name=HOSTILE, zone="Gym A")
    create_account(engine=engine, username="tess", password=PASSWORD, role="technician", display_name="tess")
    create_account(engine=engine, username="desk", password=PASSWORD, role="front_desk", display_name="desk")

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
    expect(board.locator(".st-key-card-bars-1 h3")).to_have_text(HOSTILE)
    assert board.evaluate("window.__xss === undefined") and phone.evaluate("window.__xss === undefined")

    with read_session(engine) as session:
        view = get_station(session=session, site="main", equipment_id="tm-1", tz=UTC)
    assert (view.status, view.uses_today) == ("in_use", 1)
    with read_session(engine) as session:
        entry = recent_audit(session=session, limit=1)[0]
    assert (entry.actor, entry.action, entry.target) == ("tess", "equipment.use_started", "main/tm-1")
    with engine.connect() as conn:
        rows = conn.execute(select(EVENTS.c.source, EVENTS.c.by, EVENTS.c.session_id)).all()
    assert [(r.source, r.by) for r in rows] == [("staff", "tess")] and rows[0].session_id
