"""A listener that cannot die from a callback, and says when recording has stopped (#24).

Real processes where it matters: `clinic listen` as a child process (SIGKILLed, or stopped with SIGTERM), the
repo's Mosquitto with the generated ACL, SQLite and PostgreSQL. The keep-alive is 5 s (the smallest allowed), so
a killed listener's heartbeat goes stale after 7.5 s; every wait polls with a deadline.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import ValidationError
from sqlalchemy import Engine
from typer.testing import CliRunner

from clinic.cli import app
from shared.equipment.recording import (
    ListenerHeartbeat,
    ListenerIdentity,
    RecordingStatus,
    record_beat,
    record_stop,
    recording_status,
    status_topic,
)
from shared.equipment.stations import register_equipment
from shared.store.db import read_session, unit_of_work, write_transaction
from shared.store.settings import Settings, get_settings
from shared.store.types import utcnow
from telemetry.broker_acl import listener_user
from telemetry.listener import Listener
from telemetry.persistent_session import BrokerRefused
from tests.conftest import Broker
from tests.factories import DOB
from tests.helpers import wait_until
from tests.kiosk.conftest import card_url, lobby_env, patient_id  # noqa: F401  (the lobby's fixtures, used below)
from tests.kiosk.lobby_app import enter_dob, new_app, scan, texts
from tests.mqtt_helpers import connect, listener_process, listener_settings, running_listener

pytestmark = pytest.mark.integration
KEEPALIVE_S = 5
STALE_S = 1.5 * KEEPALIVE_S  # a beat older than this: that listener is gone
STATUS_FILTER = "clinic/+/system/listener/+"
READER = 3  # the listener account that reads the retained status (no listener runs as it here)


def status(engine: Engine, *, keepalive_s: float = KEEPALIVE_S, now: datetime | None = None) -> RecordingStatus:
    with read_session(engine) as session:
        return recording_status(session=session, now=now or utcnow(), keepalive_s=keepalive_s)


def retained_status(broker: Broker) -> dict[str, Any]:
    """The listener's retained status message, as a new subscriber gets it from the broker."""
    reader = connect(broker.port, listener_user(READER), broker.accounts[listener_user(READER)])
    try:
        reader.subscribe(STATUS_FILTER)
        wait_until(lambda: reader.received, timeout=10, what="the retained status")
        message = reader.received[-1]
        assert message.retain and message.topic == "clinic/main/system/listener/svc.listener"
        return dict(json.loads(message.payload))
    finally:
        reader.close()


def last_beat(engine: Engine) -> datetime:
    with read_session(engine) as session:
        row = session.get(ListenerHeartbeat, "svc.listener")
    assert row is not None
    return row.beat_at


def identity(account: str = "svc.listener", *, started: datetime, pid: int = 4242) -> ListenerIdentity:
    return ListenerIdentity(account=account, site="main", pid=pid, host="box", started_at=started)


# -- the rules, on the store -------------------------------------------------------------------------------------
def test_recording_status_follows_the_heartbeats(engine: Engine) -> None:
    t0 = datetime(2026, 12, 6, 13, 0, tzinfo=UTC)
    never = status(engine, keepalive_s=30, now=t0)
    assert never == RecordingStatus(recording=False, stopped_since=None) and not never.stopped, "say nothing"

    first = identity(started=t0)
    with write_transaction(engine) as conn:
        record_beat(conn, first, t0)
    assert status(engine, keepalive_s=30, now=t0 + timedelta(seconds=45)).recording, "within 1.5 keep-alives"
    gone = status(engine, keepalive_s=30, now=t0 + timedelta(seconds=46))
    assert (gone.recording, gone.stopped_since, gone.stopped) == (False, t0, True), "stopped since the last beat"
    assert gone.since_text(UTC, t0 + timedelta(minutes=5)) == "13:00"
    assert gone.since_text(UTC, t0 + timedelta(days=1)) == "2026-12-06 13:00", "another day says which"

    with write_transaction(engine) as conn:  # another run (or another listener's row) is not this one's stop
        record_stop(conn, identity(started=t0 - timedelta(hours=1)), t0 + timedelta(seconds=5))
    assert status(engine, keepalive_s=30, now=t0 + timedelta(seconds=10)).recording
    with write_transaction(engine) as conn:
        record_stop(conn, first, t0 + timedelta(seconds=20))
    stopped = status(engine, keepalive_s=30, now=t0 + timedelta(seconds=21))
    assert (stopped.recording, stopped.stopped_since) == (False, t0 + timedelta(seconds=20)), "a clean stop at once"

    second = identity("svc.listener-2", started=t0)  # a shared group: one member recording is recording
    with write_transaction(engine) as conn:
        record_beat(conn, second, t0 + timedelta(seconds=30))
    assert status(engine, keepalive_s=30, now=t0 + timedelta(seconds=60)).recording
    later = status(engine, keepalive_s=30, now=t0 + timedelta(minutes=5))
    assert later.stopped_since == t0 + timedelta(seconds=30), "since the last one was known to record"

    with write_transaction(engine) as conn:  # the stopped one starts again: its beat clears the stop
        record_beat(conn, identity(started=t0 + timedelta(minutes=6)), t0 + timedelta(minutes=6))
    assert status(engine, keepalive_s=30, now=t0 + timedelta(minutes=6, seconds=1)).recording


# -- settings and callbacks ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("group", ["a/b", "+", "in#gest", "", "two words", "tab\tbed"])
def test_a_shared_group_that_is_no_group_name_is_refused_at_start(group: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="CLINIC_MQTT_SHARED_GROUP"):
        Settings(mqtt_shared_group=group, _env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("CLINIC_MQTT_SHARED_GROUP", group)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["listen"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert result.stderr.startswith("error: bad configuration") and "CLINIC_MQTT_SHARED_GROUP" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_good_shared_group_is_kept() -> None:
    assert Settings(mqtt_shared_group="ingest-1", _env_file=None).mqtt_shared_group == "ingest-1"  # type: ignore[call-arg]
    assert Settings(_env_file=None).mqtt_shared_group is None  # type: ignore[call-arg]


def run_in_thread(listener: Listener) -> tuple[threading.Thread, list[BaseException]]:
    ended: list[BaseException] = []

    def run() -> None:
        try:
            listener.run()
        except BaseException as exc:
            ended.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, ended


def test_a_refused_subscription_ends_run_with_its_reason(
    broker: Broker, engine: Engine, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Mosquitto 2.0 grants every well-formed filter (and then filters by the ACL), so the refusal is the SUBACK
    paho would hand to the callback."""
    listener = Listener(listener_settings(broker, db_url), engine, writer_thread=True)
    thread, ended = run_in_thread(listener)
    wait_until(listener.subscribed.is_set, timeout=15, what="listener subscribed")
    client = listener._client
    with caplog.at_level(logging.ERROR, logger="telemetry.listener"):
        client.on_subscribe(client, None, 1, [ReasonCode(PacketTypes.SUBACK, identifier=0x87)], None)
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert len(ended) == 1 and isinstance(ended[0], BrokerRefused)
    assert "the broker refused the subscription to clinic/+/equipment/+/+: Not authorized" in str(ended[0])
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [str(ended[0])]


def test_a_callback_that_fails_is_logged_and_the_listener_connects_again(
    broker: Broker, engine: Engine, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1")
    device = connect(broker.port, "svc.simulator", broker.simulator_password)
    with running_listener(listener_settings(broker, db_url), engine) as listener:
        client = listener._client
        client.on_subscribe(client, None, 1, None, None)  # no reason codes: the callback fails inside
        wait_until(lambda: listener.stats.connects == 2 and listener.subscribed.is_set(), what="subscribed again")
        device.publish("clinic/main/equipment/tm-1/usage", b'{"event_id": "e1", "event": "start"}')
        wait_until(lambda: listener.stats.inserted == 1, what="the next message recorded")
    device.close()
    failed = [r for r in caplog.records if "on_subscribe callback failed" in r.getMessage()]
    assert len(failed) == 1 and failed[0].exc_info is not None, "a bug of ours keeps its traceback"


def test_every_malformed_topic_logs_one_line(
    broker: Broker, engine: Engine, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1")
    bad = ["clinic/Main!/equipment/tm-1/usage", "clinic/main/equipment/TM 1/usage", "clinic/main/equipment/tm-1/nope",
           "clinic/main/equipment/ä/usage", "clinic/main/equipment/ghost-1/usage"]  # fmt: skip
    device = connect(broker.port, "svc.simulator", broker.simulator_password)
    with caplog.at_level(logging.INFO), running_listener(listener_settings(broker, db_url), engine) as listener:
        for topic in bad:
            device.publish(topic, b'{"event_id": "x", "event": "start"}')
        device.publish("clinic/main/equipment/tm-1/usage", b'{"event_id": "ok", "event": "start"}')
        wait_until(lambda: listener.stats.committed == len(bad) + 1, what="every message committed")
    device.close()
    lines = [r for r in caplog.records if r.name.startswith("telemetry") and "dead letter" in r.getMessage()]
    assert len(lines) == len(bad), [r.getMessage() for r in lines]
    assert all(r.levelno == logging.WARNING and r.exc_info is None and "\n" not in r.getMessage() for r in lines)
    assert not [r for r in caplog.records if r.exc_info is not None or r.levelno >= logging.ERROR]


# -- a real `clinic listen`: running, stopped, killed ------------------------------------------------------------
def start_listener(broker: Broker, engine: Engine, db_url: str) -> subprocess.Popen[bytes]:
    """`clinic listen` with a 5 s keep-alive, once the store says it records."""
    process = listener_process(listener_settings(broker, db_url, mqtt_keepalive_s=KEEPALIVE_S))
    wait_until(lambda: status(engine).recording, timeout=30, what="the listener's first heartbeat")
    return process


def test_a_running_listener_records_and_a_clean_stop_says_offline_at_once(
    broker: Broker, engine: Engine, db_url: str
) -> None:
    process = start_listener(broker, engine, db_url)
    try:
        online = retained_status(broker)
        assert (online["state"], online["pid"]) == ("online", process.pid)
        assert datetime.fromisoformat(online["since"]) <= utcnow()
        first = last_beat(engine)  # it beats on with nothing to record (every 2 s with this keep-alive)
        wait_until(lambda: last_beat(engine) > first, timeout=STALE_S, what="the next heartbeat")
        assert status(engine).recording
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, "the listener did not exit cleanly"
    stopped_at = utcnow()
    after = status(engine)
    assert after.stopped and after.stopped_since is not None
    with read_session(engine) as session:
        row = session.get(ListenerHeartbeat, "svc.listener")
    assert row is not None and row.stopped_at == after.stopped_since and row.pid == process.pid
    assert stopped_at - timedelta(seconds=15) < after.stopped_since <= stopped_at, "stopped since the stop, at once"
    offline = retained_status(broker)
    assert (offline["state"], offline["pid"]) == ("offline", process.pid)
    assert abs(datetime.fromisoformat(offline["since"]) - after.stopped_since) < timedelta(seconds=5)


def test_a_killed_listener_is_seen_stopped_within_the_keepalive_and_its_will_is_retained(
    broker: Broker, engine: Engine, db_url: str
) -> None:
    process = start_listener(broker, engine, db_url)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    killed, killed_at = time.monotonic(), utcnow()
    wait_until(lambda: status(engine).stopped, timeout=STALE_S + 10, what="recording seen stopped")
    seen_after = time.monotonic() - killed
    assert seen_after <= STALE_S + 3, f"seen {seen_after:.1f} s after the kill"
    stopped = status(engine)
    assert stopped.stopped_since is not None
    assert killed_at - timedelta(seconds=STALE_S) < stopped.stopped_since <= killed_at + timedelta(seconds=1)
    will = retained_status(broker)  # published by the broker the moment the connection died
    assert will == {"state": "offline", "since": None, "pid": process.pid}


def test_the_acl_lets_each_listener_account_publish_its_own_status_only(broker: Broker) -> None:
    own = status_topic("clinic", "main", listener_user(2))
    other = status_topic("clinic", "main", listener_user(1))
    assert own is not None and other is not None
    member = connect(broker.port, listener_user(2), broker.accounts[listener_user(2)])
    try:
        assert not member.publish(own, b'{"state": "online"}', retain=True).is_failure
        assert member.publish(other, b'{"state": "offline"}', retain=True).is_failure
    finally:
        member.close()
    assert status_topic("clinic", "main", "a/b") is None, "a client id that cannot be a topic level has none"


# -- the lobby's station badges -----------------------------------------------------------------------------------
@pytest.mark.usefixtures("lobby_env")
def test_the_lobby_says_status_unknown_while_recording_is_stopped(
    engine: Engine, request: pytest.FixtureRequest
) -> None:
    """Maria's treadmill is in use; with recording stopped the badge is neutral, and the plan points nowhere."""
    link = request.getfixturevalue("card_url")
    ran = identity(started=utcnow() - timedelta(hours=2))
    with write_transaction(engine) as conn:
        record_beat(conn, ran, utcnow() - timedelta(hours=1))
    lobby = new_app()
    scan(lobby, link)
    enter_dob(lobby, DOB)
    page = texts(lobby)
    assert "Treadmill 1 (Gym A)" in page and "Status unknown" in page
    assert "In use" not in page and "instead: it is free" not in page and "ask your therapist where" not in page
    with write_transaction(engine) as conn:  # the listener is back
        record_beat(conn, ran, utcnow())
    lobby.run()
    page = texts(lobby)
    assert "In use" in page and "Status unknown" not in page
