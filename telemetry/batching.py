"""What the listener's network loop keeps per message and in total, the backoff both adapters use, and when the
listener warns about its data disk."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from telemetry.writer_process import Raw


@dataclass(slots=True)
class ListenerStats:
    """Running totals, for logs, tests and benchmarks."""

    received: int = 0
    committed: int = 0  # messages in committed batches (inserted, duplicates and dead letters alike)
    inserted: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    batches: int = 0
    db_retries: int = 0
    connects: int = 0


@dataclass(slots=True)
class Pending:
    """A message received and not yet acknowledged, with the connection it came on."""

    mid: int
    qos: int
    generation: int
    message: Raw


@dataclass(slots=True)
class HandedOver:
    """A batch handed to the writer: its number (the writer's reports name it) and its messages not yet committed,
    in order."""

    seq: int
    pending: list[Pending]


@dataclass(slots=True)
class Backoff:
    """Exponential backoff between `low` and `high` seconds."""

    low: float
    high: float
    current: float = field(default=0.0)

    def next(self) -> float:
        """The next delay: `low` first, then doubling up to `high`."""
        self.current = self.low if self.current == 0 else min(self.high, self.current * 2)
        return self.current

    def reset(self) -> None:
        """Start again from `low` (after a success)."""
        self.current = 0.0


@dataclass(slots=True)
class DiskAlarm:
    """When to say that the data disk is nearly full: once when it crosses the threshold, again at most every
    `remind_s` while it stays over, and once when it is back under."""

    remind_s: float = 3600.0
    full: bool = False
    warned_at: float = 0.0

    def update(self, nearly_full: bool, now: float) -> Literal["warn", "clear"] | None:
        """The check's outcome at monotonic time `now`: "warn" (log a warning), "clear" (log it is over), or None."""
        if nearly_full:
            if self.full and now - self.warned_at < self.remind_s:
                return None
            self.full, self.warned_at = True, now
            return "warn"
        if self.full:
            self.full = False
            return "clear"
        return None
