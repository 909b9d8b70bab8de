"""From one binding's readings to the device contract's events: starts and stops of a use, cleanings, faults.

Pure: no I/O and no clock; times are epoch seconds given by the caller. A level (watts, an activity sensor's
state) holds from its report until the next one, so `advance(now)` can confirm a hold that no new report
completes, and `deadline()` says when that is due. Whether `advance()` is called between readings, and where,
never changes what is derived. Out-of-order times are clamped to the latest time already applied.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Literal, get_args

from shared.equipment.native.readings import Active, Power, Press, Reading

Role = Literal["usage", "cleaned", "fault"]
Phase = Literal["idle", "starting", "in_use", "stopping"]
Channel = Literal["usage", "cleaning", "fault"]
Event = Literal["start", "stop", "cleaned", "fault"]
ROLES: tuple[Role, ...] = get_args(Role)
PHASES: tuple[Phase, ...] = get_args(Phase)
DAY_S = 86400.0
FAULT_CODE, FAULT_SEVERITY, FAULT_MESSAGE = "BUTTON", "critical", "reported with the station's button"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """How a binding's readings become events (off_watts < on_watts gives hysteresis; holds ignore blips)."""

    role: Role = "usage"
    on_watts: float = 10.0  # in use once power stays above (>) on_watts for on_hold_s
    off_watts: float = 3.0  # done once power stays below (<) off_watts for off_hold_s
    on_hold_s: float = 60.0
    off_hold_s: float = 120.0
    idle_s: float = 120.0  # activity sensors: done after idle_s without activity


@dataclass(frozen=True, slots=True)
class InferenceState:
    """What one binding's inference remembers between readings (stored as JSON with the deliveries)."""

    phase: Phase = "idle"
    since: float | None = None  # starting: power rose above on; stopping: it fell below off; in_use: went inactive
    use_started: float | None = None  # when the current use began (its start event's time)
    level: float | None = None  # last power in watts (power bindings)
    active: bool = False  # last level of an activity sensor
    last_at: float | None = None  # latest time applied: a reading's, or an advance() that derived events
    seq: int = 0  # events derived so far: the next event gets seq + 1

    def to_json(self) -> str:
        """Compact, with sorted keys, so equal states store as equal text."""
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> InferenceState:
        """Read a stored state back, refusing anything that the functions here could not run on."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"inference state is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError("inference state must be a JSON object")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"inference state has unknown keys: {', '.join(unknown)}")
        phase, active, seq = data.get("phase", "idle"), data.get("active", False), data.get("seq", 0)
        if phase not in PHASES:
            raise ValueError(f"inference state has an unknown phase: {phase!r}")
        if not isinstance(active, bool):
            raise ValueError("inference state: active must be true or false")
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
            raise ValueError("inference state: seq must be a whole number, 0 or more")
        times = {key: _number_or_none(data, key) for key in ("since", "use_started", "level", "last_at")}
        state = cls(phase=phase, active=active, seq=seq, **times)
        _check_consistent(state)
        return state


@dataclass(frozen=True, slots=True)
class Derived:
    """One event of the device contract, derived from readings; the caller builds its id from `seq`."""

    channel: Channel
    event: Event
    at: float
    seq: int
    duration_s: float | None = None  # stop: at - use_started
    code: str | None = None  # fault
    severity: str | None = None  # fault
    message: str | None = None  # fault


def _number_or_none(data: dict[str, object], key: str) -> float | None:
    """A finite number (as float) or null; anything else is garbage."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"inference state: {key} must be a number or null")
    return float(value)


def _check_consistent(s: InferenceState) -> None:
    """A phase without the times it is judged by would make advance() fail later; refuse it now."""
    if s.phase in ("starting", "stopping") and s.since is None:
        raise ValueError(f"inference state: phase {s.phase} needs since")
    if s.phase in ("in_use", "stopping") and s.use_started is None:
        raise ValueError(f"inference state: phase {s.phase} needs use_started")


def _derive(
    s: InferenceState, out: list[Derived], channel: Channel, event: Event, at: float, duration_s: float | None = None
) -> InferenceState:
    """Number the event with the binding's next seq, so ids stay unique and increasing."""
    fault = {"code": FAULT_CODE, "severity": FAULT_SEVERITY, "message": FAULT_MESSAGE} if event == "fault" else {}
    out.append(Derived(channel=channel, event=event, at=at, seq=s.seq + 1, duration_s=duration_s, **fault))
    return replace(s, seq=s.seq + 1)


def _step(s: InferenceState, now: float, t: Thresholds, out: list[Derived]) -> InferenceState:
    """Complete the hold that is due by `now`, judged on the level held since the last reading."""
    if s.phase == "starting" and s.since is not None and s.level is not None:
        if s.level > t.on_watts and now - s.since >= t.on_hold_s:
            s = _derive(s, out, "usage", "start", s.since)
            return replace(s, phase="in_use", since=None, use_started=s.since)
    elif s.phase == "stopping" and s.since is not None and s.level is not None:
        if s.level < t.off_watts and now - s.since >= t.off_hold_s:
            return _stop(s, s.since, out)
    elif s.phase == "in_use" and s.since is not None and not s.active and now - s.since >= t.idle_s:
        return _stop(s, s.since, out)
    return s


def _stop(s: InferenceState, at: float, out: list[Derived]) -> InferenceState:
    """End the current use at `at` (when power fell or activity ceased, not when that was confirmed)."""
    duration = at - s.use_started if s.use_started is not None else None
    s = _derive(s, out, "usage", "stop", at, duration_s=duration)
    return replace(s, phase="idle", since=None, use_started=None)


def _apply_power(s: InferenceState, watts: float, at: float, t: Thresholds) -> InferenceState:
    """Take a new power level: begin or abandon a rise, begin or cancel a fall (the band between keeps a use)."""
    s = replace(s, level=watts)
    if s.phase == "idle":
        return replace(s, phase="starting", since=at) if watts > t.on_watts else s
    if s.phase == "starting":
        return s if watts > t.on_watts else replace(s, phase="idle", since=None)  # a spike: no event
    if watts < t.off_watts:
        return s if s.phase == "stopping" else replace(s, phase="stopping", since=at)
    return replace(s, phase="in_use", since=None)  # at or above off: the use goes on (a dip ends here)


def _apply_active(s: InferenceState, active: bool, at: float, out: list[Derived]) -> InferenceState:
    """Take a new activity level: activity starts a use; the first inactive report starts the idle timer."""
    if s.phase == "idle" and active:
        s = _derive(s, out, "usage", "start", at)
        return replace(s, phase="in_use", since=None, use_started=at, active=True)
    if s.phase == "in_use" and active:
        return replace(s, since=None, active=True)
    if s.phase == "in_use" and (s.active or s.since is None):
        return replace(s, since=at, active=False)  # a repeated inactive report keeps the earlier since
    return replace(s, active=active)


def _press(s: InferenceState, press: Press, at: float, t: Thresholds, out: list[Derived]) -> InferenceState:
    """A button on a cleaned binding reports a cleaning (a long press: a fault); on a fault binding, a fault."""
    if t.role == "cleaned" and press.kind != "long":
        return _derive(s, out, "cleaning", "cleaned", at)
    return _derive(s, out, "fault", "fault", at)


def end_use(state: InferenceState, at: float) -> tuple[InferenceState, list[Derived]]:
    """The station was cleaned (its button): the use it is in ends, at the fall or the quiet if one began, else
    at `at`, so the stop never comes after the cleaning (a rise not yet confirmed is dropped)."""
    at = max(at, state.last_at or at)
    out: list[Derived] = []
    if state.phase in ("in_use", "stopping"):
        state = _stop(state, state.since if state.since is not None else at, out)
    elif state.phase == "starting":
        state = replace(state, phase="idle", since=None)
    return replace(state, last_at=at, active=False), out


def feed(state: InferenceState, reading: Reading, at: float, t: Thresholds) -> tuple[InferenceState, list[Derived]]:
    """Apply one reading at `at`: holds due by then complete first (on the old level), then the new level."""
    if not math.isfinite(at):
        raise ValueError(f"reading time must be a finite number, not {at}")
    at = float(at) if state.last_at is None else max(float(at), state.last_at)
    out: list[Derived] = []
    s = state
    if t.role == "usage" and isinstance(reading, Power | Active):
        if isinstance(reading, Power) and not math.isfinite(reading.watts):
            return replace(s, last_at=at), out
        s = _step(s, at, t, out)
        if isinstance(reading, Power):
            s = _apply_power(s, float(reading.watts), at, t)
        else:
            s = _apply_active(s, reading.active, at, out)
        s = _step(s, at, t, out)  # a zero hold completes at once
    elif t.role != "usage" and isinstance(reading, Press):
        s = _press(s, reading, at, t, out)
    return replace(s, last_at=at), out


def advance(state: InferenceState, now: float, t: Thresholds) -> tuple[InferenceState, list[Derived]]:
    """Confirm a hold that no reading completed: the last level held until `now`, as levels do."""
    if not math.isfinite(now):
        raise ValueError(f"advance time must be a finite number, not {now}")
    out: list[Derived] = []
    s = _step(state, now, t, out)
    if out:  # a later reading older than `now` must not undo what was just decided
        s = replace(s, last_at=now if s.last_at is None else max(now, s.last_at))
    return s, out


def deadline(state: InferenceState, t: Thresholds) -> float | None:
    """When advance() would next derive something, so the caller can wake then and not poll."""
    s = state
    if s.since is None:
        return None
    if s.phase == "starting":
        return s.since + t.on_hold_s if s.level is not None and s.level > t.on_watts else None
    if s.phase == "stopping":
        return s.since + t.off_hold_s if s.level is not None and s.level < t.off_watts else None
    return s.since + t.idle_s if s.phase == "in_use" and not s.active else None


def _n(value: float) -> str:
    """A number as people write it: 12, not 12.0."""
    value = float(value)
    return str(int(value)) if value.is_integer() else str(value)


def check_thresholds(t: Thresholds, *, report_interval_s: float | None = None) -> tuple[list[str], list[str]]:
    """Errors that make thresholds unusable and warnings that make them misleading, in words for people."""
    errors: list[str] = []
    if t.role not in ROLES:
        errors.append(f"role {t.role!r} must be one of {', '.join(ROLES)}")
    watts = {"on-watts": t.on_watts, "off-watts": t.off_watts}
    holds = {"on-hold": t.on_hold_s, "off-hold": t.off_hold_s, "idle": t.idle_s}
    for name, value in {**watts, **holds}.items():
        unit = "" if name in watts else " s"
        if not math.isfinite(value):
            errors.append(f"{name} ({_n(value)}) must be a finite number")
        elif value < 0:
            errors.append(f"{name} ({_n(value)}{unit}) must not be negative")
        elif name in holds and value > DAY_S:
            errors.append(f"{name} ({_n(value)} s) must be at most a day ({_n(DAY_S)} s)")
    if math.isfinite(t.off_watts) and math.isfinite(t.on_watts) and t.off_watts >= t.on_watts:
        errors.append(f"off-watts ({_n(t.off_watts)}) must be below on-watts ({_n(t.on_watts)})")
    elif t.off_watts == 0:
        errors.append("off-watts (0) must be above 0: power never falls below 0 W, so a use would never end")
    return errors, _interval_warnings(t, report_interval_s)


def _interval_warnings(t: Thresholds, report_interval_s: float | None) -> list[str]:
    """A hold shorter than the device's report interval is met by any single report (levels last until the next)."""
    if report_interval_s is None or not math.isfinite(report_interval_s) or report_interval_s <= 0:
        return []
    interval, warnings = _n(report_interval_s), []
    if 0 <= t.on_hold_s < report_interval_s:
        warnings.append(
            f"on-hold {_n(t.on_hold_s)} s is shorter than the device's report interval ({interval} s): "
            "a single report above on-watts starts a use"
        )
    if 0 <= t.off_hold_s < report_interval_s:
        warnings.append(
            f"off-hold {_n(t.off_hold_s)} s is shorter than the device's report interval ({interval} s): "
            "a single report below off-watts ends a use"
        )
    return warnings
