"""The staff board live in a real Chromium: a real Mosquitto, the project's listener and `clinic staff` as a
subprocess. A device's MQTT messages must change a station's status on an open board without a reload.

Fixtures live here (the e2e conftest belongs to the lobby tests): Debian's Chromium is launched the same way,
through that conftest's session Playwright when it provides one (two sync Playwrights cannot run at once).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import Engine

from shared.equipment.ingest import record_batch
from shared.equipment.payloads import decode
from shared.equipment.stations import get_station, register_equipment
from shared.staff.accounts import create_account
from shared.staff.audit import recent_audit
from shared.store.db import read_session, unit_of_work
from telemetry.broker_acl import SIMULATOR_USER
from tests.conftest import Broker
from tests.e2e.staff_fixtures import serving_staff_app, staff_env
from tests.helpers import free_port
from tests.mqtt_helpers import connect, listener_settings, running_listener

CHROMIUM = Path(os.environ.get("CLINIC_E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LIVE_S = 10.0  # the board refreshes every second; a device's message must show well within this
PASSWORD = "correct horse battery"
HOSTILE = '<img src=x onerror="window.__xss=1"> **Rower**'


@dataclass
class StaffServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture(scope="module")
def staff_browser(request: pytest.FixtureRequest) -> Iterator[Browser]:
    """Debian's Chromium, headless (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is needed for the browser tests but {CHROMIUM} is missing (scripts/setup.sh)")
    owned = None
    try:
        playwright = request.getfixturevalue("playwright")  # the e2e conftest's, when it has one
    except pytest.FixtureLookupError:
        owned = sync_playwright().start()
        playwright = owned
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()
    if owned is not None:
        owned.stop()


@pytest.fixture
def staff_page(staff_browser: Browser) -> Iterator[Page]:
    context = staff_browser.new_context(viewport={"width": 1400, "height": 950})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def staff_server(db_url: str, broker: Broker, tmp_path: Path) -> Iterator[StaffServer]:
    """The staff app on the test store, refreshing its board every second."""
    env = staff_env(CLINIC_DATABASE_URL=db_url, CLINIC_DATA_DIR=str(broker.settings.data_dir), CLINIC_TIMEZONE="UTC",
                    CLINIC_MQTT_PORT=str(broker.port), CLINIC_BOARD_REFRESH_S="1")  # fmt: skip
    with serving_staff_app(env, tmp_path, port=free_port()) as (url, process, log):
        yield StaffServer(f"{url}/", process, log)


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()


def usage(event: str, n: int, at: datetime | None = None) -> bytes:
    body: dict[str, object] = {
        "v": 1,
        "event_id": f"live-{n}-{uuid.uuid4().hex[:6]}",
        "event": event,
        "ts": (at or datetime.now(UTC)).isoformat(),
    }
    if event == "stop":
        body["duration_s"] = 5 if at is None else 12 * 60
    return json.dumps(body).encode()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_device_messages_change_the_open_board_without_a_reload(
    db_url: str, engine: Engine, broker: Broker, staff_server: StaffServer, staff_page: Page, tmp_path: Path
) -> None:

    page = staff_page
    create_account(engine=engine, username="tess", password=PASSWORD, role="technician", display_name="tess (tech)")
    with running_listener(listener_settings(broker, db_url), engine):
        sign_in(page, staff_server.url, "tess")
        expect(page.get_by_role("heading", name="Equipment board")).to_be_visible()
        page.evaluate("window.__sameDocument = true")  # a reload would forget this
        loads: list[str] = []
        page.on("load", lambda _: loads.append(page.url))

        with unit_of_work(engine) as session:
            register_equipment(
                session=session, site="main", equipment_id="rower-1", name="Rower 1", zone="Gym A", actor="admin"
            )
        status = page.locator("#status-rower-1")
        expect(status).to_have_text("available", timeout=LIVE_S * 1000)  # a new station appears by itself

        device = connect(broker.port, SIMULATOR_USER, broker.simulator_password)
        try:
            assert not device.publish("clinic/main/equipment/rower-1/usage", usage("start", 1)).is_failure
            expect(status).to_have_text("in use for 0 min", timeout=LIVE_S * 1000)
            card = page.locator(".st-key-card-rower-1")
            expect(card.get_by_role("button", name="Mark cleaned")).to_be_disabled()
            page.screenshot(path=tmp_path / "board-in-use.png", full_page=True)

            assert not device.publish("clinic/main/equipment/rower-1/usage", usage("stop", 2)).is_failure
            expect(status).to_have_text("needs cleaning for 0 min", timeout=LIVE_S * 1000)
        finally:
            device.close()

        card.get_by_role("button", name="Mark cleaned").click()
        # The disinfectant's contact time (CLINIC_CONTACT_TIME_MIN, 2 min by default) before it is available.
        # While the click's rerun replaces the card, Streamlit briefly shows the old and the new one: wait for
        # the new text, then for the old card to be gone.
        cleaned = page.locator("#status-rower-1").filter(has_text=re.compile(r"^cleaning, ready in 2 min$"))
        expect(cleaned).to_be_visible(timeout=LIVE_S * 1000)
        expect(status).to_have_count(1, timeout=LIVE_S * 1000)
        expect(status).to_have_text("cleaning, ready in 2 min")
        expect(card).to_contain_text("Last cleaned ")
        expect(card).to_contain_text(" by tess · uses today 1")
        page.screenshot(path=tmp_path / "board-cleaned.png", full_page=True)
        print(f"screenshots: {tmp_path}")

    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    assert loads == [], f"the page loaded again: {loads}"
    with read_session(engine) as session:
        view = get_station(session=session, site="main", equipment_id="rower-1", tz=UTC)
    assert (view.status, view.last_cleaned_by, view.uses_total) == ("available", "tess", 1)
    with read_session(engine) as session:
        entry = recent_audit(session=session, limit=1)[0]
    assert (entry.actor, entry.action, entry.target) == ("tess", "equipment.cleaned", "main/rower-1")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_admin_pages_render_in_a_browser_with_names_as_text(
    engine: Engine, staff_server: StaffServer, staff_page: Page, tmp_path: Path
) -> None:

    page = staff_page
    create_account(engine=engine, username="boss", password=PASSWORD, role="admin", display_name="boss (admin)")
    with unit_of_work(engine) as session:
        register_equipment(
            session=session,
            site="main",
            equipment_id="rower-1",
            name=HOSTILE,
            zone="<b>Gym A</b>",
            maintenance_interval_hours=100,
            actor="boss",
        )
    started = datetime.now(UTC) - timedelta(minutes=30)
    uses = [
        decode("clinic/main/equipment/rower-1/usage", usage(event, n, at), prefix="clinic", received_at=at)
        for n, (event, at) in enumerate([("start", started), ("stop", started + timedelta(minutes=12))])
    ]
    record_batch(engine=engine, items=uses, tz=UTC)
    page.set_viewport_size({"width": 1400, "height": 1600})
    sign_in(page, staff_server.url, "boss")
    for link, heading in [
        ("Equipment", "Equipment"),
        ("Staff accounts", "Staff accounts"),
        ("Audit log", "Audit log"),
        ("Usage and cleaning", "Usage and cleaning"),
    ]:
        page.get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        expect(page.locator("[data-testid='stDataFrame'], .staff-table").first).to_be_visible()
        if link == "Usage and cleaning":
            expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible()
        assert page.locator("[data-testid='stException']").count() == 0, link
        page.screenshot(path=tmp_path / f"{link.replace(' ', '-').lower()}.png", full_page=True)
        if link == "Equipment":
            page.get_by_role("button", name="Create a broker password").click()
            expect(page.get_by_text("It will not be shown again.")).to_be_visible()
            password = page.locator("[data-testid='stCode'] code").inner_text().strip()
            assert len(password) >= 20
            page.screenshot(path=tmp_path / "equipment-password.png", full_page=True)
            page.get_by_role("button", name="Replace the broker password").click()
            expect(page.locator("[data-testid='stCode'] code")).not_to_have_text(password)  # a new one
            expect(page.get_by_text("It will not be shown again.")).to_be_visible()
    page.get_by_role("link", name="Equipment board", exact=True).click()
    expect(page.locator("#status-rower-1")).to_have_text(re.compile(r"^needs cleaning for 1\d min$"))
    expect(page.locator(".st-key-card-rower-1 h3")).to_have_text(HOSTILE)
    assert page.evaluate("window.__xss === undefined"), "a name ran as HTML"
    print(f"screenshots: {tmp_path}")
