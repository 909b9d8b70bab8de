"""Reliability under faults: a flood of QoS 1 messages, a fault injected mid-flood, then every event counted.

    python -m bench.reliability                                  # full: 100,000 messages, every scenario, both stores
    python -m bench.reliability --messages 10000 --scenarios 1,2 --backends sqlite       # quick

For each scenario, on each backend where it applies, this starts its own Mosquitto (the repo's config rendered
on a free port: persistence on), a fresh store and `python -m clinic listen` as a child process. It waits until
the listener's subscription is confirmed (its log says so), then a thread publishes the flood (200 devices
alternating usage start/stop with unique event ids, QoS 1, every PUBACK awaited, reconnecting when the broker
goes away) while the main thread injects the fault:

  1 listener-kill   the listener SIGKILLed 3 times, when a seeded random 10-90% of the flood is stored,
                    restarted each time after a seeded pause of 0-1 s                     (SQLite, PostgreSQL)
  2 broker-restart  Mosquitto stopped (SIGTERM, it saves its persistence file) when a seeded 20-60% of the
                    flood is PUBACKed, restarted 1-3 s later; publisher and listener reconnect by themselves
                                                                                          (SQLite, PostgreSQL)
  3 db-outage       SQLite: another process holds a write transaction (BEGIN IMMEDIATE) for 10 s from when
                    20-60% is stored, and the listener is SIGKILLed 2-8 s into the lock and restarted at once.
                    PostgreSQL: a private server (initdb in /tmp, free port, durable defaults) is stopped
                    (`pg_ctl -m fast`) when 20-60% is stored and started again 1-3 s later.
  4 shared-sub      two listeners in one MQTT v5 shared subscription (CLINIC_MQTT_SHARED_GROUP); one is
                    SIGKILLed when 30-60% is stored and restarted 5-10 s later                 (PostgreSQL)

Then it waits until every PUBACKed message is stored (or nothing has moved for --stall-timeout seconds),
stops the listeners with SIGTERM and counts: published (PUBACKed), stored (distinct event ids), duplicated
(rows minus distinct ids), lost (PUBACKed ids missing from the table), dead-lettered, and whether the stations'
uses_total adds up to the starts stored. It exits 1 if anything was lost or duplicated, a state total did not
match, or a listener died on its own. Ctrl-C or SIGTERM stops the child processes, drops the temporary
databases and removes the temporary folders.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from sqlalchemy import Engine, text

from bench.common import (
    PG_ADMIN_URL,
    PUBLISH_WINDOW,
    Broker,
    Message,
    PrivateCluster,
    Publisher,
    backend_versions,
    child_env,
    code_version,
    device_ids,
    install_sigterm_as_interrupt,
    listener_settings,
    load_average,
    machine,
    postgres_store,
    private_postgres,
    sqlite_store,
    start_broker,
    start_broker_again,
    stop_broker,
    stop_process,
    usage_backlog,
)
from shared.store.db import make_engine
from shared.store.settings import Settings

SCENARIOS = ("listener-kill", "broker-restart", "db-outage", "shared-sub")
BACKENDS = ("sqlite", "postgresql")
APPLIES = {
    "listener-kill": BACKENDS,
    "broker-restart": BACKENDS,
    "db-outage": BACKENDS,
    "shared-sub": ("postgresql",),
}
SUBSCRIBED = "subscribed: the broker confirmed"  # what `clinic listen` logs once its subscription is in place
DB_RETRY = "database unavailable"  # what it logs each time a commit fails and it holds the batch unacked
RESULTS_DIR = Path(__file__).resolve().parent / "results"
STOP_DURATION_S = 55.0  # bench.common.usage_backlog gives every stop this duration

# Holds SQLite's write lock: BEGIN IMMEDIATE waits (up to 60 s) for the listener's own transaction to end.
HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


class ScenarioFailed(RuntimeError):
    """The scenario could not go on (a listener died by itself, the flood failed, nothing moved)."""


@dataclass
class Result:
    backend: str
    scenario: str
    faults: str = ""
    details: list[str] = field(default_factory=list)
    messages: int = 0  # the flood's size
    published: int = 0  # PUBACKed (success reason code)
    stored: int = 0  # distinct event ids in equipment_event
    rows: int = 0
    duplicated: int = 0
    lost: int = 0  # PUBACKed ids missing from the table
    unacked_stored: int = 0  # stored though never PUBACKed (only if the flood itself failed)
    dead_lettered: int = 0
    starts_stored: int = 0
    uses_total: int = 0
    in_use_seconds: float = 0.0  # informational: out-of-order arrival may add to it (see docs/reliability.md)
    publish_s: float = 0.0
    wall_s: float = 0.0  # from the first publish until the last message is stored
    publisher_connects: int = 0
    listener_connects: int = 0
    db_retries_logged: int = 0
    listener_exit_codes: list[int | None] = field(default_factory=list)
    load_before: float = 0.0
    load_after: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def uses_consistent(self) -> bool:
        return self.uses_total == self.starts_stored

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.uses_consistent
            and not self.errors
            and self.published == self.messages
        )


# -- the flood ------------------------------------------------------------------------------------------------
class FloodPublisher(Publisher):
    """bench.common.Publisher that keeps going across broker restarts.

    paho keeps every unacknowledged QoS 1 message (also those published while disconnected) and sends it again
    after reconnecting, so each message is PUBACKed once in the end; `infos` tells which were.
    """

    def __init__(self, broker: Broker) -> None:
        super().__init__(broker)
        self.connects = 1
        self.client.reconnect_delay_set(0.1, 1)
        self.client.on_connect = self._count_connect

    def _count_connect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not reason.is_failure:
            self.connects += 1

    def publish_info(self, topic: str, payload: bytes, window_timeout: float) -> mqtt.MQTTMessageInfo:
        with self._cond:
            while self.sent - self.acked >= PUBLISH_WINDOW:
                if not self._cond.wait(timeout=window_timeout):
                    raise TimeoutError(f"no PUBACK for {window_timeout:.0f}s")
        info = self.client.publish(topic, payload, qos=1)
        if info.rc == mqtt.MQTT_ERR_NO_CONN:
            # Published while the broker was away: paho keeps it and sends it after reconnecting. Mark the info
            # as pending rather than failed, so that is_published() tells whether its PUBACK came.
            info.rc = mqtt.MQTT_ERR_SUCCESS
        elif info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"publish failed: {mqtt.error_string(info.rc)}")
        with self._cond:
            self.sent += 1
        return info

    def wait_acked(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.acked >= self.sent, timeout=timeout)


class Flood:
    """Publishes the messages from a thread; `acked` and `done` let the main thread time its faults."""

    def __init__(self, broker: Broker, messages: list[Message], timeout: float) -> None:
        self.messages = messages
        self.timeout = timeout
        self.publisher = FloodPublisher(broker)
        self.infos: list[mqtt.MQTTMessageInfo] = []
        self.error: str | None = None
        self.started = 0.0
        self.publish_s = 0.0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="flood", daemon=True)

    @property
    def acked(self) -> int:
        return self.publisher.acked

    def start(self) -> None:
        self.started = time.monotonic()
        self.thread.start()

    def _run(self) -> None:
        try:
            for topic, payload in self.messages:
                self.infos.append(self.publisher.publish_info(topic, payload, self.timeout))
            if not self.publisher.wait_acked(self.timeout):
                raise TimeoutError(f"only {self.publisher.acked:,} of {self.publisher.sent:,} PUBACKed")
        except BaseException as exc:  # reported by the main thread
            self.error = f"flood: {exc}"
        finally:
            self.publish_s = time.monotonic() - self.started
            self.done.set()

    def published(self) -> list[int]:
        """Indexes of the messages the broker acknowledged (a refusal in the PUBACK is reported as an error)."""
        return [i for i, info in enumerate(self.infos) if info.is_published()]

    def close(self) -> None:
        self.publisher.close()


# -- listeners as child processes -----------------------------------------------------------------------------
class Listeners:
    """`python -m clinic listen` children by name; each start gets its own log file."""

    def __init__(self, folder: Path, stack: ExitStack) -> None:
        self.folder = folder
        self.stack = stack
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.settings: dict[str, Settings] = {}
        self.logs: list[Path] = []
        self.exit_codes: list[int | None] = []

    def start(self, name: str, settings: Settings | None = None) -> subprocess.Popen[bytes]:
        if settings is not None:
            self.settings[name] = settings
        log = self.folder / f"listener-{name}-{len(self.logs)}.log"
        self.logs.append(log)
        with open(log, "wb") as stderr:  # the child keeps its own copy of the descriptor
            proc = subprocess.Popen(
                [sys.executable, "-m", "clinic", "listen"],
                env=child_env(self.settings[name]),
                cwd=self.folder,  # no stray .env from the caller's folder
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        self.stack.callback(stop_process, proc, timeout=30)
        self.procs[name] = proc
        return proc

    def wait_subscribed(self, name: str, timeout: float = 60) -> None:
        log = next(p for p in reversed(self.logs) if p.name.startswith(f"listener-{name}-"))
        deadline = time.monotonic() + timeout
        while SUBSCRIBED not in _read(log):
            self.check_alive()
            if time.monotonic() > deadline:
                raise ScenarioFailed(f"listener {name} not subscribed after {timeout:.0f}s: {_tail(log)}")
            time.sleep(0.05)

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                log = next(p for p in reversed(self.logs) if p.name.startswith(f"listener-{name}-"))
                raise ScenarioFailed(f"listener {name} exited by itself with {proc.returncode}: {_tail(log)}")

    def stop_all(self) -> None:
        """SIGTERM (flush, commit, ack, leave) and note each exit code: 0 is a clean stop."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                self.exit_codes.append(proc.wait(timeout=60))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
                self.exit_codes.append(None)
        self.procs.clear()

    def count_in_logs(self, needle: str) -> int:
        return sum(_read(log).count(needle) for log in self.logs)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _tail(path: Path, lines: int = 5) -> str:
    return " | ".join(_read(path).strip().splitlines()[-lines:]) or "(empty log)"


# -- one scenario ---------------------------------------------------------------------------------------------
class Run:
    """Everything one scenario on one backend needs; `stack` undoes it all."""

    def __init__(self, args: argparse.Namespace, backend: str, scenario: str, root: Path, stack: ExitStack) -> None:
        self.args = args
        self.backend = backend
        self.scenario = scenario
        self.stack = stack
        self.rng = random.Random(f"{args.seed}-{backend}-{scenario}")  # the same moments for any subset run
        self.folder = root / f"{backend}-{scenario}"
        self.folder.mkdir(parents=True)
        self.devices = device_ids(args.devices)
        self.broker = start_broker(self.folder / "data", stack)
        self.cluster: PrivateCluster | None = None
        if backend == "sqlite":
            self.url = sqlite_store(self.folder / "store", self.devices)
        elif scenario == "db-outage":
            self.cluster = private_postgres(stack, self.devices)
            self.url = self.cluster.url
        else:
            self.url = postgres_store(stack, self.devices, args.pg_url)
        self.engine: Engine = make_engine(self.url)  # for counting only
        stack.callback(self.engine.dispose)
        self.tag = uuid.uuid4().hex[:8]
        self.messages = usage_backlog(self.devices, args.messages, self.tag)
        self.event_ids = [json.loads(payload)["event_id"] for _, payload in self.messages]
        self.listeners = Listeners(self.folder, stack)
        self.flood = Flood(self.broker, self.messages, timeout=args.stall_timeout)
        stack.callback(self.flood.close)
        self.result = Result(backend, scenario, messages=len(self.messages))
        self._count = 0
        self._moved_at = time.monotonic()

    def settings(self, name: str, **overrides: Any) -> Settings:
        member = 2 if name == "b" else 1  # each member of a shared group has its own account (= client id)
        data = self.folder / "data"
        return listener_settings(self.broker, data, self.url, member=member, log_level="INFO", **overrides)

    @property
    def n(self) -> int:
        return len(self.messages)

    def stored(self) -> int:
        """Rows in equipment_event (the last figure read while the database does not answer)."""
        try:
            with self.engine.connect() as conn:
                count = int(conn.execute(text("SELECT count(*) FROM equipment_event")).scalar_one())
        except Exception:  # locked or restarting: that is the fault under test
            return self._count
        if count != self._count:
            self._count, self._moved_at = count, time.monotonic()
        return count

    def wait(self, predicate: Callable[[], bool], what: str, interval: float = 0.05) -> None:
        """Poll until `predicate`; fail if a listener died, the flood failed, or nothing moved for too long."""
        self._moved_at = time.monotonic()
        last_acked = self.flood.acked
        while not predicate():
            self.listeners.check_alive()
            if self.flood.error:
                raise ScenarioFailed(self.flood.error)
            if self.flood.acked != last_acked:
                last_acked, self._moved_at = self.flood.acked, time.monotonic()
            if time.monotonic() - self._moved_at > self.args.stall_timeout:
                raise ScenarioFailed(
                    f"nothing moved for {self.args.stall_timeout:.0f}s waiting for {what} "
                    f"({self._count:,} stored, {self.flood.acked:,} PUBACKed)"
                )
            time.sleep(interval)

    def wait_stored(self, share: float) -> int:
        target = round(share * self.n)
        self.wait(lambda: self.stored() >= target, f"{share:.0%} stored")
        return self._count

    def sleep(self, seconds: float) -> None:
        """Sleep while watching the listeners (a fault's duration, not synchronisation)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.listeners.check_alive()
            self.stored()
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))

    def wait_complete(self) -> None:
        def complete() -> bool:
            return self.flood.done.is_set() and self.stored() >= len(self.flood.published())

        self.wait(complete, "every PUBACKed message to be stored", interval=0.1)
        for name in list(self.listeners.procs):  # one restarted at the very end is still starting: let it finish,
            self.listeners.wait_subscribed(name)  # so the final SIGTERM tests a clean stop, not an early one

    def pct(self, count: int) -> str:
        return f"{count:,} stored ({count / self.n:.0%})"


def run_scenario(args: argparse.Namespace, backend: str, scenario: str, root: Path) -> Result:
    with ExitStack() as stack:
        run = Run(args, backend, scenario, root, stack)
        res = run.result
        res.load_before = load_average()
        try:
            SCENARIO_FUNCS[scenario](run)
        except ScenarioFailed as exc:
            res.errors.append(str(exc))
        except Exception as exc:  # a bug here or an unexpected failure: report it, go on with the next scenario
            traceback.print_exc()
            res.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            res.wall_s = time.monotonic() - run.flood.started if run.flood.started else 0.0
            run.listeners.stop_all()
        if run.flood.started and not run.flood.done.wait(timeout=args.stall_timeout):
            res.errors.append("the flood did not finish")
        if run.flood.publisher.failed:
            res.errors.append(f"the broker refused {run.flood.publisher.failed:,} publishes (check the ACL)")
        res.publish_s = run.flood.publish_s
        res.publisher_connects = run.flood.publisher.connects
        res.listener_connects = run.listeners.count_in_logs("connected to ")
        res.db_retries_logged = run.listeners.count_in_logs(DB_RETRY)
        res.listener_exit_codes = run.listeners.exit_codes
        if any(code != 0 for code in res.listener_exit_codes):
            res.errors.append(f"a listener did not stop cleanly on SIGTERM: exit codes {res.listener_exit_codes}")
        count_outcome(run, res)
        res.load_after = load_average()
        return res


def count_outcome(run: Run, res: Result) -> None:
    published = {run.event_ids[i] for i in run.flood.published()}
    res.published = len(published)
    with run.engine.connect() as conn:
        ids = list(conn.execute(text("SELECT event_id FROM equipment_event WHERE channel = 'usage'")).scalars())
        res.dead_lettered = int(conn.execute(text("SELECT count(*) FROM dead_letter")).scalar_one())
        res.starts_stored = int(
            conn.execute(text("SELECT count(*) FROM equipment_event WHERE event = 'start'")).scalar_one()
        )
        uses, seconds = conn.execute(
            text("SELECT coalesce(sum(uses_total), 0), coalesce(sum(in_use_seconds_total), 0) FROM equipment_state")
        ).one()
    distinct = set(ids)
    res.rows = len(ids)
    res.stored = len(distinct)
    res.duplicated = len(ids) - len(distinct)
    res.lost = len(published - distinct)
    res.unacked_stored = len(distinct - published)
    res.uses_total = int(uses)
    res.in_use_seconds = float(seconds)


# -- the scenarios --------------------------------------------------------------------------------------------
def listener_kill(run: Run) -> None:
    run.listeners.start("a", run.settings("a"))
    run.listeners.wait_subscribed("a")
    shares = sorted(run.rng.uniform(0.1, 0.9) for _ in range(3))
    pauses = [run.rng.uniform(0.0, 1.0) for _ in shares]
    run.result.faults = "listener SIGKILLed 3 times, restarted"
    run.flood.start()
    for share, pause in zip(shares, pauses, strict=True):
        at = run.wait_stored(share)
        run.listeners.kill("a")
        run.sleep(pause)
        run.listeners.start("a")
        run.result.details.append(f"SIGKILL at {run.pct(at)}, restarted {pause:.1f}s later")
    run.wait_complete()


def broker_restart(run: Run) -> None:
    run.listeners.start("a", run.settings("a"))
    run.listeners.wait_subscribed("a")
    share, down = run.rng.uniform(0.2, 0.6), run.rng.uniform(1.0, 3.0)
    target = round(share * run.n)
    run.result.faults = "Mosquitto stopped and restarted"
    run.flood.start()
    run.wait(lambda: run.flood.acked >= target or run.flood.done.is_set(), f"{share:.0%} PUBACKed")
    acked, at = run.flood.acked, run.stored()
    began = time.monotonic()
    stop_broker(run.broker)
    stopped_s = time.monotonic() - began
    run.sleep(down)
    start_broker_again(run.broker, run.stack)
    run.result.details.append(
        f"stopped (SIGTERM, {stopped_s:.1f}s to exit) at {acked:,} PUBACKed and {run.pct(at)}; "
        f"down {down + stopped_s:.1f}s, then started again from its persistence file"
    )
    run.wait_complete()


def db_outage(run: Run) -> None:
    if run.backend == "sqlite":
        sqlite_lock(run)
    else:
        postgres_restart(run)


def sqlite_lock(run: Run) -> None:
    lock_s = run.args.lock_seconds
    share, kill_after = run.rng.uniform(0.2, 0.6), run.rng.uniform(0.2, 0.8) * lock_s
    run.listeners.start("a", run.settings("a"))
    run.listeners.wait_subscribed("a")
    run.result.faults = f"SQLite write-locked {lock_s:g}s; listener SIGKILLed in it, restarted"
    run.flood.start()
    run.wait_stored(share)
    path = run.url.removeprefix("sqlite:///")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, path, str(lock_s)], stdout=subprocess.PIPE)
    run.stack.callback(stop_process, holder)
    assert holder.stdout is not None
    if not select.select([holder.stdout], [], [], 90)[0] or holder.stdout.readline().strip() != b"locked":
        raise ScenarioFailed("the lock holder did not take the write lock")
    locked_at, at_lock = time.monotonic(), run.stored()
    run.sleep(kill_after)
    at_kill = run.stored()
    run.listeners.kill("a")
    run.listeners.start("a")
    run.sleep(max(0.0, locked_at + lock_s - 0.3 - time.monotonic()))
    before_release = run.stored()
    if holder.wait(timeout=lock_s + 60) != 0:
        raise ScenarioFailed(f"the lock holder failed with {holder.returncode}")
    holder.stdout.close()
    run.result.details.append(
        f"write lock taken at {run.pct(at_lock)}; listener SIGKILLed {kill_after:.1f}s into it and restarted; "
        f"rows committed while locked: {at_kill - at_lock} before the kill, {before_release - at_kill} after"
    )
    run.wait_complete()


def postgres_restart(run: Run) -> None:
    assert run.cluster is not None
    share, down = run.rng.uniform(0.2, 0.6), run.rng.uniform(1.0, 3.0)
    run.listeners.start("a", run.settings("a"))
    run.listeners.wait_subscribed("a")
    mode = run.args.pg_stop_mode
    run.result.faults = f"PostgreSQL server restarted (pg_ctl -m {mode})"
    run.flood.start()
    at = run.wait_stored(share)
    began = time.monotonic()
    run.cluster.stop(mode)
    stopped_s = time.monotonic() - began
    run.sleep(down)
    run.cluster.start()
    run.result.details.append(
        f"stopped at {run.pct(at)} ({stopped_s:.1f}s to stop), down {down + stopped_s:.1f}s, started again "
        f"(private server on port {run.cluster.port})"
    )
    run.wait_complete()


def shared_sub(run: Run) -> None:
    group = f"bench{run.tag}"
    run.listeners.start("a", run.settings("a", mqtt_shared_group=group))
    run.listeners.start("b", run.settings("b", mqtt_shared_group=group))
    run.listeners.wait_subscribed("a")
    run.listeners.wait_subscribed("b")  # both members exist before the flood, so both get a share
    share, outage = run.rng.uniform(0.3, 0.6), run.rng.uniform(5.0, 10.0)
    run.result.faults = "2 listeners in a shared subscription; 1 SIGKILLed, restarted later"
    run.flood.start()
    at = run.wait_stored(share)
    run.listeners.kill("a")
    run.sleep(outage)
    at_restart = run.stored()
    run.listeners.start("a")
    run.result.details.append(
        f"member a SIGKILLed at {run.pct(at)}; member b stored {at_restart - at:,} in the {outage:.1f}s "
        f"before a was restarted"
    )
    run.wait_complete()


SCENARIO_FUNCS: dict[str, Callable[[Run], None]] = {
    "listener-kill": listener_kill,
    "broker-restart": broker_restart,
    "db-outage": db_outage,
    "shared-sub": shared_sub,
}


# -- report ---------------------------------------------------------------------------------------------------
COLUMNS = (
    "backend",
    "scenario",
    "faults injected",
    "published",
    "stored",
    "duplicated",
    "lost",
    "dead-lettered",
    "uses_total = starts",
    "wall time",
)


def row(res: Result) -> list[str]:
    uses = f"{res.uses_total:,} = {res.starts_stored:,}" if res.uses_consistent else (
        f"MISMATCH {res.uses_total:,} vs {res.starts_stored:,}"
    )  # fmt: skip
    return [
        res.backend,
        res.scenario,
        res.faults,
        f"{res.published:,}",
        f"{res.stored:,}",
        f"{res.duplicated:,}",
        f"{res.lost:,}",
        f"{res.dead_lettered:,}",
        uses,
        f"{res.wall_s:.0f} s",
    ]


def print_row(res: Result) -> None:
    print(" | ".join(row(res)) + ("" if res.ok else "   <-- FAILED"), flush=True)
    for line in res.details:
        print(f"    {line}")
    print(
        f"    flood PUBACKed in {res.publish_s:.1f}s; publisher connects {res.publisher_connects}, listener "
        f"connects {res.listener_connects}, database retries logged {res.db_retries_logged}; listener exit codes "
        f"on SIGTERM {res.listener_exit_codes}; in-use seconds {res.in_use_seconds:,.0f} "
        f"(stops x {STOP_DURATION_S:g} = {STOP_DURATION_S * (res.stored - res.starts_stored):,.0f}); "
        f"load {res.load_before:.2f} -> {res.load_after:.2f}",
        flush=True,
    )
    for error in res.errors:
        print(f"    ERROR: {error}", flush=True)


def print_table(results: list[Result]) -> None:
    print()
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "|".join("---:" if i >= 3 else "---" for i in range(len(COLUMNS))) + "|")
    for res in results:
        print("| " + " | ".join(row(res)) + " |")


# -- main -----------------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000, help="flood size per scenario (default 100000)")
    parser.add_argument("--devices", type=int, default=200, help="devices publishing (default 200)")
    parser.add_argument(
        "--scenarios", default="all", help=f"comma-separated names or numbers 1-4 of {', '.join(SCENARIOS)}"
    )
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated subset of sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=1, help="seed for the moments and durations of the faults")
    parser.add_argument("--json", type=Path, default=None, help="write results here (default bench/results/)")
    parser.add_argument("--pg-url", default=PG_ADMIN_URL, help="admin URL; a fresh database per scenario")
    parser.add_argument("--lock-seconds", type=float, default=10.0, help="how long SQLite stays write-locked")
    parser.add_argument("--pg-stop-mode", choices=("smart", "fast", "immediate"), default="fast")
    parser.add_argument(
        "--stall-timeout", type=float, default=120.0, help="give up when nothing moved for this long (seconds)"
    )
    args = parser.parse_args(argv)
    chosen: list[str] = []
    for item in (s.strip() for s in args.scenarios.split(",") if s.strip()):
        if item == "all":
            chosen += SCENARIOS
        elif item.isdigit() and 1 <= int(item) <= len(SCENARIOS):
            chosen.append(SCENARIOS[int(item) - 1])
        elif item in SCENARIOS:
            chosen.append(item)
        else:
            parser.error(f"unknown scenario {item!r}; choose from 1-4 or {', '.join(SCENARIOS)}")
    args.scenarios = [s for s in SCENARIOS if s in chosen]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if set(backends) - set(BACKENDS):
        parser.error(f"unknown backends {sorted(set(backends) - set(BACKENDS))}; choose from {BACKENDS}")
    args.backends = [b for b in BACKENDS if b in backends]
    if args.messages < args.devices * 2 or args.devices < 1:
        parser.error("--messages must be at least twice --devices")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_sigterm_as_interrupt()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
    plan = [(b, s) for s in args.scenarios for b in args.backends if b in APPLIES[s]]
    uses_pg = any(b == "postgresql" for b, _ in plan)
    info = {**machine(), **backend_versions(args.pg_url if uses_pg else None), "commit": code_version()}
    print("machine:", ", ".join(f"{k} {v}" for k, v in info.items()))
    print(
        f"run: {args.messages:,} QoS 1 messages from {args.devices} devices per scenario, seed {args.seed}; "
        f"{', '.join(f'{s} on {b}' for b, s in plan)}; 1-minute load average {load_average():.2f}",
        flush=True,
    )
    print(" | ".join(COLUMNS))
    results: list[Result] = []
    began = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="clinic-reliability-") as tmp:
            for backend, scenario in plan:
                res = run_scenario(args, backend, scenario, Path(tmp))
                results.append(res)
                print_row(res)
    except KeyboardInterrupt:
        print("\ninterrupted: child processes stopped, temporary databases dropped", file=sys.stderr)
        return 130
    total_s = time.monotonic() - began
    print_table(results)
    failed = [f"{r.scenario} on {r.backend}" for r in results if not r.ok]
    print(f"\ntotal wall time {total_s:.0f}s; 1-minute load average now {load_average():.2f}")
    print("FAILED: " + ", ".join(failed) if failed else "every PUBACKed message stored exactly once in every scenario")
    path = args.json or RESULTS_DIR / f"reliability-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                "command": " ".join(["python -m bench.reliability", *(argv if argv is not None else sys.argv[1:])]),
                "machine": info,
                "total_s": total_s,
                "results": [{**asdict(r), "ok": r.ok, "uses_consistent": r.uses_consistent} for r in results],
            },
            indent=2,
        )
    )
    print(f"results written to {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
