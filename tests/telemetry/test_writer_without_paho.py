"""The listener's batching, driven without paho or a broker: the writer process (telemetry/writer_process.py) is a
plain object with a pipe. A test hands it batches as the network loop does and reads its reports: what was
committed, what became a dead letter (with its code), and that a locked store holds the batch and then records
it. The real spawned process, on a real store."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

import shared.store.db
from shared.store.db import init_db, make_engine
from telemetry.writer_process import Raw, WriterConfig, WriterProcess
from tests.telemetry.test_listener import dead_letters, event_ids, register

pytestmark = pytest.mark.integration


def config(url: str, *, busy_ms: int = 10_000) -> WriterConfig:
    return WriterConfig(database_url=url, topic_prefix="clinic", tz=UTC, dead_letter_quota=100, retention_days=90,
                        sqlite_busy_timeout_ms=busy_ms)  # fmt: skip


def usage(device: str, event_id: str, event: str = "start") -> Raw:
    topic = f"clinic/main/equipment/{device}/usage"
    body = {"v": 1, "event_id": event_id, "event": event, "ts": datetime.now(UTC).isoformat()}
    return topic, topic.encode(), json.dumps(body).encode(), datetime.now(UTC)


def reports_until(writer: WriterProcess, kind: str, *, timeout: float = 60) -> list[tuple[Any, ...]]:
    """Every report up to and including the first of `kind` (polling the pipe with a deadline)."""
    seen: list[tuple[Any, ...]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen += writer.reports()
        if any(report[0] == kind for report in seen):
            return seen
        time.sleep(0.02)
    raise AssertionError(f"no {kind!r} report within {timeout}s: {seen}")


@pytest.fixture
def store(tmp_path: Path) -> tuple[str, Engine]:
    url = f"sqlite:///{tmp_path / 'writer.db'}"
    engine = make_engine(url)
    init_db(engine)
    register(engine, "tm-1", "bike-1")
    return url, engine


def test_a_batch_is_committed_once_with_its_rejects_kept_by_code(store: tuple[str, Engine]) -> None:
    url, engine = store
    writer = WriterProcess(config(url))
    writer.start()
    try:
        topic = "clinic/main/equipment/tm-1/usage"
        a1 = usage("tm-1", "a1")
        batch = [a1, usage("bike-1", "b1"), a1,  # the same event sent twice
                 (topic, topic.encode(), b"{not json", datetime.now(UTC)),
                 (None, b"clinic/main/\xff/usage", b"{}", datetime.now(UTC)),
                 usage("nobody-9", "n1")]  # fmt: skip
        writer.submit(1, batch)
        committed = next(r for r in reports_until(writer, "committed") if r[0] == "committed")
        _, seq, count, inserted, duplicates, dead, _rejects = committed
        assert (seq, count, inserted, duplicates, dead) == (1, 6, 2, 1, 3)
        assert sorted(event_ids(engine)) == ["a1", "b1"]
        codes = sorted(letter.code for letter in dead_letters(engine))
        assert codes == ["malformed_json", "unknown_device", "unknown_topic"], codes
        writer.submit(2, [a1])  # a resend after a reconnect (the same payload): recognised, not stored again
        again = next(r for r in reports_until(writer, "committed") if r[0] == "committed")
        assert again[1:6] == (2, 1, 0, 1, 0)
    finally:
        writer.stop(30)
    assert writer.exitcode() == 0, "the writer ends cleanly when asked"


def test_a_locked_store_holds_the_batch_then_records_it(
    store: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = store
    monkeypatch.setattr(shared.store.db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    lock = sqlite3.connect(tmp_path / "writer.db", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # another writer holds the store
    writer = WriterProcess(config(url, busy_ms=200))
    writer.start()
    try:
        writer.submit(1, [usage("tm-1", f"h{n}") for n in range(20)])
        held = next(r for r in reports_until(writer, "held") if r[0] == "held")
        assert held[2] == 20 and "locked" in held[1]
        assert event_ids(engine) == []
        lock.execute("ROLLBACK")
        seen = reports_until(writer, "committed")
        assert any(r[0] == "recovered" and r[2] == 20 for r in seen), seen
        assert len(event_ids(engine)) == 20 and dead_letters(engine) == []
    finally:
        lock.close()
        writer.stop(30)


def test_a_batch_handed_over_while_another_is_held_waits_and_is_committed_after_it(
    store: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listener hands over a second batch while the writer commits the first (telemetry/listener.py,
    WRITER_QUEUE): when the first is held (the store locked), the second waits, and each is reported committed in
    order once the store is free, every message once."""
    url, engine = store
    monkeypatch.setattr(shared.store.db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    lock = sqlite3.connect(tmp_path / "writer.db", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    writer = WriterProcess(config(url, busy_ms=200))
    writer.start()
    try:
        first, second = [usage("tm-1", f"f{n}") for n in range(20)], [usage("bike-1", f"s{n}") for n in range(30)]
        writer.submit(1, first)
        reports_until(writer, "held")
        writer.submit(2, second + first[:5])  # five of the first sent again (a redelivery after a reconnect)
        seen = reports_until(writer, "held")  # the first is still held; the second waits behind it
        assert not any(r[0] == "committed" for r in seen), seen
        lock.execute("ROLLBACK")
        seen = []
        deadline = time.monotonic() + 60
        while sum(1 for r in seen if r[0] == "done") < 2 and time.monotonic() < deadline:
            seen += writer.reports()
            time.sleep(0.02)
        order = [(r[0], r[1]) for r in seen if r[0] in ("committed", "done")]
        assert order == [("committed", 1), ("done", 1), ("committed", 2), ("done", 2)], order
        counts = [r[2:5] for r in seen if r[0] == "committed"]  # (messages, inserted, duplicates)
        assert counts == [(20, 20, 0), (35, 30, 5)], counts
        assert len(event_ids(engine)) == 50
    finally:
        lock.close()
        writer.stop(30)


def test_handing_over_a_batch_never_waits_for_a_writer_stuck_on_a_locked_store(
    store: tuple[str, Engine], tmp_path: Path
) -> None:
    """While the writer sits in SQLite's busy wait (another program holds the store), the network loop still hands
    over the next batch at once, larger than the pipe holds, and goes back to reading MQTT; the writer takes it
    when the store is free. Both batches are then committed, in order, every message once."""
    url, engine = store
    lock = sqlite3.connect(tmp_path / "writer.db", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    writer = WriterProcess(config(url, busy_ms=120_000))  # the writer waits inside SQLite, not reading its pipe
    writer.start()
    try:
        writer.submit(1, [usage("tm-1", f"w{n}") for n in range(20)])
        padded = {"note": "x" * 400}
        big = [(t, raw_t, json.dumps({**json.loads(p), **padded}).encode(), at)
               for t, raw_t, p, at in (usage("bike-1", f"big{n}") for n in range(3_000))]  # fmt: skip
        handing = threading.Thread(target=writer.submit, args=(2, big), daemon=True)
        handing.start()
        handing.join(20)  # about 1.6 MB pickled: more than the pipe holds while nobody reads it
        assert not handing.is_alive(), "handing over waited for the writer"
        assert writer.reports() == [] and event_ids(engine) == []  # the first batch still waits for the store
        lock.execute("ROLLBACK")
        seen: list[tuple[Any, ...]] = []
        deadline = time.monotonic() + 60
        while sum(1 for r in seen if r[0] == "done") < 2 and time.monotonic() < deadline:
            seen += writer.reports()
            time.sleep(0.02)
        counts = [(r[1], r[2], r[3]) for r in seen if r[0] == "committed"]  # (batch, messages, inserted)
        assert counts == [(1, 20, 20), (2, 3_000, 3_000)], counts
        assert len(event_ids(engine)) == 3_020
    finally:
        lock.close()
        writer.stop(30)
