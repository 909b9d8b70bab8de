"""The equipment board holds still on a desktop (1400 x 900) in a real Chromium: cards keep their places (zone,
then name) across refreshes while statuses change, "Clean next" rows keep theirs (a new station joins at the
end), and the queue's first row and the grid both start above the fold."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from shared.equipment import board
from shared.equipment.stations import register_equipment
from shared.staff.accounts import create_account
from shared.store.db import unit_of_work
from tests.e2e.staff_fixtures import DESKTOP, PASSWORD, StaffApp, sign_in, staff_app  # noqa: F401  (fixture)

STATIONS = [("bike-1", "Bike 1", "Gym A"), ("tm-1", "Treadmill 1", "Gym A"), ("bars-1", "Parallel bars", "Gym B"),
            ("stairs-1", "Stairs", "Gym B"), ("us-1", "Ultrasound", "Modalities")]  # fmt: skip
LIVE_MS = 10_000


def boxes(page: Page, selector: str) -> dict[str, tuple[float, float]]:
    """Where each matching element is (x, y) on the screen, by the id in its st-key class, once the page holds
    still: the same for 20 frames in a row (a first load settles within a few frames; a refresh that moved a
    card would keep it moved)."""
    found: dict[str, list[float]] = page.evaluate(
        """(sel) => new Promise((done, fail) => {
            const measure = () => JSON.stringify(Object.fromEntries([...document.querySelectorAll(sel)].map(e => {
                const key = [...e.classList].find(c => c.startsWith('st-key-'));
                const r = e.getBoundingClientRect();
                return [key, [Math.round(r.x), Math.round(r.y)]];
            })));
            const deadline = performance.now() + 5000;
            let last = measure(), same = 0;
            const tick = () => {
                const now = measure();
                same = now === last ? same + 1 : 0;
                last = now;
                if (same >= 20) return done(JSON.parse(now));
                if (performance.now() > deadline) return fail(new Error('the page never held still'));
                requestAnimationFrame(tick);
            };
            requestAnimationFrame(tick);
        })""",
        selector,
    )
    return {key: (xy[0], xy[1]) for key, xy in found.items()}


def used(engine: Engine, equipment_id: str) -> None:
    with unit_of_work(engine) as session:
        board.start_use(session=session, site="main", equipment_id=equipment_id, by="device", tz=UTC)
    with unit_of_work(engine) as session:
        board.end_use(session=session, site="main", equipment_id=equipment_id, by="device", tz=UTC)


def test_cards_and_the_queue_keep_their_places_while_statuses_change(
    store: tuple[str, Engine],
    staff_app: StaffApp,  # noqa: F811  (the fixture)
    new_page: Callable[..., Page],
    shoot: Callable[[Page, str], Path],
) -> None:
    engine = store[1]
    for equipment_id, name, zone in STATIONS:
        with unit_of_work(engine) as session:
            register_equipment(session=session, site="main", equipment_id=equipment_id, name=name, zone=zone)
    used(engine, "tm-1")
    used(engine, "bars-1")
    create_account(engine=engine, username="desk", password=PASSWORD, role="front_desk", display_name="desk")
    page = new_page(viewport=DESKTOP)
    page.goto(staff_app.url + "/")
    sign_in(page, "desk")
    expect(page.locator("#status-bars-1")).to_have_text(re.compile("^needs cleaning"))
    expect(page.locator(".st-key-next-main-tm-1")).to_be_visible()
    cards = boxes(page, "[class*='st-key-card-']")
    reading_order = [k.removeprefix("st-key-card-") for k in sorted(cards, key=lambda k: cards[k][::-1])]
    assert reading_order == ["bike-1", "tm-1", "bars-1", "stairs-1", "us-1"]  # zone (A, B, Modalities), then name
    queue = boxes(page, "[class*='st-key-next-main-']")
    first_row = page.locator(".st-key-next-main-tm-1, .st-key-next-main-bars-1").first
    expect(first_row).to_be_in_viewport()
    expect(page.locator(".st-key-card-bike-1")).to_be_in_viewport()
    shoot(page, "1-before")

    with unit_of_work(engine) as session:
        board.start_use(
            session=session, site="main", equipment_id="bike-1", by="device", tz=UTC
        )  # statuses change meanwhile
    with unit_of_work(engine) as session:
        board.take_out_of_service(
            session=session, site="main", equipment_id="us-1", by="device", reason="cable", tz=UTC
        )
    used(engine, "stairs-1")  # a third station joins the queue
    expect(page.locator("#status-bike-1")).to_have_text(re.compile("^in use"), timeout=LIVE_MS)
    expect(page.locator("#status-us-1")).to_have_text(re.compile("^out of service", re.IGNORECASE), timeout=LIVE_MS)
    expect(page.locator(".st-key-next-main-stairs-1")).to_be_visible(timeout=LIVE_MS)
    assert boxes(page, "[class*='st-key-card-']") == cards, "a card moved"
    after = boxes(page, "[class*='st-key-next-main-']")
    assert {k: after[k] for k in queue} == queue, "a queue row moved on a refresh"
    assert after["st-key-next-main-stairs-1"][1] > max(y for _, y in queue.values()), "the new one joins at the end"
    shoot(page, "2-after-changes")
