"""What a round publishes: Shelly plugs whose power follows uses, or stations speaking the device contract, paced
evenly over each second and sent by a few of the simulator's pool accounts (which may publish every native and
contract topic)."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt

from bench.common import PREFIX, SITE, Broker, Message, wait_until
from bench.common.sessions import connect_blocking, disconnect, v5_client
from shared.equipment.topics import equipment_topic
from telemetry.broker import pool_password
from telemetry.broker_acl import simulator_user

REST_S = 180  # idle seconds after a use before the next may begin: more than a treadmill's off-hold (120 s)
START_CHANCE = 1 / 480  # per idle second once rested: a new use every 8 minutes or so
USE_S = (180.0, 900.0)  # a use lasts 3-15 minutes
USE_WATTS = (150.0, 300.0)  # a treadmill's motor under a patient; each second within ±10% of the use's level
IDLE_WATTS = (2.4, 3.6)  # console and standby
IN_USE_AT_START = 0.3
VOLTS = 120.1


@dataclass
class Use:
    """One use as the generator made it: wall-clock times of the first report above idle and back at idle."""

    station: str
    rose_at: float
    fell_at: float | None = None


class Plug:
    """A Shelly Plus Plug S in front of a treadmill; each `message()` is one second of its life."""

    def __init__(self, station: str, name: str, rng: random.Random) -> None:
        self.station, self.name, self.rng = station, name, rng
        self.topic = f"{name}/status/switch:0"
        self.running = rng.random() < IN_USE_AT_START
        self.left = rng.uniform(60, 600) if self.running else rng.uniform(0, REST_S)  # seconds left in this phase
        self.level = rng.uniform(*USE_WATTS)
        self.uses: list[Use] = []
        self.total_wh = round(rng.uniform(100, 20_000), 3)
        self.minute: int | None = None
        self.minute_mwh = 0.0
        self.by_minute = [0.0, 0.0, 0.0]

    def message(self, now: float) -> Message:
        watts = self._step(now)
        minute = int(now // 60)
        if minute != self.minute:
            if self.minute is not None:
                self.by_minute = [round(self.minute_mwh, 3), *self.by_minute[:2]]
            self.minute, self.minute_mwh = minute, 0.0
        self.minute_mwh += watts / 3.6
        self.total_wh += watts / 3600
        volts = round(VOLTS + self.rng.uniform(-0.3, 0.3), 1)
        celsius = round(31 + watts / 25 + self.rng.uniform(-0.3, 0.3), 1)
        status = {
            "id": 0,
            "source": "timer",
            "output": True,
            "apower": round(watts, 1),
            "voltage": volts,
            "current": round(watts / volts, 3),
            "aenergy": {"total": round(self.total_wh, 3), "by_minute": self.by_minute, "minute_ts": minute * 60},
            "temperature": {"tC": celsius, "tF": round(celsius * 9 / 5 + 32, 1)},
        }
        return self.topic, json.dumps(status, separators=(",", ":")).encode()

    def _step(self, now: float) -> float:
        if self.running and self.left <= 0:
            self.running, self.left = False, REST_S
            self.uses[-1].fell_at = now
        elif not self.running and self.left <= 0 and self.rng.random() < START_CHANCE:
            self.running, self.left, self.level = True, self.rng.uniform(*USE_S), self.rng.uniform(*USE_WATTS)
        if self.running and (not self.uses or self.uses[-1].fell_at is not None):
            self.uses.append(Use(self.station, now))
        self.left -= 1
        return self.level * self.rng.uniform(0.9, 1.1) if self.running else self.rng.uniform(*IDLE_WATTS)


class ContractStation:
    """A station publishing its own usage events: start and stop in turn, a UUID event id each."""

    def __init__(self, station: str, rng: random.Random) -> None:
        self.topic = equipment_topic(PREFIX, SITE, station, "usage")
        self.rng = rng
        self.sent = 0
        self.session = ""
        self.began = 0.0

    def message(self, now: float) -> Message:
        body: dict[str, Any] = {"v": 1, "event_id": str(uuid.uuid4())}
        if self.sent % 2 == 0:
            self.session, self.began = f"s-{uuid.uuid4().hex[:16]}", now
            body.update(event="start", ts=_rfc3339(now), session_id=self.session)
        else:
            active = round(now - self.began, 3)
            body.update(event="stop", ts=_rfc3339(now), session_id=self.session, duration_s=active)
            body["metrics"] = {"avg_heart_rate": self.rng.randint(70, 150), "distance_m": round(active * 1.4, 1),
                               "active_s": active}  # fmt: skip
        self.sent += 1
        return self.topic, json.dumps(body, separators=(",", ":")).encode()


def _rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Sent:
    """What a paced round published."""

    published: int = 0
    seconds: float = 0.0  # from the first publish to one interval after the last
    late_max_ms: float = 0.0  # the worst lag of a publish behind its schedule
    refused: int = 0  # PUBACKs with a failure reason (the ACL)
    payload_bytes: int = 0


class PoolPublishers:
    """A few of the simulator's pool accounts (`svc.simulator-<n>`, client id = username), connected once."""

    def __init__(self, broker: Broker, count: int) -> None:
        self._cond = threading.Condition()
        self.acked = self.refused = 0
        self.clients: list[mqtt.Client] = []
        for n in range(count):
            user = simulator_user(n)
            client = v5_client(user, user, pool_password(broker.simulator_password, user))
            client.max_inflight_messages_set(1000)
            client.max_queued_messages_set(0)
            client.on_publish = self._on_publish
            connect_blocking(client, broker.port, clean_start=True, expiry=0)
            self.clients.append(client)

    def _on_publish(self, _c: mqtt.Client, _u: Any, _mid: int, reason: Any, _p: Any) -> None:
        with self._cond:
            self.acked += 1
            self.refused += bool(reason.is_failure)

    def pace(self, senders: Sequence[Callable[[float], Message]], seconds: int) -> Sent:
        """Each sender once a second for `seconds`, sender i at i/len(senders) into each second, at QoS 1;
        sender i always through the same client (its messages stay in order). Waits for every PUBACK."""
        out, count, width = Sent(), len(senders), len(self.clients)
        with self._cond:
            acked_before, refused_before = self.acked, self.refused
        start = time.monotonic() + 0.05
        for second in range(seconds):
            for i, make in enumerate(senders):
                delay = start + second + i / count - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                else:
                    out.late_max_ms = max(out.late_max_ms, -delay * 1000)
                topic, payload = make(time.time())
                info = self.clients[i % width].publish(topic, payload, qos=1)
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    raise RuntimeError(f"publish failed on {topic}: {info.rc}")
                out.published += 1
                out.payload_bytes += len(payload)
        out.seconds = time.monotonic() - start + 1 / count
        target = acked_before + out.published
        wait_until(lambda: self.acked >= target, timeout=60, what="every PUBACK of the round")
        with self._cond:
            out.refused = self.refused - refused_before
        return out

    def close(self) -> None:
        for client in self.clients:
            disconnect(client)
