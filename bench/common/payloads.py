"""The devices' messages as the benchmarks publish them: usage backlogs and timed usage events.

One definition of the site, the topic prefix and the payload shape (shared/equipment/payloads.py, v1), so every
benchmark feeds the listener the same messages.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.equipment.topics import equipment_topic

SITE = "main"
PREFIX = "clinic"

Message = tuple[str, bytes]


def _rfc3339(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


ID_STYLES = ("uuid", "sequential")


def event_id(ids: str, tag: str, device: str, n: int) -> str:
    """An event id as devices choose them: a random UUID (many firmwares), or `tag-device-n` (a counter)."""
    return str(uuid.uuid4()) if ids == "uuid" else f"{tag}-{device}-{n}"


def backlog_minutes(devices: Sequence[str], count: int) -> int:
    """The device time `usage_backlog` spans: each device's messages are a minute apart."""
    return -(-count // len(devices))


def usage_backlog(
    devices: Sequence[str], count: int, tag: str, *, ids: str = "sequential", site: str = SITE,
    first_at: datetime | None = None,
) -> list[Message]:  # fmt: skip
    """`count` usage messages, round robin over `devices`: each device alternates start and stop.

    Payloads follow shared/equipment/payloads.py (v1, RFC 3339 `ts`, a session id, a stop's duration and metrics);
    event ids are unique per run: random UUIDs with `ids="uuid"`, else `tag-device-n`. Device times are a minute
    apart from `first_at`, by default ending 5 minutes before now. `site` names the topics' site (a consumer that
    must not see the listener's traffic gets its own).
    """
    per_device = backlog_minutes(devices, count)
    base = first_at or datetime.now(UTC) - timedelta(minutes=per_device + 5)
    out: list[Message] = []
    for i in range(count):
        n, which = divmod(i, len(devices))
        device = devices[which]
        body: dict[str, Any] = {
            "v": 1,
            "event_id": event_id(ids, tag, device, n),
            "event": "start" if n % 2 == 0 else "stop",
            "ts": _rfc3339(base + timedelta(minutes=n)),
            "session_id": f"s-{tag}-{device}-{n // 2}",
        }
        if n % 2:
            body["duration_s"] = 55.0
            body["metrics"] = {"avg_heart_rate": 80 + (i % 50), "active_s": 49.5}
        out.append((equipment_topic(PREFIX, site, device, "usage"), json.dumps(body).encode()))
    return out


def timed_usage(device: str, n: int, tag: str) -> Message:
    """One usage message whose metrics carry the wall-clock send time (`sent_at`, epoch seconds)."""
    body: dict[str, Any] = {
        "v": 1,
        "event_id": f"{tag}-{device}-{n}",
        "event": "start" if n % 2 == 0 else "stop",
        "ts": _rfc3339(datetime.now(UTC)),
        "session_id": f"s-{tag}-{device}-{n // 2}",
        "metrics": {"sent_at": time.time()},
    }
    if n % 2:
        body["duration_s"] = 1.0
    return equipment_topic(PREFIX, SITE, device, "usage"), json.dumps(body).encode()
