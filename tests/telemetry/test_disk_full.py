"""A full disk under the listener: SQLite answers "database or disk is full" (SQLITE_FULL, the error a real full
disk gives), the listener holds every message unacknowledged, and once space is freed it records them all and
says so in its log. The "disk" is SQLite's own size limit (PRAGMA max_page_count), so the failure is real
SQLite's and the test needs no mount."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

import shared.store.db
from shared.store.db import init_db, make_engine
from tests.conftest import Broker
from tests.helpers import wait_until
from tests.mqtt_helpers import connect, listener_settings, publish_all, running_listener, usage_messages
from tests.telemetry.test_listener import dead_letters, event_count, event_ids, register

pytestmark = pytest.mark.integration


def test_a_disk_filled_then_freed_ends_with_a_recovery_line_and_nothing_lost(
    broker: Broker, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared.store.db, "SQLITE_BUSY_TIMEOUT_MS", 300)
    path = tmp_path / "full.db"
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    devices = [f"dev-{n}" for n in range(4)]
    register(engine, *devices)
    with sqlite3.connect(path) as probe:
        pages = probe.execute("PRAGMA page_count").fetchone()[0]
    disk = {"max_pages": pages}  # full: no page may be added; raised later to free the disk
    applied: dict[int, int] = {}

    def limit_the_disk(conn: Any, _cur: Any, _statement: str, _params: Any, _ctx: Any, _many: bool) -> None:
        raw = conn.connection.driver_connection
        if applied.get(id(raw)) != disk["max_pages"]:
            raw.execute(f"PRAGMA max_page_count = {disk['max_pages']}")
            applied[id(raw)] = disk["max_pages"]

    event.listen(engine, "before_cursor_execute", limit_the_disk)
    messages = usage_messages(devices, 60)
    settings = listener_settings(broker, f"sqlite:///{path}")
    device = connect(broker.port, "svc.simulator", broker.simulator_password)
    caplog.set_level(logging.INFO)
    with running_listener(settings, engine, writer_thread=True) as listener:
        publish_all(device, messages)
        wait_until(lambda: listener.stats.db_retries >= 2, timeout=60, what="the listener holding on a full disk")
        assert event_count(engine) < len(messages) and dead_letters(engine) == []  # what fit in free pages, no more
        assert "disk is full" in caplog.text
        disk["max_pages"] = 1_000_000  # space freed
        wait_until(lambda: event_count(engine) == len(messages), timeout=60, what="every message once space is back")
        wait_until(lambda: "database available again after" in caplog.text, timeout=30, what="the recovery line")
    device.close()
    assert sorted(event_ids(engine)) == sorted(json.loads(p)["event_id"] for _, p in messages)
    assert dead_letters(engine) == [], "a full disk is not the messages' fault: none may become a dead letter"
    recovery = next(r.getMessage() for r in caplog.records if "database available again" in r.getMessage())
    assert "held messages recorded" in recovery
    engine.dispose()
