"""Ingest benchmark: time to drain a queued backlog, per design, against one broker on one machine.

    python -m bench.ingest                                  # full: 100,000 messages, 200 devices, median of 3
    python -m bench.ingest --messages 20000 --repeat 1      # quick

Designs (interleaved in each repeat, so drift on the machine hits them all alike):
  limit      a bare paho-mqtt subscriber (MQTT v5, persistent session, QoS 1) that receives and discards
  naive      bench/naive.py: one SQLModel session and commit per message (smaller backlog, --naive-messages),
             with the project's engine (SQLite WAL + synchronous=NORMAL) and, as naive-plain-sqlite, with a
             plain `create_engine(url)` (rollback journal, synchronous=FULL)
  project    telemetry.listener.Listener, unchanged, on a thread (as `clinic listen` runs it)
each on SQLite (a fresh file) and PostgreSQL (a fresh database, dropped afterwards) where a store is involved.

Method: the consumer's persistent session is created first, the publisher publishes the whole backlog at QoS 1
and waits for every PUBACK, then the consumer starts; the time runs from its start until the last message is
received (limit) or committed (naive: its commit counter; project: Listener.stats, checked against the table).
Besides msgs/s it reports the CPU time per message of the consumer's thread and of Mosquitto, which other load
on the machine does not inflate (the 1-minute load average before each drain is printed too).

Then, per backend, `clinic listen` runs as a child process: it drains a backlog, then devices publish at a
steady rate (default 100 msg/s for 20 s) with the send time in the payload's metrics, and a poller records when
each row becomes visible in the database (p50/p99 publish -> visible). Its peak RSS (VmHWM) is read at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Engine, select

from bench.common import (
    PG_ADMIN_URL,
    SESSION_EXPIRY_S,
    Broker,
    Publisher,
    backend_versions,
    child_env,
    code_version,
    count_rows,
    device_ids,
    drop_session,
    install_sigterm_as_interrupt,
    listener_settings,
    listener_topic,
    load_average,
    machine,
    postgres_store,
    preload_events,
    prepare_store,
    prime_session,
    process_cpu_s,
    publish_backlog,
    sqlite_store,
    start_broker,
    stop_process,
    thread_cpu_s,
    timed_usage,
    usage_backlog,
    vm_hwm_mb,
    wait_until,
)
from bench.naive import NaiveListener
from shared.equipment.ingest_rows import EVENTS
from shared.store.db import init_db, make_engine
from telemetry.broker_acl import LISTENER_USER
from telemetry.listener import Listener

DESIGNS = ("limit", "naive-sqlite", "naive-plain-sqlite", "project-sqlite", "naive-postgresql", "project-postgresql")
TARGETS = {"project/limit": 0.5, "project/naive": 20.0, "flat": 0.9, "p99_s": 0.1, "rss_mb": 150.0}
RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"


@dataclass
class Trial:
    design: str
    messages: int
    publish_s: float
    drain_s: float
    cpu_s: float | None = None  # the consumer thread's own CPU time
    broker_cpu_s: float | None = None  # Mosquitto's CPU time during the drain
    load_before: float | None = None  # 1-minute load average when the drain started (other work on the machine)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.messages / self.drain_s

    @property
    def cpu_us(self) -> float | None:
        return None if self.cpu_s is None else self.cpu_s / self.messages * 1e6

    @property
    def broker_cpu_us(self) -> float | None:
        return None if self.broker_cpu_s is None else self.broker_cpu_s / self.messages * 1e6


class Meter:
    """Wall time, the consumer thread's CPU time and the broker's CPU time of one drain."""

    def __init__(self, broker: Broker) -> None:
        self.broker_pid = broker.process.pid
        self.load = load_average()
        self.broker_cpu0 = process_cpu_s(self.broker_pid)
        self.started = time.perf_counter()

    def finish(
        self, trial_args: tuple[str, int, float], thread: threading.Thread | None, end: float | None = None
    ) -> Trial:
        """The Trial, measured now (call it as soon as the last message is in, while the thread still runs)."""
        elapsed = (end if end is not None else time.perf_counter()) - self.started
        cpu = thread_cpu_s(thread)
        broker_cpu = process_cpu_s(self.broker_pid)
        broker_s = None if broker_cpu is None or self.broker_cpu0 is None else broker_cpu - self.broker_cpu0
        design, n, publish_s = trial_args
        return Trial(design, n, publish_s, elapsed, cpu, broker_s, self.load)


@dataclass
class ServiceRun:
    backend: str
    backlog: int
    drain_s: float | None = None  # includes the interpreter's start-up
    latency_sent: int = 0
    latency_seen: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    receive_p50_ms: float | None = None
    receive_p99_ms: float | None = None
    poll_query_ms: float | None = None
    listener_rss_mb: float | None = None
    broker_rss_mb: float | None = None
    exit_code: int | None = None
    error: str | None = None


@dataclass
class Context:
    broker: Broker
    tmp: Path
    devices: list[str]
    pg_url: str
    poll_s: float
    overrides: dict[str, str] = field(default_factory=dict)  # listener settings from --set
    stored: int = 0  # events already in the store the project designs drain into (0: a fresh store per run)
    preloaded: dict[tuple[str, int], str] = field(default_factory=dict)  # (backend, events) -> URL, reused

    @property
    def listener_password(self) -> str:
        return self.broker.listener_password


def drain_timeout(n: int) -> float:
    return 60 + n / 100  # even at 100 msg/s a run finishes; a stuck consumer fails instead of hanging


def new_tag() -> str:
    return uuid.uuid4().hex[:8]


# -- limit ----------------------------------------------------------------------------------------------------
def run_limit(ctx: Context, n: int) -> Trial:
    tag = new_tag()
    client_id = f"bench-limit-{tag}"
    with ExitStack() as stack:
        prime_session(ctx.broker, client_id, LISTENER_USER, ctx.listener_password)
        stack.callback(drop_session, ctx.broker, client_id, LISTENER_USER, ctx.listener_password)
        publish_s = publish_backlog(ctx.broker, usage_backlog(ctx.devices, n, tag))

        received = 0
        done_at = 0.0

        def on_message(_c: mqtt.Client, _u: Any, _msg: mqtt.MQTTMessage) -> None:
            nonlocal received, done_at
            received += 1
            if received == n:
                done_at = time.perf_counter()

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        client.username_pw_set(LISTENER_USER, ctx.listener_password)
        client.on_message = on_message
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = 1000  # the project listener's setting (mqtt_receive_maximum)
        thread = threading.Thread(target=client.loop_forever, name="limit", daemon=True)

        meter = Meter(ctx.broker)
        client.connect("127.0.0.1", ctx.broker.port, keepalive=30, clean_start=False, properties=props)
        thread.start()
        stack.callback(thread.join, 15)
        stack.callback(client.disconnect)
        wait_until(lambda: received >= n, timeout=drain_timeout(n), interval=ctx.poll_s, what="limit subscriber")
        return meter.finish(("limit", n, publish_s), thread, end=done_at)


# -- naive ----------------------------------------------------------------------------------------------------
def run_naive(ctx: Context, design: str, n: int) -> Trial:
    backend = design.rsplit("-", 1)[1]
    tag = new_tag()
    client_id = f"bench-naive-{tag}"
    with ExitStack() as stack:
        url = store(ctx, stack, backend)
        prime_session(ctx.broker, client_id, LISTENER_USER, ctx.listener_password)
        stack.callback(drop_session, ctx.broker, client_id, LISTENER_USER, ctx.listener_password)
        publish_s = publish_backlog(ctx.broker, usage_backlog(ctx.devices, n, tag))

        password, plain = ctx.listener_password, "plain" in design
        peer = NaiveListener(ctx.broker.port, LISTENER_USER, password, client_id, listener_topic(), url, plain=plain)
        meter = Meter(ctx.broker)
        peer.start()
        stack.callback(peer.stop)
        wait_until(lambda: peer.committed >= n, timeout=drain_timeout(n), interval=ctx.poll_s, what="naive peer")
        trial = meter.finish((design, n, publish_s), peer.thread)
        trial.extra = {"rows": count_rows(peer.engine)}
        return trial


# -- the project's listener -----------------------------------------------------------------------------------
def run_project(ctx: Context, backend: str, n: int) -> Trial:
    tag = new_tag()
    client_id = f"bench-project-{tag}"
    with ExitStack() as stack:
        url = store(ctx, stack, backend)
        settings = listener_settings(ctx.broker, ctx.tmp, url, **ctx.overrides)
        prime_session(ctx.broker, client_id, LISTENER_USER, ctx.listener_password)
        stack.callback(drop_session, ctx.broker, client_id, LISTENER_USER, ctx.listener_password)
        publish_s = publish_backlog(ctx.broker, usage_backlog(ctx.devices, n, tag))

        engine = make_engine(url)  # what `clinic listen` does (clinic.cli.engine_for)
        stack.callback(engine.dispose)
        init_db(engine)
        listener = Listener(settings, engine)
        thread = threading.Thread(target=listener.run, name="project-listener", daemon=True)
        stats = listener.stats

        def done() -> bool:
            return stats.inserted + stats.duplicates + stats.dead_lettered >= n

        meter = Meter(ctx.broker)
        thread.start()
        stack.callback(_stop_listener, listener, thread)
        wait_until(done, timeout=drain_timeout(n), interval=ctx.poll_s, what="project listener")
        trial = meter.finish((f"project-{backend}", n, publish_s), thread)
        trial.extra = {
            "rows": count_rows(engine),
            "dead_letters": count_rows(engine, "dead_letter"),
            "duplicates": stats.duplicates,
            "batches": stats.batches,
            "mean_batch": round(stats.inserted / max(1, stats.batches), 1),
        }
        return trial


def _stop_listener(listener: Listener, thread: threading.Thread) -> None:
    listener.stop()
    thread.join(timeout=30)
    if thread.is_alive():
        print("warning: the listener thread did not stop within 30 s", file=sys.stderr)


def store(ctx: Context, stack: ExitStack, backend: str) -> str:
    if ctx.stored:
        return ctx.preloaded[(backend, ctx.stored)]
    if backend == "sqlite":
        return sqlite_store(ctx.tmp / "stores", ctx.devices)
    return postgres_store(stack, ctx.devices, ctx.pg_url)


# -- `clinic listen` as a process: backlog, steady-rate latency, peak RSS -------------------------------------
def preload(ctx: Context, stack: ExitStack, backend: str, events: int, keep: Path | None) -> str:
    """A store holding `events` usage events of the bench's devices, bulk-loaded once and reused by every round
    (with --keep-stores, also by later runs: a SQLite file in that folder, a PostgreSQL database kept)."""
    if keep is not None and backend == "sqlite":
        keep.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{keep / f'preload-{events}.db'}"
    elif keep is not None:
        url = _kept_postgres(ctx.pg_url, f"clinic_bench_preload_{events}")
    else:
        url = store(Context(ctx.broker, ctx.tmp, ctx.devices, ctx.pg_url, ctx.poll_s), stack, backend)
    if keep is not None:
        prepare_store(url, ctx.devices)
    engine = make_engine(url)
    have = count_rows(engine)
    engine.dispose()
    if have < events:
        seconds = preload_events(url, ctx.devices, events - have)
        print(f"  {backend}: bulk-loaded {events - have:,} events in {seconds:.0f}s", flush=True)
    else:
        print(f"  {backend}: reusing a store of {have:,} events ({url.rsplit('/', 1)[-1]})", flush=True)
    return url


def _kept_postgres(admin_url: str, name: str) -> str:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    admin = make_engine(admin_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def clinic_listen_command() -> list[str]:
    """`clinic listen` from this interpreter's environment (not a pyenv shim, so the pid is the listener's)."""
    beside = Path(sys.executable).with_name("clinic")
    exe = str(beside) if beside.exists() else shutil.which("clinic")
    return [exe, "listen"] if exe else [sys.executable, "-c", "from clinic.cli import main; main()", "listen"]


def run_service(ctx: Context, backend: str, backlog: int, rate: float, seconds: float) -> ServiceRun:
    out = ServiceRun(backend=backend, backlog=backlog)
    tag = new_tag()
    client_id = f"bench-service-{tag}"
    with ExitStack() as stack:
        url = store(ctx, stack, backend)
        settings = listener_settings(ctx.broker, ctx.tmp, url, **ctx.overrides)
        prime_session(ctx.broker, client_id, LISTENER_USER, ctx.listener_password)
        stack.callback(drop_session, ctx.broker, client_id, LISTENER_USER, ctx.listener_password)
        if backlog:
            publish_backlog(ctx.broker, usage_backlog(ctx.devices, backlog, tag))
        engine = make_engine(url)
        stack.callback(engine.dispose)

        log_path = ctx.tmp / f"listen-{backend}-{tag}.log"
        with open(log_path, "wb") as log_file:
            started = time.perf_counter()
            proc = subprocess.Popen(
                clinic_listen_command(),
                env=child_env(settings),
                cwd=ctx.tmp,  # no stray .env from the caller's folder
                stdout=subprocess.DEVNULL,
                stderr=log_file,
            )
        stack.callback(stop_process, proc)

        def alive_or_fail() -> None:
            if proc.poll() is not None:
                raise RuntimeError(f"`clinic listen` exited with {proc.returncode}: {_tail(log_path)}")

        def drained() -> bool:
            alive_or_fail()
            return count_rows(engine) >= backlog

        try:
            wait_until(drained, timeout=drain_timeout(backlog), interval=0.02, what="`clinic listen` backlog")
            out.drain_s = time.perf_counter() - started
            lat = measure_latency(ctx, engine, rate, seconds, alive_or_fail)
            out.latency_sent, out.latency_seen = lat["sent"], lat["seen"]
            out.p50_ms, out.p99_ms, out.max_ms = lat["p50_ms"], lat["p99_ms"], lat["max_ms"]
            out.receive_p50_ms, out.receive_p99_ms = lat["receive_p50_ms"], lat["receive_p99_ms"]
            out.poll_query_ms = lat["poll_query_ms"]
            out.listener_rss_mb = vm_hwm_mb(proc.pid)
            out.broker_rss_mb = vm_hwm_mb(ctx.broker.process.pid)
            stop_process(proc, timeout=30)
            out.exit_code = proc.returncode
        except (RuntimeError, TimeoutError) as exc:
            out.error = str(exc)
    return out


def measure_latency(
    ctx: Context, engine: Engine, rate: float, seconds: float, check: Callable[[], None]
) -> dict[str, Any]:
    """Publish at a steady rate with the send time in the metrics; a poller notes when each row is visible."""
    total = round(rate * seconds)
    visible: list[float] = []
    received: list[float] = []
    stop = threading.Event()
    start_id = _max_id(engine)
    poll_error: list[BaseException] = []
    poll_costs: list[float] = []

    def poll() -> None:
        # A row in the result of a query that started at t was committed before t (the query's snapshot), and
        # after the start of the previous poll that missed it: the error is under one poll interval plus the
        # duration of a query. LIMIT keeps the planner on the primary key even before the table is analysed.
        last = start_id
        query = select(EVENTS.c.id, EVENTS.c.metrics, EVENTS.c.received_at).order_by(EVENTS.c.id).limit(1000)
        try:
            while not stop.is_set():
                began = time.time()
                with engine.connect() as conn:
                    rows = conn.execute(query.where(EVENTS.c.id > last)).all()
                poll_costs.append(time.time() - began)
                for row in rows:
                    last = row.id
                    sent = json.loads(row.metrics)["sent_at"]
                    visible.append(began - sent)
                    received.append(row.received_at.timestamp() - sent)
                stop.wait(ctx.poll_s)
        except BaseException as exc:  # reported by the caller
            poll_error.append(exc)

    poller = threading.Thread(target=poll, name="latency-poller", daemon=True)
    poller.start()
    publisher = Publisher(ctx.broker)
    tag = new_tag()
    try:
        began = time.perf_counter()
        for i in range(total):
            delay = began + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)  # pacing the sender, not synchronisation
            device = ctx.devices[i % len(ctx.devices)]
            publisher.publish(*timed_usage(device, i // len(ctx.devices), tag))
        publisher.wait_all_acked()

        def all_seen() -> bool:
            check()
            if poll_error:
                raise RuntimeError(f"latency poller failed: {poll_error[0]!r}")
            return len(visible) >= total

        wait_until(all_seen, timeout=30, interval=0.05, what="steady-rate rows to become visible")
    finally:
        publisher.close()
        stop.set()
        poller.join(timeout=10)
    return {
        "sent": total,
        "seen": len(visible),
        "p50_ms": _pct(visible, 50),
        "p99_ms": _pct(visible, 99),
        "max_ms": max(visible) * 1000 if visible else None,
        "receive_p50_ms": _pct(received, 50),
        "receive_p99_ms": _pct(received, 99),
        "poll_query_ms": statistics.mean(poll_costs) * 1000 if poll_costs else None,
    }


def _max_id(engine: Engine) -> int:
    from sqlalchemy import func

    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(EVENTS.c.id), 0))).scalar_one())


def _pct(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index] * 1000


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


# -- report ---------------------------------------------------------------------------------------------------
def summarise(trials: list[Trial]) -> dict[str, dict[str, Any]]:
    by_design: dict[str, list[Trial]] = {}
    for trial in trials:
        by_design.setdefault(trial.design, []).append(trial)
    return {
        design: {
            "messages": runs[0].messages,
            "median_rate": statistics.median(t.rate for t in runs),
            "rates": [round(t.rate) for t in runs],
            "publish_rate": statistics.median(t.messages / t.publish_s for t in runs),
            "cpu_us": _median([t.cpu_us for t in runs]),
            "broker_cpu_us": _median([t.broker_cpu_us for t in runs]),
            "load_before": [t.load_before for t in runs],
            "extra": runs[-1].extra,
        }
        for design, runs in by_design.items()
    }


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


LABELS = {
    "limit": "limit: bare paho v5 subscriber, QoS 1, discard",
    "naive-sqlite": "naive: SQLModel session + commit per message, SQLite",
    "naive-plain-sqlite": "naive, plain create_engine (rollback journal), SQLite",
    "naive-postgresql": "naive: SQLModel session + commit per message, PostgreSQL",
    "project-sqlite": "project: telemetry.listener.Listener, SQLite",
    "project-postgresql": "project: telemetry.listener.Listener, PostgreSQL",
}


def print_report(summary: dict[str, dict[str, Any]], services: list[ServiceRun], repeat: int) -> dict[str, Any]:
    print()
    print(f"Time to drain a queued backlog (msgs/s, median of {repeat}; each run listed)")
    print("CPU columns: CPU time per message of the consumer's thread and of Mosquitto (not slowed by other load)")
    print(f"{'design':<66} {'messages':>9} {'msgs/s':>8} {'cpu us':>7} {'broker':>7}  runs (msgs/s)")
    for design, row in summary.items():
        base, stored = _split(design)
        label = LABELS[base] + (f" +{stored / 1e6:g}M stored" if stored else "")
        runs = ", ".join(f"{r:,}" for r in row["rates"])
        print(
            f"{label:<66} {row['messages']:>9,} {row['median_rate']:>8,.0f} {_num(row['cpu_us']):>7} "
            f"{_num(row['broker_cpu_us']):>7}  [{runs}]"
        )
    naive_sizes = {summary[d]["messages"] for d in summary if d.startswith("naive")}
    if naive_sizes and "limit" in summary and naive_sizes != {summary["limit"]["messages"]}:
        print(f"  (the naive peer drained a smaller backlog of {', '.join(f'{s:,}' for s in naive_sizes)} messages)")
    for design, row in summary.items():
        if row["extra"]:
            print(f"  {design}: last run {row['extra']}")
    loads = [load for row in summary.values() for load in row["load_before"] if load is not None]
    if loads:
        print(f"  1-minute load average before the drains: {min(loads):.2f} to {max(loads):.2f} (2 = both cores busy)")

    ratios: dict[str, float] = {}
    print()
    print("Ratios (target: project >= 0.5 x limit, >= 20 x naive; with events stored >= 0.9 x the empty store)")
    sizes = sorted({_split(d)[1] for d in summary})
    for backend, stored in ((b, n) for n in sizes for b in ("sqlite", "postgresql")):
        at = f"@{stored}" if stored else ""
        project = summary.get(f"project-{backend}{at}")
        if project is None:
            continue
        if stored and f"project-{backend}" in summary:
            flat = project["median_rate"] / summary[f"project-{backend}"]["median_rate"]
            limit_flat = ""
            if f"limit{at}" in summary and "limit" in summary:
                ratio = project["median_rate"] / summary[f"limit{at}"]["median_rate"]
                empty = summary[f"project-{backend}"]["median_rate"] / summary["limit"]["median_rate"]
                ratios[f"flat {backend}{at} (x limit)"] = ratio / empty
                limit_flat = f"; as shares of the limit in the same rounds {ratio / empty:.2f}"
            ratios[f"flat {backend}{at}"] = flat
            verdict = "met" if flat >= TARGETS["flat"] else "MISSED"
            print(f"  {'stored/empty':<14} {backend + at:<19} {flat:7.2f}   target >= 0.9: {verdict}{limit_flat}")
        for other, key, target in (
            (f"limit{at}", "project/limit", TARGETS["project/limit"]),
            (f"naive-{backend}", "project/naive", TARGETS["project/naive"]),
        ):
            if other in summary:
                ratio = project["median_rate"] / summary[other]["median_rate"]
                ratios[f"{key} {backend}{at}"] = ratio
                verdict = "met" if ratio >= target else f"MISSED (needs {target / ratio:.2f}x more)"
                cpu_ratio = ""
                if project["cpu_us"] and summary[other]["cpu_us"]:
                    cpu = summary[other]["cpu_us"] / project["cpu_us"]
                    ratios[f"{key} {backend}{at} (cpu)"] = cpu
                    cpu_ratio = f"; on consumer CPU per message {cpu:.2f}"
                print(f"  {key:<14} {backend + at:<19} {ratio:7.2f}   target >= {target:g}: {verdict}{cpu_ratio}")

    if services:
        print()
        print("`clinic listen` as a process: backlog drain, then a steady rate (latency), peak RSS")
        for s in services:
            if s.error:
                print(f"  {s.backend}: FAILED: {s.error}")
                continue
            drain = f"{s.backlog / s.drain_s:,.0f} msgs/s" if s.drain_s else "-"
            print(f"  {s.backend}:")
            print(f"    backlog of {s.backlog:,} committed in {s.drain_s:.1f}s ({drain}, process start-up included)")
            print(
                f"    publish -> row visible: p50 {_ms(s.p50_ms)}, p99 {_ms(s.p99_ms)}, max {_ms(s.max_ms)} "
                f"({s.latency_seen}/{s.latency_sent} rows; poll query {_ms(s.poll_query_ms)} mean)"
            )
            received = f"p50 {_ms(s.receive_p50_ms)}, p99 {_ms(s.receive_p99_ms)}"
            print(f"    publish -> received_at (stamped by the listener): {received}")
            print(
                f"    peak RSS (VmHWM): listener {_mb(s.listener_rss_mb)}, broker {_mb(s.broker_rss_mb)}; "
                f"listener exit code {s.exit_code} after SIGTERM"
            )
            for name, value, target, unit in (
                ("p99", (s.p99_ms or 0) / 1000, TARGETS["p99_s"], "s"),
                ("peak RSS", s.listener_rss_mb or 0, TARGETS["rss_mb"], "MB"),
            ):
                verdict = "met" if value < target else "MISSED"
                print(f"    {name} {value:.3g} {unit} (target < {target:g} {unit}): {verdict}")
    return ratios


def _split(design: str) -> tuple[str, int]:
    """("project-sqlite", 1000000) from "project-sqlite@1000000"; stored 0 without a suffix."""
    base, _, stored = design.partition("@")
    return base, int(stored or 0)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} MB"


# -- main -----------------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000, help="backlog per run (default 100000)")
    parser.add_argument("--devices", type=int, default=200, help="simulated devices (default 200)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per design; the median is reported")
    parser.add_argument("--naive-messages", type=int, default=5_000, help="backlog for the naive peer")
    parser.add_argument("--designs", default=",".join(DESIGNS), help=f"comma-separated subset of {DESIGNS}")
    parser.add_argument("--latency-rate", type=float, default=100.0, help="steady msgs/s for the latency run")
    parser.add_argument("--latency-seconds", type=float, default=20.0, help="length of the latency run")
    parser.add_argument("--service-backlog", type=int, default=None, help="backlog for `clinic listen` (--messages)")
    parser.add_argument("--no-service", action="store_true", help="skip the `clinic listen` latency/RSS runs")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--pg-url", default=PG_ADMIN_URL, help="admin URL; a fresh database is created per run")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a listener setting for the project designs, e.g. --set ingest_batch_max=1000 (repeatable)",
    )
    parser.add_argument("--stored", default="0", help="events already stored, comma-separated (e.g. 0,1000000)")
    parser.add_argument("--keep-stores", type=Path, default=None, help="keep and reuse pre-loaded stores (SQLite "
                        "files in this folder, PostgreSQL databases clinic_bench_preload_N)")  # fmt: skip
    parser.add_argument("--poll-ms", type=float, default=5.0, help="poll interval for completion and visibility")
    parser.add_argument("--json", type=Path, default=None, help="write results here (default bench/results/)")
    args = parser.parse_args(argv)
    designs = [d.strip() for d in args.designs.split(",") if d.strip()]
    unknown = set(designs) - set(DESIGNS)
    if unknown:
        parser.error(f"unknown designs {sorted(unknown)}; choose from {DESIGNS}")
    if args.no_postgres:
        designs = [d for d in designs if not d.endswith("postgresql")]
    args.designs = [d for d in DESIGNS if d in designs]
    args.stored = sorted({int(n.replace("_", "")) for n in args.stored.split(",") if n.strip()})
    try:
        args.overrides = dict(item.split("=", 1) for item in args.set)
    except ValueError:
        parser.error("--set takes NAME=VALUE")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_sigterm_as_interrupt()
    backends = ["sqlite"] + ([] if args.no_postgres else ["postgresql"])
    info = {**machine(), **backend_versions(None if args.no_postgres else args.pg_url), "commit": code_version()}
    print("machine:", ", ".join(f"{k} {v}" for k, v in info.items()))
    print(
        f"run: {args.messages:,} messages from {args.devices} devices (naive peer: {args.naive_messages:,}), "
        f"repeat {args.repeat}, designs {', '.join(args.designs)}"
        + (f", listener settings {args.overrides}" if args.overrides else "")
    )
    trials: list[Trial] = []
    services: list[ServiceRun] = []
    began = time.monotonic()
    try:
        with ExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="clinic-bench-")))
            broker = start_broker(tmp / "data", stack)
            ctx = Context(broker, tmp, device_ids(args.devices), args.pg_url, args.poll_ms / 1000, args.overrides)
            print(f"broker: mosquitto pid {broker.process.pid} on 127.0.0.1:{broker.port} ({broker.settings.data_dir})")
            for events in (n for n in args.stored if n):
                for backend in backends:
                    if f"project-{backend}" in args.designs:
                        ctx.preloaded[(backend, events)] = preload(ctx, stack, backend, events, args.keep_stores)
            for r in range(1, args.repeat + 1):
                for stored, design in ((n, d) for n in args.stored for d in args.designs):
                    if stored and design.startswith("naive"):
                        continue  # the naive peers only show the scale of the gap, on an empty store
                    ctx.stored = stored
                    trial = run_design(ctx, design, args)
                    trial.design += f"@{stored}" if stored else ""
                    trials.append(trial)
                    extra = f" {trial.extra}" if trial.extra else ""
                    print(
                        f"  [{r}/{args.repeat}] {trial.design:<27} {trial.messages:>7,} msgs: published in "
                        f"{trial.publish_s:5.1f}s, drained in {trial.drain_s:6.2f}s = {trial.rate:8,.0f} msgs/s{extra}",
                        flush=True,
                    )
            if not args.no_service:
                backlog = args.messages if args.service_backlog is None else args.service_backlog
                ctx.stored = 0
                for backend in backends:
                    print(
                        f"  `clinic listen` on {backend}: backlog {backlog:,}, then {args.latency_rate:g} msg/s "
                        f"for {args.latency_seconds:g}s",
                        flush=True,
                    )
                    services.append(run_service(ctx, backend, backlog, args.latency_rate, args.latency_seconds))
    except KeyboardInterrupt:
        print("\ninterrupted: child processes stopped, temporary databases dropped", file=sys.stderr)
        return 130
    summary = summarise(trials)
    ratios = print_report(summary, services, args.repeat)
    print(f"\ntotal wall time {time.monotonic() - began:.0f}s")
    path = args.json or RESULTS_DIR / f"ingest-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                "machine": info,
                "summary": summary,
                "ratios": ratios,
                "trials": [{**asdict(t), "rate": t.rate, "cpu_us": t.cpu_us} for t in trials],
                "services": [asdict(s) for s in services],
            },
            indent=2,
        )
    )
    print(f"results written to {path}")
    return 0


def run_design(ctx: Context, design: str, args: argparse.Namespace) -> Trial:
    if design == "limit":
        return run_limit(ctx, args.messages)
    if design.startswith("naive"):
        return run_naive(ctx, design, args.naive_messages)
    return run_project(ctx, design.rsplit("-", 1)[1], args.messages)


if __name__ == "__main__":
    sys.exit(main())
