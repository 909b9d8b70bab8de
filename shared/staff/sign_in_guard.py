"""Failed staff sign-ins per source (the browser's address): growing waits for whoever keeps guessing.

An account's own lock-out (in the store) stops guessing at one account; this stops one source guessing at
many, and it decides who an account's lock applies to: only sources that have failed recently. So a stranger
who locks the admin's account does not lock out the admin signing in at the front desk. Kept in the staff
app's memory (one process serves every session): a restart forgets it, which only ever lets a source try
again sooner, never locks anyone out.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

FREE_FAILURES = 5  # failures from one source before it has to wait
FIRST_WAIT_S = 2.0  # the wait after the first failure past the free ones, doubled after each further one
MAX_WAIT_S = 15 * 60.0
FORGET_AFTER_S = 60 * 60.0  # a source that has not failed for an hour starts afresh


@dataclass(slots=True)
class _Source:
    failures: int
    last_failure: float


class SourceGuard:
    """Counts failures per source (thread-safe); `wait_s` says how long a source must wait before trying."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sources: dict[str, _Source] = {}

    def wait_s(self, source: str, now: float) -> float:
        """Seconds `source` must still wait (0 when it may try now)."""
        with self._lock:
            entry = self._current(source, now)
            if entry is None or entry.failures < FREE_FAILURES:
                return 0.0
            wait = min(MAX_WAIT_S, FIRST_WAIT_S * 2 ** (entry.failures - FREE_FAILURES))
            return max(0.0, entry.last_failure + wait - now)

    def failed(self, source: str, now: float) -> None:
        """Count one failed sign-in from `source`."""
        with self._lock:
            entry = self._current(source, now)
            self._sources[source] = _Source((entry.failures if entry else 0) + 1, now)

    def has_failed(self, source: str, now: float) -> bool:
        """Whether `source` failed to sign in within the last hour (an account's lock applies to it)."""
        with self._lock:
            return self._current(source, now) is not None

    def _current(self, source: str, now: float) -> _Source | None:
        entry = self._sources.get(source)
        if entry is not None and now - entry.last_failure > FORGET_AFTER_S:
            del self._sources[source]
            return None
        return entry
