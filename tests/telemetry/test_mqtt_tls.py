"""MQTT over TLS (`clinic init --tls`): a real Mosquitto with the rendered TLS listener, a device and the listener."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from sqlalchemy import Engine

from shared.equipment.stations import get_station, register_equipment
from shared.store.db import read_session, unit_of_work
from shared.store.settings import Settings
from telemetry.broker import ensure_broker_files, set_device_password
from telemetry.broker_config import write_config
from telemetry.broker_files import BrokerFiles
from telemetry.broker_tls import BrokerTls, ensure_broker_tls
from tests.conftest import Broker
from tests.helpers import free_port, wait_for_port, wait_until
from tests.mqtt_helpers import listener_settings, running_listener

pytestmark = pytest.mark.integration
TOPIC = "clinic/main/equipment/tm-1/usage"


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[Broker, BrokerTls, str]]:
    """A broker with its plain listener and a TLS listener on free ports, and tm-1's device password."""
    port, tls_port = free_port(), free_port()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path / "data", mqtt_port=port, mqtt_tls_port=tls_port, mqtt_tls_address="127.0.0.1"
    )
    accounts = ensure_broker_files(settings)
    tls = BrokerFiles(settings.broker_dir).tls
    assert ensure_broker_tls(tls, names=["localhost", "127.0.0.1"])
    device_password = set_device_password(settings, "tm-1")
    broker = Broker(settings=settings, port=port, config=write_config(settings, port=port), accounts=accounts)
    broker.start()
    wait_for_port(tls_port)
    yield broker, tls, device_password
    broker.stop()


def mosquitto_pub(port: int, password: str, body: dict[str, object], *extra: str) -> subprocess.CompletedProcess[str]:
    """Publish as the device tm-1 exactly as docs/devices.md shows."""
    argv = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-u", "tm-1", "-P", password, "-q", "1",
            "-t", TOPIC, "-m", json.dumps(body), *extra]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)


def test_a_device_publishing_over_tls_is_recorded_by_a_listener_on_tls(
    tls_broker: tuple[Broker, BrokerTls, str], engine: Engine, db_url: str
) -> None:
    broker, tls, device_password = tls_broker
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1")
    settings = listener_settings(broker, db_url, mqtt_port=broker.settings.mqtt_tls_port, mqtt_tls_ca=tls.ca)
    with running_listener(settings, engine) as listener:
        body = {"v": 1, "event_id": "tls-1", "event": "start"}
        sent = mosquitto_pub(broker.settings.mqtt_tls_port, device_password, body, "--cafile", str(tls.ca))
        assert sent.returncode == 0, sent.stderr
        wait_until(lambda: listener.stats.inserted == 1, timeout=20, what="the message recorded")
    with read_session(engine) as session:
        station = get_station(session=session, site="main", equipment_id="tm-1", tz=UTC)
    assert (station.status, station.uses_total) == ("in_use", 1)


def test_a_plain_connection_to_the_tls_port_is_refused(tls_broker: tuple[Broker, BrokerTls, str]) -> None:
    broker, _tls, device_password = tls_broker
    sent = mosquitto_pub(broker.settings.mqtt_tls_port, device_password, {"v": 1, "event_id": "x", "event": "start"})
    assert sent.returncode != 0
    log = BrokerFiles(broker.settings.broker_dir).log
    wait_until(lambda: "wrong version number" in log.read_text(), timeout=10, what="the broker refusing plain MQTT")


def test_the_tls_files_are_kept_and_the_keys_are_private(tmp_path: Path) -> None:
    tls = BrokerTls(tmp_path / "tls")
    assert ensure_broker_tls(tls, names=["localhost"])
    first = tls.cert.read_bytes()
    assert not ensure_broker_tls(tls), "an existing CA and certificate are kept (devices already trust the CA)"
    assert tls.cert.read_bytes() == first
    assert {oct(p.stat().st_mode & 0o777) for p in (tls.key, tls.ca_key)} == {"0o600"}
    assert oct(tls.root.stat().st_mode & 0o777) == "0o700"
