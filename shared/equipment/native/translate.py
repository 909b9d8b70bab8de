"""Native messages in, the device contract's messages out: the adapter's pure step, planned before it is stored.

`Translator` holds what the adapter last committed (bindings, inference states, the devices seen, the packet ids
of its session) and plans a batch on copies; the caller stores the plan in one transaction (`native.store`) and
only then `accept`s it, so a failed commit leaves the translator as it was and the batch can be tried again.

Exactly once: a derived event's id is its binding's id and sequence number, committed with the state that made
it, so planning the same readings from the same state again gives the same ids (and ingest stores one of each);
a redelivery of a message already committed (the DUP flag, the same packet id, the same bytes) is skipped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from shared.equipment.events import FUTURE_TOLERANCE, MAX_LATENESS, Rejected
from shared.equipment.native.bindings import BindingView
from shared.equipment.native.dialects import parse_native
from shared.equipment.native.inference import Derived, InferenceState, advance, deadline, end_use, feed
from shared.equipment.native.readings import Active, Availability, NativeMalformed, NativeReport, Power, Reading
from shared.equipment.payloads import CodedReject
from shared.equipment.topics import equipment_topic

RECENT_READINGS = 240  # per device, for calibration: four minutes of a plug reporting every second
# The history is re-encoded and rewritten at most this often per device: rewriting ~8 KB of JSON per plug in every
# 0.2 s batch was 70% of the adapter's CPU (bench.native); the Devices page redraws every 2 s anyway.
RECENT_SAVE_EVERY_S = 2.0


@dataclass(frozen=True, slots=True)
class NativeMessage:
    """One native MQTT message as the adapter received it."""

    topic: str
    payload: bytes
    received_at: datetime
    mid: int = 0
    dup: bool = False


@dataclass(slots=True)
class SourceSeen:
    """What a native device last said (one `native_source` row)."""

    via: str
    source: str
    first_seen: datetime
    last_seen: datetime
    online: bool | None = None
    messages: int = 0
    last_topic: str = ""
    last_payload: bytes = b""
    summary: dict[str, object] = field(default_factory=dict)
    recent: list[list[object]] = field(default_factory=list)  # [epoch s, channel or entity, value, unit]
    recent_saved: float = 0.0  # epoch s when `recent` was last planned for the store
    save_recent: bool = True  # whether this batch writes `recent` (the rest of the row is written every batch)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A contract message to publish for a station (an event, or its retained status)."""

    topic: str
    payload: bytes
    retain: bool = False


@dataclass(slots=True)
class Plan:
    """What one batch changes, to be stored in one transaction and then accepted."""

    states: dict[int, InferenceState] = field(default_factory=dict)
    sources: dict[tuple[str, str], SourceSeen] = field(default_factory=dict)
    deliveries: dict[int, str] = field(default_factory=dict)
    outgoing: list[Outgoing] = field(default_factory=list)
    rejects: list[Rejected] = field(default_factory=list)
    duplicates: int = 0


class Translator:
    """The adapter's memory of what it committed, and the planning of each batch against it."""

    def __init__(self, *, prefix: str, reserved: frozenset[str] = frozenset()) -> None:
        self.prefix = prefix
        self.reserved = reserved | {prefix}
        self.bindings: dict[int, BindingView] = {}
        self.states: dict[int, InferenceState] = {}
        self.sources: dict[tuple[str, str], SourceSeen] = {}
        self.deliveries: dict[int, str] = {}
        self.unsaved: set[tuple[str, str]] = set()  # devices whose newest readings wait for their history's save

    def use_bindings(self, bindings: Iterable[BindingView], states: dict[int, InferenceState]) -> list[Outgoing]:
        """Take the current bindings (after a bind, unbind or new thresholds); new ones start idle. Returns the
        status a newly bound usage device gives its station, when the device has already said it is online."""
        current = list(bindings)
        new = [b for b in current if b.id not in self.bindings]
        self.bindings = {b.id: b for b in current}
        self.states = {bid: self.states.get(bid) or states.get(bid) or InferenceState() for bid in self.bindings}
        outgoing = []
        for binding in new:
            seen = self.sources.get((binding.via, binding.source))
            if binding.role == "usage" and seen is not None and seen.online is not None:
                topic = equipment_topic(self.prefix, binding.site, binding.equipment_id, "status")
                outgoing.append(Outgoing(topic, b"online" if seen.online else b"offline", retain=True))
        return outgoing

    def plan(self, messages: Sequence[NativeMessage], now: datetime) -> Plan:
        """Plan a batch: skip redeliveries, keep what cannot be read, feed the bindings, then run their timers."""
        plan = Plan()
        for message in messages:
            fingerprint = _fingerprint(message.topic, message.payload)
            known = plan.deliveries.get(message.mid, self.deliveries.get(message.mid))
            if message.dup and known == fingerprint:
                plan.duplicates += 1
                continue
            plan.deliveries[message.mid] = fingerprint
            self._plan_message(plan, message)
        self._plan_timers(plan, now.timestamp())
        self._plan_history_saves(plan, now.timestamp())
        return plan

    def _plan_history_saves(self, plan: Plan, now: float) -> None:
        """A device that went quiet still gets its last readings saved, once their save is due."""
        for key in self.unsaved - plan.sources.keys():
            seen = self.sources[key]
            if now - seen.recent_saved >= RECENT_SAVE_EVERY_S:
                plan.sources[key] = replace(seen, save_recent=True, recent_saved=now)

    def due(self, now: datetime) -> bool:
        """Whether a binding's hold or idle time has run out by `now` (then a batch with no message has work)."""
        epoch = now.timestamp()
        if any(epoch - self.sources[key].recent_saved >= RECENT_SAVE_EVERY_S for key in self.unsaved):
            return True
        return any((when := deadline(self.states[bid], b.thresholds)) is not None and when <= epoch
                   for bid, b in self.bindings.items())  # fmt: skip

    def accept(self, plan: Plan) -> None:
        """The plan is committed: it becomes what the translator remembers."""
        self.states.update({bid: s for bid, s in plan.states.items() if bid in self.bindings})
        self.sources.update(plan.sources)
        for key, seen in plan.sources.items():
            (self.unsaved.discard if seen.save_recent else self.unsaved.add)(key)
        self.deliveries.update(plan.deliveries)

    # -- planning ---------------------------------------------------------------------------------------------
    def _plan_message(self, plan: Plan, message: NativeMessage) -> None:
        parsed = parse_native(message.topic, message.payload, reserved=self.reserved)
        if parsed is None:
            plan.rejects.append(CodedReject(message.topic, message.payload, "not a topic of a known device dialect",
                                            message.received_at, code="unknown_topic"))  # fmt: skip
            return
        for part in parsed:
            if isinstance(part, NativeMalformed):
                plan.rejects.append(CodedReject(message.topic, message.payload, f"{part.via}: {part.reason}",
                                                message.received_at, code="native_payload"))  # fmt: skip
                continue
            at = _reading_time(part.device_ts, message.received_at)
            self._note_source(plan, part, message, at)
            for binding in self._bindings_of(part):
                for reading in part.readings:
                    self._feed(plan, binding, reading, at)

    def _note_source(self, plan: Plan, report: NativeReport, message: NativeMessage, at: float) -> None:
        """Remember what the device said, and when its availability changes, tell its stations."""
        key = (report.via, report.source)
        seen = plan.sources.get(key) or _copy(self.sources.get(key)) or SourceSeen(
            report.via, report.source, message.received_at, message.received_at)  # fmt: skip
        seen.last_seen, seen.messages = message.received_at, seen.messages + 1
        seen.last_topic, seen.last_payload = message.topic, message.payload[:2048]
        seen.summary.update(report.summary)
        for reading in report.readings:
            value = _level(reading)
            if value is not None:
                unit = "W" if isinstance(reading, Power) else ""
                seen.recent.append([round(at, 3), report.channel or report.entity, value, unit])
            if isinstance(reading, Availability) and reading.online != seen.online:
                seen.online = reading.online
                self._plan_availability(plan, report, reading.online)
        del seen.recent[:-RECENT_READINGS]
        received = message.received_at.timestamp()
        if seen.save_recent or received - seen.recent_saved >= RECENT_SAVE_EVERY_S:
            seen.save_recent, seen.recent_saved = True, max(seen.recent_saved, received)
        plan.sources[key] = seen

    def _plan_availability(self, plan: Plan, report: NativeReport, online: bool) -> None:
        """A usage device's availability is its station's: a retained `online`/`offline` on the status topic. A
        bridge (source "") speaks for its devices: offline takes them all off, online brings back those whose
        own last word was online."""
        for binding in self.bindings.values():
            if binding.via != report.via or binding.role != "usage":
                continue
            if report.source == "":
                key = (binding.via, binding.source)
                seen = plan.sources.get(key) or self.sources.get(key)
                if online and (seen is None or seen.online is not True):
                    continue
            elif binding.source != report.source:
                continue
            topic = equipment_topic(self.prefix, binding.site, binding.equipment_id, "status")
            plan.outgoing.append(Outgoing(topic, b"online" if online else b"offline", retain=True))

    def _bindings_of(self, report: NativeReport) -> list[BindingView]:
        return [b for b in self.bindings.values()
                if b.via == report.via and b.source == report.source
                and (report.channel == "" or b.channel in ("", report.channel))
                and (report.entity == "" or b.entity in ("", report.entity))]  # fmt: skip

    def _feed(self, plan: Plan, binding: BindingView, reading: Reading, at: float) -> None:
        state, derived = feed(self._state(plan, binding.id), reading, at, binding.thresholds)
        plan.states[binding.id] = state
        if any(d.channel == "cleaning" for d in derived):
            self._end_uses(plan, binding, at)
        plan.outgoing += [self._contract(binding, d) for d in derived]

    def _end_uses(self, plan: Plan, button: BindingView, at: float) -> None:
        """A cleaning button pressed at a station ends the use its sensors still hold open (before the cleaning:
        a technician does not wait out the idle or off-hold time)."""
        for other in self.bindings.values():
            if other.role == "usage" and (other.site, other.equipment_id) == (button.site, button.equipment_id):
                state, stops = end_use(self._state(plan, other.id), at)
                plan.states[other.id] = state
                plan.outgoing += [self._contract(other, d) for d in stops]

    def _state(self, plan: Plan, binding_id: int) -> InferenceState:
        return plan.states.get(binding_id, self.states.get(binding_id, InferenceState()))

    def _plan_timers(self, plan: Plan, now: float) -> None:
        for bid, binding in self.bindings.items():
            state = plan.states.get(bid, self.states[bid])
            when = deadline(state, binding.thresholds)
            if when is not None and when <= now:
                state, derived = advance(state, now, binding.thresholds)
                plan.states[bid] = state
                plan.outgoing += [self._contract(binding, d) for d in derived]

    def _contract(self, binding: BindingView, derived: Derived) -> Outgoing:
        """The derived event as a v1 contract message on the station's own topic, with its deterministic id."""
        tag = hashlib.sha256(f"{binding.id}/{binding.via}/{binding.source}".encode()).hexdigest()[:10]
        body: dict[str, object] = {"v": 1, "event_id": f"{binding.via}-{tag}-{derived.seq}", "event": derived.event,
                                   "ts": _rfc3339(derived.at)}  # fmt: skip
        if derived.channel == "usage":
            started = derived.at - (derived.duration_s or 0.0)
            body["session_id"] = f"{binding.via}-{tag}-{round(started * 1000)}"
            if derived.duration_s is not None:
                body["duration_s"] = round(derived.duration_s, 3)
            body["metrics"] = {"source": f"{binding.via}/{binding.source}"}
        elif derived.channel == "cleaning":
            body.update(by="cleaning button", method="button")
        else:
            body.update(code=derived.code, severity=derived.severity, message=derived.message)
        topic = equipment_topic(self.prefix, binding.site, binding.equipment_id, derived.channel)
        return Outgoing(topic, json.dumps(body, separators=(",", ":")).encode())


def _fingerprint(topic: str, payload: bytes) -> str:
    return hashlib.sha256(topic.encode("utf-8", "surrogateescape") + b"\0" + payload).hexdigest()[:32]


def _reading_time(device_ts: float | None, received_at: datetime) -> float:
    """The device's clock when it has one and it is plausible (a backlog keeps its timing), else arrival."""
    received = received_at.timestamp()
    if device_ts is None:
        return received
    lowest = received - MAX_LATENESS.total_seconds()
    return device_ts if lowest <= device_ts <= received + FUTURE_TOLERANCE.total_seconds() else received


def _level(reading: Reading) -> float | None:
    if isinstance(reading, Power):
        return reading.watts
    if isinstance(reading, Active):
        return 1.0 if reading.active else 0.0
    return None


def _copy(seen: SourceSeen | None) -> SourceSeen | None:
    if seen is None:
        return None
    # The readings themselves are never changed (only appended and trimmed): copying the outer list is enough.
    return replace(seen, summary=dict(seen.summary), recent=list(seen.recent), save_recent=False)


def _rfc3339(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

