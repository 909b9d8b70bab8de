"""A clinic day under load: the listener records devices while lobby kiosks, staff and the front desk write.

For each backend (SQLite file, PostgreSQL database) it starts Mosquitto from the repo's config on a free port and
`python -m clinic listen` as a child process, and runs the lobby and the staff app's people as two further
processes (`bench/clinic_workload.py`: kiosks doing scan -> birth date -> check-in, staff sign-ins, board
actions, front-desk registrations) in three phases:

  idle     no device traffic: the reference latencies
  paced    devices publish a steady stream (--rate msg/s, QoS 1) while people work
  backlog  --backlog messages queued at the broker while the listener was down; the listener drains them while
           people work

It prints, per phase and kind of write, the count, p50 and p99 latency, the refusals a service explained and
every error (target: 0), the ratio of loaded to idle latency, and the device messages published, stored and
dead-lettered (target: all stored exactly once). Exit code 1 when any error, loss or duplicate was seen.

    python -m bench.clinic_day                       # both backends, 120 s paced, 100,000 backlog
    python -m bench.clinic_day --quick               # a short run (about a minute per backend)
"""

from __future__ import annotations

import argparse
import json
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.clinic_workload import EXERCISE, PASSWORD, Results, booked_cards, run_app
from bench.common import (
    Broker,
    Publisher,
    child_env,
    device_ids,
    install_sigterm_as_interrupt,
    listener_settings,
    load_average,
    machine,
    postgres_store,
    prime_session,
    publish_backlog,
    sqlite_store,
    stop_process,
    timed_usage,
    usage_backlog,
    wait_until,
)
from bench.common import start_broker as start_mosquitto
from shared.care.exercises import add_exercise
from shared.equipment.models import DeadLetter, EquipmentEvent
from shared.equipment.stations import register_equipment
from shared.staff.accounts import create_account
from shared.store.db import make_engine, unit_of_work
from telemetry.broker_acl import LISTENER_USER

SUBSCRIBED = "subscribed: the broker confirmed"
STAFF_USERS = ("tech.ana", "desk.bo", "admin.cy")
STAFF_STATIONS = [f"staff-eq-{n:02d}" for n in range(10)]
MIN_PHASE_S = 3.0  # a phase that ends on a condition still lets every kind of person act a few times


@dataclass
class Phase:
    """What one phase measured."""

    name: str
    seconds: float
    results: Results
    published: int = 0
    drain_msgs_per_s: float | None = None


@dataclass
class Day:
    """One backend's clinic day."""

    backend: str
    phases: list[Phase] = field(default_factory=list)
    published: int = 0
    stored: int = 0
    dead_letters: int = 0
    listener_exit: int | None = None

    @property
    def errors(self) -> int:
        return sum(len([e for e in p.results.errors if not e.startswith("Traceback")]) for p in self.phases)

    @property
    def ok(self) -> bool:
        return self.errors == 0 and self.stored == self.published and self.dead_letters == 0


class Listener:
    """`python -m clinic listen` as a child process with its own log."""

    def __init__(self, env: dict[str, str], folder: Path, stack: ExitStack) -> None:
        self.env, self.folder, self.stack, self.starts = env, folder, stack, 0
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.starts += 1
        self.log = self.folder / f"listener-{self.starts}.log"
        with open(self.log, "wb") as stderr:
            self.proc = subprocess.Popen([sys.executable, "-m", "clinic", "listen"], env=self.env, cwd=self.folder,
                                         stdout=subprocess.DEVNULL, stderr=stderr)  # fmt: skip
        self.stack.callback(stop_process, self.proc, timeout=30)
        wait_until(lambda: SUBSCRIBED in self.log.read_text(errors="replace") or self.proc.poll() is not None,
                   timeout=60, what="the listener to subscribe")  # fmt: skip
        if self.proc.poll() is not None:
            raise RuntimeError(f"listener exited: {self.log.read_text(errors='replace')[-800:]}")

    def stop(self) -> int | None:
        assert self.proc is not None
        self.proc.terminate()
        return self.proc.wait(timeout=60)


def run_day(backend: str, args: argparse.Namespace) -> Day:
    """One backend: set up, then the three phases, then count what was stored."""
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="clinic-day-")))
        broker = start_mosquitto(root / "broker", stack)
        devices = device_ids(args.devices)
        url = sqlite_store(root, devices) if backend == "sqlite" else postgres_store(stack, devices)
        engine = make_engine(url)
        stack.callback(engine.dispose)
        _prepare_people(engine)
        settings = listener_settings(broker, root / "data", url, log_level="INFO")
        prime_session(broker, LISTENER_USER, LISTENER_USER, broker.listener_password)  # client id = account
        listener = Listener(child_env(settings), root, stack)
        day = Day(backend)
        pool = stack.enter_context(ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")))
        manager = stack.enter_context(get_context("spawn").Manager())
        people = _People(pool, manager, url, engine, args)
        day.phases.append(people.work("idle", args.idle))
        listener.start()
        day.phases.append(_paced(people, broker, devices, args, day))
        wait_until(lambda: _stored(engine) >= day.published, timeout=300, what="the paced stream to be stored")
        listener.stop()
        day.phases.append(_backlog(people, broker, devices, args, day, listener, engine))
        day.listener_exit = listener.stop()
        day.stored, day.dead_letters = _stored(engine), _dead_letters(engine)
        return day


class _People:
    """Runs the lobby and the staff app's people for one phase, each app in its own process."""

    def __init__(self, pool: ProcessPoolExecutor, manager: Any, url: str, engine: Any, args: argparse.Namespace):
        self.pool, self.manager, self.url, self.engine, self.args = pool, manager, url, engine, args

    def cards(self, seconds: float) -> list[str]:
        """Enough booked patients with cards for the kiosks to check in during `seconds`."""
        return booked_cards(self.engine, int(self.args.kiosks * (seconds / 0.45 + 5)))

    def work(self, name: str, seconds: float, *, tokens: list[str] | None = None,
             until: Callable[[], bool] | None = None, then: Callable[[], None] | None = None) -> Phase:  # fmt: skip
        """People work for `seconds`, or (with `until`) until it holds but at least MIN_PHASE_S; `then` runs
        once they have started (the backlog phase starts the listener there, so the drain meets them)."""
        tokens = tokens if tokens is not None else self.cards(seconds)
        stop, ready = self.manager.Event(), self.manager.Queue()
        people = (self.url, tokens, list(STAFF_USERS), STAFF_STATIONS, self.args.kiosks, stop)
        apps = ("lobby", "staff")
        futures = [self.pool.submit(run_app, app, *people, seed, ready) for seed, app in enumerate(apps)]
        _wait_until_at_work(ready, futures)  # the phase starts once both apps' people are at work
        started = time.perf_counter()
        if then is not None:
            then()
        deadline, earliest = started + seconds, started + MIN_PHASE_S
        while time.perf_counter() < deadline and not (until and until() and time.perf_counter() >= earliest):
            time.sleep(0.05)
        stop.set()
        results = Results()
        for future in futures:
            results.merge(future.result(timeout=120))
        return Phase(name, time.perf_counter() - started, results)


def _wait_until_at_work(ready: Any, futures: list[Any], timeout_s: float = 120.0) -> None:
    """Wait for every app to say its people are at work; an app that failed on the way raises its error here."""
    deadline, waiting = time.perf_counter() + timeout_s, len(futures)
    while waiting:
        try:
            ready.get(timeout=0.1)
            waiting -= 1
        except queue.Empty:
            for future in futures:
                if future.done():
                    future.result()  # raises what went wrong in the child
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the apps' people were not at work after {timeout_s:.0f} s") from None


def _paced(people: _People, broker: Broker, devices: list[str], args: argparse.Namespace, day: Day) -> Phase:
    """Devices publish `rate` msg/s on a fixed schedule while people work."""
    publisher, done, sent = Publisher(broker), threading.Event(), [0]

    def stream() -> None:
        next_at = time.perf_counter()
        while not done.is_set():
            device = devices[sent[0] % len(devices)]
            publisher.publish(*timed_usage(device, sent[0] // len(devices), "paced"))
            sent[0] += 1
            next_at += 1 / args.rate
            time.sleep(max(0.0, next_at - time.perf_counter()))

    thread = threading.Thread(target=stream, daemon=True)
    thread.start()
    phase = people.work("paced", args.duration)
    done.set()
    thread.join(timeout=30)
    publisher.wait_all_acked()
    publisher.close()
    phase.published = sent[0]
    day.published += sent[0]
    return phase


def _backlog(people: _People, broker: Broker, devices: list[str], args: argparse.Namespace, day: Day,
             listener: Listener, engine: Any) -> Phase:  # fmt: skip
    """A backlog queued while the listener was down, drained while people work (the phase ends when drained)."""
    publish_backlog(broker, usage_backlog(devices, args.backlog, "backlog"))
    day.published += args.backlog
    tokens = people.cards(args.backlog_timeout / 4)
    before = _stored(engine)
    started: list[float] = []
    drained: list[float] = []

    def start_listener() -> None:
        started.append(time.perf_counter())
        listener.start()

    def done() -> bool:
        if not drained and _stored(engine) >= day.published:
            drained.append(time.perf_counter() - started[0])
        return bool(drained)

    phase = people.work("backlog", args.backlog_timeout, tokens=tokens, until=done, then=start_listener)
    phase.published = args.backlog
    if drained:
        phase.drain_msgs_per_s = (day.published - before) / drained[0]
    return phase


def _prepare_people(engine: Any) -> None:
    for username in STAFF_USERS:
        create_account(engine=engine, username=username, password=PASSWORD, role="admin")
    for station in STAFF_STATIONS:
        with unit_of_work(engine) as session:
            register_equipment(
                session=session, site="main", equipment_id=station, name=station, kind="bike", zone="gym"
            )
    with unit_of_work(engine) as session:
        add_exercise(session=session, name=EXERCISE, instructions="Walk at an easy pace.")


def _stored(engine: Any) -> int:
    query = select(func.count()).select_from(EquipmentEvent).where(EquipmentEvent.source == "device")
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def _dead_letters(engine: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(DeadLetter)).scalar_one())


def _ms(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] * 1000 if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000


def report(day: Day) -> str:
    """The figures of one backend's day as a plain-text table."""
    idle = day.phases[0].results.latencies
    lines = [f"== {day.backend}: {'OK' if day.ok else 'FAILED'} (load average {load_average():.1f})",
             f"{'phase':8} {'write':24} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'p50 x idle':>10} {'p99 x idle':>10}"
             f" {'refused':>7}"]  # fmt: skip
    for phase in day.phases:
        for kind in sorted(phase.results.latencies):
            values, base = phase.results.latencies[kind], idle.get(kind, [])
            p50, p99 = _ms(values, 50), _ms(values, 99)
            r50 = f"{p50 / _ms(base, 50):.2f}" if base and phase.name != "idle" else ""
            r99 = f"{p99 / _ms(base, 99):.2f}" if base and phase.name != "idle" else ""
            lines.append(f"{phase.name:8} {kind:24} {len(values):6d} {p50:8.1f} {p99:8.1f} {r50:>10} {r99:>10}"
                         f" {phase.results.refused.get(kind, 0):7d}")  # fmt: skip
        errors = [e for e in phase.results.errors if not e.startswith("Traceback")]
        drained = f", drained at {phase.drain_msgs_per_s:,.0f} msg/s" if phase.drain_msgs_per_s else ""
        published = f", {phase.published} device messages" if phase.published else ""
        lines.append(f"{phase.name:8} {len(errors)} errors in {phase.seconds:.1f} s{published}{drained}")
        lines.extend(f"    {e}" for e in phase.results.errors[:10])
    lines.append(f"device messages: published {day.published}, stored {day.stored}, "
                 f"dead letters {day.dead_letters}, listener exit {day.listener_exit}")  # fmt: skip
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--duration", type=float, help="seconds of the paced phase (120)")
    parser.add_argument("--idle", type=float, help="seconds of the idle phase (30)")
    parser.add_argument("--rate", type=float, default=300.0, help="device messages per second in the paced phase")
    parser.add_argument("--backlog", type=int, help="messages queued before the backlog phase (100,000)")
    parser.add_argument("--backlog-timeout", type=float, default=300.0)
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--kiosks", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="20 s paced, 10 s idle, 10,000 backlog")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    defaults = (20.0, 10.0, 10_000) if args.quick else (120.0, 30.0, 100_000)
    for name, default in zip(("duration", "idle", "backlog"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, default)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    install_sigterm_as_interrupt()
    print(f"clinic day: {json.dumps(machine())}; paced {args.rate:g} msg/s for {args.duration:g} s, "
          f"backlog {args.backlog}, {args.kiosks} kiosks, {args.devices} devices", flush=True)  # fmt: skip
    days = []
    for backend in args.backends.split(","):
        day = run_day(backend.strip(), args)
        print(report(day), flush=True)
        days.append(day)
    if args.json:
        args.json.write_text(json.dumps([_as_json(d) for d in days], indent=2))
    return 0 if all(d.ok for d in days) else 1


def _as_json(day: Day) -> dict[str, Any]:
    return {
        "backend": day.backend, "ok": day.ok, "published": day.published, "stored": day.stored,
        "dead_letters": day.dead_letters, "errors": day.errors,
        "phases": {p.name: {k: {"n": len(v), "p50_ms": _ms(v, 50), "p99_ms": _ms(v, 99)}
                            for k, v in p.results.latencies.items()} for p in day.phases},
    }  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
