"""The equipment state machine, driven without a broker or a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import reduce

import pytest

from shared.equipment.events import DeviceEvent, StatusReport
from shared.equipment.state_machine import StationState, apply_event, apply_status, uses_today

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def ev(channel: str, event: str, minute: float, **extra: object) -> DeviceEvent:
    at = T0 + timedelta(minutes=minute)
    fields: dict[str, object] = {"device_ts": at, "received_at": at + timedelta(seconds=1), **extra}
    return DeviceEvent(  # type: ignore[arg-type]
        site="main",
        equipment_id="tm-1",
        channel=channel,
        event=event,
        event_id=f"{channel}-{event}-{minute}",
        **fields,
    )


START = ("usage", "start")
STOP = ("usage", "stop")
CLEANED = ("cleaning", "cleaned")


def run(events: list[DeviceEvent], *, clean_after_use: bool = True) -> StationState:
    return reduce(
        lambda state, e: apply_event(state, e, clean_after_use=clean_after_use, tz=UTC),
        events,
        StationState("main", "tm-1"),
    )


@pytest.mark.parametrize(
    ("steps", "clean_after_use", "expected"),
    [
        ([START], True, "in_use"),
        ([START, STOP], True, "needs_cleaning"),
        ([START, STOP], False, "available"),
        ([START, STOP, CLEANED], True, "available"),
        ([CLEANED], True, "available"),
        ([START, CLEANED], True, "in_use"),
        ([START, STOP, START], True, "in_use"),
    ],
    ids=[
        "start",
        "stop-needs-cleaning",
        "stop-no-cleaning-rule",
        "cleaned",
        "cleaned-idle",
        "wipe-mid-session",
        "start-again",
    ],
)
def test_usage_and_cleaning_transitions(steps: list[tuple[str, str]], clean_after_use: bool, expected: str) -> None:
    events = [ev(channel, event, minute) for minute, (channel, event) in enumerate(steps)]
    assert run(events, clean_after_use=clean_after_use).status == expected


def test_critical_fault_takes_out_of_service_until_cleared_then_usage_state_returns() -> None:
    state = run([ev(*START, 0), ev(*STOP, 5), ev("fault", "fault", 6, code="E42", severity="critical")])
    assert (state.status, state.fault_code) == ("out_of_service", "E42")
    state = apply_event(state, ev("fault", "cleared", 7, code="E42"), clean_after_use=True, tz=UTC)
    assert (state.status, state.fault_code) == ("needs_cleaning", None)


def test_warning_fault_is_shown_but_keeps_the_station_usable() -> None:
    state = run([ev("fault", "fault", 0, code="W1", severity="warning")])
    assert (state.status, state.fault_code, state.fault_severity) == ("available", "W1", "warning")


def test_a_warning_does_not_hide_the_critical_fault() -> None:
    state = run(
        [ev("fault", "fault", 0, code="E1", severity="critical"), ev("fault", "fault", 1, code="W", severity="info")]
    )
    assert (state.status, state.fault_code) == ("out_of_service", "E1")


def test_stop_counts_in_use_seconds_from_duration_or_from_the_start() -> None:
    with_duration = run([ev(*START, 0), ev(*STOP, 10, duration_s=590.0)])
    without = run([ev(*START, 0), ev(*STOP, 10)])
    assert (with_duration.in_use_seconds_total, without.in_use_seconds_total) == (590.0, 600.0)
    assert with_duration.uses_total == without.uses_total == 1


def test_start_while_in_use_closes_the_open_session_first() -> None:
    state = run([ev(*START, 0), ev(*START, 15)])
    assert (state.uses_total, state.in_use_seconds_total, state.in_use_since) == (2, 900.0, T0 + timedelta(minutes=15))


def test_late_event_is_counted_but_does_not_roll_state_back() -> None:
    state = run([ev(*START, 0), ev(*STOP, 10), ev(*CLEANED, 12)])
    late_start = ev(*START, 5)  # arrives after the cleaning, but happened before it
    after = apply_event(state, late_start, clean_after_use=True, tz=UTC)
    assert after.status == "available"
    assert after.uses_total == 2


def test_device_clock_far_ahead_is_ordered_by_receive_time() -> None:
    state = run([ev(*START, 0), ev(*STOP, 10)])
    wrong_clock = DeviceEvent(
        site="main",
        equipment_id="tm-1",
        channel="cleaning",
        event="cleaned",
        event_id="c",
        device_ts=T0 + timedelta(days=365),
        received_at=T0 + timedelta(minutes=11),
    )
    after = apply_event(state, wrong_clock, clean_after_use=True, tz=UTC)
    assert after.last_cleaned_at == T0 + timedelta(minutes=11)
    assert apply_event(after, ev(*START, 12), clean_after_use=True, tz=UTC).status == "in_use"


def test_used_again_without_cleaning_is_counted() -> None:
    assert run([ev(*START, 0), ev(*STOP, 5), ev(*START, 6)]).used_without_cleaning == 1


def test_uses_today_resets_on_a_new_day() -> None:
    state = run([ev(*START, 0), ev(*STOP, 1), ev(*START, 2)])
    assert uses_today(state, T0.date()) == 2
    assert uses_today(state, T0.date() + timedelta(days=1)) == 0


def test_status_changes_online_and_ignores_older_reports() -> None:
    state = StationState("main", "tm-1")
    online = apply_status(state, StatusReport("main", "tm-1", True, T0))
    stale = apply_status(online, StatusReport("main", "tm-1", False, T0 - timedelta(seconds=5)))
    assert (online.online, stale.online, stale.last_seen) == (True, True, T0)


@pytest.mark.parametrize("session_ids", [False, True], ids=["by-time", "by-session-id"])
def test_a_late_stop_after_the_next_start_counts_its_session_once(session_ids: bool) -> None:
    first = {"session_id": "s1"} if session_ids else {}
    second = {"session_id": "s2"} if session_ids else {}
    state = run([ev(*START, 0, **first), ev(*START, 10, **second)])
    assert state.in_use_seconds_total == 600  # the second start closed the first session as it stood
    state = apply_event(state, ev(*STOP, 599 / 60, duration_s=599, **first), clean_after_use=True, tz=UTC)
    assert state.in_use_seconds_total == 599  # the late stop's own duration replaces it: not 1,199
    state = apply_event(state, ev(*STOP, 15, duration_s=300, **second), clean_after_use=True, tz=UTC)
    assert (state.in_use_seconds_total, state.status) == (899, "needs_cleaning")


def test_a_stop_that_never_comes_leaves_the_time_until_the_next_start() -> None:
    state = run([ev(*START, 0), ev(*START, 10), ev(*STOP, 12, duration_s=120)])
    assert state.in_use_seconds_total == 720


@pytest.mark.parametrize(
    ("late", "expected"),
    [
        ([ev(*START, 0, session_id="s1"), ev(*CLEANED, 12), ev(*STOP, 10, session_id="s1")], "available"),
        ([ev(*START, 0, session_id="s1"), ev("fault", "fault", 12, code="E1"), ev(*STOP, 10, session_id="s1")],
         "needs_cleaning"),
        ([ev(*START, 0, session_id="s1"), ev(*CLEANED, 12), ev(*STOP, 10, session_id="other")], "in_use"),
    ],
    ids=["cleaned after the stop", "a fault after the stop", "another session's stop"],
)
def test_a_late_stop_still_ends_the_open_session(late: list[DeviceEvent], expected: str) -> None:
    """A plug's stop is dated when the power fell and confirmed after its off-hold: a technician's "Mark cleaned" or
    a fault recorded meanwhile is newer, and the station must not stay "in use" for ever."""
    state = run(late)
    assert state.status == expected
    assert state.uses_total == 1
