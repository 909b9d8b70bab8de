"""Suggested thresholds from a plug's readings: between idle and running, never fooled by one spike."""

from __future__ import annotations

import pytest

from shared.equipment.native.calibration import suggest_power

IDLE = [2.0, 2.1, 1.9, 2.0, 2.2]
RUNNING = [118.8, 121.0, 125.5, 119.9]


def test_thresholds_sit_in_the_gap_between_idle_and_running() -> None:
    found = suggest_power(IDLE + RUNNING)
    assert found is not None
    assert (found.idle_max, found.running_min, found.on_watts, found.off_watts) == (2.2, 118.8, 60.0, 26.0)
    assert found.explain() == ("idle up to 2.2 W, running from 118.8 W in 9 readings: in use above 60 W, "
                               "done below 26 W")  # fmt: skip


def test_one_spike_above_the_running_level_does_not_move_the_suggestion() -> None:
    assert suggest_power([*IDLE, 301.0, *RUNNING]) is not None
    found = suggest_power([*IDLE, 301.0, *RUNNING])
    assert found is not None and (found.on_watts, found.off_watts) == (60.0, 26.0)


@pytest.mark.parametrize(
    "watts",
    [[], IDLE, [2.0, 2.0, 2.0, 300.0], [*IDLE, 4.0, 4.5, 5.0], [*IDLE, 301.0]],
    ids=["nothing", "idle only", "one spike", "levels too close", "idle and a spike"],
)
def test_nothing_is_suggested_until_idle_and_running_were_both_seen(watts: list[float]) -> None:
    assert suggest_power(watts) is None
