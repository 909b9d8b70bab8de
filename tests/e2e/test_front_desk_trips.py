"""The front desk's and the manager's trip-ups (issue #28) in a real Chromium at 1366 x 768, the desk's screen:
an early patient reads "early (appt HH:MM)" with the minutes counted, the queue comes before the walk-in forms
with at least three rows on screen, the charts' axes read plain numbers (no "2e+2"), and the Chain page shows
staff no shell command.

The clinic's time zone is picked so that it is the middle of the day there whenever the test runs, so every
appointment below falls on the clinic's today.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from sqlalchemy import Engine

from shared.care.appointments import add_appointment, set_appointment_status
from shared.care.patients import add_patient
from shared.equipment import board
from shared.equipment.stations import register_equipment
from shared.staff.accounts import create_account
from shared.store.db import unit_of_work
from tests.e2e.staff_fixtures import PASSWORD, StaffApp, serving_staff_app, sign_in, staff_env
from tests.helpers import free_port

DESK = ViewportSize(width=1366, height=768)


def midday_zone(now: datetime) -> str:
    """A fixed-offset zone where it is between 10:00 and 13:59 at `now` (Etc/GMT-N is N hours ahead of UTC)."""
    ahead = (12 - now.hour) % 24
    ahead = ahead - 24 if ahead > 14 else ahead  # the zones go from 12 hours behind to 14 ahead
    return "UTC" if ahead == 0 else f"Etc/GMT{-ahead:+d}"


@pytest.fixture
def desk_app(store: tuple[str, Engine], tmp_path: Path) -> Iterator[StaffApp]:
    port = free_port()
    zone = midday_zone(datetime.now(UTC))
    env = staff_env(CLINIC_DATABASE_URL=store[0], CLINIC_DATA_DIR=str(tmp_path / "data"), CLINIC_TIMEZONE=zone,
                    CLINIC_STAFF_URL=f"http://localhost:{port}")  # fmt: skip
    with serving_staff_app(env, tmp_path, port=port) as (url, _process, log):
        yield StaffApp(url, env, log)


def seed(engine: Engine, tz: ZoneInfo) -> tuple[int, str]:
    """Six appointments today: Ada came 25 minutes ago for an appointment 10 minutes ago (early, waiting 10 min),
    the others are later; a station used for hours yesterday (hundreds of minutes on the chart). Returns Ada's
    appointment id and its start as the clinic's clock shows it."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    ada_start = now - timedelta(minutes=10)
    people = [("Ada", "Early", ada_start), ("Ben", "Booth", now + timedelta(minutes=20)),
              ("Cleo", "Dunn", now + timedelta(minutes=40)), ("Dev", "Eno", now + timedelta(minutes=60)),
              ("Eva", "Fry", now + timedelta(minutes=80)), ("Finn", "Gale", now + timedelta(minutes=100))]  # fmt: skip
    ids = []
    for first, last, starts_at in people:
        with unit_of_work(engine) as session:
            patient = add_patient(session=session, first=first, last=last, dob=date(1960, 1, 1))
        assert patient.id is not None
        with unit_of_work(engine) as session:
            booked = add_appointment(session=session, patient_id=patient.id, starts_at=starts_at, site="main",
                                     clinician="Alex")  # fmt: skip
        assert booked.id is not None
        ids.append(booked.id)
    with unit_of_work(engine) as session:
        set_appointment_status(session=session, appointment_id=ids[0], status="arrived",
                               now=now - timedelta(minutes=25))  # fmt: skip
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1", name="Treadmill 1", zone="Gym A")
    yesterday = now - timedelta(days=1)
    with unit_of_work(engine) as session:
        board.start_use(session=session, site="main", equipment_id="tm-1", by="device", tz=tz,
                        now=yesterday - timedelta(hours=6))  # fmt: skip
    with unit_of_work(engine) as session:
        board.end_use(session=session, site="main", equipment_id="tm-1", by="device", tz=tz, now=yesterday)
    create_account(engine=engine, username="boss", password=PASSWORD, role="admin", display_name="boss")
    return ids[0], f"{ada_start.astimezone(tz):%H:%M}"


def test_the_front_desk_and_the_manager_do_not_trip(
    store: tuple[str, Engine],
    desk_app: StaffApp,
    new_page: Callable[..., Page],
    shoot: Callable[[Page, str], Path],
) -> None:
    tz = ZoneInfo(desk_app.env["CLINIC_TIMEZONE"])
    ada, ada_start = seed(store[1], tz)
    page = new_page(viewport=DESK)
    page.goto(desk_app.url + "/arrivals")
    sign_in(page, "boss")
    expect(page.get_by_role("heading", level=1)).to_have_text("Arrivals")

    early = page.locator(f".st-key-arrival-{ada}")
    expect(early).to_contain_text(f"early (appt {ada_start})")
    expect(early).to_contain_text(re.compile(r"waiting 1[01] min"))  # counted from her appointment, not "0 min"
    rows = page.locator("[class*='st-key-arrival-']")
    expect(rows).to_have_count(6)
    walk_in = page.get_by_role("heading", name="Walk-in")
    first_row, form = rows.first.bounding_box(), walk_in.bounding_box()
    assert first_row is not None and form is not None
    assert first_row["y"] < form["y"], "the queue comes before the walk-in forms"
    on_screen = [box for box in (rows.nth(n).bounding_box() for n in range(6))
                 if box is not None and box["y"] >= 0 and box["y"] + box["height"] <= DESK["height"]]  # fmt: skip
    assert len(on_screen) >= 3, f"only {len(on_screen)} queue rows fit on a 1366 x 768 screen"
    shoot(page, "1-arrivals")

    page.goto(desk_app.url + "/charts")
    expect(page.get_by_role("heading", level=1)).to_have_text("Usage and cleaning")
    charts = page.locator(".stVegaLiteChart")
    expect(charts).to_have_count(2)
    for n in range(2):
        ticks = charts.nth(n).locator("svg .role-axis-label text")
        expect(ticks.first).to_be_attached()  # drawn as SVG, so the labels are text a test (and a reader) can read
        labels = ticks.evaluate_all("texts => texts.map(t => t.textContent)")
        assert labels and not [t for t in labels if "e+" in t], f"chart {n + 1}'s axis labels: {labels}"
    minutes = charts.nth(1).locator("svg .role-axis-label text").evaluate_all("ts => ts.map(t => t.textContent)")
    assert "200" in minutes or "300" in minutes, f"six hours in use reads in plain minutes: {minutes}"
    expect(charts.nth(1).locator("svg .role-axis-title text", has_text="Minutes")).to_have_count(1)
    shoot(page, "2-charts")

    page.goto(desk_app.url + "/chain")
    expect(page.get_by_role("heading", level=1)).to_have_text("Chain")
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    expect(page.get_by_text(re.compile(r"\bclinic [a-z]"))).to_have_count(0)  # no `clinic chain add-site ...`
    shoot(page, "3-chain")
