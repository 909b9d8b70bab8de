"""At a site: staff actions (mark cleaned, out of service, start/stop from the board) published for the center.

The board records a staff action straight into the site's store as an event (`source` "staff"), so it never
crosses the site's broker and its bridge. The forwarder publishes each such event, with its own event id, on
the station's device topic; the bridge carries it to the center like a device's. The site's own listener gets
it too, and its event key makes that nothing. A watermark (the highest event row forwarded and acknowledged by
the broker) in the data folder keeps a restart from sending everything again; sending one twice is harmless.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from sqlalchemy import Engine, select

from shared.equipment.ingest_rows import EVENTS
from shared.equipment.topics import equipment_topic
from shared.store.db import read_session
from shared.store.settings import Settings

log = logging.getLogger(__name__)

CHUNK = 500  # events read and published per round
PUBACK_TIMEOUT_S = 30.0
_FIELDS = {  # per channel, the payload fields a staff event carries (shared/equipment/payloads.py)
    "usage": ("session_id", "duration_s"),
    "cleaning": ("by", "method"),
    "fault": ("code", "severity", "message"),
}


def watermark_file(settings: Settings) -> Path:
    """Where the forwarder remembers the last staff event the broker acknowledged."""
    return settings.data_dir / "chain-staff-forwarded.json"


def staff_payload(row: Any) -> bytes:
    """A staff event row as the device contract's payload of its channel (docs/devices.md)."""
    body: dict[str, Any] = {"v": 1, "event_id": row.event_id, "event": row.event,
                            "ts": row.event_at.isoformat().replace("+00:00", "Z")}  # fmt: skip
    for name in _FIELDS.get(row.channel, ()):
        value = getattr(row, name)
        if value is not None:
            body[name] = value
    return json.dumps(body, separators=(",", ":")).encode()


def pending_staff_events(engine: Engine, *, site: str, after: int) -> Sequence[Any]:
    """The site's staff events stored after row `after`, oldest first (at most CHUNK). Takes the engine, not a
    session: each chunk is read in a short read session of its own, so no transaction stays open while the
    broker is waited for."""
    query = (
        select(EVENTS.c.id, EVENTS.c.site, EVENTS.c.equipment_id, EVENTS.c.event_id, EVENTS.c.channel,
               EVENTS.c.event, EVENTS.c.event_at, EVENTS.c.session_id, EVENTS.c.duration_s, EVENTS.c.by,
               EVENTS.c.method, EVENTS.c.code, EVENTS.c.severity, EVENTS.c.message)
        .where(EVENTS.c.site == site, EVENTS.c.source == "staff", EVENTS.c.id > after,
               EVENTS.c.channel.in_(tuple(_FIELDS)))
        .order_by(EVENTS.c.id)
        .limit(CHUNK)
    )  # fmt: skip
    with read_session(engine) as session:
        return session.execute(query).all()


def last_forwarded(settings: Settings) -> int:
    """The highest event row whose staff action the broker acknowledged (0 before the first)."""
    path = watermark_file(settings)
    return int(json.loads(path.read_text())["last_id"]) if path.exists() else 0


def forward_staff_events(settings: Settings, engine: Engine, client: mqtt.Client) -> int:
    """Publish every staff event not yet forwarded through a connected client; returns how many."""
    path = watermark_file(settings)
    after = last_forwarded(settings)
    sent = 0
    while rows := pending_staff_events(engine, site=settings.site, after=after):
        infos = [
            client.publish(equipment_topic(settings.topic_prefix, r.site, r.equipment_id, r.channel),
                           staff_payload(r), qos=1)
            for r in rows
        ]  # fmt: skip
        for info in infos:
            info.wait_for_publish(timeout=PUBACK_TIMEOUT_S)
            if not info.is_published():
                raise TimeoutError("the broker did not acknowledge a staff event")
        after = rows[-1].id
        path.write_text(json.dumps({"last_id": after}) + "\n")
        sent += len(rows)
    if sent:
        log.info("forwarded %d staff action(s) of site %s", sent, settings.site)
    return sent
