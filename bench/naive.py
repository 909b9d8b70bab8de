"""The naive peer: the quick listener a junior would write (one SQLModel session and commit per message).

Deliberately minimal: no batching, no validation beyond `json.loads`, paho acknowledges after `on_message`
returns. By default it uses the project's engine factory (SQLite in WAL with synchronous=NORMAL), so the
comparison is about the ingest design, not the SQLite pragmas; `plain=True` uses `sqlmodel.create_engine(url)`
as it comes (SQLite's rollback journal, synchronous=FULL), which is what a first version usually looks like.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlmodel import Session, create_engine

from shared.equipment.models import EquipmentEvent
from shared.store.db import make_engine


class NaiveListener:
    """Subscribe with a persistent session, then insert and commit each message on its own."""

    def __init__(
        self, port: int, username: str, password: str, client_id: str, topic: str, db_url: str, *, plain: bool = False
    ) -> None:
        self.engine = create_engine(db_url) if plain else make_engine(db_url)
        self.committed = 0
        self.port = port
        self.topic = topic
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.thread: threading.Thread | None = None

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, _reason: Any, _p: Any) -> None:
        client.subscribe(self.topic, qos=1)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        _prefix, site, _equipment, equipment_id, channel = msg.topic.split("/")
        body = json.loads(msg.payload)
        now = datetime.now(UTC)
        ts = datetime.fromisoformat(body["ts"]) if body.get("ts") else None
        with Session(self.engine) as session:
            session.add(
                EquipmentEvent(
                    site=site,
                    equipment_id=equipment_id,
                    event_id=body["event_id"],
                    channel=channel,
                    event=body["event"],
                    device_ts=ts,
                    event_at=ts or now,
                    received_at=now,
                    session_id=body.get("session_id"),
                    duration_s=body.get("duration_s"),
                    metrics=json.dumps(body["metrics"]) if body.get("metrics") is not None else None,
                )
            )
            session.commit()
        self.committed += 1

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self.client.connect("127.0.0.1", self.port, keepalive=30, clean_start=False, properties=props)
        self.thread = threading.Thread(target=self.client.loop_forever, name="naive-listener", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.client.disconnect()
        if self.thread is not None:
            self.thread.join(timeout=30)
        self.engine.dispose()
