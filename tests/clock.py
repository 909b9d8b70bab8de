"""Tests that own the clock: no test may pass or fail because of the hour it runs at.

The services take `now` (and `today`) as arguments, and tests pass them. What reads the clock itself, a Streamlit
page under AppTest, a `clinic` command run in process by CliRunner, a helper that books "20 minutes from now",
runs under `clock_at`: time-machine moves this process's clock (datetime.now, date.today, time.time) to a chosen
instant and lets it run on from there, so waits and Streamlit's timeouts still work (time.monotonic is untouched).
A subprocess keeps the real clock: tests that start `clinic` processes do not use this.

The `clock` fixture (tests/conftest.py) moves it to `MIDDAY`, or to the instant a test gives by indirect
parametrization, e.g. both `MIDNIGHT_EDGES`: what a test used to dodge around midnight it now asserts on both sides.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, tzinfo

import pytest
import time_machine

DAY = date(2026, 12, 1)  # a Tuesday: any fixed day does


def on_day(at: time, tz: tzinfo = UTC, *, day: date = DAY) -> datetime:
    """`at` on the fixed day in `tz` (the clinic's zone), as an aware datetime."""
    return datetime.combine(day, at, tzinfo=tz)


MIDDAY = on_day(time(12, 0))
# Two minutes before midnight (the clock runs on through a slow AppTest run without reaching it), and just after.
BEFORE_MIDNIGHT = on_day(time(23, 58))
AFTER_MIDNIGHT = on_day(time(0, 0, 30))
MIDNIGHT_EDGES = [
    pytest.param(BEFORE_MIDNIGHT, id="before-midnight"),
    pytest.param(AFTER_MIDNIGHT, id="after-midnight"),
]


@contextmanager
def clock_at(instant: datetime) -> Iterator[datetime]:
    """This process's clock at `instant` for the block, running on from there; yields `instant`."""
    with time_machine.travel(instant, tick=True):
        yield instant
