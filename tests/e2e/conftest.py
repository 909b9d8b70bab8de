"""Fixtures for the lobby in a real browser: a `clinic lobby` server, seeded data, and Debian's Chromium.

The server runs as a subprocess exactly as staff start it (`python -m clinic lobby --port N`) against a fresh
SQLite file; the test process seeds that file through the shared services. Chromium is driven by Playwright
(never `playwright install`: the browser is Debian's, installed by scripts/setup.sh).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, expect, sync_playwright
from sqlalchemy import Engine

from shared.care.appointments import add_appointment
from shared.care.cards import issue_card
from shared.care.exercises import add_exercise
from shared.care.patients import add_patient
from shared.care.plans import add_plan_item
from shared.equipment.ingest import record_batch
from shared.equipment.payloads import decode
from shared.equipment.stations import register_equipment
from shared.store.db import init_db, make_engine, unit_of_work
from tests.helpers import free_port, wait_for_port

CHROMIUM = Path(os.environ.get("CLINIC_E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FIRST, LAST, DOB = "Maria", "Gonzalez", date(1950, 4, 17)
SERVER_START_S = 40.0
EXPECT_TIMEOUT_MS = 10_000  # a deadline, not a pause: waits end as soon as the page is right (2 cores, shared)
TABLET_LANDSCAPE = ViewportSize(width=1180, height=820)
FAILED = pytest.StashKey[bool]()
SHOTS: list[Path] = []  # the screenshot folder, once made, for the summary line


@dataclass
class Patient:
    """The seeded patient as the tests need her: what she types, and what must never show."""

    id: int
    first: str
    last: str
    dob: date
    card_url: str = ""


@dataclass
class Lobby:
    """A `clinic lobby` server in a subprocess, on its own port and store."""

    port: int
    env: dict[str, str]
    workdir: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    logs: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}/"  # localhost: browsers allow the camera there without HTTPS

    def start(self) -> None:
        self.starts += 1
        log = self.workdir / f"lobby-{self.starts}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "clinic", "lobby", "--port", str(self.port)],
                env=self.env,
                cwd=self.workdir,  # no stray .env from the developer's checkout
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + SERVER_START_S
        try:
            wait_for_port(self.port, timeout=SERVER_START_S)
            while not self._healthy():
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise TimeoutError("the lobby's /_stcore/health did not answer ok")
                time.sleep(0.05)
        except TimeoutError as exc:
            self.stop()
            pytest.fail(f"lobby server did not start: {exc}\n--- {log} ---\n{log.read_text(errors='replace')[-4000:]}")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_stcore/health", timeout=1) as response:
                return bool(response.status == 200 and response.read().strip() == b"ok")
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM (as systemd or `clinic up` would), wait, and only then kill; the port must be free after."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
        wait_for_port(self.port, up=False)

    def restart(self) -> None:
        self.stop()
        self.start()


def _require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is needed for the browser tests but {CHROMIUM} is missing: run `bash scripts/setup.sh` as root "
            "(it apt-get installs chromium), or point CLINIC_E2E_CHROMIUM at a Chromium binary",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    _require_chromium()
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def launch_chromium(playwright: Playwright) -> Iterator[Callable[..., Browser]]:
    """Start Debian's Chromium (extra flags per test, e.g. a fake camera); every browser is closed at the end."""
    browsers: list[Browser] = []

    def launch(*extra_args: str) -> Browser:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args], headless=True
        )
        browsers.append(browser)
        return browser

    yield launch
    for browser in browsers:
        browser.close()


@pytest.fixture(scope="session")
def browser(launch_chromium: Callable[..., Browser]) -> Browser:
    return launch_chromium()


@pytest.fixture(scope="session")
def shots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: $CLINIC_E2E_SHOTS, or pytest's temporary folder (printed at the end)."""
    chosen = os.environ.get("CLINIC_E2E_SHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.getbasetemp() / "e2e-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    SHOTS.append(folder)
    return folder


@pytest.fixture
def shoot(shots_dir: Path, request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """Save a screenshot named after the test and a step: what the tablet shows (Streamlit scrolls inside
    its own container, so this is the screen, not the whole document)."""

    def save(page: Page, step: str) -> Path:
        path = shots_dir / f"{request.node.name}-{step}.png".replace("/", "_")
        page.screenshot(path=path)
        return path

    return save


@pytest.fixture
def new_page(browser: Browser, shots_dir: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Page]]:
    """Pages in fresh browser contexts (no shared cookies or storage); a tablet in landscape by default.

    When the test fails, each open page is saved as FAILED-<test>-<n>.png first.
    """
    contexts = []

    def make(target: Browser | None = None, viewport: ViewportSize | None = None) -> Page:
        context = (target or browser).new_context(viewport=viewport or TABLET_LANDSCAPE)
        context.set_default_timeout(15_000)  # actions and wait_for
        contexts.append(context)
        return context.new_page()

    yield make
    failed = request.node.stash.get(FAILED, False)
    for n, context in enumerate(contexts):
        for m, open_page in enumerate(context.pages if failed else []):
            with contextlib.suppress(Exception):  # the page itself may be why the test failed
                open_page.screenshot(path=shots_dir / f"FAILED-{request.node.name}-{n}{m}.png")
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    return new_page()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """A fresh SQLite store shared by the test process (seeding) and the lobby server."""
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    engine = make_engine(url)
    init_db(engine)
    yield url, engine
    engine.dispose()


@pytest.fixture
def start_lobby(store: tuple[str, Engine], tmp_path: Path) -> Iterator[Callable[..., Lobby]]:
    """Start lobby servers (`idle_s` sets CLINIC_LOBBY_IDLE_S); all are stopped at teardown."""
    servers: list[Lobby] = []

    def start(idle_s: int = 60) -> Lobby:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLINIC_")}
        env.update(
            CLINIC_DATABASE_URL=store[0],
            CLINIC_DATA_DIR=str(tmp_path / "data"),
            CLINIC_TIMEZONE="UTC",
            CLINIC_KIOSK_URL=f"http://localhost:{port}",
            CLINIC_LOBBY_IDLE_S=str(idle_s),
            CLINIC_LOG_LEVEL="WARNING",
            STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
        )
        lobby = Lobby(port=port, env=env, workdir=tmp_path)
        servers.append(lobby)
        lobby.start()
        return lobby

    yield start
    for lobby in servers:
        lobby.stop()


@pytest.fixture
def lobby(start_lobby: Callable[..., Lobby]) -> Lobby:
    return start_lobby()


@pytest.fixture
def patient(store: tuple[str, Engine]) -> Patient:
    """Maria, booked 20 minutes from now, with a plan on a treadmill that is in use right now."""
    engine = store[1]
    with unit_of_work(engine) as session:
        added = add_patient(session=session, first=FIRST, last=LAST, dob=DOB)
    assert added.id is not None
    starts = (datetime.now(UTC) + timedelta(minutes=20)).replace(second=0, microsecond=0)
    with unit_of_work(engine) as session:
        add_appointment(session=session, patient_id=added.id, starts_at=starts, site="main", clinician="Alex")
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1", name="Treadmill 1", zone="Gym A")
    with unit_of_work(engine) as session:
        add_exercise(
            session=session, name="Treadmill walk", instructions="Walk at an easy pace, holding the rails if you need."
        )
    with unit_of_work(engine) as session:
        add_exercise(
            session=session, name="Sit to stand", instructions="Stand up from the chair without using your hands."
        )
    yesterday = date.today() - timedelta(days=1)
    with unit_of_work(engine) as session:
        add_plan_item(session=session, patient_id=added.id, exercise="Treadmill walk", minutes=10, equipment_id="tm-1",
                      active_from=yesterday)  # fmt: skip
    with unit_of_work(engine) as session:
        add_plan_item(
            session=session, patient_id=added.id, exercise="Sit to stand", sets=3, reps=10, active_from=yesterday
        )
    start = b'{"event_id": "u1", "event": "start"}'
    usage = decode("clinic/main/equipment/tm-1/usage", start, prefix="clinic", received_at=datetime.now(UTC))
    record_batch(engine=engine, items=[usage], tz=UTC)
    return Patient(id=added.id, first=FIRST, last=LAST, dob=DOB)


@pytest.fixture
def card_for(store: tuple[str, Engine], patient: Patient) -> Callable[[Lobby], Patient]:
    """Issue the patient a card whose QR code links to the given lobby."""

    def issue(lobby: Lobby) -> Patient:
        with unit_of_work(store[1]) as session:
            patient.card_url = issue_card(session=session, patient_id=patient.id, base_url=lobby.url).url
        return patient

    return issue


@pytest.fixture
def card(card_for: Callable[[Lobby], Patient], lobby: Lobby) -> Patient:
    """The patient with a card for the default lobby."""
    return card_for(lobby)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember a failed test body, so `new_page` can save what the patient saw."""
    report: pytest.TestReport = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SHOTS:
        terminalreporter.write_line(f"lobby screenshots: {SHOTS[0]}")
