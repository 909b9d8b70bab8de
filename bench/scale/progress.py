"""The progress bar shown while a store is generated (minutes at full scale, so the wait says how long is left)."""

from __future__ import annotations

import sys
import time


class Progress:
    """A plain-text progress bar on stderr (redrawn in place on a terminal, a line every 10 s otherwise)."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, max(1, total), 0
        self.began = self._last = time.monotonic()
        self.tty = sys.stderr.isatty()
        self._draw(force=True)

    def update(self, n: int, note: str = "") -> None:
        self.done += n
        self.note = note
        self._draw()

    def close(self) -> None:
        self._draw(force=True)
        if self.tty:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < (0.25 if self.tty else 10.0):
            return
        self._last = now
        share = min(1.0, self.done / self.total)
        elapsed = now - self.began
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate and share < 1 else 0.0
        bar = "#" * int(share * 30) + "." * (30 - int(share * 30))
        line = (
            f"  {self.label:<28} [{bar}] {share:4.0%} {self.done:>10,}/{self.total:,} "
            f"{rate:>9,.0f}/s {elapsed:5.0f}s eta {eta:4.0f}s {getattr(self, 'note', '')}"
        )
        sys.stderr.write(("\r" + line) if self.tty else line + "\n")
        sys.stderr.flush()
