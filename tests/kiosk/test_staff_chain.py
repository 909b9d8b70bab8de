"""The chain page of the staff app through AppTest: every site at a glance, one site's board, admins only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from shared.chain.sites import add_site
from shared.equipment.ingest import record_batch
from shared.equipment.payloads import decode
from shared.equipment.stations import register_equipment
from shared.store.db import unit_of_work
from tests.clock import AFTER_MIDNIGHT, BEFORE_MIDNIGHT
from tests.kiosk.staff_app import REFUSED, STAFF, add_staff, errors, sign_in, texts

COMPLIANCE = "Cleaned after use, 7 d (%)"


@pytest.fixture
def chain(staff_env: Path, engine: Engine, clock: datetime) -> Engine:
    """A center's store: north (3 stations) and south (1 station) registered, with a little traffic each, from 30
    minutes before the test's clock (the clinic's zone is UTC)."""
    with unit_of_work(engine) as session:
        add_site(session=session, site="north", name="North Clinic")
        add_site(session=session, site="south", name="South Clinic")
    for site, ids in {"north": ("n1", "n2", "n3"), "south": ("s1",)}.items():
        for equipment_id in ids:
            with unit_of_work(engine) as session:
                register_equipment(
                    session=session, site=site, equipment_id=equipment_id, name=f"Bike {equipment_id}", zone="Gym"
                )
    start = clock - timedelta(minutes=30)
    messages = [
        ("north", "n1", "usage", {"event": "start"}),
        ("north", "n1", "usage", {"event": "stop", "duration_s": 600}),  # n1 now needs cleaning
        ("north", "n2", "usage", {"event": "start"}),  # n2 in use
        ("north", "n3", "status", "offline"),
        ("south", "s1", "usage", {"event": "start"}),
        ("south", "s1", "usage", {"event": "stop", "duration_s": 600}),
        ("south", "s1", "cleaning", {"event": "cleaned", "by": "Ana"}),  # cleaned before its next use
    ]
    decoded = []
    for n, (site, equipment_id, channel, body) in enumerate(messages):
        at = start + timedelta(minutes=n)
        payload = body if isinstance(body, str) else json.dumps({"v": 1, "event_id": f"e{n}", "ts": at.isoformat(),
                                                                 **body})  # fmt: skip
        topic = f"clinic/{site}/equipment/{equipment_id}/{channel}"
        decoded.append(decode(topic, payload.encode(), prefix="clinic", received_at=at))
    assert record_batch(engine=engine, items=decoded, tz=UTC).inserted == 6
    return engine


def _chain_page(engine: Engine, role: str) -> AppTest:
    app = sign_in(AppTest.from_file(STAFF, default_timeout=30).run(), add_staff(engine, role, role))
    app.switch_page("screens/chain.py").run()
    assert not app.exception, app.exception
    return app


@pytest.mark.parametrize(
    ("clock", "uses_today"),
    [
        pytest.param(BEFORE_MIDNIGHT, (2, 1), id="before-midnight"),
        pytest.param(AFTER_MIDNIGHT, (0, 0), id="after-midnight"),
    ],
    indirect=["clock"],
)
def test_an_admin_sees_every_site_at_a_glance(chain: Engine, uses_today: tuple[int, int]) -> None:
    """Just before midnight the starts of the last half hour are today's uses; just after, they are yesterday's."""
    app = _chain_page(chain, "admin")
    assert [t.value for t in app.title] == ["Chain"]
    table = app.dataframe[0].value.set_index("Site")
    north, south = table.loc["North Clinic (north)"], table.loc["South Clinic (south)"]
    assert (north["Stations"], north["Needs cleaning"], north["In use"], north["Available"], north["Offline"]) == (
        3, 1, 1, 1, 1,
    )  # fmt: skip
    assert (south["Stations"], south["Needs cleaning"], south["Available"], south["Offline"]) == (1, 0, 1, 0)
    assert north[COMPLIANCE] == 0  # n1 was used and is still not cleaned
    assert south[COMPLIANCE] == 100
    assert (north["Uses today"], south["Uses today"]) == uses_today
    assert "2 sites · 4 stations" in texts(app)


def test_drilling_into_a_site_shows_its_board_only(chain: Engine) -> None:
    app = _chain_page(chain, "admin")
    assert app.selectbox(key="chain_site").value == "north"
    shown = texts(app)
    assert "Bike n1" in shown and "Bike s1" not in shown
    assert "needs cleaning for" in shown and "Offline since" in shown
    app.selectbox(key="chain_site").set_value("south").run()
    shown = texts(app)
    assert "Bike s1" in shown and "Bike n1" not in shown
    assert [b.key for b in app.button] == ["sign_out"]  # read-only: actions are taken at the site
    assert errors(app) == []


@pytest.mark.parametrize("role", ["technician", "front_desk"])
def test_only_admins_may_open_the_chain_page(chain: Engine, role: str) -> None:
    app = _chain_page(chain, role)
    assert errors(app) == [REFUSED]
    assert "North Clinic" not in texts(app)
