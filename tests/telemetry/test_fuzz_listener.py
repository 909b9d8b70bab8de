"""Property: whatever devices send through the real broker, every valid message becomes one event, every
invalid one a dead letter with a reason, and the listener stays up.

Messages are valid or invalid by construction (the strategies below), so the test does not ask the decoder
under test what it thinks.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from shared.equipment.dead_letters import list_dead_letters
from shared.equipment.ingest import KEPT_PAYLOAD_BYTES, fingerprint
from shared.equipment.models import EquipmentEvent
from shared.equipment.stations import register_equipment
from shared.store.db import read_session, unit_of_work
from tests.conftest import Broker
from tests.helpers import wait_until
from tests.mqtt_helpers import Client, connect, listener_settings, running_listener

pytestmark = pytest.mark.integration
DEVICES = ("tm-1", "bike-2", "bars_3")
TRIED: dict[str, int] = {}
Message = tuple[str, bytes, bool]  # topic, payload, valid by construction

ID_CHARS = st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-_")
times = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
)
short_text = st.text(max_size=40).filter(lambda t: "\x00" not in t and all(not 0xD800 <= ord(c) <= 0xDFFF for c in t))


def unique_id() -> str:
    return uuid.uuid4().hex[:20]


@st.composite
def valid_message(draw: st.DrawFn) -> Message:
    device = draw(st.sampled_from(DEVICES))
    channel = draw(st.sampled_from(["usage", "cleaning", "fault"]))
    body: dict[str, Any] = {"event_id": unique_id()}
    if draw(st.booleans()):
        body["v"] = 1
    if draw(st.booleans()):
        body["ts"] = draw(times)
    if channel == "usage":
        body["event"] = draw(st.sampled_from(["start", "stop"]))
        if draw(st.booleans()):
            body["duration_s"] = draw(st.floats(min_value=0, max_value=86400, allow_nan=False))
        if draw(st.booleans()):
            body["metrics"] = draw(st.dictionaries(short_text, st.integers() | short_text, max_size=4))
    elif channel == "cleaning":
        body["event"] = "cleaned"
        body["by"] = draw(short_text)
    else:
        body["event"] = draw(st.sampled_from(["fault", "cleared"]))
        body["severity"] = draw(st.sampled_from(["info", "warning", "critical"]))
        body["code"] = draw(st.text(alphabet=ID_CHARS, min_size=1, max_size=10))
        body["message"] = draw(short_text)
    return f"clinic/main/equipment/{device}/{channel}", json.dumps(body).encode(), True


def _level_that_is_not_an_id(text: str) -> bool:
    import re

    return re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", text) is None and not set(text) & set("+#/\x00")


@st.composite
def invalid_message(draw: st.DrawFn) -> Message:
    kind = draw(st.sampled_from(["bytes", "deep", "types", "huge", "version", "bad_id", "status"]))
    device = draw(st.sampled_from(DEVICES))
    topic = f"clinic/main/equipment/{device}/usage"
    if kind == "bytes":
        payload = draw(st.binary(max_size=300)).replace(b"{", b"(")  # never a JSON object
    elif kind == "deep":
        depth = draw(st.integers(min_value=2000, max_value=30000))
        payload = (b"[" * depth) + (b"]" * depth)
    elif kind == "types":
        wrong = draw(st.sampled_from([{"event_id": 5, "event": "start"}, {"event_id": "x", "event": "walk"},
                                      {"event_id": "x", "event": "stop", "duration_s": "long"},
                                      {"event_id": "x", "event": "start", "ts": 12345},
                                      {"event_id": "", "event": "start"}, {"event": "start"}]))  # fmt: skip
        payload = json.dumps(wrong).encode()
    elif kind == "huge":
        payload = json.dumps({"event_id": "x" * draw(st.integers(65, 5000)), "event": "start"}).encode()
    elif kind == "version":
        payload = json.dumps(
            {"v": draw(st.integers().filter(lambda v: v != 1)), "event_id": "a", "event": "start"}
        ).encode()
    elif kind == "bad_id":
        # Printable characters only: Mosquitto itself disconnects a client whose topic has control characters.
        printable = st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="+#/")
        level = draw(st.text(alphabet=printable, min_size=1, max_size=20).filter(_level_that_is_not_an_id))
        topic = f"clinic/main/equipment/{level}/usage"
        payload = json.dumps({"event_id": unique_id(), "event": "start"}).encode()
    else:
        topic = f"clinic/main/equipment/{device}/status"
        payload = draw(st.text(max_size=20).filter(lambda t: t.strip().lower() not in ("online", "offline"))).encode()
    return topic, payload, False


def stored_keys(engine: Engine) -> set[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(EquipmentEvent.equipment_id, EquipmentEvent.event_id))  # type: ignore[call-overload]
        return {(r[0], r[1]) for r in rows}


def publish(client: Client, messages: list[Message]) -> None:
    infos = [client.client.publish(topic, payload, qos=1) for topic, payload, _ in messages]
    for info in infos:
        info.wait_for_publish(timeout=30)


def test_every_message_is_stored_or_kept_with_a_reason(broker: Broker, engine: Engine, db_url: str) -> None:
    for device in DEVICES:
        with unit_of_work(engine) as session:
            register_equipment(session=session, site="main", equipment_id=device)
    TRIED.update(valid=0, invalid=0)
    device = connect(broker.port, "svc.simulator", broker.simulator_password)
    # Every bad message must be kept here, so the per-device quota (tested on its own) is lifted.
    unbounded = listener_settings(broker, db_url, dead_letters_per_device_hour=1_000_000)
    with running_listener(unbounded, engine) as listener:

        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        @given(st.lists(st.one_of(valid_message(), invalid_message()), min_size=10, max_size=60))
        def check(messages: list[Message]) -> None:
            marker = (f"clinic/main/equipment/{DEVICES[0]}/cleaning",
                      json.dumps({"event_id": unique_id(), "event": "cleaned"}).encode(), True)  # fmt: skip
            publish(device, [*messages, marker])
            marker_key = (DEVICES[0], json.loads(marker[1])["event_id"])
            wait_until(lambda: marker_key in stored_keys(engine), timeout=60, what="the marker after the batch")
            stored = stored_keys(engine)
            with read_session(engine) as session:
                kept = {d.id: d for d in list_dead_letters(session=session)}
            kept_prints = {(d.topic, d.raw): d.reason for d in kept.values()}
            for topic, payload, valid in messages:
                TRIED["valid" if valid else "invalid"] += 1
                if valid:
                    assert (topic.split("/")[3], json.loads(payload)["event_id"]) in stored, (topic, payload)
                else:
                    reason = kept_prints.get((topic, payload[:KEPT_PAYLOAD_BYTES]))
                    assert reason, f"not kept: {topic!r} {payload[:80]!r}"
                    assert fingerprint(topic, payload)
            assert listener.subscribed.is_set()

        check()
    device.close()
    print(f"fuzzed messages through the broker: {TRIED['valid']} valid, {TRIED['invalid']} invalid")
    assert TRIED["valid"] >= 50 and TRIED["invalid"] >= 50
