"""Small figure helpers the weekly report's tables share: percentiles, rounding, hours."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation between ranks (numpy's default); None for none.

    p50 of [2, 4, 10] is 4; p90 sits at rank (3 - 1) * 0.9 = 1.8, so it is 4 + 0.8 * (10 - 4) = 8.8.
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def pct(part: int, whole: int) -> float | None:
    """part / whole as a percentage with one decimal; None when whole is 0."""
    return None if whole == 0 else round(100 * part / whole, 1)


def hours(seconds: float) -> float:
    """Seconds as hours with two decimals."""
    return round(seconds / 3600, 2)


def minutes_or_none(value: float | None) -> float | None:
    """Minutes with one decimal, None kept."""
    return None if value is None else round(value, 1)
