"""The repo's mosquitto.conf and generated ACL, enforced by a real Mosquitto."""

from __future__ import annotations

import json
from datetime import UTC

import pytest
from sqlalchemy import Engine

from shared.equipment.stations import StationView, get_station, list_stations, register_equipment
from shared.store.db import read_session, unit_of_work
from telemetry.broker import hash_password, set_device_password
from telemetry.broker_acl import LISTENER_USER
from tests.conftest import Broker
from tests.helpers import wait_until
from tests.mqtt_helpers import Client, connect, listener_settings, publish_all, running_listener, usage_messages

pytestmark = pytest.mark.integration
NOT_AUTHORIZED = 135


def test_anonymous_clients_are_refused(broker: Broker) -> None:
    client = connect(broker.port)
    assert client.connack[0].is_failure
    assert client.connack[0].value == NOT_AUTHORIZED
    client.close()


def test_a_wrong_password_is_refused(broker: Broker) -> None:
    client = connect(broker.port, LISTENER_USER, "not-the-password")
    assert client.connack[0].is_failure
    client.close()


def test_a_device_publishes_only_on_its_own_topics(broker: Broker) -> None:
    password = set_device_password(broker.settings, "tm-1")
    set_device_password(broker.settings, "tm-2")
    broker.restart()  # the fixture's broker was not started by `clinic up`, so no SIGHUP reached it
    device = connect(broker.port, "tm-1", password)
    assert not device.connack[0].is_failure
    own = device.publish("clinic/main/equipment/tm-1/usage", b"{}")
    other = device.publish("clinic/main/equipment/tm-2/usage", b"{}")
    outside = device.publish("clinic/main/admin", b"{}")
    assert (own.is_failure, other.value, outside.value) == (False, NOT_AUTHORIZED, NOT_AUTHORIZED)
    device.close()


def test_a_device_cannot_read_other_devices_traffic(broker: Broker) -> None:
    passwords = {d: set_device_password(broker.settings, d) for d in ("tm-1", "tm-2")}
    broker.restart()
    snoop = connect(broker.port, "tm-1", passwords["tm-1"])
    other = connect(broker.port, "tm-2", passwords["tm-2"])
    witness = connect(broker.port, LISTENER_USER, broker.listener_password)
    snoop.subscribe("clinic/#")  # Mosquitto grants it, then filters every message by the ACL
    witness.subscribe("clinic/#")
    other.publish("clinic/main/equipment/tm-2/usage", b"secret")
    wait_until(lambda: witness.received, what="the message routed to a reader that may see it")
    # The broker answers snoop's own publish after routing tm-2's message, so anything sent to snoop is
    # already on its socket, ahead of this PUBACK.
    snoop.publish("clinic/main/equipment/tm-1/usage", b"{}")
    assert witness.received[0].payload == b"secret"
    assert snoop.received == []
    for client in (snoop, other, witness):
        client.close()


def test_the_listener_account_cannot_impersonate_a_device(broker: Broker) -> None:
    listener = connect(broker.port, LISTENER_USER, broker.listener_password)
    assert listener.publish("clinic/main/equipment/tm-1/usage", b"{}").value == NOT_AUTHORIZED
    listener.close()


def tm_2(engine: Engine) -> StationView:
    """Station tm-2, read in a session of its own (so a wait sees each new commit)."""
    with read_session(engine) as session:
        return get_station(session=session, site="main", equipment_id="tm-2", tz=UTC)


def test_a_forged_message_never_reaches_the_store(broker: Broker, engine: Engine, db_url: str) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1")
        register_equipment(session=session, site="main", equipment_id="tm-2")
    passwords = {d: set_device_password(broker.settings, d) for d in ("tm-1", "tm-2")}
    broker.restart()
    intruder = connect(broker.port, "tm-1", passwords["tm-1"])
    owner = connect(broker.port, "tm-2", passwords["tm-2"])
    with running_listener(listener_settings(broker, db_url), engine):
        forged = json.dumps({"event_id": "forged", "event": "fault", "code": "X", "severity": "critical"})
        assert intruder.publish("clinic/main/equipment/tm-2/fault", forged).value == NOT_AUTHORIZED
        owner.publish("clinic/main/equipment/tm-2/usage", json.dumps({"event_id": "real", "event": "start"}))
        wait_until(lambda: tm_2(engine).uses_total == 1)
    assert tm_2(engine).status == "in_use"
    intruder.close()
    owner.close()


def test_password_hashes_use_mosquittos_own_format() -> None:
    hashed = hash_password("secret", salt=b"0123456789ab")
    assert hashed.startswith("$7$101$MDEyMzQ1Njc4OWFi$")
    assert len(hashed.split("$")[-1]) == 88  # base64 of a 64-byte PBKDF2-SHA512 digest


def test_a_device_cannot_publish_as_the_same_id_at_another_site(broker: Broker) -> None:
    password = set_device_password(broker.settings, "tm-1", site="main")
    broker.restart()
    device = connect(broker.port, "tm-1", password)
    assert device.publish("clinic/east/equipment/tm-1/usage", b"{}").value == NOT_AUTHORIZED
    device.close()
    with pytest.raises(ValueError, match="already has a broker account at site 'main'"):
        set_device_password(broker.settings, "tm-1", site="east")


@pytest.mark.parametrize("clean_start", [True, False], ids=["clean-start", "resume"])
def test_a_device_using_the_listeners_client_id_cannot_disturb_its_session(
    broker: Broker, engine: Engine, db_url: str, clean_start: bool
) -> None:
    """Unprotected, one takeover lost 10 of 495 messages and a reconnecting device kicked the listener 7 times."""
    devices = [f"dev-{i}" for i in range(5)]
    for device in devices:
        with unit_of_work(engine) as session:
            register_equipment(session=session, site="main", equipment_id=device)
    attacker_password = set_device_password(broker.settings, "tm-9")
    broker.restart()
    settings = listener_settings(broker, db_url)
    messages = usage_messages(devices, per_device=200)
    publisher = connect(broker.port, "svc.simulator", broker.simulator_password)
    left_open: list[Client] = []  # attackers still connected when the next one comes (a takeover)
    with running_listener(settings, engine) as listener:
        for n, chunk in enumerate(messages[i : i + 100] for i in range(0, len(messages), 100)):
            for stale in left_open:  # still connected, but its network loop stops: paho would reconnect it and
                stale.client.loop_stop()  # take the session back from the new one, a fight between attackers
            attacker = connect(broker.port, "tm-9", attacker_password, client_id=LISTENER_USER, clean_start=clean_start)
            assert not attacker.connack[0].is_failure, "the device itself may connect (as its own client id)"
            attacker.subscribe("clinic/#")  # what a taken-over session would receive
            publish_all(publisher, chunk)
            if n % 2:
                attacker.close()
            else:
                left_open.append(attacker)
        wait_until(lambda: listener.stats.inserted == len(messages), timeout=60, what="every message recorded")
        assert listener.stats.connects == 1, "the listener was disconnected"
    publisher.close()
    for stale in left_open:
        if stale is attacker:
            attacker.close()  # the last one still has its loop
        elif (sock := stale.client.socket()) is not None:
            sock.close()  # the broker dropped it at the takeover; without its loop, paho never closed it
    assert listener.stats.duplicates == 0
    with read_session(engine) as session:
        assert sum(s.uses_total for s in list_stations(session=session, tz=UTC)) == len(messages) // 2
    assert attacker.received == []
