"""Slow down repeated invalid scans from one kiosk, so guessing tokens at the lobby is pointless.

However guesses are interleaved with valid cards or pauses, a kiosk gets at most MAX_GUESSES_PER_MIN invalid
scans looked at in any minute (8 in the first, about 3.5 a minute after that; tests/shared/care/test_throttle.py).
"""

from __future__ import annotations

import threading
from collections import deque

FREE_FAILURES = 3  # mistakes happen: the first few invalid scans in a window cost nothing
WINDOW_S = 120.0
MAX_WAIT_S = 60.0
MAX_GUESSES_PER_MIN = 10  # the documented bound (docs/security.md); the schedule above gives at most 8


class ScanThrottle:
    """Per-kiosk count of recent invalid scans; each one past the free few doubles the wait."""

    def __init__(self, *, free: int = FREE_FAILURES, window_s: float = WINDOW_S, max_wait_s: float = MAX_WAIT_S):
        self._free, self._window, self._max_wait = free, window_s, max_wait_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()  # one throttle serves every session of the lobby server

    def wait_s(self, kiosk: str, now: float) -> float:
        """Seconds this kiosk must still wait before its next scan is looked at (0 = go ahead)."""
        with self._lock:
            failures = self._recent(kiosk, now)
            extra = len(failures) - self._free
            if extra < 0 or not failures:
                return 0.0
            wait = min(self._max_wait, 2.0**extra)
            return max(0.0, failures[-1] + wait - now)

    def failed(self, kiosk: str, now: float) -> None:
        """Count an invalid scan."""
        with self._lock:
            self._recent(kiosk, now).append(now)

    def succeeded(self, kiosk: str) -> None:
        """A valid card leaves the record alone: if it cleared it, one's own card scanned every few guesses
        would let guessing go on at ~0.4 tokens/s. Old failures still expire after the window."""

    def _recent(self, kiosk: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(kiosk, deque())
        while failures and failures[0] < now - self._window:
            failures.popleft()
        return failures
