"""One scenario on one backend: its broker, store, listeners and flood, and waiting on their progress.

The scenarios only say which fault to inject when; everything they share (set-up, polling, stall detection)
is here, and the caller's `ExitStack` undoes it all.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from bench.common import (
    PrivateCluster,
    device_ids,
    listener_settings,
    postgres_store,
    private_postgres,
    sqlite_store,
    start_broker,
    usage_backlog,
)
from bench.reliability.flood import Flood
from bench.reliability.listeners import Listeners
from bench.reliability.result import Result, ScenarioFailed
from shared.store.db import make_engine
from shared.store.settings import Settings


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
