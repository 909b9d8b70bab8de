"""Parsing at the edge: every bad message becomes a Rejected whose reason names what is wrong."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shared.equipment.events import DeviceEvent, Rejected, StatusReport
from shared.equipment.payloads import decode

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
USAGE = "clinic/main/equipment/tm-1/usage"


def parse(topic: str, payload: bytes | str) -> object:
    raw = payload.encode() if isinstance(payload, str) else payload
    return decode(topic, raw, prefix="clinic", received_at=NOW)


def test_a_full_usage_event_is_parsed() -> None:
    payload = {
        "v": 1,
        "event_id": "e-1",
        "event": "stop",
        "ts": "2026-11-23T09:59:00+01:00",
        "session_id": "s-9",
        "duration_s": 123,
        "metrics": {"speed_kmh": 3.5},
    }
    result = parse(USAGE, json.dumps(payload))
    assert isinstance(result, DeviceEvent)
    assert (result.site, result.equipment_id, result.event, result.duration_s) == ("main", "tm-1", "stop", 123.0)
    assert result.device_ts == datetime(2026, 11, 23, 8, 59, tzinfo=UTC)
    assert result.metrics == {"speed_kmh": 3.5}


def test_ts_is_optional_and_then_receive_time_orders_the_event() -> None:
    result = parse("clinic/main/equipment/tm-1/cleaning", '{"event_id": "c1", "event": "cleaned", "by": "ana"}')
    assert isinstance(result, DeviceEvent)
    assert (result.device_ts, result.event_at, result.by) == (None, NOW, "ana")


@pytest.mark.parametrize(("payload", "online"), [(b"online", True), (b"offline", False), (b" Online\n", True)])
def test_status_is_plain_text(payload: bytes, online: bool) -> None:
    result = parse("clinic/main/equipment/tm-1/status", payload)
    assert isinstance(result, StatusReport)
    assert result.online is online


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (USAGE, "not json", "payload is not JSON"),
        (USAGE, "[1, 2]", "payload must be a JSON object, got list"),
        (USAGE, '{"v": 2, "event_id": "a", "event": "start"}', "unsupported payload version v=2"),
        (USAGE, '{"event_id": "a", "event": "begin"}', "usage payload: event: Input should be 'start' or 'stop'"),
        (USAGE, '{"event": "start"}', "usage payload: event_id: Field required (missing)"),
        (USAGE, '{"event_id": "", "event": "start"}', "usage payload: event_id: String should have at least 1"),
        (USAGE, '{"event_id": "a", "event": "start", "ts": 1700000000}', "ts: Value error, must be an RFC 3339"),
        (USAGE, '{"event_id": "a", "event": "start", "ts": "2026-11-23T10:00:00"}', "ts: Input should have timezone"),
        (USAGE, '{"event_id": "a", "event": "stop", "duration_s": -5}', "duration_s: Input should be greater than"),
        (
            "clinic/main/equipment/tm-1/fault",
            '{"event_id": "a", "event": "fault", "severity": "fatal"}',
            "fault payload: severity: Input should be 'info', 'warning' or 'critical'",
        ),
        ("clinic/main/equipment/tm-1/status", "maybe", "status payload must be 'online' or 'offline', got 'maybe'"),
        ("clinic/main/equipment/TM_1/usage", "{}", "equipment id 'TM_1' in topic must match"),
        ("clinic/main/equipment/tm-1/telemetry", "{}", "channel 'telemetry' is not one of usage, cleaning, fault"),
        ("clinic/main/devices/tm-1/usage", "{}", "does not match clinic/<site>/equipment/<equipment_id>/<channel>"),
        ("other/main/equipment/tm-1/usage", "{}", "does not start with 'clinic/'"),
        (USAGE, b"\xff\xfe\x00", "payload is not JSON"),
        (USAGE, "[" * 100_000 + "]" * 100_000, "over the 65536-byte limit"),
        (USAGE, '{"event_id": "a", "event": "start", "session_id": "' + "x" * 70_000 + '"}', "over the 65536-byte"),
        (USAGE, "[" * 30_000 + "]" * 30_000, "payload is nested 30000 levels deep; at most 32 are accepted"),
        (USAGE, '{"event_id": "a", "metrics": ' + "[" * 40 + "]" * 40 + "}", "nested 41 levels deep"),
        (USAGE, '{"event_id": "a", "event": "start", "session_id": "x\\u0000y"}', "contains a NUL character"),
        (USAGE, '{"event_id": "a", "event": "start", "metrics": {"k": "\\ud800"}}', "unpaired UTF-16 surrogate"),
    ],
)
def test_bad_messages_are_rejected_with_a_reason(topic: str, payload: str | bytes, reason: str) -> None:
    result = parse(topic, payload)
    assert isinstance(result, Rejected)
    assert reason in result.reason
    assert result.payload == (payload.encode() if isinstance(payload, str) else payload)


def test_unknown_extra_fields_are_ignored_for_forward_compatibility() -> None:
    result = parse(USAGE, '{"event_id": "a", "event": "start", "firmware": "2.1"}')
    assert isinstance(result, DeviceEvent)


def test_a_metric_beyond_64_bits_is_kept_exactly_not_rounded_to_a_float() -> None:
    """The fast JSON reader would turn 2**64 and larger into a float; the value a device sent is kept as sent."""
    big = 123456789012345678901234567890
    metrics = f'{{"count": {big}, "small": 18446744073709551615}}'
    result = parse(USAGE, f'{{"event_id": "a", "event": "stop", "metrics": {metrics}}}')
    assert isinstance(result, DeviceEvent)
    assert result.metrics == {"count": big, "small": 2**64 - 1}
    assert all(isinstance(v, int) for v in result.metrics.values())
