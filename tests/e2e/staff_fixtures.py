"""The staff app for browser tests: `python -m clinic staff` as a subprocess on the test store, and sign-in.

Test modules import the fixture (`from tests.e2e.staff_fixtures import staff_app`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from sqlalchemy import Engine

from tests.helpers import free_port, wait_for_port

PASSWORD = "correct horse battery"
SERVER_START_S = 40.0
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1400, height=900)


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


@contextmanager
def serving_staff_app(
    env: dict[str, str], tmp_path: Path, *, port: int
) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """`python -m clinic staff --port PORT` with `env` (see `staff_env`) until the block ends; yields its URL,
    process and log. The one way every browser test starts the staff app."""
    url = f"http://localhost:{port}"
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
        yield url, process, log
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
        wait_for_port(port, up=False)


def staff_env(**settings: str) -> dict[str, str]:
    """This process's environment without its CLINIC_* variables, plus `settings` (CLINIC_* names)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINIC_")}
    env.update(settings, CLINIC_LOG_LEVEL="WARNING", STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    return env


@pytest.fixture
def staff_app(store: tuple[str, Engine], tmp_path: Path) -> Iterator[StaffApp]:
    """The staff app on the test store; labels link to it (CLINIC_STAFF_URL)."""
    port = free_port()
    env = staff_env(CLINIC_DATABASE_URL=store[0], CLINIC_DATA_DIR=str(tmp_path / "data"), CLINIC_TIMEZONE="UTC",
                    CLINIC_STAFF_URL=f"http://localhost:{port}", CLINIC_BOARD_REFRESH_S="1")  # fmt: skip
    with serving_staff_app(env, tmp_path, port=port) as (url, _process, log):
        yield StaffApp(url, env, log)


def sign_in(page: Page, username: str) -> None:
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_attached()


