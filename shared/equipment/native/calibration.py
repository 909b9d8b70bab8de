"""Suggest a plug's thresholds from what it drew: the idle level and the running level it was seen at.

The readings split into two groups (of at least three readings each, so a lone spike is no group) at the widest
gap between sorted levels (idle: the console or standby draw;
running: the motor or generator under load). on-watts sits halfway up that gap and off-watts a fifth of the way,
so the hysteresis band is wide and neither level sits near a threshold. With fewer than two clearly different
levels there is nothing to suggest yet: the page says to run the equipment for a minute and look again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MIN_GAP_W = 5.0  # idle and running levels closer than this cannot be told apart by a threshold
MIN_RATIO = 1.5  # and the running level must be at least this multiple of the idle one
MIN_SIDE = 3  # readings on each side of the split: one spike (switching on, a belt test) is not a running level


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Thresholds that separate what was seen idle from what was seen running, with the levels behind them."""

    on_watts: float
    off_watts: float
    idle_max: float
    running_min: float
    readings: int

    def explain(self) -> str:
        """In words: what was seen and why these numbers."""
        return (f"idle up to {self.idle_max:g} W, running from {self.running_min:g} W in {self.readings} readings: "
                f"in use above {self.on_watts:g} W, done below {self.off_watts:g} W")  # fmt: skip


def suggest_power(watts: Sequence[float]) -> Suggestion | None:
    """Thresholds from a plug's recent readings, or None when it has not yet been seen both idle and running."""
    levels = sorted(w for w in watts if w >= 0)
    if len(levels) < 2 * MIN_SIDE:
        return None
    gaps = [(levels[i + 1] - levels[i], i) for i in range(MIN_SIDE - 1, len(levels) - MIN_SIDE)]
    width, index = max(gaps)
    idle_max, running_min = levels[index], levels[index + 1]
    if width < MIN_GAP_W or running_min < max(idle_max * MIN_RATIO, 1.0):
        return None
    on = _nice(idle_max + width * 0.5)
    off = _nice(idle_max + width * 0.2)
    if off <= idle_max:  # rounding put it at the idle level: keep it just above
        off = round(idle_max + max(width * 0.2, 0.5), 1)
    if on <= off:
        on = round(off + max(width * 0.3, 1.0), 1)
    return Suggestion(on, off, idle_max, running_min, len(levels))


def _nice(value: float) -> float:
    """Whole watts above 10 W, tenths below (thresholds people can read and type)."""
    return float(round(value)) if value >= 10 else round(value, 1)
