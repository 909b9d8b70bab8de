"""At the center: make every site's registered equipment known, from the retained registrations the bridges carry.

One process (`clinic chain sync`, account svc.registry, a persistent session) upserts each station and then
replays the dead letters kept for it: a station's first events can reach a central listener before its
registration is applied (they travel separately, and several listeners share the load); they were kept, not
lost, and are recorded now, once. A periodic sweep catches the few kept while a registration was committing.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy import Engine, select

from shared.chain.registrations import apply_registration
from shared.equipment.board import unknown_devices
from shared.equipment.ingest import record_batch
from shared.equipment.ingest_rows import EQUIPMENT
from shared.equipment.payloads import CodedReject
from shared.equipment.replay import replay_dead_letters
from shared.store.db import read_session, unit_of_work
from shared.store.errors import ClinicError
from shared.store.settings import Settings
from shared.store.types import utcnow
from telemetry.registry import RegistrationError, decode, registry_client, registry_subscription

log = logging.getLogger(__name__)

SWEEP_S = 15.0  # how often kept messages of stations registered meanwhile are replayed
RETRY_S = 2.0  # after a database failure, the held registrations are tried again after this


@dataclass(slots=True)
class SyncStats:
    """Running totals, for logs and tests."""

    applied: int = 0
    refused: int = 0
    replayed: int = 0


class RegistrySync:
    """Applies registrations until `stop()`; `run()` blocks."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.stats = SyncStats()
        self.subscribed = threading.Event()
        self._pending: list[mqtt.MQTTMessage] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        # Acknowledged only once the station is committed: a crash before that gets the registration again.
        self._client = registry_client(settings, manual_ack=True)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message

    def stop(self) -> None:
        """Ask `run()` to return (safe from a signal handler)."""
        self._stop.set()

    def run(self) -> None:
        """Connect (retrying), apply what arrives, sweep kept messages now and then."""
        s = self.settings
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = s.mqtt_session_expiry_s
        self._client.reconnect_delay_set(1, 30)
        self._client.connect_async(s.mqtt_host, s.mqtt_port, keepalive=s.mqtt_keepalive_s, clean_start=False,
                                   properties=props)  # fmt: skip
        self._client.loop_start()
        next_sweep = time.monotonic() + SWEEP_S
        try:
            while not self._stop.is_set():
                held = self._apply_pending()
                if time.monotonic() >= next_sweep:
                    self.sweep()
                    next_sweep = time.monotonic() + SWEEP_S
                self._stop.wait(RETRY_S if held else 0.1)
        finally:
            self._client.disconnect()
            self._client.loop_stop()
            log.info("registry sync stopped: %s", self.stats)

    def sweep(self) -> int:
        """Replay kept messages of stations that are registered by now; returns how many were recorded."""
        try:
            with read_session(self.engine) as session:
                waiting = {(d.site, d.equipment_id) for d in unknown_devices(session=session)}
            recorded = sum(
                replay_dead_letters(engine=self.engine, settings=self.settings, site=site, equipment_id=eid).recorded
                for site, eid in sorted(waiting & self._registered(waiting))
            )
        except Exception:
            log.exception("sweeping kept messages failed; trying again later")
            return 0
        self.stats.replayed += recorded
        return recorded

    def _registered(self, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
        with read_session(self.engine) as session:
            query = select(EQUIPMENT.c.site, EQUIPMENT.c.id).where(EQUIPMENT.c.site.in_({s for s, _ in keys}))
            return {(site, eid) for site, eid in session.execute(query)}

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        if reason.is_failure:
            log.warning("the broker refused the registry sync: %s", reason)
            return
        client.subscribe(registry_subscription(self.settings.topic_prefix), qos=1)
        self.subscribed.set()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:  # nothing else here: the database work happens in run(), never in paho's thread
            self._pending.append(msg)

    def _apply_pending(self) -> bool:
        """Apply held messages in order; True when the database failed and some are held for a retry."""
        with self._lock:
            batch, self._pending = self._pending, []
        for index, msg in enumerate(batch):
            try:
                self._apply(msg)
            except Exception:
                log.exception("could not apply a registration on %s; holding it", msg.topic)
                with self._lock:
                    self._pending = batch[index:] + self._pending
                return True
            if msg.qos:
                self._client.ack(msg.mid, msg.qos)
        return False

    def _apply(self, msg: mqtt.MQTTMessage) -> None:
        payload = bytes(msg.payload)
        if not payload:  # a cleared retained message: the center keeps the station and its history
            log.info("registration on %s was cleared; the station is kept", msg.topic)
            return
        try:
            registration = decode(msg.topic, payload, prefix=self.settings.topic_prefix)
            with unit_of_work(self.engine) as session:
                apply_registration(session=session, registration=registration)
        except (RegistrationError, ClinicError) as exc:  # unknown site, bad details
            self.stats.refused += 1
            log.warning("registration on %s kept as a dead letter: %s", msg.topic, exc)
            rejected = CodedReject(msg.topic, payload, str(exc), utcnow(), code="registration")
            record_batch(engine=self.engine, items=[rejected], tz=self.settings.tz)
            return
        self.stats.applied += 1
        outcome = replay_dead_letters(engine=self.engine, settings=self.settings, site=registration.site,
                                      equipment_id=registration.equipment_id)  # fmt: skip
        self.stats.replayed += outcome.recorded
        log.info("station %s/%s registered (%d kept message(s) recorded)", registration.site,
                 registration.equipment_id, outcome.recorded)  # fmt: skip
