"""The listener end to end: real Mosquitto (the repo's config), real SQLite and PostgreSQL, real processes."""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
from datetime import UTC
from pathlib import Path
from typing import Any

import psutil
import pytest
from sqlalchemy import Engine, event, func, select

import shared.store.db
from shared.equipment.dead_letters import DeadLetterView, list_dead_letters
from shared.equipment.ingest import KEPT_PAYLOAD_BYTES
from shared.equipment.models import EquipmentEvent
from shared.equipment.stations import StationView, list_stations, register_equipment
from shared.store.db import init_db, make_engine, read_session, unit_of_work
from telemetry.listener import WRITER_DEATHS_PER_MINUTE, Listener
from tests.conftest import Broker
from tests.factories import read_station
from tests.helpers import wait_until
from tests.mqtt_helpers import (
    connect,
    listener_process,
    listener_settings,
    publish_all,
    running_listener,
    usage_messages,
)

pytestmark = pytest.mark.integration
TOPIC = "clinic/main/equipment/{}/{}"


def event_ids(engine: Engine) -> list[str]:
    """Ids of stored usage, cleaning and fault events (status changes are logged too, with ids of our own)."""
    query = select(EquipmentEvent.event_id).where(EquipmentEvent.channel != "status")  # type: ignore[arg-type]
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


def event_count(engine: Engine) -> int:
    query = select(func.count()).select_from(EquipmentEvent).where(EquipmentEvent.channel != "status")  # type: ignore[arg-type]
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def status_of(engine: Engine, equipment_id: str) -> str:
    return read_station(engine, equipment_id).status


def stations(engine: Engine) -> list[StationView]:
    """Every station, read in a session of its own."""
    with read_session(engine) as session:
        return list_stations(session=session, tz=UTC)


def dead_letters(engine: Engine, *, equipment_id: str | None = None) -> list[DeadLetterView]:
    """The kept messages, read in a session of its own."""
    with read_session(engine) as session:
        return list_dead_letters(session=session, equipment_id=equipment_id)


def register(engine: Engine, *ids: str) -> None:
    for equipment_id in ids:
        with unit_of_work(engine) as session:
            register_equipment(session=session, site="main", equipment_id=equipment_id, name=equipment_id.upper())


def test_device_messages_move_the_station_through_its_states(broker: Broker, engine: Engine, db_url: str) -> None:
    register(engine, "tm-1")
    device = connect(broker.port, "svc.simulator", broker.simulator_password)
    steps = [
        ("usage", {"event_id": "u1", "event": "start", "session_id": "s1"}, "in_use"),
        ("usage", {"event_id": "u2", "event": "stop", "session_id": "s1", "duration_s": 600}, "needs_cleaning"),
        ("cleaning", {"event_id": "c1", "event": "cleaned", "by": "tech-ana", "method": "wipe"}, "available"),
        ("fault", {"event_id": "f1", "event": "fault", "code": "E7", "severity": "critical"}, "out_of_service"),
        ("fault", {"event_id": "f2", "event": "cleared", "code": "E7"}, "available"),
    ]
    with running_listener(listener_settings(broker, db_url), engine):
        for channel, body, expected in steps:
            device.publish(TOPIC.format("tm-1", channel), json.dumps(body))
            wait_until(lambda expected=expected: status_of(engine, "tm-1") == expected, what=expected)
        device.publish(TOPIC.format("tm-1", "status"), "online", retain=True)
        wait_until(lambda: stations(engine)[0].online is True, what="online")
    view = read_station(engine, "tm-1")
    assert (view.uses_total, view.in_use_seconds_total, view.last_cleaned_by) == (1, 600.0, "tech-ana")
    device.close()


def test_the_same_event_published_twice_is_stored_once(broker: Broker, engine: Engine, db_url: str) -> None:
    register(engine, "tm-1")
    device = connect(broker.port, "svc.simulator", broker.simulator_password)
    start = json.dumps({"event_id": "dup-1", "event": "start"})
    marker = json.dumps({"event_id": "after", "event": "stop"})
    with running_listener(listener_settings(broker, db_url), engine) as listener:
        device.publish(TOPIC.format("tm-1", "usage"), start)
        device.publish(TOPIC.format("tm-1", "usage"), start)
        device.publish(TOPIC.format("tm-1", "usage"), marker)
        wait_until(lambda: "after" in event_ids(engine), what="marker stored")
    assert sorted(event_ids(engine)) == ["after", "dup-1"]
    assert (listener.stats.duplicates, read_station(engine, "tm-1").uses_total) == (1, 1)
    device.close()


BAD_MESSAGES = [
    ("usage", b"not json at all", "payload is not JSON"),
    ("usage", b'{"event_id": "x1", "event": "jump"}', "usage payload: event: Input should be 'start' or 'stop'"),
    ("usage", b'{"v": 9, "event_id": "x2", "event": "start"}', "unsupported payload version v=9"),
    ("usage", b'{"event_id": "x3", "event": "start", "pad": "' + b"x" * 70_000 + b'"}', "over the 65536-byte limit"),
    ("cleaning", b'{"event_id": "x4"}', "cleaning payload: event: Field required (missing)"),
    ("status", b"sleepy", "status payload must be 'online' or 'offline'"),
    ("telemetry", b"{}", "channel 'telemetry' is not one of usage, cleaning, fault, status"),
]


def test_bad_messages_are_kept_with_their_reason_and_the_listener_keeps_going(
    broker: Broker, engine: Engine, db_url: str
) -> None:
    register(engine, "tm-1")
    device = connect(broker.port, "svc.simulator", broker.simulator_password)
    with running_listener(listener_settings(broker, db_url), engine):
        for channel, payload, _ in BAD_MESSAGES:
            device.publish(TOPIC.format("tm-1", channel), payload)
        device.publish(TOPIC.format("ghost-9", "usage"), b'{"event_id": "g1", "event": "start"}')
        device.publish(TOPIC.format("tm-1", "usage"), b'{"event_id": "good", "event": "start"}')
        wait_until(lambda: "good" in event_ids(engine), what="the good message after the bad ones")
        wait_until(lambda: len(dead_letters(engine)) == len(BAD_MESSAGES) + 1, what="all dead letters")
    reasons = {d.topic.rsplit("/", 1)[-1] + ":" + d.reason for d in dead_letters(engine)}
    for channel, _, reason in BAD_MESSAGES:
        assert any(r.startswith(channel + ":") and reason in r for r in reasons), (channel, reason, reasons)
    ghost = dead_letters(engine, equipment_id="ghost-9")
    assert [d.reason for d in ghost] == ["equipment 'ghost-9' is not registered at site 'main'"]
    oversized = next(d for d in dead_letters(engine) if d.payload_size > 65536)
    assert oversized.truncated and len(oversized.raw) == KEPT_PAYLOAD_BYTES, "the start is kept, with the full size"
    device.close()


def test_messages_published_while_the_listener_is_down_all_arrive(broker: Broker, engine: Engine, db_url: str) -> None:
    devices = [f"dev-{i:02d}" for i in range(20)]
    register(engine, *devices)
    settings = listener_settings(broker, db_url)
    with running_listener(settings, engine):
        pass  # first connection creates the persistent session that the broker queues into
    messages = usage_messages(devices, per_device=500)  # 10,000 messages, over the default in-flight and queue
    publisher = connect(broker.port, "svc.simulator", broker.simulator_password)
    publish_all(publisher, messages)
    publisher.close()
    assert event_count(engine) == 0
    with running_listener(settings, engine):
        wait_until(lambda: event_count(engine) == len(messages), timeout=120, what="10,000 events stored")
    assert len(set(event_ids(engine))) == len(messages)
    assert sum(s.uses_total for s in stations(engine)) == len(messages) // 2


def test_listener_killed_before_acking_then_restarted_stores_every_message_once(
    broker: Broker, engine: Engine, db_url: str
) -> None:
    devices = [f"dev-{i:02d}" for i in range(10)]
    register(engine, *devices)
    settings = listener_settings(broker, db_url)
    messages = usage_messages(devices, per_device=600)  # 6,000
    process = listener_process(settings)
    try:
        publisher = connect(broker.port, "svc.simulator", broker.simulator_password)
        publisher.publish(TOPIC.format(devices[0], "status"), "online", retain=True)  # delivered on subscribe
        wait_until(lambda: stations(engine)[0].online is True, what="listener subscribed")
        sender = threading.Thread(target=publish_all, args=(publisher, messages))
        sender.start()
        wait_until(lambda: event_count(engine) > 500, timeout=60, what="first events stored")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        stored_at_kill = event_count(engine)
        process = listener_process(settings)
        sender.join(timeout=120)
        publisher.close()
        wait_until(lambda: event_count(engine) == len(messages), timeout=120, what="all events after restart")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, "listener did not exit cleanly on SIGTERM"
    assert stored_at_kill < len(messages), "the kill came too late to test anything"
    assert sorted(event_ids(engine)) == sorted(json.loads(p)["event_id"] for _, p in messages)
    assert sum(s.uses_total for s in stations(engine)) == len(messages) // 2


def test_two_listeners_in_a_shared_subscription_split_the_load_exactly_once(
    broker: Broker, engine: Engine, db_url: str
) -> None:
    devices = [f"dev-{i:02d}" for i in range(10)]
    register(engine, *devices)
    first = listener_settings(broker, db_url, mqtt_shared_group="ingest")
    second = listener_settings(broker, db_url, member=2, mqtt_shared_group="ingest")
    messages = usage_messages(devices, per_device=300)
    with running_listener(first, engine) as one, running_listener(second, engine) as two:
        publisher = connect(broker.port, "svc.simulator", broker.simulator_password)
        publish_all(publisher, messages)
        publisher.close()
        wait_until(lambda: event_count(engine) == len(messages), timeout=120, what="all events")
    assert one.stats.inserted > 0 and two.stats.inserted > 0, "both listeners should have taken a share"
    assert one.stats.inserted + two.stats.inserted == len(messages)
    assert sum(s.uses_total for s in stations(engine)) == len(messages) // 2


def test_queued_messages_survive_a_broker_restart_and_the_listener_reconnects(
    broker: Broker, engine: Engine, db_url: str
) -> None:
    devices = [f"dev-{i:02d}" for i in range(4)]
    register(engine, *devices)
    settings = listener_settings(broker, db_url)
    with running_listener(settings, engine):
        pass  # creates the persistent session
    queued = usage_messages(devices, per_device=500)
    publisher = connect(broker.port, "svc.simulator", broker.simulator_password)
    publish_all(publisher, queued)
    publisher.close()
    broker.restart()  # persistence on: the queue for the listener's session is saved and reloaded
    with running_listener(settings, engine) as listener:
        wait_until(lambda: event_count(engine) == len(queued), timeout=60, what="queued events after restart")
        broker.restart()  # while the listener is connected: it must notice and reconnect with backoff
        wait_until(lambda: listener.stats.connects >= 2 and listener.subscribed.is_set(), what="reconnected")
        later = [(t, p.replace(b'"event_id": "', b'"event_id": "later-')) for t, p in usage_messages(devices, 50)]
        publisher = connect(broker.port, "svc.simulator", broker.simulator_password)
        publish_all(publisher, later)
        publisher.close()
        wait_until(lambda: event_count(engine) == len(queued) + len(later), timeout=60, what="events after reconnect")


def test_a_lock_during_the_one_at_a_time_fallback_holds_messages_and_run_goes_on(
    broker: Broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that fails (here: a statement refused once) is retried one message at a time; when the database
    is locked midway, the listener holds the rest unacked and carries on, and stores everything afterwards."""
    monkeypatch.setattr(shared.store.db, "SQLITE_BUSY_TIMEOUT_MS", 300)  # the lock shows within 0.3 s, not 10 s
    path = tmp_path / "fallback.db"
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    devices = [f"dev-{n}" for n in range(5)]
    register(engine, *devices)
    messages = usage_messages(devices, 40)
    lock = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    refused: list[str] = []

    def refuse_the_batch_then_lock(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        # The first batch is refused whatever its size: the listener may flush the first message on its own.
        if not refused and statement.startswith("INSERT INTO equipment_event"):
            refused.append(statement)
            raise ValueError("refused once, to send the batch down the one-at-a-time path")
        if len(refused) == 1 and statement == "BEGIN IMMEDIATE":  # the fallback's first transaction
            refused.append(statement)
            lock.execute("BEGIN IMMEDIATE")  # another connection takes the write lock just before it

    event.listen(engine, "before_cursor_execute", refuse_the_batch_then_lock)
    settings = listener_settings(broker, f"sqlite:///{path}")
    device = connect(broker.port, "svc.simulator", broker.simulator_password)
    with running_listener(settings, engine, writer_thread=True) as listener:  # the hook is on this engine
        thread = next(t for t in threading.enumerate() if getattr(t, "_target", None) == listener.run)
        publish_all(device, messages)
        wait_until(lambda: listener.stats.db_retries >= 2, timeout=30, what="the listener waiting for the lock")
        assert refused and thread.is_alive() and event_count(engine) == 0
        lock.execute("ROLLBACK")
        wait_until(lambda: event_count(engine) == len(messages), timeout=60, what="every message after the lock")
        assert thread.is_alive()
    device.close()
    lock.close()
    assert sorted(event_ids(engine)) == sorted(json.loads(p)["event_id"] for _, p in messages)
    assert sum(s.uses_total for s in stations(engine)) == len(messages) // 2
    assert dead_letters(engine) == []
    engine.dispose()


def test_a_writer_that_keeps_dying_ends_the_listener_with_the_reason(broker: Broker, tmp_path: Path) -> None:
    """The listener starts a new writer when one dies (with the batches it held); past WRITER_DEATHS_PER_MINUTE in a
    minute it gives up, and `run()` ends with that reason for the service manager's log, instead of looping."""
    db_url = f"sqlite:///{tmp_path / 'dying.db'}"
    engine = make_engine(db_url)
    init_db(engine)
    register(engine, "tm-1")
    listener = Listener(listener_settings(broker, db_url), engine)
    ended: list[BaseException] = []

    def run() -> None:
        try:
            listener.run()
        except RuntimeError as exc:
            ended.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        wait_until(listener.subscribed.is_set, timeout=15, what="listener subscribed")
        killed: set[int] = set()
        for _ in range(WRITER_DEATHS_PER_MINUTE + 1):
            found: list[psutil.Process] = []

            def new_writer(found: list[psutil.Process] = found) -> bool:
                found[:] = [child for child in psutil.Process().children() if child.pid not in killed
                            and "spawn_main" in " ".join(child.cmdline())]  # fmt: skip
                return bool(found)

            wait_until(new_writer, timeout=30, what="a (new) writer process")
            killed.add(found[0].pid)
            found[0].kill()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the listener went on with a writer that keeps dying"
        assert len(ended) == 1 and f"ended {WRITER_DEATHS_PER_MINUTE + 1} times in a minute" in str(ended[0])
    finally:
        listener.stop()
        thread.join(timeout=30)
        engine.dispose()
