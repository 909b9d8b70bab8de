"""The native inference: power and activity levels become uses, buttons become cleanings and faults, exactly once.

Examples pin the rules; the properties check them against the level function of random power traces, however
`advance()` calls are interleaved between readings and whether the state goes through JSON on the way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.equipment.native.inference import (
    Derived,
    InferenceState,
    Thresholds,
    advance,
    check_thresholds,
    deadline,
    feed,
)
from shared.equipment.native.readings import Active, Availability, Power, Press, Reading, Relay

DEFAULT = Thresholds()
CLEANED = Thresholds(role="cleaned")
FAULT = Thresholds(role="fault")
FAR = 10_000_000.0
BASE = 1_700_000_000.0  # epoch seconds, so float rounding is that of real times
FAULT_FIELDS = ("BUTTON", "critical", "reported with the station's button")

Step = tuple[float, Reading | None]  # a reading at a time, or None: advance() to that time


def play(steps: list[Step], t: Thresholds = DEFAULT, end: float | None = FAR) -> tuple[InferenceState, list[Derived]]:
    """Feed the steps from a fresh state, then advance to `end` (None: don't)."""
    state, events = InferenceState(), []
    for at, reading in steps:
        state, derived = feed(state, reading, at, t) if reading is not None else advance(state, at, t)
        events += derived
    if end is not None:
        state, derived = advance(state, end, t)
        events += derived
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    return state, events


def brief(events: list[Derived]) -> list[tuple[str, float, float | None]]:
    """What an example checks of each event: which, when, how long."""
    return [(e.event, e.at, e.duration_s) for e in events]


def watts(*pairs: tuple[float, float]) -> list[Step]:
    """Power readings from (time, watts) pairs."""
    return [(at, Power(w)) for at, w in pairs]


def every(start: float, stop: float, step: float, w: float) -> list[tuple[float, float]]:
    """A plug reporting the same power every `step` seconds from `start` up to (not including) `stop`."""
    n = int((stop - start) / step)
    return [(start + i * step, w) for i in range(n)]


EXAMPLES: dict[str, tuple[Thresholds, list[Step], list[tuple[str, float, float | None]]]] = {
    "treadmill run: one start at the rise, one stop at the fall": (
        DEFAULT,
        watts((0, 0), *every(100, 700, 30, 150), (700, 1), (730, 1), (760, 1)),
        [("start", 100, None), ("stop", 700, 600)],
    ),
    "a 2 s spike to 300 W is nothing": (DEFAULT, watts((0, 0), (100, 300), (102, 0), (400, 0)), []),
    "a 30 s dip to 0 W inside a use keeps one use": (
        DEFAULT,
        watts(*every(0, 300, 30, 150), (300, 0), (315, 0), *every(330, 600, 30, 150), (600, 0)),
        [("start", 0, None), ("stop", 600, 600)],
    ),
    "8 W between off 3 and on 10 keeps a use going": (
        DEFAULT,
        watts((0, 150), (100, 150), (200, 8), (300, 8), (400, 8), (500, 0)),
        [("start", 0, None), ("stop", 500, 500)],
    ),
    "8 W never starts a use": (DEFAULT, watts(*every(0, 3600, 30, 8)), []),
    "a reading both completes a start and begins a stop": (
        DEFAULT,
        watts((0, 150), (100, 0)),
        [("start", 0, None), ("stop", 100, 100)],
    ),
    "a reading exactly on-hold after the rise counts": (
        DEFAULT,
        watts((0, 150), (60, 0)),
        [("start", 0, None), ("stop", 60, 60)],
    ),
    "a reading just short of on-hold is a spike": (DEFAULT, watts((0, 150), (59.9, 0)), []),
    "a reading exactly off-hold after the fall stops first, then rises again": (
        DEFAULT,
        watts((0, 150), (100, 0), (220, 150)),
        [("start", 0, None), ("stop", 100, 100), ("start", 220, None)],
    ),
    "a reading older than the last is taken at the last's time": (
        DEFAULT,
        watts((0, 150), (100, 150), (50, 0)),
        [("start", 0, None), ("stop", 100, 100)],
    ),
    "zero holds: a start and a stop at the readings themselves": (
        Thresholds(on_hold_s=0, off_hold_s=0),
        watts((0, 150), (10, 0)),
        [("start", 0, None), ("stop", 10, 10)],
    ),
    "vibration: active, quiet, active, quiet, then idle": (
        DEFAULT,
        [(0, Active(True)), (30, Active(False)), (60, Active(True)), (90, Active(False)), (150, Active(False))],
        [("start", 0, None), ("stop", 90, 90)],
    ),
    "vibration: a quiet spell of idle_s ends the use before new activity": (
        DEFAULT,
        [(0, Active(True)), (30, Active(False)), (200, Active(True))],
        [("start", 0, None), ("stop", 30, 30), ("start", 200, None)],
    ),
    "vibration: new activity exactly idle_s after it ceased comes after the stop": (
        DEFAULT,
        [(0, Active(True)), (30, Active(False)), (150, Active(True))],
        [("start", 0, None), ("stop", 30, 30), ("start", 150, None)],
    ),
    "vibration: inactive while idle is nothing": (DEFAULT, [(0, Active(False)), (500, Active(False))], []),
    "button single on a cleaned binding: cleaned": (CLEANED, [(5, Press("single"))], [("cleaned", 5, None)]),
    "button double and triple: cleaned": (
        CLEANED,
        [(5, Press("double")), (9, Press("triple", "triple"))],
        [("cleaned", 5, None), ("cleaned", 9, None)],
    ),
    "button hold on a cleaned binding: a fault": (CLEANED, [(5, Press("long", "hold"))], [("fault", 5, None)]),
    "any press on a fault binding: a fault": (
        FAULT,
        [(5, Press("single")), (6, Press("long"))],
        [("fault", 5, None), ("fault", 6, None)],
    ),
    "a press on a usage binding is nothing": (DEFAULT, [(5, Press("single"))], []),
    "power on a cleaned binding is nothing": (CLEANED, watts((0, 150), (100, 150), (200, 0)), []),
    "relay and availability are nothing": (
        DEFAULT,
        [(0, Relay(True)), (10, Availability(False)), (20, Relay(False)), (30, Availability(True))],
        [],
    ),
}


@pytest.mark.parametrize("case", EXAMPLES, ids=list(EXAMPLES))
def test_examples(case: str) -> None:
    t, steps, expected = EXAMPLES[case]
    assert brief(play(steps, t)[1]) == expected


def test_button_events_carry_the_contract_fields() -> None:
    (cleaned,) = play([(5, Press("single"))], CLEANED)[1]
    (fault,) = play([(5, Press("long"))], CLEANED)[1]
    assert (cleaned.channel, cleaned.event, cleaned.code, cleaned.severity, cleaned.message) == (
        "cleaning", "cleaned", None, None, None,
    )  # fmt: skip
    assert (fault.channel, fault.event, (fault.code, fault.severity, fault.message)) == ("fault", "fault", FAULT_FIELDS)


def test_use_events_are_on_the_usage_channel() -> None:
    events = play(watts((0, 150), (100, 0)))[1]
    assert {(e.channel, e.code) for e in events} == {("usage", None)}


def test_steady_power_reported_once_is_confirmed_by_advance_at_the_rise() -> None:
    state, events = feed(InferenceState(), Power(150), 0.0, DEFAULT)
    assert (events, state.phase, deadline(state, DEFAULT)) == ([], "starting", 60.0)
    same, events = advance(state, 59.0, DEFAULT)
    assert (same, events) == (state, [])  # nothing due: the very same state, nothing to store
    state, events = advance(state, 60.0, DEFAULT)
    assert brief(events) == [("start", 0.0, None)] and events[0].seq == 1
    assert (state.phase, state.use_started, deadline(state, DEFAULT)) == ("in_use", 0.0, None)
    assert advance(state, FAR, DEFAULT)[1] == []


def test_zero_holds_derive_in_the_same_feed() -> None:
    zero = Thresholds(on_hold_s=0, off_hold_s=0)
    state, events = feed(InferenceState(), Power(150), 0.0, zero)
    assert (brief(events), state.phase) == ([("start", 0.0, None)], "in_use")
    state, events = feed(state, Power(0), 10.0, zero)
    assert (brief(events), state.phase) == ([("stop", 10.0, 10.0)], "idle")


def test_deadlines() -> None:
    stopping, _ = play(watts((0, 150), (100, 0)), end=None)
    quiet, _ = play([(0, Active(True)), (30, Active(False)), (50, Active(False))], end=None)
    assert (stopping.phase, deadline(stopping, DEFAULT)) == ("stopping", 220.0)
    assert (quiet.phase, quiet.since, deadline(quiet, DEFAULT)) == ("in_use", 30.0, 150.0)
    assert deadline(play([(0, Active(True))], end=None)[0], DEFAULT) is None
    assert deadline(InferenceState(), DEFAULT) is None


def test_a_reading_older_than_a_decided_advance_cannot_undo_it() -> None:
    state, _ = feed(InferenceState(), Power(150), 0.0, DEFAULT)
    state, events = advance(state, 100.0, DEFAULT)
    assert brief(events) == [("start", 0.0, None)] and state.last_at == 100.0
    state, _ = feed(state, Power(0), 30.0, DEFAULT)  # late: the use must not end before on-hold
    assert (state.phase, state.since) == ("stopping", 100.0)


def test_ignored_readings_move_only_last_at() -> None:
    state = InferenceState(phase="in_use", use_started=0.0, level=150.0, last_at=10.0, seq=3)
    for reading, t in ((Relay(False), DEFAULT), (Availability(False), DEFAULT), (Press("single"), DEFAULT)):
        assert feed(state, reading, 20.0, t) == (replace(state, last_at=20.0), [])
    assert feed(state, Power(0), 5.0, CLEANED) == (state, [])  # older: clamped to last_at


def test_seq_continues_from_the_stored_state() -> None:
    state, events = feed(InferenceState(seq=41), Press("single"), 1.0, CLEANED)
    assert ([e.seq for e in events], state.seq) == ([42], 42)


@pytest.mark.parametrize(
    ("t", "errors"),
    [
        (DEFAULT, []),
        (Thresholds(on_watts=10, off_watts=12), ["off-watts (12) must be below on-watts (10)"]),
        (Thresholds(on_watts=2.5, off_watts=2.5), ["off-watts (2.5) must be below on-watts (2.5)"]),
        (Thresholds(on_watts=-1), ["on-watts (-1) must not be negative", "off-watts (3) must be below on-watts (-1)"]),
        (Thresholds(off_watts=-1), ["off-watts (-1) must not be negative"]),
        (
            Thresholds(off_watts=0),
            ["off-watts (0) must be above 0: power never falls below 0 W, so a use would never end"],
        ),
        (Thresholds(on_hold_s=-5), ["on-hold (-5 s) must not be negative"]),
        (Thresholds(off_hold_s=90000), ["off-hold (90000 s) must be at most a day (86400 s)"]),
        (Thresholds(idle_s=86400.5), ["idle (86400.5 s) must be at most a day (86400 s)"]),
        (Thresholds(idle_s=float("nan")), ["idle (nan) must be a finite number"]),
        (Thresholds(on_hold_s=0, off_hold_s=86400), []),
        (Thresholds(role="bogus"), ["role 'bogus' must be one of usage, cleaned, fault"]),  # type: ignore[arg-type]
    ],
)
def test_check_thresholds_errors(t: Thresholds, errors: list[str]) -> None:
    assert check_thresholds(t) == (errors, [])


@pytest.mark.parametrize(
    ("t", "interval", "warnings"),
    [
        (
            Thresholds(on_hold_s=5),
            10,
            [
                "on-hold 5 s is shorter than the device's report interval (10 s): "
                "a single report above on-watts starts a use"
            ],
        ),
        (
            Thresholds(off_hold_s=20),
            30,
            [
                "off-hold 20 s is shorter than the device's report interval (30 s): "
                "a single report below off-watts ends a use"
            ],
        ),
        (Thresholds(on_hold_s=10), 10, []),
        (DEFAULT, 10, []),
        (Thresholds(on_hold_s=5), None, []),
    ],
)
def test_check_thresholds_warnings(t: Thresholds, interval: float | None, warnings: list[str]) -> None:
    assert check_thresholds(t, report_interval_s=interval) == ([], warnings)


def test_json_round_trip_and_stable_text() -> None:
    assert InferenceState().to_json() == (
        '{"active":false,"last_at":null,"level":null,"phase":"idle","seq":0,"since":null,"use_started":null}'
    )
    states = [
        InferenceState(),
        InferenceState(phase="starting", since=BASE + 0.1, level=150.5, last_at=BASE + 0.1, seq=7),
        InferenceState(phase="stopping", since=BASE + 1 / 3, use_started=BASE, level=0.0, last_at=BASE + 9, seq=2),
        InferenceState(phase="in_use", since=BASE, use_started=BASE - 1, active=False, last_at=BASE, seq=1),
    ]
    for state in states:
        assert InferenceState.from_json(state.to_json()) == state
        assert InferenceState.from_json(state.to_json()).to_json() == state.to_json()
    assert InferenceState.from_json('{"level":150,"last_at":3}') == InferenceState(level=150.0, last_at=3.0)
    assert InferenceState.from_json("{}") == InferenceState()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        "null",
        '"idle"',
        '{"phase":"flying"}',
        '{"seq":-1}',
        '{"seq":1.5}',
        '{"seq":true}',
        '{"active":1}',
        '{"since":"0"}',
        '{"since":NaN}',
        '{"level":Infinity}',
        '{"extra":1}',
        '{"phase":"starting","level":150}',
        '{"phase":"in_use"}',
        '{"phase":"stopping","since":5}',
    ],
)
def test_json_garbage_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        InferenceState.from_json(text)


# --- properties over random power traces ---------------------------------------------------------------------

THRESHOLD_SETS = [
    DEFAULT,
    Thresholds(on_watts=60, off_watts=25, on_hold_s=30, off_hold_s=120),
    Thresholds(on_watts=15, off_watts=6, on_hold_s=0, off_hold_s=0),
]


@dataclass(frozen=True)
class Trace:
    """Power readings at increasing times, with advance() times drawn between each reading and the one before."""

    t: Thresholds
    readings: list[tuple[float, float]]  # (epoch s, watts)
    advances: list[list[float]]  # before reading i: times in [reading i-1, reading i], in any order

    @property
    def end(self) -> float:
        return self.readings[-1][0] + FAR


@st.composite
def traces(draw: st.DrawFn, ends_low: bool | None = None) -> Trace:
    """Random traces whose watts sit on, around and between the thresholds, with short spikes and long runs."""
    t = draw(st.sampled_from(THRESHOLD_SETS))
    levels = [0.0, t.off_watts - 0.5, t.off_watts, (t.off_watts + t.on_watts) / 2, t.on_watts, t.on_watts + 0.5, 300.0]
    gap = st.one_of(st.floats(0.1, 600), st.floats(0.1, 5), st.sampled_from([0.1, 30.0, 60.0, 120.0]))
    fracs = st.lists(st.floats(0, 1), max_size=3)
    steps = draw(st.lists(st.tuples(gap, st.sampled_from(levels), fracs), min_size=1, max_size=40))
    if draw(st.booleans()) if ends_low is None else ends_low:
        steps.append((draw(gap), 0.0, draw(fracs)))
    readings, advances, at = [], [], BASE
    for g, w, fs in steps:
        before, at = at, at + g
        readings.append((at, w))
        advances.append([min(at, before + f * (at - before)) for f in fs])
    return Trace(t, readings, advances)


def run(trace: Trace, *, interleave: bool = True, through_json: bool = False) -> tuple[InferenceState, list[Derived]]:
    """Replay a trace (optionally with its advance() calls, optionally storing the state as JSON at every step)."""
    state, events = InferenceState(), []

    def keep(step: tuple[InferenceState, list[Derived]]) -> InferenceState:
        new, derived = step
        events.extend(derived)
        if through_json:
            assert InferenceState.from_json(new.to_json()) == new
            new = InferenceState.from_json(new.to_json())
        return new

    for (at, w), nows in zip(trace.readings, trace.advances, strict=True):
        for now in nows if interleave else []:
            state = keep(advance(state, now, trace.t))
        state = keep(feed(state, Power(w), at, trace.t))
    state = keep(advance(state, trace.end, trace.t))
    return state, events


def uses(events: list[Derived]) -> list[tuple[float, float | None]]:
    """(start, stop) pairs; the last stop is None while a use goes on."""
    return [(events[i].at, events[i + 1].at if i + 1 < len(events) else None) for i in range(0, len(events), 2)]


def runs(trace: Trace, inside: str) -> list[tuple[float, float]]:
    """Maximal runs of readings above on-watts ('above') or below off-watts ('below'): (first reading, run's end)."""
    t, found, first = trace.t, [], None
    for at, w in [*trace.readings, (trace.end, None)]:
        hit = w is not None and (w > t.on_watts if inside == "above" else w < t.off_watts)
        if hit and first is None:
            first = at
        elif not hit and first is not None:
            found.append((first, at))
            first = None
    return found


def check_power_events(trace: Trace, state: InferenceState, events: list[Derived]) -> None:
    """Properties 1-4 and 6, and completeness, against the trace's level function."""
    t = trace.t
    assert [e.seq for e in events] == list(range(1, len(events) + 1))  # 6
    assert [e.event for e in events] == ["start", "stop"] * (len(events) // 2) + ["start"] * (len(events) % 2)  # 1
    assert {e.channel for e in events} <= {"usage"}
    if trace.readings[-1][1] < t.off_watts:
        assert state.phase == "idle" and (not events or events[-1].event == "stop")  # 1
    level = dict(trace.readings)
    for e in events:
        if e.event == "start":  # 2 (and 4: a spike shorter than on-hold never starts a use)
            assert level.get(e.at, -1.0) > t.on_watts
            assert all(w > t.on_watts for at, w in trace.readings if at >= e.at and at - e.at < t.on_hold_s)
        else:  # 3
            assert level.get(e.at, float("inf")) < t.off_watts
            assert all(w < t.off_watts for at, w in trace.readings if at >= e.at and at - e.at < t.off_hold_s)
    for start, stop in zip(events[0::2], events[1::2], strict=False):
        assert stop.duration_s == stop.at - start.at and stop.duration_s >= t.on_hold_s
    periods = uses(events)
    for first, until in runs(trace, "above"):  # a long enough rise is always inside a use
        if until - first >= t.on_hold_s:
            assert any(a <= first and (b is None or first < b) for a, b in periods)
    for first, until in runs(trace, "below"):  # a long enough fall never lies strictly inside a use
        if until - first >= t.off_hold_s:
            assert not any(a < first and (b is None or first < b) for a, b in periods)


@settings(max_examples=200, deadline=None)
@given(traces())
def test_power_traces_derive_sound_and_complete_uses(trace: Trace) -> None:
    state, events = run(trace)
    check_power_events(trace, state, events)


@settings(max_examples=200, deadline=None)
@given(traces())
def test_advance_calls_and_json_storage_change_nothing(trace: Trace) -> None:
    plain_state, plain = run(trace, interleave=False)  # 5: no advance() but the final one
    for variant in (run(trace), run(trace, through_json=True), run(trace, interleave=False, through_json=True)):
        state, events = variant  # 5 and 7
        assert events == plain
        assert (state.phase, state.since, state.use_started, state.level, state.seq) == (
            plain_state.phase, plain_state.since, plain_state.use_started, plain_state.level, plain_state.seq,
        )  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(traces(ends_low=True))
def test_traces_that_end_at_zero_end_idle(trace: Trace) -> None:
    state, events = run(trace)
    assert state.phase == "idle" and deadline(state, trace.t) is None
    assert not events or events[-1].event == "stop"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.1, 600),  # quiet before the spike
            st.lists(st.floats(0.1, 19.9), min_size=1, max_size=3),  # the spike's reports: under 60 s in all
            st.sampled_from([300.0, 150.0, 10.5]),
            st.lists(st.floats(0, 1), max_size=3),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_spikes_shorter_than_on_hold_never_make_a_use(
    spikes: list[tuple[float, list[float], float, list[float]]],
) -> None:
    state, at, events = InferenceState(), BASE, []
    for quiet, reports, w, fracs in spikes:  # 0 W, then w at each report, then 0 W 0.1 s after the last
        for gap, level in [(quiet, 0.0), *[(r, w) for r in reports], (0.1, 0.0)]:
            before, at = at, at + gap
            for f in fracs:
                state, derived = advance(state, min(at, before + f * (at - before)), DEFAULT)
                events += derived
            state, derived = feed(state, Power(level), at, DEFAULT)
            events += derived
    state, derived = advance(state, at + FAR, DEFAULT)
    assert events + derived == [] and state.phase == "idle"


# --- activity sensors -------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.one_of(st.floats(0.1, 400), st.sampled_from([120.0])), st.booleans(), st.lists(st.floats(0, 1))),
        min_size=1,
        max_size=40,
    )
)
def test_activity_traces(steps: list[tuple[float, bool, list[float]]]) -> None:
    t, readings, at = DEFAULT, [], BASE
    for gap, active, fracs in steps:
        before, at = at, at + gap
        readings.append((at, active, [min(at, before + f * (at - before)) for f in fracs]))

    def replay(interleave: bool) -> list[Derived]:
        state, events = InferenceState(), []
        for when, active, nows in readings:
            for now in nows if interleave else []:
                state, derived = advance(state, now, t)
                events += derived
            state, derived = feed(InferenceState.from_json(state.to_json()), Active(active), when, t)
            events += derived
        state, derived = advance(state, at + FAR, t)
        return events + derived

    events = replay(interleave=True)
    assert events == replay(interleave=False)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.event for e in events] == ["start", "stop"] * (len(events) // 2) + ["start"] * (len(events) % 2)
    level = {when: active for when, active, _ in readings}
    for e in events:
        assert level[e.at] is (e.event == "start")  # a use starts at activity and stops when it ceased
        if e.event == "stop":  # quiet for idle_s from then on
            assert not any(active for when, active, _ in readings if when >= e.at and when - e.at < t.idle_s)
    periods = uses(events)
    for when, active, _ in readings:  # every activity lies in a use
        if active:
            assert any(a <= when and (b is None or when < b) for a, b in periods)
