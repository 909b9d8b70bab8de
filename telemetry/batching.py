"""What the listener's network loop keeps per message and in total, and the backoff both adapters use."""

from __future__ import annotations

from dataclasses import dataclass, field

from telemetry.writer_process import Raw


@dataclass(slots=True)
class ListenerStats:
    """Running totals, for logs, tests and benchmarks."""

    received: int = 0
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
