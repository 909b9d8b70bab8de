"""What simulated off-the-shelf devices say, in their vendors' own MQTT dialects: pure behaviour, no I/O.

Each device is a small state machine driven by a monotonic `now` (seconds) and its own `random.Random`; `wall`
(epoch seconds) is only written into payloads (a Shelly's `params.ts`, a Tasmota's local `Time`). The topics are
those `shared.equipment.native.dialects` reads. The devices of the demo, the clients and their Last Wills are
`telemetry.native_sim`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shared.equipment.native.readings import Via

Kind = Literal["plug", "vibration", "button", "motion"]
Span = tuple[float, float]
FIRST_GAP_S: Span = (2.0, 12.0)  # the first use comes soon after the start, so a demo board moves within a minute
SPIKE_CHANCE = 0.3  # of an idle gap holding one switching spike (a belt test): too short to be a use
SPIKE_S: Span = (1.0, 2.0)
SPIKE_WATTS: Span = (290.0, 310.0)
SHELLY_CHANGE_W, SHELLY_EVERY_S = 2.0, 10.0  # a status on a change of more than 2 W, and at least every 10 s
TASMOTA_STATE_S = 30.0
VIBRATION_EVERY_S: Span = (3.0, 8.0)
PRESS_AFTER_S: Span = (5.0, 15.0)  # a button is pressed this long after its sensor's session ended
HOLD_CHANCE = 1 / 20  # a hold (a long press: a fault) instead of a single press


@dataclass(frozen=True, slots=True)
class Publish:
    """One message a device sends (QoS 1)."""

    topic: str
    payload: str
    retain: bool = False


@dataclass(frozen=True, slots=True)
class NativeSimDevice:
    """A simulated device: its dialect and own MQTT name, what it is, and the pace of its uses."""

    via: Via
    name: str  # Shelly topic prefix, Tasmota topic, Zigbee2MQTT friendly name, ESPHome node name
    kind: Kind
    object_id: str = ""  # ESPHome: the binary_sensor's object id
    after: str = ""  # a button: the vibration sensor whose sessions it follows
    idle_watts: float = 3.0
    run_watts: Span = (180.0, 320.0)
    run_s: Span = (45.0, 120.0)
    gap_s: Span = (20.0, 60.0)
    spikes: bool = False
    report_s: float = SHELLY_EVERY_S  # Shelly: the longest silence; Tasmota: its TelePeriod

    def availability(self, online: bool) -> Publish:
        """What the device says about itself, retained: online on connect, offline as its Last Will."""
        if self.via == "shelly":
            return Publish(f"{self.name}/online", "true" if online else "false", True)
        if self.via == "tasmota":
            return Publish(f"tele/{self.name}/LWT", "Online" if online else "Offline", True)
        if self.via == "zigbee2mqtt":
            return Publish(f"zigbee2mqtt/{self.name}/availability", state_json(online), True)
        return Publish(f"{self.name}/status", "online" if online else "offline", True)


class _Cycle:
    """Runs and gaps in turn: active for a run, then idle for a gap; the first gap is short."""

    def __init__(self, spec: NativeSimDevice, rng: random.Random, now: float) -> None:
        self.spec, self.rng, self.active, self.since = spec, rng, False, now
        self.until = now + rng.uniform(*FIRST_GAP_S)

    def advance(self, now: float) -> list[tuple[bool, float]]:
        """The turns taken up to `now`: (True, when) a run began, (False, when) it ended."""
        turns = []
        while now >= self.until:
            self.active, self.since = not self.active, self.until
            self.until += self.rng.uniform(*(self.spec.run_s if self.active else self.spec.gap_s))
            turns.append((self.active, self.since))
        return turns


class _Load:
    """A plug's watts: idle or running (the level moves once a second), with the odd spike while idle."""

    def __init__(self, spec: NativeSimDevice, rng: random.Random, now: float) -> None:
        self.spec, self.rng = spec, rng
        self.cycle = _Cycle(spec, rng, now)
        self.target = self.level = spec.idle_watts
        self.resample_at, self.last = now, now
        self.energy_wh = rng.uniform(5_000.0, 50_000.0)  # the meter's total since it was installed
        self.spike: tuple[float, float, float] | None = None  # from, until, watts
        self._plan_spike(now, self.cycle.until)

    def watts(self, now: float) -> float:
        for began, _at in self.cycle.advance(now):
            self.target = self.rng.uniform(*self.spec.run_watts) if began else self.spec.idle_watts
            if not began:
                self._plan_spike(self.cycle.since, self.cycle.until)
        if now >= self.resample_at:
            spread = 0.03 * self.target if self.cycle.active else 0.08 * self.target
            self.level, self.resample_at = max(0.3, self.rng.gauss(self.target, spread)), now + 1.0
        watts = self.level
        if self.spike is not None and self.spike[0] <= now < self.spike[1]:
            watts = self.spike[2]
        self.energy_wh += watts * max(0.0, now - self.last) / 3600.0
        self.last = now
        return watts

    def _plan_spike(self, start: float, end: float) -> None:
        self.spike = None
        if self.spec.spikes and end - start > 10.0 and self.rng.random() < SPIKE_CHANCE:
            at = self.rng.uniform(start + 2.0, end - 6.0)
            self.spike = (at, at + self.rng.uniform(*SPIKE_S), self.rng.uniform(*SPIKE_WATTS))


class Behaviour:
    """One device's state machine: `start` says its current state on connect, `step` what is new by `now`."""

    def __init__(self, spec: NativeSimDevice, rng: random.Random, now: float) -> None:
        self.spec, self.rng = spec, rng

    def start(self, now: float, wall: float) -> list[Publish]:
        return self.step(now, wall)

    def step(self, now: float, wall: float) -> list[Publish]:
        raise NotImplementedError


class ShellyPlug(Behaviour):
    """`<name>/status/switch:0` on a change of over 2 W or every 10 s, and `NotifyStatus` on a change."""

    def __init__(self, spec: NativeSimDevice, rng: random.Random, now: float) -> None:
        super().__init__(spec, rng, now)
        self.load = _Load(spec, rng, now)
        self.last_watts: float | None = None
        self.last_at = now

    def step(self, now: float, wall: float) -> list[Publish]:
        watts = round(self.load.watts(now), 1)
        changed = self.last_watts is None or abs(watts - self.last_watts) > SHELLY_CHANGE_W
        if not changed and now - self.last_at < self.spec.report_s:
            return []
        self.last_watts, self.last_at = watts, now
        name, volts, celsius = self.spec.name, round(self.rng.gauss(120.2, 0.4), 1), round(32.0 + watts / 40.0, 1)
        status = {"id": 0, "source": "init", "output": True, "apower": watts, "voltage": volts,
                  "current": round(watts / volts, 3),
                  "aenergy": {"total": round(self.load.energy_wh, 3), "by_minute": [round(watts * 1000 / 60, 3)] * 3,
                              "minute_ts": int(wall // 60) * 60},  # by_minute: mWh a minute, at today's draw
                  "temperature": {"tC": celsius, "tF": round(celsius * 9 / 5 + 32, 1)}}  # fmt: skip
        out = [Publish(f"{name}/status/switch:0", _json(status))]
        if changed:
            notify = {"src": name, "dst": f"{name}/events", "method": "NotifyStatus",
                      "params": {"ts": round(wall, 2), "switch:0": {"id": 0, "apower": watts}}}  # fmt: skip
            out.append(Publish(f"{name}/events/rpc", _json(notify)))
        return out


class TasmotaPlug(Behaviour):
    """`tele/<name>/SENSOR` every TelePeriod and `tele/<name>/STATE` every 30 s, both at once on connect."""

    def __init__(self, spec: NativeSimDevice, rng: random.Random, now: float) -> None:
        super().__init__(spec, rng, now)
        self.load = _Load(spec, rng, now)
        self.booted, self.next_sensor, self.next_state = now - rng.uniform(60, 7200), now, now
        self.period_mark, self.today_mark = self.load.energy_wh, self.load.energy_wh - rng.uniform(50, 400)
        self.yesterday_kwh = round(rng.uniform(0.2, 1.5), 3)

    def step(self, now: float, wall: float) -> list[Publish]:
        watts, out, name = self.load.watts(now), [], self.spec.name
        clock = datetime.fromtimestamp(wall).strftime("%Y-%m-%dT%H:%M:%S")
        if now >= self.next_state:
            self.next_state = now + TASMOTA_STATE_S
            up = int(now - self.booted)
            state = {"Time": clock, "Uptime": f"{up // 86400}T{up // 3600 % 24:02d}:{up // 60 % 60:02d}:{up % 60:02d}",
                     "UptimeSec": up, "POWER": "ON", "Wifi": {"AP": 1, "RSSI": 78}}  # fmt: skip
            out.append(Publish(f"tele/{name}/STATE", _json(state)))
        if now >= self.next_sensor:
            self.next_sensor = now + self.spec.report_s
            wh, factor, volts = self.load.energy_wh, 0.95 if watts > 10 else 0.5, round(self.rng.gauss(120.0, 0.5))
            energy = {"TotalStartTime": "2026-01-01T00:00:00", "Total": round(wh / 1000, 3),
                      "Yesterday": self.yesterday_kwh, "Today": round((wh - self.today_mark) / 1000, 3),
                      "Period": round(wh - self.period_mark), "Power": round(watts),
                      "ApparentPower": round(watts / factor), "ReactivePower": round(watts * 0.3), "Factor": factor,
                      "Voltage": volts, "Current": round(watts / factor / volts, 3)}  # fmt: skip
            self.period_mark = wh
            out.append(Publish(f"tele/{name}/SENSOR", _json({"Time": clock, "ENERGY": energy})))
        return out


class Z2mVibration(Behaviour):
    """`zigbee2mqtt/<name>`: `vibration: true` every 3-8 s during a session, `vibration: false` when it ends."""

    def __init__(self, spec: NativeSimDevice, rng: random.Random, now: float) -> None:
        super().__init__(spec, rng, now)
        self.cycle = _Cycle(spec, rng, now)
        self.next_ping: float | None = None
        self.sessions_ended, self.last_end = 0, now
        self.battery, self.linkquality = rng.randint(80, 100), rng.randint(60, 200)

    def start(self, now: float, wall: float) -> list[Publish]:
        return [self._state(False)]

    def step(self, now: float, wall: float) -> list[Publish]:
        out = []
        for began, at in self.cycle.advance(now):
            self.next_ping = at if began else None
            if not began:
                self.sessions_ended, self.last_end = self.sessions_ended + 1, at
                out.append(self._state(False))
        if self.next_ping is not None and now >= self.next_ping:
            self.next_ping = now + self.rng.uniform(*VIBRATION_EVERY_S)
            out.append(self._state(True))
        return out

    def _state(self, vibration: bool) -> Publish:
        body = {"battery": self.battery, "linkquality": self.linkquality, "voltage": 3005, "vibration": vibration,
                "strength": self.rng.randint(5, 40) if vibration else 0, "angle_x": self.rng.randint(-3, 3),
                "angle_y": self.rng.randint(-3, 3), "angle_z": 88 + self.rng.randint(-2, 2)}  # fmt: skip
        return Publish(f"zigbee2mqtt/{self.spec.name}", _json(body))


class Z2mButton(Behaviour):
    """`zigbee2mqtt/<name>`: `action: single` (now and then `hold`) then `action: ""`, after its sensor's session."""

    def __init__(self, spec: NativeSimDevice, rng: random.Random, now: float, follows: Z2mVibration) -> None:
        super().__init__(spec, rng, now)
        self.follows, self.seen = follows, follows.sessions_ended
        self.press_at: float | None = None

    def start(self, now: float, wall: float) -> list[Publish]:
        return [self._state(None)]

    def step(self, now: float, wall: float) -> list[Publish]:
        if self.follows.sessions_ended > self.seen:
            self.seen = self.follows.sessions_ended
            self.press_at = self.follows.last_end + self.rng.uniform(*PRESS_AFTER_S)
        if self.press_at is None or now < self.press_at:
            return []
        self.press_at = None
        return [self._state("hold" if self.rng.random() < HOLD_CHANCE else "single"), self._state("")]

    def _state(self, action: str | None) -> Publish:
        body = {"battery": 100, "linkquality": 90, **({} if action is None else {"action": action})}
        return Publish(f"zigbee2mqtt/{self.spec.name}", _json(body))


class EsphomeMotion(Behaviour):
    """`<node>/binary_sensor/<object_id>/state`: `ON` while someone moves, `OFF` after (retained, as ESPHome does)."""

    def __init__(self, spec: NativeSimDevice, rng: random.Random, now: float) -> None:
        super().__init__(spec, rng, now)
        self.cycle = _Cycle(spec, rng, now)

    def start(self, now: float, wall: float) -> list[Publish]:
        return [self._state(self.cycle.active)]

    def step(self, now: float, wall: float) -> list[Publish]:
        return [self._state(began) for began, _at in self.cycle.advance(now)]

    def _state(self, on: bool) -> Publish:
        return Publish(f"{self.spec.name}/binary_sensor/{self.spec.object_id}/state", "ON" if on else "OFF", True)


KINDS: dict[tuple[str, str], type[Behaviour]] = {("shelly", "plug"): ShellyPlug, ("tasmota", "plug"): TasmotaPlug,
                                                  ("zigbee2mqtt", "vibration"): Z2mVibration,
                                                  ("esphome", "motion"): EsphomeMotion}  # fmt: skip


def behaviours(devices: Sequence[NativeSimDevice], rng: random.Random, now: float) -> dict[str, Behaviour]:
    """Each device's state machine (by name), its own random stream drawn from `rng`; a button follows its sensor."""
    made: dict[str, Behaviour] = {}
    for spec in sorted(devices, key=lambda d: d.kind == "button"):  # sensors first, for the buttons to follow
        own = random.Random(rng.random())
        if spec.name in made:
            raise ValueError(f"two simulated devices are named {spec.name!r}")
        if spec.kind == "button":
            follows = made.get(spec.after)
            if not isinstance(follows, Z2mVibration):
                raise ValueError(f"button {spec.name!r} follows {spec.after!r}, which is no simulated vibration sensor")
            made[spec.name] = Z2mButton(spec, own, now, follows)
        elif (spec.via, spec.kind) in KINDS:
            made[spec.name] = KINDS[spec.via, spec.kind](spec, own, now)
        else:
            raise ValueError(f"no simulated {spec.via} {spec.kind}")
    return made


def state_json(online: bool) -> str:
    """Zigbee2MQTT 2.x availability: `{"state":"online"}` or `{"state":"offline"}`."""
    return _json({"state": "online" if online else "offline"})


def _json(body: object) -> str:
    return json.dumps(body, separators=(",", ":"))
