"""The four scenarios: which fault each injects, at which seeded moment, and on which backends it applies.

Kept apart from the set-up (run.py) so each scenario reads as the sequence of its fault and nothing else.
"""

from __future__ import annotations

import select
import subprocess
import sys
import time
from collections.abc import Callable

from bench.common import start_broker_again, stop_broker, stop_process
from bench.reliability.result import ScenarioFailed
from bench.reliability.run import Run

SCENARIOS = ("listener-kill", "broker-restart", "db-outage", "shared-sub")
BACKENDS = ("sqlite", "postgresql")
APPLIES = {
    "listener-kill": BACKENDS,
    "broker-restart": BACKENDS,
    "db-outage": BACKENDS,
    "shared-sub": ("postgresql",),
}

# Holds SQLite's write lock: BEGIN IMMEDIATE waits (up to 60 s) for the listener's own transaction to end.
HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


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
