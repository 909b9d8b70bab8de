"""Equipment registrations on MQTT: `<prefix>/<site>/registry/<equipment_id>`, retained, QoS 1, JSON (v1).

The site's registry publisher (`clinic chain publish`) sends one message per station through the site's own
broker as `svc.registry`; the bridge carries it (retain flag kept) to the center, where it stays retained, so
the center's registry sync receives every station even when it starts after the site registered them. The same
round forwards the site's staff actions (telemetry/staff_forward.py).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Engine

from shared.chain.registrations import Registration, site_registrations
from shared.store.db import read_session
from shared.store.settings import ID_PATTERN, Settings
from telemetry.broker import ensure_broker_files
from telemetry.broker_acl import REGISTRY_USER
from telemetry.broker_files import BrokerFiles
from telemetry.broker_tls import use_tls
from telemetry.staff_forward import forward_staff_events, last_forwarded, pending_staff_events

log = logging.getLogger(__name__)

PUBACK_TIMEOUT_S = 30.0


class RegistrationError(ValueError):
    """A registration message outside the contract; the message says what is wrong."""


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    v: int = 1
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="other", max_length=64)
    zone: str = Field(default="", max_length=100)
    clean_after_use: bool = True
    maintenance_interval_hours: float | None = Field(default=None, gt=0)


def registry_topic(prefix: str, site: str, equipment_id: str) -> str:
    """Where a station's registration is published (retained)."""
    return f"{prefix}/{site}/registry/{equipment_id}"


def registry_subscription(prefix: str) -> str:
    """What the center's registry sync subscribes to: every site's registrations."""
    return f"{prefix}/+/registry/+"


def encode(registration: Registration) -> bytes:
    """A registration's payload (site and id are in the topic)."""
    body = {"v": 1, "name": registration.name, "kind": registration.kind, "zone": registration.zone,
            "clean_after_use": registration.clean_after_use,
            "maintenance_interval_hours": registration.maintenance_interval_hours}  # fmt: skip
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def decode(topic: str, payload: bytes, *, prefix: str) -> Registration:
    """Parse a registration message, or raise `RegistrationError` naming the bad part."""
    parts = topic.removeprefix(prefix + "/").split("/")
    if not topic.startswith(prefix + "/") or len(parts) != 3 or parts[1] != "registry":
        raise RegistrationError(f"topic {topic!r} does not match {prefix}/<site>/registry/<equipment_id>")
    site, _, equipment_id = parts
    for label, value in (("site", site), ("equipment id", equipment_id)):
        if not ID_PATTERN.match(value):
            raise RegistrationError(f"{label} {value!r} in topic must match {ID_PATTERN.pattern}")
    try:
        body = _Payload.model_validate_json(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "payload"
        raise RegistrationError(f"registration {where}: {first['msg']}") from None
    if body.v != 1:
        raise RegistrationError(f"registration version {body.v} is not supported (1 is)")
    return Registration(site, equipment_id, body.name, body.kind, body.zone, body.clean_after_use,
                        body.maintenance_interval_hours)  # fmt: skip


def registry_credentials(settings: Settings) -> tuple[str, str]:
    """The `svc.registry` account of this machine's broker (made by `clinic init`)."""
    if not BrokerFiles(settings.broker_dir).accounts.exists():
        raise FileNotFoundError(f"no broker accounts in {settings.broker_dir} (run `clinic init` first)")
    return REGISTRY_USER, ensure_broker_files(settings)[REGISTRY_USER]


def registry_client(settings: Settings, *, manual_ack: bool = False) -> mqtt.Client:
    """A paho client as svc.registry on this machine's broker (TLS when CLINIC_MQTT_TLS_CA is set)."""
    user, password = registry_credentials(settings)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=user, protocol=mqtt.MQTTv5, manual_ack=manual_ack)
    client.username_pw_set(user, password)
    if settings.mqtt_tls_ca:
        use_tls(client, settings.mqtt_tls_ca)
    return client


class RegistryPublisher:
    """Publishes the site's stations (retained) once, or again whenever one changes (`watch`)."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self._sent: dict[str, bytes] = {}  # equipment id -> payload the broker acknowledged
        self._forwarded = last_forwarded(settings)  # staff events up to this row are at the broker already
        self._stop = threading.Event()

    def stop(self) -> None:
        """End `watch` (safe from a signal handler)."""
        self._stop.set()

    def publish_changed(self) -> int:
        """Publish every station whose details differ from what was last acknowledged, and the staff actions
        not yet forwarded (telemetry/staff_forward.py); returns how many messages."""
        s = self.settings
        with read_session(self.engine) as session:
            todo = {r.equipment_id: encode(r) for r in site_registrations(session=session, site=s.site)}
        todo = {eid: body for eid, body in todo.items() if self._sent.get(eid) != body}
        if not todo and not pending_staff_events(self.engine, site=s.site, after=self._forwarded):
            return 0
        client = registry_client(s)
        client.connect(s.mqtt_host, s.mqtt_port, keepalive=s.mqtt_keepalive_s)
        client.loop_start()
        try:
            infos = {eid: client.publish(registry_topic(s.topic_prefix, s.site, eid), body, qos=1, retain=True)
                     for eid, body in todo.items()}  # fmt: skip
            for eid, info in infos.items():
                info.wait_for_publish(timeout=PUBACK_TIMEOUT_S)
                if not info.is_published():
                    raise TimeoutError(f"the broker at {s.mqtt_host}:{s.mqtt_port} did not acknowledge {eid!r}")
                self._sent[eid] = todo[eid]
            forwarded = forward_staff_events(s, self.engine, client)
        finally:
            client.disconnect()
            client.loop_stop()
        self._forwarded = last_forwarded(s)
        if todo:
            log.info("published %d registration(s) of site %s", len(todo), s.site)
        return len(todo) + forwarded

    def watch(self, every_s: float, *, on_error: Callable[[Exception], None] | None = None) -> None:
        """Publish what changed every `every_s` seconds until `stop()`; a failure is logged and retried."""
        while not self._stop.is_set():
            try:
                self.publish_changed()
            except (OSError, TimeoutError) as exc:
                log.warning("cannot publish registrations (%s); retrying in %.0fs", exc, every_s)
                if on_error is not None:
                    on_error(exc)
            self._stop.wait(every_s)


def wait_published(publisher: RegistryPublisher, *, timeout: float = 30.0) -> int:
    """Publish once, retrying while the broker is not up yet (for scripts starting everything together)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return publisher.publish_changed()
        except (OSError, TimeoutError):
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)
