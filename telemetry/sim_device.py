"""What one simulated station does: a small state machine that says what it publishes next (no I/O)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.equipment.events import Channel

FAULT_CHANCE = 1 / 50  # a fault on about one step in fifty
CRITICAL_SHARE = 0.25  # of faults raised while idle; a critical one stops use until it is cleared
REPAIR_TURNS = (3, 8)  # how many of its turns a station waits before its fault is cleared
TECHNICIANS = ("tech-ana", "tech-ben", "tech-chen", "tech-dana", "tech-eli")
CLEANING_METHODS = ("wipe", "wipe", "disinfectant-spray", "uv")
FAULTS = (
    ("E-BELT-TEMP", "belt temperature high"),
    ("E-MOTOR", "drive motor current out of range"),
    ("E-SENSOR", "heart-rate sensor not responding"),
    ("E-POWER", "supply voltage dipped"),
    ("E-BRAKE", "resistance brake calibration drift"),
)

Message = tuple[Channel, dict[str, Any]]


def rfc3339_now() -> str:
    """Now in UTC as RFC 3339 with milliseconds and a `Z`."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_event(event: str, **fields: Any) -> dict[str, Any]:
    """A v1 payload with a fresh event id and the current time; fields given as None are left out."""
    body: dict[str, Any] = {"v": 1, "event_id": uuid.uuid4().hex, "event": event, "ts": rfc3339_now()}
    body.update({key: value for key, value in fields.items() if value is not None})
    return body


@dataclass(slots=True)
class SimulatedDevice:
    """One station: idle -> in use -> (needs cleaning -> cleaned) -> idle, with an occasional fault."""

    equipment_id: str
    rng: random.Random
    clean_after_use: bool = True
    state: str = "idle"  # idle | in_use | dirty | broken
    session_id: str | None = None
    started_at: float = 0.0
    fault_code: str | None = None
    repair_turns: int = 0

    def next_message(self, now: float) -> Message | None:
        """The station's next message (`now` is monotonic seconds), or None while it waits for repair."""
        if self.fault_code is not None:
            self.repair_turns -= 1
            if self.repair_turns <= 0:
                return self._cleared()
            if self.state == "broken":
                return None
        elif self.rng.random() < FAULT_CHANCE:
            return self._fault()
        if self.state == "in_use":
            return self._stop(now)
        if self.state == "dirty":
            return self._cleaned()
        return self._start(now)

    def _start(self, now: float) -> Message:
        self.state, self.session_id, self.started_at = "in_use", f"s-{uuid.uuid4().hex[:12]}", now
        return "usage", new_event("start", session_id=self.session_id)

    def _stop(self, now: float) -> Message:
        duration = round(max(0.0, now - self.started_at), 3)
        metrics = {"avg_heart_rate": self.rng.randint(80, 135), "active_s": round(duration * 0.9, 1)}
        body = new_event("stop", session_id=self.session_id, duration_s=duration, metrics=metrics)
        self.state, self.session_id = ("dirty" if self.clean_after_use else "idle"), None
        return "usage", body

    def _cleaned(self) -> Message:
        self.state = "idle"
        by, method = self.rng.choice(TECHNICIANS), self.rng.choice(CLEANING_METHODS)
        return "cleaning", new_event("cleaned", by=by, method=method)

    def _fault(self) -> Message:
        code, text = self.rng.choice(FAULTS)
        # A station in use (or waiting to be cleaned) only warns; a critical fault comes when it is idle.
        critical = self.state == "idle" and self.rng.random() < CRITICAL_SHARE
        self.fault_code, self.repair_turns = code, self.rng.randint(*REPAIR_TURNS)
        if critical:
            self.state = "broken"
        severity = "critical" if critical else "warning"
        return "fault", new_event("fault", code=code, severity=severity, message=text)

    def _cleared(self) -> Message:
        body = new_event("cleared", code=self.fault_code, message="cleared by service")
        self.fault_code = None
        if self.state == "broken":
            self.state = "idle"
        return "fault", body
