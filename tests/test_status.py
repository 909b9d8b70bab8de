"""`clinic status` as an operator runs it: a real broker and `clinic listen`, then the listener SIGKILLed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from shared.equipment.stations import register_equipment
from shared.store.db import unit_of_work
from tests.conftest import Broker
from tests.helpers import wait_until
from tests.mqtt_helpers import connect, listener_process, listener_settings, publish_all, usage_messages

pytestmark = pytest.mark.integration


def status(env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "clinic", "status", "--json"], env=env, capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def test_status_tells_a_recording_listener_from_a_killed_one(
    broker: Broker, engine: Engine, db_url: str, tmp_path: Path
) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="bike-1")
    settings = listener_settings(broker, db_url, mqtt_keepalive_s=5)  # the store's heartbeat goes stale in 7.5 s
    env = {**os.environ, **settings.as_env(), "CLINIC_DISK_WARN_PERCENT": "100"}
    env.pop("CLINIC_MQTT_USERNAME"), env.pop("CLINIC_MQTT_PASSWORD")  # status needs no account
    assert subprocess.run([sys.executable, "-m", "clinic", "db", "backup"], env=env, check=False).returncode == 0
    listener = listener_process(settings)
    try:
        wait_until(lambda: status(env)[1]["listeners"], timeout=30, what="the listener's status")
        device = connect(broker.port, "svc.simulator", broker.simulator_password)
        publish_all(device, usage_messages(["bike-1"], 4))
        device.close()

        def recorded() -> bool:
            listeners = status(env)[1]["listeners"]
            return bool(listeners) and listeners[0]["recorded"] >= 4

        wait_until(recorded, timeout=30, what="4 messages recorded")
        code, report = status(env)
        [mine] = report["listeners"]
        assert mine["answering"] and mine["connected"] and not mine["holding"]
        assert report["broker"]["answering"] is True
        [site] = report["sites"]
        assert site["site"] == "main" and site["last_message_age_s"] is not None and site["last_message_age_s"] < 60
        assert report["backup"]["age_hours"] < 1
        assert report["dead_letters"] == {"kept": 0, "new_24h": 0}
        assert report["recording"] == {"recording": True, "stopped_since": None}
        assert not any("listener" in need for need in report["needs_attention"]), report["needs_attention"]
        assert code == 1, "nothing supervises this listener (no clinic up, no systemd): that needs a person"

        listener.send_signal(signal.SIGKILL)
        listener.wait(timeout=30)
        code, report = status(env)
        assert code == 1
        assert report["listeners"][0]["answering"] is False
        assert any("recording has stopped" in need for need in report["needs_attention"]), report["needs_attention"]
        text = subprocess.run([sys.executable, "-m", "clinic", "status"], env=env, capture_output=True, text=True,
                              timeout=60, check=False).stdout  # fmt: skip
        assert "NOT ANSWERING: recording stopped" in text and "NEEDS ATTENTION:" in text

        def the_store_says_stopped() -> bool:  # what a machine without the status file sees: the heartbeat
            report = status(env)[1]
            return report["recording"]["recording"] is False and any(
                need.startswith("Recording stopped since") for need in report["needs_attention"]
            )

        wait_until(the_store_says_stopped, timeout=30, what="the store's heartbeat gone stale")
    finally:
        if listener.poll() is None:
            listener.kill()
        listener.wait(timeout=30)


def test_status_says_when_the_broker_does_not_answer(tmp_path: Path) -> None:
    from tests.helpers import free_port

    env = {**os.environ, "CLINIC_DATA_DIR": str(tmp_path / "data"), "CLINIC_MQTT_PORT": str(free_port())}
    code, report = status(env)
    assert code == 1
    assert report["broker"]["answering"] is False
    assert any("devices cannot report" in need for need in report["needs_attention"])
    assert any("No backup has been made yet" in need for need in report["needs_attention"])
