"""The board and the records (#26): with several disinfectants listed, "Mark cleaned" asks which one (the station's
usual one chosen already) and the station stays "cleaning" for that disinfectant's contact time; an overdue
maintenance task that blocks use shows on its card as the reason the station is out of service."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

import pytest
from sqlalchemy import Engine, text
from streamlit.testing.v1 import AppTest

from shared.equipment import board
from shared.equipment.disinfectants import add_disinfectant
from shared.equipment.ingest import record_batch
from shared.equipment.maintenance import add_task
from shared.store.db import unit_of_work
from shared.store.types import utcnow
from tests import factories as make
from tests.kiosk.staff_app import add_staff, signed_in

pytestmark = pytest.mark.usefixtures("staff_env")
STATUS_RE = re.compile(r"id='status-([^']+)'><span [^>]*>([^<]*)</span>")


def statuses(app: AppTest) -> dict[str, str]:
    found: dict[str, str] = {}
    for block in app.markdown:
        found.update(STATUS_RE.findall(block.value))
    return found


@pytest.fixture
def gym(engine: Engine) -> Engine:
    make.station(engine, "tm-1", "Treadmill 1", zone="Gym A")
    record_batch(engine=engine, items=make.use_messages("tm-1", 1, 40, 15), tz=UTC)
    add_staff(engine, "ana", "technician", "Ana K.")
    return engine


def test_mark_cleaned_asks_which_disinfectant_and_waits_its_contact_time(gym: Engine) -> None:
    """The treadmill was last cleaned with bleach (before its last use): that is chosen already; the bike, never
    cleaned, has the clinic's default."""
    make.station(gym, "bike-1", "Bike 1", zone="Gym A")
    record_batch(engine=gym, items=make.use_messages("bike-1", 3, 30, 10), tz=UTC)
    with unit_of_work(gym) as session:
        add_disinfectant(session=session, name="Quat wipes", contact_min=2, by="cli:admin", default=True)
        add_disinfectant(session=session, name="Bleach 1:10", contact_min=10, by="cli:admin")
        board.mark_cleaned(session=session, site="main", equipment_id="tm-1", by="bo", tz=UTC,
                           now=utcnow() - timedelta(minutes=60), disinfectant="Bleach 1:10")  # fmt: skip
    app = signed_in("ana")
    choice = app.radio(key="clean-with-tm-1")
    assert (choice.label, choice.options, choice.value) == ("Disinfectant", ["Quat wipes", "Bleach 1:10"],
                                                            "Bleach 1:10")  # fmt: skip
    assert app.radio(key="clean-with-bike-1").value == "Quat wipes"
    app.button(key="clean-tm-1").click()
    app.run()
    assert not app.exception, app.exception
    assert statuses(app)["tm-1"] == "cleaning, ready in 10 min"
    app.radio(key="clean-with-bike-1").set_value("Bleach 1:10")
    app.button(key="clean-bike-1").click()
    app.run()
    assert statuses(app)["bike-1"] == "cleaning, ready in 10 min"
    with gym.connect() as conn:
        rows = conn.execute(text("SELECT equipment_id, by, disinfectant, contact_min FROM equipment_record "
                                 "ORDER BY seq")).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [("tm-1", "bo", "Bleach 1:10", 10.0), ("tm-1", "ana", "Bleach 1:10", 10.0),
                                        ("bike-1", "ana", "Bleach 1:10", 10.0)]  # fmt: skip


def test_with_no_disinfectants_listed_mark_cleaned_is_one_tap(gym: Engine) -> None:
    app = signed_in("ana")
    assert not [r for r in app.radio if r.key == "clean-with-tm-1"]
    app.button(key="clean-tm-1").click()
    app.run()
    assert statuses(app)["tm-1"] == "cleaning, ready in 2 min"  # CLINIC_CONTACT_TIME_MIN's default


def test_an_overdue_blocking_task_takes_the_station_out_and_its_card_says_why(gym: Engine) -> None:
    """The electrical check blocks use; the calibration (two years without one) does not, and is shown too."""
    with unit_of_work(gym) as session:
        add_task(session=session, site="main", equipment_id="tm-1", task="Electrical safety check", every_days=180,
                 blocks_use=True, by="ada", now=utcnow() - timedelta(days=181))  # fmt: skip
        add_task(session=session, site="main", equipment_id="tm-1", task="Calibration", every_days=365, by="ada",
                 now=utcnow() - timedelta(days=800))  # fmt: skip
    app = signed_in("ana")
    assert statuses(app)["tm-1"] == "out of service (maintenance)"
    assert "Fault: Maintenance overdue: Electrical safety check" in [t.value for t in app.text]
    assert [w.value for w in app.warning] == ["Calibration missed (every 365 days)",
                                              "Electrical safety check overdue (every 180 days)"]  # fmt: skip
