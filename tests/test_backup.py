"""Backups under load and restore: a real Mosquitto, `clinic listen` as a process, devices publishing throughout,
`clinic db backup` and `clinic db restore` run as a user would, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tarfile
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from shared.equipment.recording import ListenerIdentity, record_beat
from shared.equipment.stations import list_stations, register_equipment
from shared.store.db import make_engine, read_session, unit_of_work
from shared.store.settings import Settings
from telemetry.broker_config import write_config
from tests.conftest import Broker, new_pg_database
from tests.helpers import free_port, wait_for_port, wait_until
from tests.mqtt_helpers import connect, listener_process, listener_settings, publish_all

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


def clinic_umask_022(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    """`clinic` under the usual umask 022, bypassing main()'s own umask: the modes must come from the code."""
    code = "import os, sys; os.umask(0o022); from clinic.cli import app; sys.argv[0] = 'clinic'; app()"
    return subprocess.run([sys.executable, "-c", code, *argv], env=env, capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip


def readable_by_others(folder: Path) -> list[str]:
    """Every path under `folder` (itself included) that its group or anyone else may read, write or enter."""
    paths = [folder, *folder.rglob("*")]
    return [f"{oct(p.stat().st_mode & 0o777)} {p}" for p in paths if p.stat().st_mode & 0o077]


def test_a_restore_onto_an_empty_data_folder_is_private_and_devices_connect_with_their_old_passwords(
    db_url: str, new_store: str, tmp_path: Path
) -> None:
    old, new, archive = tmp_path / "old-site", tmp_path / "new-machine", tmp_path / "off-site" / "nightly.tar.gz"
    old_env = {**os.environ, "CLINIC_DATA_DIR": str(old), "CLINIC_DATABASE_URL": db_url}
    assert clinic_umask_022(old_env, "init", "--tls").returncode == 0
    added = clinic_umask_022(old_env, "device", "add", "tread-9", "--json")
    assert added.returncode == 0, added.stderr
    device = json.loads(added.stdout)
    made = clinic_umask_022(old_env, "db", "backup", "--out", str(archive))
    assert made.returncode == 0, made.stderr
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    assert readable_by_others(archive.parent) == [], "the backup folder must be owner-only"

    new_env = {**os.environ, "CLINIC_DATA_DIR": str(new), "CLINIC_DATABASE_URL": new_store}
    restored = clinic_umask_022(new_env, "db", "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert "mosquitto/passwd" in restored.stdout and "mosquitto/tls/ca.pem" in restored.stdout
    assert readable_by_others(new) == [], "everything restored must be owner-only"
    if new_store.startswith("sqlite"):  # a store outside the data folder: made owner-only too
        assert readable_by_others(Path(new_store.removeprefix("sqlite:///")).parent) == []

    # The new machine's broker runs on the restored accounts; the listener records what the device sends.
    port = free_port()
    cfg = Settings(data_dir=new, database_url=new_store, mqtt_port=port, timezone="UTC", _env_file=None)  # type: ignore[call-arg]
    broker = subprocess.Popen(["mosquitto", "-c", str(write_config(cfg, port=port))], stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        accounts = json.loads((new / "mosquitto" / "accounts.json").read_text())
        listen = cfg.model_copy(update={"mqtt_username": "svc.listener", "mqtt_password": accounts["svc.listener"]})
        listener = listener_process(listen)
        log = new / "listener.log"
        try:
            wait_until(lambda: log.exists() and SUBSCRIBED in log.read_text(), timeout=30, what="listener subscribed")
            sensor = connect(port, device["username"], device["password"], client_id=device["username"])
            assert str(sensor.connack[0]) == "Success", f"the old password was refused: {sensor.connack[0]}"
            body = {"v": 1, "event_id": "after-restore-1", "event": "start", "ts": datetime.now(UTC).isoformat()}
            publish_all(sensor, [("clinic/main/equipment/tread-9/usage", json.dumps(body).encode())])
            sensor.close()
            copy = make_engine(new_store)
            try:
                wait_until(lambda: "after-restore-1" in event_ids(copy), timeout=30, what="the event recorded")
            finally:
                copy.dispose()
        finally:
            listener.send_signal(signal.SIGTERM)
            assert listener.wait(timeout=60) == 0
    finally:
        broker.terminate()
        broker.wait(timeout=15)


def test_keep_rotates_only_the_dated_backups_in_the_folder(tmp_path: Path) -> None:
    env = {**os.environ, "CLINIC_DATA_DIR": str(tmp_path / "data")}
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a backup: never deleted")
    old = folder / "clinic-backup-20200101-000000Z.tar.gz"
    older = folder / "clinic-backup-20190101-000000Z.tar.gz"
    assert clinic(env, "init").returncode == 0
    for path in (older, old):
        assert clinic(env, "db", "backup", "--out", str(path)).returncode == 0
    done = clinic(env, "db", "backup", "--out", str(folder), "--keep", "2")
    assert done.returncode == 0, done.stderr
    assert f"deleted the older backup {older}" in done.stdout
    dated = sorted(p.name for p in folder.glob("clinic-backup-*"))
    assert len(dated) == 2 and dated[0] == old.name, dated
    assert (folder / "notes.txt").exists()
    refused = clinic(env, "db", "backup", "--out", str(tmp_path / "one.tar.gz"), "--keep", "2")
    assert refused.returncode == 2 and "--keep rotates the dated backups in a folder" in refused.stderr


def test_the_default_backup_goes_to_the_backup_folder_and_is_recorded_for_status(tmp_path: Path) -> None:
    env = {**os.environ, "CLINIC_DATA_DIR": str(tmp_path / "data")}
    assert clinic(env, "init").returncode == 0
    done = clinic(env, "db", "backup")
    assert done.returncode == 0, done.stderr
    [made] = (tmp_path / "data" / "backups").glob("clinic-backup-*.tar.gz")
    record = json.loads((tmp_path / "data" / "last-backup.json").read_text())
    assert record["path"] == str(made.resolve()) and record["size_bytes"] == made.stat().st_size


def test_a_store_only_backup_of_an_older_release_still_restores(tmp_path: Path) -> None:
    env = {**os.environ, "CLINIC_DATA_DIR": str(tmp_path / "data")}
    assert clinic(env, "init").returncode == 0
    bare = tmp_path / "old.db"
    with sqlite3.connect(tmp_path / "data" / "clinic.db") as src, sqlite3.connect(bare) as dst:
        src.backup(dst)
    restored = clinic({**env, "CLINIC_DATA_DIR": str(tmp_path / "other")}, "db", "restore", str(bare))
    assert restored.returncode == 0, restored.stderr
    assert "store-only backup from an older release" in restored.stdout


def test_restore_refuses_an_archive_that_reaches_outside_the_data_folder(tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar.gz"
    manifest = {"format": "clinic-backup", "version": 1, "store": {"kind": "sqlite", "member": "store.sqlite"},
                "files": ["../../etc/cron.d/x"]}  # fmt: skip
    with tarfile.open(evil, "w:gz") as tar:
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("clinic-backup.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    refused = clinic({**os.environ, "CLINIC_DATA_DIR": str(tmp_path / "data")}, "db", "restore", str(evil))
    assert refused.returncode == 2
    assert "names a file outside the data folder" in refused.stderr


def test_a_backup_taken_while_the_listener_beat_restores_as_stopped_not_as_a_listener_elsewhere(
    tmp_path: Path,
) -> None:
    """The backup holds a live listener's last beat; on the restored site `clinic status` must not read it as a
    listener on another machine still recording (seen by hand after a restore drill)."""
    old, new = tmp_path / "old", tmp_path / "new"
    old_env = {**os.environ, "CLINIC_DATA_DIR": str(old)}
    assert clinic(old_env, "init").returncode == 0
    beat = datetime.now(UTC)
    listener = ListenerIdentity(account="svc.listener", site="main", pid=4242, host="gym-pc", started_at=beat)
    engine = make_engine(f"sqlite:///{old / 'clinic.db'}")
    try:
        with engine.begin() as conn:
            record_beat(conn, listener, beat)
    finally:
        engine.dispose()
    archive = tmp_path / "b.tar.gz"
    assert clinic(old_env, "db", "backup", "--out", str(archive)).returncode == 0

    new_env = {**os.environ, "CLINIC_DATA_DIR": str(new)}
    assert clinic(new_env, "db", "restore", str(archive)).returncode == 0
    status = clinic(new_env, "status", "--json")
    report = json.loads(status.stdout)
    assert report["recording"]["recording"] is False
    assert datetime.fromisoformat(report["recording"]["stopped_since"]) == beat
    assert status.returncode == 1
    assert "another machine records" not in clinic(new_env, "status").stdout
