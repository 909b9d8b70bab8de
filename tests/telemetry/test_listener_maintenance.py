"""Maintenance that blocks use takes effect though nobody opens the board (issue #26): `clinic listen` takes out
of service, soon after it starts and then every minute, a station whose blocking task is overdue, and says so in
its log; the lobby's plan and the board then show it out of service."""

from __future__ import annotations

import signal
from datetime import timedelta

from sqlalchemy import Engine

from shared.equipment.maintenance import add_task
from shared.store.db import unit_of_work
from shared.store.types import utcnow
from tests import factories as make
from tests.conftest import Broker
from tests.helpers import wait_until
from tests.mqtt_helpers import listener_process, listener_settings

SUBSCRIBED = "subscribed: the broker confirmed"


def test_the_listener_takes_out_of_service_a_station_whose_overdue_maintenance_blocks_use(
    broker: Broker, engine: Engine, db_url: str
) -> None:
    make.station(engine, "us-1", "Ultrasound 1")
    make.station(engine, "tm-1", "Treadmill 1")
    added = utcnow() - timedelta(days=3)
    with unit_of_work(engine) as session:
        add_task(session=session, site="main", equipment_id="us-1", task="Calibration", every_days=1,
                 blocks_use=True, by="ana", now=added)  # fmt: skip
        add_task(session=session, site="main", equipment_id="tm-1", task="Belt check", every_days=1,
                 by="ana", now=added)  # overdue too, but it does not block use  # fmt: skip
    settings = listener_settings(broker, db_url)
    log = settings.data_dir / "listener.log"
    process = listener_process(settings)
    try:
        wait_until(lambda: log.exists() and SUBSCRIBED in log.read_text(), what="listener subscribed")
        wait_until(lambda: make.read_station(engine, "us-1").status == "out_of_service", timeout=30,
                   what="the ultrasound out of service")  # fmt: skip
        view = make.read_station(engine, "us-1")
        assert view.fault_message == "Maintenance overdue: Calibration"
        assert make.read_station(engine, "tm-1").status == "available"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, "the listener did not exit cleanly"
    lines = [line for line in log.read_text().splitlines() if "maintenance" in line]
    assert len(lines) == 1 and "station main/us-1 taken out of service: its maintenance 'Calibration' is overdue" \
        in lines[0], lines  # fmt: skip
