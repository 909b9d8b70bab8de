"""The types every run shares: the Context it is given, and the Meter that times one drain into a Trial.

They sit apart so that the designs, the stores, the `clinic listen` run and the report can all use them without
importing each other.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import Broker, backlog_minutes, load_average, process_cpu_s, session_held, thread_cpu_s
from telemetry.broker_acl import LISTENER_USER, listener_user

# The broker makes a client's id its username, so each consumer has its own account and with it its own session:
# the store designs read as the listener's account, the limit as the group's second listener account, on topics
# of its own site. (The listener subscribes to every site, so only the sessions keep the traffic apart.)
STORE_USER = LISTENER_USER
LIMIT_USER = listener_user(2)
LIMIT_SITE = "bare"  # as long as the listener's site "main": same topic length, same bytes to route


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
class Context:
    broker: Broker
    tmp: Path
    devices: list[str]
    pg_url: str
    poll_s: float
    overrides: dict[str, Any] = field(default_factory=dict)  # listener settings from --set
    ids: str = "uuid"  # event ids of every backlog (--ids): random UUIDs or `tag-device-n`
    stored: int = 0  # events already in the store the project designs drain into (0: a fresh store per run)
    preloaded: dict[tuple[str, int], str] = field(default_factory=dict)  # (backend, events) -> URL, reused
    # Where the listener's next backlog starts in device time (the growth mode): each backend's backlogs follow one
    # another as a year of traffic does, where backlogs ending at "now" would re-send the same hours every round.
    device_clock: dict[str, datetime] = field(default_factory=dict)

    def next_backlog_start(self, backend: str, count: int) -> datetime | None:
        """The device time the listener's next backlog of `count` on `backend` starts at, advancing the clock;
        None (the backlog ends before now) unless the growth mode set a clock for `backend`."""
        start = self.device_clock.get(backend)
        if start is not None:
            self.device_clock[backend] = start + timedelta(minutes=backlog_minutes(self.devices, count))
        return start

    @property
    def listener_password(self) -> str:
        return self.broker.listener_password

    def password(self, user: str) -> str:
        return self.broker.accounts[user]

    def ensure_no_session(self, user: str) -> None:
        """Fail unless the broker holds no session for `user`: called before publishing another consumer's
        backlog, which such a session would queue as well (and a later drain would count)."""
        if session_held(self.broker, user, self.password(user)):
            raise RuntimeError(f"the broker still held a session for {user} while another consumer's backlog was due")


def drain_timeout(n: int) -> float:
    return 60 + n / 100  # even at 100 msg/s a run finishes; a stuck consumer fails instead of hanging


def new_tag() -> str:
    return uuid.uuid4().hex[:8]
