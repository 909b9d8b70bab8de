"""Faults survived during a flood: every event stored exactly once and the state consistent with the events.

Real processes throughout: `clinic listen` as a child process, the repo's Mosquitto, SQLite files and
PostgreSQL servers. These are the CI-sized versions (10,000 messages); bench/reliability/ runs the long ones.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path

import psutil
import pytest
from sqlalchemy import Engine, func, select

from shared.equipment.models import EquipmentEvent
from shared.equipment.stations import list_stations, register_equipment
from shared.store.db import init_db, make_engine, read_session, unit_of_work
from shared.store.settings import Settings
from tests.conftest import Broker
from tests.helpers import wait_until
from tests.mqtt_helpers import connect, listener_process, listener_settings, publish_all, usage_messages
from tests.pg_cluster import PrivateCluster

pytestmark = pytest.mark.integration
DEVICES = [f"dev-{i:02d}" for i in range(20)]
PER_DEVICE = 500  # 20 x 500 = 10,000 messages
SUBSCRIBED = "subscribed: the broker confirmed"  # what `clinic listen` logs once its subscription is in place


def usage_count(engine: Engine) -> int:
    query = select(func.count()).select_from(EquipmentEvent).where(EquipmentEvent.channel == "usage")  # type: ignore[arg-type]
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def stored_ids(engine: Engine) -> list[str]:
    query = select(EquipmentEvent.event_id).where(EquipmentEvent.channel == "usage")  # type: ignore[arg-type]
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


class Flood:
    """Publishes every message at QoS 1 from a thread and waits for all acknowledgements (across reconnects)."""

    def __init__(self, broker: Broker, messages: list[tuple[str, bytes]]) -> None:
        self.client = connect(
            broker.port, "svc.simulator", broker.simulator_password, client_id=f"flood-{uuid.uuid4().hex[:6]}"
        )
        self.client.client.reconnect_delay_set(0.1, 1)
        self.messages = messages
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            infos = [self.client.client.publish(t, p, qos=1) for t, p in self.messages]
            for info in infos:
                info.wait_for_publish(timeout=180)
        except BaseException as exc:
            self.error = exc

    def __enter__(self) -> Flood:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.thread.join(timeout=240)
        self.client.close()
        assert self.error is None, self.error
        assert not self.thread.is_alive(), "the flood did not finish"


@contextmanager
def listener(settings: Settings) -> Iterator[list[subprocess.Popen[bytes]]]:
    """A `clinic listen` process (restartable through the yielded list), stopped cleanly at the end."""
    processes = [listener_process(settings)]
    try:
        yield processes
    finally:
        processes[-1].send_signal(signal.SIGTERM)
        assert processes[-1].wait(timeout=60) == 0, "the listener did not exit cleanly"


def kill_and_restart(processes: list[subprocess.Popen[bytes]], settings: Settings) -> None:
    """SIGKILL the listener and start another, returning once the new one has subscribed: the killed one's
    writer may still commit its last batch and finish the flood on its own, and a listener stopped while it is
    still importing dies of the SIGTERM instead of exiting cleanly."""
    processes[-1].send_signal(signal.SIGKILL)
    processes[-1].wait(timeout=10)
    with subscribed(settings):
        processes.append(listener_process(settings))


def assert_exactly_once(engine: Engine, messages: list[tuple[str, bytes]]) -> None:
    expected = sorted(json.loads(p)["event_id"] for _, p in messages)
    assert sorted(stored_ids(engine)) == expected
    with read_session(engine) as session:
        stations = list_stations(session=session, tz=UTC)
    assert sum(s.uses_total for s in stations) == len(messages) // 2
    assert sum(s.in_use_seconds_total for s in stations) == pytest.approx(60 * len(messages) // 2)


def prepare(engine: Engine, broker: Broker, settings: Settings) -> None:
    """Register the devices and create the listener's session, so nothing published is lost meanwhile."""
    for device in DEVICES:
        with unit_of_work(engine) as session:
            register_equipment(session=session, site="main", equipment_id=device)
    with listener(settings), subscribed(settings):
        pass


@contextmanager
def subscribed(settings: Settings, *, before: int | None = None) -> Iterator[None]:
    """Wait at the end of the block until one more `clinic listen` has logged its subscription than `before`
    (by default: than when the block began)."""
    log = settings.data_dir / "listener.log"
    confirmed = before if before is not None else (log.read_text().count(SUBSCRIBED) if log.exists() else 0)
    yield
    wait_until(lambda: log.exists() and log.read_text().count(SUBSCRIBED) > confirmed, what="listener subscribed")


def test_listener_killed_three_times_during_a_flood(broker: Broker, engine: Engine, db_url: str) -> None:
    settings = listener_settings(broker, db_url)
    prepare(engine, broker, settings)
    messages = usage_messages(DEVICES, PER_DEVICE)
    with listener(settings) as processes, Flood(broker, messages):
        for share in (0.2, 0.45, 0.7):
            wait_until(lambda share=share: usage_count(engine) >= share * len(messages), timeout=120)
            kill_and_restart(processes, settings)
        wait_until(lambda: usage_count(engine) == len(messages), timeout=180, what="every event")
    assert_exactly_once(engine, messages)


def test_broker_restarted_during_a_flood(broker: Broker, engine: Engine, db_url: str) -> None:
    settings = listener_settings(broker, db_url)
    prepare(engine, broker, settings)
    messages = usage_messages(DEVICES, PER_DEVICE)
    with listener(settings), Flood(broker, messages):
        wait_until(lambda: usage_count(engine) >= 0.3 * len(messages), timeout=120)
        broker.restart()
        wait_until(lambda: usage_count(engine) == len(messages), timeout=180, what="every event after the restart")
    assert_exactly_once(engine, messages)


HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


def test_sqlite_locked_for_ten_seconds_then_listener_killed_loses_nothing(broker: Broker, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'locked.db'}"
    engine = make_engine(db_url)
    init_db(engine)
    settings = listener_settings(broker, db_url)
    prepare(engine, broker, settings)
    messages = usage_messages(DEVICES, PER_DEVICE)
    with listener(settings) as processes, Flood(broker, messages):
        wait_until(lambda: usage_count(engine) >= 0.2 * len(messages), timeout=120)
        holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(tmp_path / "locked.db"), "10"],
                                  stdout=subprocess.PIPE)  # fmt: skip
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
        during = usage_count(engine)
        kill_and_restart(processes, settings)  # killed while it could not commit: nothing acked is lost
        assert holder.wait(timeout=30) == 0
        holder.stdout.close()
        assert during < len(messages)
        wait_until(lambda: usage_count(engine) == len(messages), timeout=180, what="every event after the lock")
    assert_exactly_once(engine, messages)
    engine.dispose()


def test_a_second_listener_with_the_same_account_is_refused_and_the_first_goes_on(
    broker: Broker, engine: Engine, db_url: str
) -> None:
    """Two `clinic listen` with one account (a service plus a manual start) would take the broker session from
    each other over and over; the second is refused with the reason, and the first is never disconnected."""
    settings = listener_settings(broker, db_url)
    prepare(engine, broker, settings)
    log = settings.data_dir / "listener.log"
    messages = usage_messages(DEVICES[:2], 10)
    before = log.read_text().count(SUBSCRIBED)
    with listener(settings) as processes:
        with subscribed(settings, before=before):
            pass  # the first has its locks and its subscription
        env = {**os.environ, **settings.as_env()}
        second = subprocess.run([sys.executable, "-c", "from clinic.cli import main; main()", "listen"], env=env,
                                capture_output=True, text=True, timeout=60)  # fmt: skip
        assert second.returncode != 0
        assert "already running for this store as svc.listener" in second.stderr, second.stderr
        assert f"(pid {processes[-1].pid})" in second.stderr, second.stderr
        device = connect(broker.port, "svc.simulator", broker.simulator_password)
        publish_all(device, messages)
        device.close()
        wait_until(lambda: usage_count(engine) == len(messages), what="the first listener still recording")
    assert "disconnected from the broker" not in log.read_text()


PULSE_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
print("pulsing", flush=True)
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    conn.execute("BEGIN IMMEDIATE")
    time.sleep(0.4)  # a slow disk: every commit of the listener waits for this
    conn.execute("ROLLBACK")
    time.sleep(0.1)
"""


def writer_of(listener: subprocess.Popen[bytes]) -> psutil.Process:
    """The listener's writer process (it commits; the listener reads and acknowledges), not multiprocessing's
    resource tracker, its other child."""

    def writers() -> list[psutil.Process]:
        children = psutil.Process(listener.pid).children()
        return [c for c in children if any("spawn_main" in part for part in c.cmdline())]

    wait_until(lambda: bool(writers()), timeout=30, what="the writer process")
    return writers()[0]


def test_listener_and_its_writer_killed_while_commits_lag_behind_reading(broker: Broker, tmp_path: Path) -> None:
    """Every commit waits on a pulsing lock (a slow disk), so the listener reads far ahead of what its writer
    has committed: received, not committed, not acknowledged. Killing the writer (the listener starts another
    and gives it the batch again) and then the listener itself (its writer is orphaned mid-commit and ends)
    loses nothing and stores nothing twice."""
    path = tmp_path / "slow.db"
    db_url = f"sqlite:///{path}"
    engine = make_engine(db_url)
    init_db(engine)
    settings = listener_settings(broker, db_url)
    prepare(engine, broker, settings)
    messages = usage_messages(DEVICES, PER_DEVICE)
    log = settings.data_dir / "listener.log"
    with listener(settings) as processes, Flood(broker, messages):
        pulser = subprocess.Popen([sys.executable, "-c", PULSE_LOCK, str(path), "600"], stdout=subprocess.PIPE)
        assert pulser.stdout is not None and pulser.stdout.readline().strip() == b"pulsing"
        try:
            wait_until(lambda: usage_count(engine) >= 0.1 * len(messages), timeout=180)
            writer_of(processes[-1]).kill()
            wait_until(lambda: "starting a new one" in log.read_text(), timeout=30, what="a new writer")
            wait_until(lambda: usage_count(engine) >= 0.3 * len(messages), timeout=180)
            orphan = writer_of(processes[-1])
            kill_and_restart(processes, settings)
            orphan.wait(timeout=30)  # the orphaned writer ends on its own: its pipe to the listener is closed
        finally:
            pulser.kill()
            pulser.wait(timeout=10)
            pulser.stdout.close()
        wait_until(lambda: usage_count(engine) == len(messages), timeout=180, what="every event after the kills")
    assert processes[-1].returncode == 0
    assert_exactly_once(engine, messages)
    engine.dispose()


@pytest.fixture
def private_pg() -> Iterator[PrivateCluster]:
    # Not under pytest's tmp_path: that is private to root, and PostgreSQL runs as its own user.
    root = Path(tempfile.mkdtemp(prefix="clinic-pg-"))
    root.chmod(0o755)
    cluster = PrivateCluster(root / "pg")
    cluster.start()
    yield cluster
    cluster.stop("immediate")
    shutil.rmtree(root, ignore_errors=True)


def test_postgresql_restarted_during_a_flood(broker: Broker, private_pg: PrivateCluster) -> None:
    engine = make_engine(private_pg.url)
    init_db(engine)
    settings = listener_settings(broker, private_pg.url)
    prepare(engine, broker, settings)
    messages = usage_messages(DEVICES, PER_DEVICE)
    with listener(settings), Flood(broker, messages):
        wait_until(lambda: usage_count(engine) >= 0.3 * len(messages), timeout=120)
        private_pg.stop("fast")
        private_pg.start()
        wait_until(lambda: usage_count(engine) == len(messages), timeout=180, what="every event after the restart")
    assert_exactly_once(engine, messages)
    engine.dispose()


def test_two_listeners_sharing_the_load_one_killed_midway(broker: Broker, engine: Engine, db_url: str) -> None:
    first = listener_settings(broker, db_url, mqtt_shared_group="ingest")
    second = listener_settings(broker, db_url, member=2, mqtt_shared_group="ingest")
    prepare(engine, broker, first)
    prepare(engine, broker, second)  # both members' sessions exist before the flood, so both get a share
    messages = usage_messages(DEVICES, PER_DEVICE)
    with listener(first) as one, listener(second), Flood(broker, messages):
        # Killed at a fifth: even if the first member had recorded none of it, the survivor has at least 2,500 of
        # its half still to record (at two fifths, a slow-starting first member once left it fewer than 1,000).
        wait_until(lambda: usage_count(engine) >= 0.2 * len(messages), timeout=120)
        one[-1].send_signal(signal.SIGKILL)
        one[-1].wait(timeout=10)
        at_kill = usage_count(engine)
        # The survivor keeps recording its share. Mosquitto 2.0 keeps queueing the dead member's share in its
        # persistent session, so that share arrives when it comes back (its supervisor restarts it).
        wait_until(lambda: usage_count(engine) >= at_kill + 1000, timeout=120, what="the survivor carrying on")
        one.append(listener_process(first))
        wait_until(lambda: usage_count(engine) == len(messages), timeout=180, what="every event")
    assert_exactly_once(engine, messages)


def process_cpu_s(pid: int) -> float:
    """CPU time (user + system) a process and its children (the listener's writer) have used so far."""
    process = psutil.Process(pid)
    total = 0.0
    for each in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = each.cpu_times()
            total += times.user + times.system
    return total


def idle_while(process: subprocess.Popen[bytes], seconds: float, publish: Callable[[], None]) -> float:
    """Share of one core the process used during `seconds` of an outage in which `publish` runs first."""
    cpu, wall = process_cpu_s(process.pid), time.monotonic()
    publish()
    deadline = wall + seconds
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.5)  # the outage lasts this long whatever happens: nothing to wait for but the clock
    assert process.poll() is None, "the listener ended during the outage"
    return (process_cpu_s(process.pid) - cpu) / (time.monotonic() - wall)


def test_the_listener_idles_while_sqlite_is_locked_for_thirty_seconds(broker: Broker, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'locked.db'}"
    engine = make_engine(db_url)
    init_db(engine)
    settings = listener_settings(broker, db_url)
    prepare(engine, broker, settings)
    messages = usage_messages(DEVICES, 50)
    device = connect(broker.port, "svc.simulator", broker.simulator_password)
    with listener(settings) as processes:
        holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(tmp_path / "locked.db"), "32"],
                                  stdout=subprocess.PIPE)  # fmt: skip
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
        share = idle_while(processes[-1], 30, lambda: publish_all(device, messages))
        assert usage_count(engine) == 0
        assert holder.wait(timeout=30) == 0
        holder.stdout.close()
        wait_until(lambda: usage_count(engine) == len(messages), timeout=60, what="every event after the lock")
    device.close()
    assert share < 0.15, f"the listener used {share:.0%} of a core while the database was locked"
    assert_exactly_once(engine, messages)
    engine.dispose()


def test_the_listener_idles_while_postgresql_is_down(broker: Broker, private_pg: PrivateCluster) -> None:
    engine = make_engine(private_pg.url)
    init_db(engine)
    settings = listener_settings(broker, private_pg.url)
    prepare(engine, broker, settings)
    messages = usage_messages(DEVICES, 50)
    device = connect(broker.port, "svc.simulator", broker.simulator_password)
    with listener(settings) as processes:
        with subscribed(settings, before=1):  # prepare() ran one listener
            pass
        private_pg.stop("fast")
        share = idle_while(processes[-1], 20, lambda: publish_all(device, messages))
        private_pg.start()
        wait_until(lambda: usage_count(engine) == len(messages), timeout=60, what="every event after the restart")
    device.close()
    assert share < 0.15, f"the listener used {share:.0%} of a core while the database was down"
    assert_exactly_once(engine, messages)
    engine.dispose()
