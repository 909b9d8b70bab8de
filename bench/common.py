"""Shared pieces of the benchmarks: a broker from the repo's config, fresh stores, sessions, payloads, publishing.

Everything here cleans up after itself through an `ExitStack` the caller owns, so Ctrl-C (or an error) still
stops child processes, drops temporary PostgreSQL databases and removes temporary folders.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from shared.equipment.stations import register_equipment
from shared.equipment.topics import equipment_topic, subscription
from shared.store.db import init_db, make_engine, unit_of_work
from shared.store.settings import Settings
from telemetry.broker import ensure_broker_files
from telemetry.broker_acl import LISTENER_USER, SIMULATOR_USER, listener_user
from telemetry.broker_config import write_config
from tests.helpers import free_port, port_open
from tests.helpers import wait_until as _wait_until
from tests.pg_cluster import PrivateCluster

PG_ADMIN_URL = os.environ.get("CLINIC_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SITE = "main"
PREFIX = "clinic"
SESSION_EXPIRY_S = 3600
PUBLISH_WINDOW = 500  # QoS 1 publishes in flight at once (below the broker's receive maximum of 1000)

Message = tuple[str, bytes]
# The tests' helpers (tests/helpers.py, tests/pg_cluster.py) are the one home of free_port, port_open, wait_until
# and PrivateCluster; the benchmarks poll more often by default (0.01 s), as the times they report need.
wait_until = partial(_wait_until, interval=0.01)


def install_sigterm_as_interrupt() -> None:
    """SIGTERM cleans up like Ctrl-C does (the `finally` blocks and ExitStack callbacks run)."""

    def _raise(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)


def stop_process(proc: subprocess.Popen[Any], *, timeout: float = 15.0) -> None:
    """Terminate a child we started (SIGTERM, then SIGKILL after `timeout`) and reap it."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def thread_cpu_s(thread: threading.Thread | None) -> float | None:
    """CPU seconds a live thread has used (its own clock, so other load on the machine does not count)."""
    if thread is None or thread.ident is None:
        return None
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    except OSError:
        return None


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process, from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> float:
    return os.getloadavg()[0]


def vm_hwm_mb(pid: int) -> float | None:
    """Peak resident set size (VmHWM) of a live process, in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# -- broker ---------------------------------------------------------------------------------------------------
@dataclass
class Broker:
    """Mosquitto started from the repo's mosquitto.conf, rendered on a free port with its own data folder."""

    settings: Settings
    port: int
    accounts: dict[str, str]
    process: subprocess.Popen[bytes]

    @property
    def listener_password(self) -> str:
        return self.accounts[LISTENER_USER]

    @property
    def simulator_password(self) -> str:
        return self.accounts[SIMULATOR_USER]


def mosquitto_binary() -> str:
    return shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def start_broker(data_dir: Path, stack: ExitStack) -> Broker:
    port = free_port()
    settings = Settings(data_dir=data_dir, mqtt_port=port, _env_file=None)  # type: ignore[call-arg]
    accounts = ensure_broker_files(settings, listeners=2)
    config = write_config(settings, port=port)
    stderr_path = data_dir / "mosquitto.stderr"
    with open(stderr_path, "wb") as stderr:  # a file, not a pipe nobody drains
        proc = subprocess.Popen([mosquitto_binary(), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=stderr)
    stack.callback(stop_process, proc)
    try:
        wait_until(lambda: port_open(port) or proc.poll() is not None, timeout=15, what="mosquitto to listen")
    except TimeoutError:
        raise RuntimeError(f"mosquitto did not open port {port}") from None
    if proc.poll() is not None:
        err = stderr_path.read_text(errors="replace").strip()
        raise RuntimeError(f"mosquitto exited with {proc.returncode}: {err}")
    return Broker(settings=settings, port=port, accounts=accounts, process=proc)


# -- stores ---------------------------------------------------------------------------------------------------
def device_ids(count: int) -> list[str]:
    return [f"bench-eq-{n:04d}" for n in range(count)]


def sqlite_store(folder: Path, devices: Sequence[str]) -> str:
    """A fresh SQLite file with the schema and the devices registered; returns its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / f'clinic-{uuid.uuid4().hex[:8]}.db'}"
    _prepare(url, devices)
    return url


def postgres_store(stack: ExitStack, devices: Sequence[str], admin_url: str = PG_ADMIN_URL) -> str:
    """A fresh PostgreSQL database (dropped when `stack` closes) with the schema and the devices registered."""
    name = f"clinic_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(admin_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    stack.callback(_drop_database, admin, name)
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    _prepare(url, devices)
    return url


def _drop_database(admin: Engine, name: str) -> None:
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _prepare(url: str, devices: Sequence[str]) -> None:
    engine = make_engine(url)
    try:
        init_db(engine)
        for device in devices:
            with unit_of_work(engine) as session:
                register_equipment(session=session, site=SITE, equipment_id=device, kind="treadmill", zone="gym")
    finally:
        engine.dispose()


def count_rows(engine: Engine, table: str = "equipment_event") -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def backend_versions(pg_url: str | None) -> dict[str, str]:
    import sqlite3
    from importlib.metadata import version

    out = {"sqlite": sqlite3.sqlite_version, "python": sys.version.split()[0], "paho-mqtt": version("paho-mqtt")}
    try:
        first = subprocess.run([mosquitto_binary(), "-h"], capture_output=True, text=True, timeout=5).stdout
        out["mosquitto"] = first.splitlines()[0].replace("mosquitto version ", "") if first else "?"
    except (OSError, subprocess.SubprocessError):
        out["mosquitto"] = "?"
    if pg_url:
        engine = make_engine(pg_url)
        try:
            with engine.connect() as conn:
                out["postgresql"] = str(conn.execute(text("SHOW server_version")).scalar_one())
        except Exception as exc:
            out["postgresql"] = f"unavailable ({type(exc).__name__})"
        finally:
            engine.dispose()
    return out


def code_version() -> str:
    """The commit benchmarked, and whether the ingest path differs from it in the working tree."""
    root = Path(__file__).resolve().parent.parent
    paths = ["telemetry/listener.py", "telemetry/batching.py", "shared/equipment/payloads.py",
             "shared/equipment/ingest.py", "shared/equipment/ingest_rows.py", "shared/store/db.py",
             "shared/store/types.py", "shared/equipment/models.py"]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "diff", "--name-only", "HEAD", "--", *paths], cwd=root, capture_output=True, text=True
        )
    except OSError:
        return "?"
    changed = dirty.stdout.split()
    return head.stdout.strip() + (f" (uncommitted changes in {', '.join(changed)})" if changed else "")


def machine() -> dict[str, str]:
    mem = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"nproc": str(os.cpu_count()), "ram": mem, "cpu": cpu}


# -- payloads -------------------------------------------------------------------------------------------------
def _rfc3339(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def usage_backlog(devices: Sequence[str], count: int, tag: str) -> list[Message]:
    """`count` usage messages, round robin over `devices`: each device alternates start and stop.

    Payloads follow shared/equipment/payloads.py (v1, RFC 3339 `ts`, a session id, a stop's duration and metrics);
    event ids are unique per run (`tag`). Device times are a minute apart, ending before now.
    """
    per_device = -(-count // len(devices))
    base = datetime.now(UTC) - timedelta(minutes=per_device + 5)
    out: list[Message] = []
    for i in range(count):
        n, device = divmod(i, len(devices))
        device = devices[device]
        body: dict[str, Any] = {
            "v": 1,
            "event_id": f"{tag}-{device}-{n}",
            "event": "start" if n % 2 == 0 else "stop",
            "ts": _rfc3339(base + timedelta(minutes=n)),
            "session_id": f"s-{tag}-{device}-{n // 2}",
        }
        if n % 2:
            body["duration_s"] = 55.0
            body["metrics"] = {"avg_heart_rate": 80 + (i % 50), "active_s": 49.5}
        out.append((equipment_topic(PREFIX, SITE, device, "usage"), json.dumps(body).encode()))
    return out


def timed_usage(device: str, n: int, tag: str) -> Message:
    """One usage message whose metrics carry the wall-clock send time (`sent_at`, epoch seconds)."""
    body: dict[str, Any] = {
        "v": 1,
        "event_id": f"{tag}-{device}-{n}",
        "event": "start" if n % 2 == 0 else "stop",
        "ts": _rfc3339(datetime.now(UTC)),
        "session_id": f"s-{tag}-{device}-{n // 2}",
        "metrics": {"sent_at": time.time()},
    }
    if n % 2:
        body["duration_s"] = 1.0
    return equipment_topic(PREFIX, SITE, device, "usage"), json.dumps(body).encode()


# -- MQTT clients ---------------------------------------------------------------------------------------------
def listener_topic() -> str:
    return subscription(PREFIX)


def _v5_client(client_id: str, username: str, password: str) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.username_pw_set(username, password)
    return client


def _connect_blocking(client: mqtt.Client, port: int, *, clean_start: bool, expiry: int) -> None:
    connected = threading.Event()
    failure: list[str] = []

    def on_connect(_c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            failure.append(str(reason))
        connected.set()

    client.on_connect = on_connect
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = expiry
    client.connect("127.0.0.1", port, keepalive=30, clean_start=clean_start, properties=props)
    client.loop_start()
    wait_until(connected.is_set, timeout=15, what="CONNACK")
    if failure:
        client.loop_stop()
        raise RuntimeError(f"broker refused {client._client_id!r}: {failure[0]}")


def _disconnect(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


def prime_session(broker: Broker, client_id: str, username: str, password: str) -> None:
    """Create a persistent session subscribed (QoS 1) to the listener's topic, then leave: the broker queues."""
    client = _v5_client(client_id, username, password)
    subscribed = threading.Event()
    client.on_subscribe = lambda *_a: subscribed.set()
    _connect_blocking(client, broker.port, clean_start=True, expiry=SESSION_EXPIRY_S)
    client.subscribe(listener_topic(), qos=1)
    wait_until(subscribed.is_set, timeout=15, what="SUBACK")
    _disconnect(client)


def drop_session(broker: Broker, client_id: str, username: str, password: str) -> None:
    """Remove a session (and anything still queued for it) from the broker."""
    if broker.process.poll() is not None:
        return
    client = _v5_client(client_id, username, password)
    _connect_blocking(client, broker.port, clean_start=True, expiry=0)
    _disconnect(client)


class Publisher:
    """The simulator's account publishing at QoS 1, with its own window of unacknowledged messages."""

    def __init__(self, broker: Broker) -> None:
        self.client = _v5_client(f"bench-pub-{uuid.uuid4().hex[:8]}", SIMULATOR_USER, broker.simulator_password)
        # paho rescans its whole outgoing queue on every PUBACK when it holds more than its in-flight limit,
        # so the window is kept here and paho's limit set above it (it then never queues).
        self.client.max_inflight_messages_set(PUBLISH_WINDOW * 2)
        self.client.max_queued_messages_set(0)
        self._cond = threading.Condition()
        self.sent = 0
        self.acked = 0
        self.failed = 0
        self.client.on_publish = self._on_publish
        _connect_blocking(self.client, broker.port, clean_start=True, expiry=0)

    def _on_publish(self, _c: mqtt.Client, _u: Any, _mid: int, reason: Any, _p: Any) -> None:
        with self._cond:
            self.acked += 1
            if reason.is_failure:
                self.failed += 1
            self._cond.notify_all()

    def publish(self, topic: str, payload: bytes) -> None:
        with self._cond:
            while self.sent - self.acked >= PUBLISH_WINDOW:
                if not self._cond.wait(timeout=30):
                    raise TimeoutError("no PUBACK for 30s")
        info = self.client.publish(topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"publish failed: {info.rc}")
        with self._cond:
            self.sent += 1

    def wait_all_acked(self, timeout: float = 120) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self.acked >= self.sent, timeout=timeout):
                raise TimeoutError(f"only {self.acked} of {self.sent} publishes acknowledged")
        if self.failed:
            raise RuntimeError(f"the broker refused {self.failed} publishes (check the ACL)")

    def close(self) -> None:
        _disconnect(self.client)


def publish_backlog(broker: Broker, messages: Sequence[Message]) -> float:
    """Publish everything at QoS 1 and wait for every PUBACK; returns the seconds it took."""
    publisher = Publisher(broker)
    try:
        started = time.perf_counter()
        for topic, payload in messages:
            publisher.publish(topic, payload)
        publisher.wait_all_acked()
        return time.perf_counter() - started
    finally:
        publisher.close()


# -- settings for the project's listener ---------------------------------------------------------------------
def listener_settings(broker: Broker, data_dir: Path, db_url: str, *, member: int = 1, **overrides: Any) -> Settings:
    """The listener account `member` (the broker makes it the client id too: one account per group member)."""
    user = listener_user(member)
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": db_url,
        "mqtt_port": broker.port,
        "mqtt_username": user,
        "mqtt_password": broker.accounts[user],
        "timezone": "UTC",
        "log_level": "WARNING",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# -- additions for bench/reliability.py: faults on the broker and the database, child-process environments ----
def stop_broker(broker: Broker, *, timeout: float = 30.0) -> None:
    """Stop Mosquitto cleanly (SIGTERM: it writes its persistence file first) and wait for its port to close."""
    stop_process(broker.process, timeout=timeout)
    wait_until(lambda: not port_open(broker.port), timeout=15, what="mosquitto to close its port")


def start_broker_again(broker: Broker, stack: ExitStack) -> None:
    """Start Mosquitto again from the same rendered config, port and data folder (its persistence is reloaded)."""
    from telemetry.broker_files import BrokerFiles

    config = BrokerFiles(broker.settings.broker_dir).config
    stderr_path = broker.settings.data_dir / "mosquitto.stderr"
    with open(stderr_path, "ab") as stderr:
        proc = subprocess.Popen([mosquitto_binary(), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=stderr)
    stack.callback(stop_process, proc)
    broker.process = proc
    wait_until(lambda: port_open(broker.port) or proc.poll() is not None, timeout=15, what="mosquitto to listen")
    if proc.poll() is not None:
        err = stderr_path.read_text(errors="replace").strip()
        raise RuntimeError(f"mosquitto did not restart (exit {proc.returncode}): {err[-500:]}")


def prepare_store(url: str, devices: Sequence[str]) -> None:
    """The schema and the devices registered, in an existing database (e.g. a private PostgreSQL server's)."""
    _prepare(url, devices)


def child_env(settings: Settings) -> dict[str, str]:
    """This process's environment without any CLINIC_* variable, plus the ones that reproduce `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINIC_")}
    return {**env, **settings.as_env()}


def private_postgres(stack: ExitStack, devices: Sequence[str]) -> PrivateCluster:
    """A started private PostgreSQL server in a fresh /tmp folder with the schema and `devices` registered.

    Stopped (immediate) and its folder removed when `stack` closes.
    """
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="clinic-bench-pg-"))
    stack.callback(shutil.rmtree, root, True)
    root.chmod(0o755)
    cluster = PrivateCluster(root / "pg", durable=True)

    def _stop() -> None:
        from contextlib import suppress

        if cluster.running():
            with suppress(subprocess.CalledProcessError):
                cluster.stop("immediate")

    stack.callback(_stop)
    cluster.start()
    prepare_store(cluster.url, devices)
    return cluster


# -- pre-loaded stores (bench.ingest's store-size dimension) -------------------------------------------------
PRELOAD_COLS = ("site", "equipment_id", "event_id", "channel", "event", "device_ts", "event_at", "received_at",
                "session_id", "duration_s", "source")  # fmt: skip


def preload_events(url: str, devices: Sequence[str], count: int, *, chunk: int = 200_000) -> float:
    """Bulk-load `count` usage events of `devices` (random 128-bit ids, over the last 30 days), as bench.scale
    loads its chain; returns the seconds it took. The store must have the schema and the devices registered."""
    import random

    from bench.scale.loaders import PostgresLoader, SQLiteLoader

    rng = random.Random(count)
    bits = rng.getrandbits
    loader: Any = SQLiteLoader(Path(make_url(url).database or "")) if url.startswith("sqlite") else PostgresLoader(url)
    began = time.perf_counter()
    start = datetime.now(UTC) - timedelta(days=30)
    step = timedelta(days=30) / max(1, count)
    done = 0
    while done < count:
        rows = []
        for n in range(done, min(count, done + chunk)):
            at = (start + n * step).replace(tzinfo=None).isoformat(" ", "microseconds")
            stop = n % 2
            rows.append((SITE, devices[(n // 2) % len(devices)], f"{bits(128):032x}", "usage",
                         "stop" if stop else "start", at, at, at, None, 600.0 if stop else None, "device"))  # fmt: skip
        loader.write("equipment_event", PRELOAD_COLS, rows)
        done += len(rows)
    if isinstance(loader, SQLiteLoader):
        loader.finish()
    else:
        loader.conn.commit()
        loader.conn.autocommit = True
        loader.conn.execute("VACUUM ANALYZE equipment_event")
        loader.conn.close()
    return time.perf_counter() - began
