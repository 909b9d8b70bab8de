"""Backups under load and restore: a real Mosquitto, `clinic listen` as a process, devices publishing throughout,
`clinic db backup` and `clinic db restore` run as a user would, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from shared.equipment.stations import list_stations, register_equipment
from shared.store.db import make_engine, read_session, unit_of_work
from tests.conftest import Broker, new_pg_database
from tests.helpers import wait_until
from tests.mqtt_helpers import connect, listener_process, listener_settings

pytestmark = pytest.mark.integration
DEVICES = [f"bk-{i:02d}" for i in range(10)]
SUBSCRIBED = "subscribed: the broker confirmed"


class Stream:
    """Devices publishing start/stop pairs at QoS 1 from a thread until stopped; remembers what was acknowledged."""

    def __init__(self, broker: Broker) -> None:
        self.client = connect(broker.port, "svc.simulator", broker.simulator_password,
                              client_id=f"stream-{uuid.uuid4().hex[:6]}")  # fmt: skip
        self.sent: list[str] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            n = 0
            while not self.stop.is_set():
                infos = []
                for device in DEVICES:  # one round: every device starts (even n) or stops (odd n)
                    body = {"v": 1, "event_id": f"{device}-{n}", "event": "start" if n % 2 == 0 else "stop",
                            "ts": datetime.now(UTC).isoformat(), **({"duration_s": 60} if n % 2 else {})}  # fmt: skip
                    infos.append((body["event_id"], self.client.client.publish(
                        f"clinic/main/equipment/{device}/usage", json.dumps(body), qos=1)))  # fmt: skip
                for event_id, info in infos:
                    info.wait_for_publish(timeout=60)
                    self.sent.append(str(event_id))
                n += 1
        except BaseException as exc:
            self.error = exc

    def __enter__(self) -> Stream:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(timeout=60)
        self.client.close()
        assert self.error is None, self.error


def event_ids(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT event_id FROM equipment_event")).scalars())


def clinic(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "clinic", *argv], env=env, capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip


@pytest.fixture
def new_store(db_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty place to restore into, on the same backend as `db_url`."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'clinic.db'}"
        return
    with new_pg_database("clinic_restore") as url:
        yield url


@pytest.fixture
def running_listener(broker: Broker, engine: Engine, db_url: str) -> Iterator[dict[str, str]]:
    """`clinic listen` on the test broker and store, subscribed; yields its environment for other commands."""
    for device in DEVICES:
        with unit_of_work(engine) as session:
            register_equipment(session=session, site="main", equipment_id=device)
    settings = listener_settings(broker, db_url)
    log = settings.data_dir / "listener.log"
    process = listener_process(settings)
    try:
        wait_until(lambda: log.exists() and SUBSCRIBED in log.read_text(), timeout=30, what="listener subscribed")
        yield {**os.environ, **settings.as_env()}
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, "the listener did not exit cleanly"


def test_a_backup_under_a_device_stream_restores_every_event_committed_before_it(
    broker: Broker, engine: Engine, running_listener: dict[str, str], new_store: str, tmp_path: Path
) -> None:
    env, backup = running_listener, tmp_path / "backup.bin"
    with Stream(broker) as stream:
        wait_until(lambda: len(event_ids(engine)) >= 500, timeout=120, what="500 events stored")
        committed = event_ids(engine)  # every one of these was committed before the backup started
        made = clinic(env, "db", "backup", "--out", str(backup))
        assert made.returncode == 0, made.stderr
        assert f"to {backup}" in made.stdout
        wait_until(lambda: len(event_ids(engine)) > len(committed) + 200, timeout=60, what="the stream going on")
    wait_until(lambda: event_ids(engine) >= set(stream.sent), timeout=120, what="every published event stored")

    restored = clinic({**env, "CLINIC_DATABASE_URL": new_store}, "db", "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    copy = make_engine(new_store)
    try:
        in_copy = event_ids(copy)
        assert committed <= in_copy, f"{len(committed - in_copy)} committed events missing from the backup"
        assert in_copy <= event_ids(engine)
        assert len(in_copy) < len(event_ids(engine)), "the backup should be of the store mid-stream"
        starts = sum(1 for event_id in in_copy if int(event_id.rsplit("-", 1)[1]) % 2 == 0)
        with read_session(copy) as session:
            stations = list_stations(session=session, tz=UTC)
        assert sum(s.uses_total for s in stations) == starts  # state and log of one instant
    finally:
        copy.dispose()


def test_restore_refuses_while_the_listener_runs(running_listener: dict[str, str], tmp_path: Path) -> None:
    env, backup = running_listener, tmp_path / "backup.bin"
    assert clinic(env, "db", "backup", "--out", str(backup)).returncode == 0
    refused = clinic(env, "db", "restore", str(backup))
    assert refused.returncode == 2
    assert "the listener is running on this store: stop it first" in refused.stderr


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    env = {**os.environ, "CLINIC_DATA_DIR": str(tmp_path / "data")}
    refused = clinic(env, "db", "restore", str(junk))
    assert refused.returncode == 2
    assert f"{junk} is not a backup made by `clinic db backup`" in refused.stderr


def test_a_postgresql_backup_without_pg_dump_says_what_to_install(pg_database: str, tmp_path: Path) -> None:
    env = {**os.environ, "CLINIC_DATABASE_URL": pg_database, "CLINIC_DATA_DIR": str(tmp_path / "data"),
           "PATH": str(tmp_path / "empty-bin")}  # fmt: skip
    done = clinic(env, "db", "backup", "--out", str(tmp_path / "pg.dump"))
    assert done.returncode == 2
    assert "pg_dump is not installed" in done.stderr and "apt-get install postgresql-client" in done.stderr
    assert not (tmp_path / "pg.dump").exists()
