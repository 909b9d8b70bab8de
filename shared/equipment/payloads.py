"""Parse at the edge: MQTT topic + payload bytes become a `DeviceEvent`, a `StatusReport` or a `Rejected`.

A reject carries its reason twice: as text for people (which may be reworded) and as a short stable code
(`ReasonCode`) that the store keeps beside it and that code matches on, e.g. the staff app's unknown devices.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

import orjson
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from shared.equipment.events import Decoded, DeviceEvent, Rejected, StatusReport
from shared.equipment.topics import TopicError, parse_topic

MAX_PAYLOAD_BYTES = 64 * 1024
MAX_NESTING = 32  # objects and arrays within each other; the contract's payloads use two
SUPPORTED_VERSION = 1
_LONG_NUMBER = re.compile(rb"\d{20}")  # 20 digits or more: possibly beyond an unsigned 64-bit integer

# The stable codes of the reasons a message is kept as a dead letter (stored in `dead_letter.code`; a change
# here needs a migration that recodes the stored rows; adding one does not). `other` is a reject made without one.
ReasonCode = Literal[
    "unknown_topic",  # the topic is not `<prefix>/<site>/equipment/<id>/<channel>`
    "too_large",  # the payload is over MAX_PAYLOAD_BYTES
    "malformed_json",  # not a JSON object, nested too deeply, or a number that is not finite
    "bad_text",  # text the store cannot hold (NUL, an unpaired surrogate)
    "unsupported_version",  # a payload version this listener does not read
    "schema",  # the fields do not match the channel's (a status that is not online/offline too)
    "unknown_device",  # the topic names a station not registered at its site
    "over_quota",  # counts a device's messages past its hourly quota (not stored)
    "native_payload",  # a plug's or sensor's own payload that its dialect cannot read (e.g. a power that is text)
    "registration",  # a station registration the center refused (unknown site, bad details)
    "unstorable",  # the store refused the decoded message for a reason retrying will not fix
    "internal_error",  # the decoder itself failed (a bug): kept so that nothing is lost
    "other",
]
REASON_CODES: tuple[ReasonCode, ...] = get_args(ReasonCode)


@dataclass(frozen=True, slots=True)
class CodedReject(Rejected):
    """A `Rejected` with its reason's stable code, as the decoder and the ingest make them."""

    code: ReasonCode = "other"


def reason_code(reject: Rejected) -> ReasonCode:
    """The stable code of a reject's reason (`other` for one made without a code)."""
    return reject.code if isinstance(reject, CodedReject) else "other"


def _rfc3339_text(value: Any) -> Any:
    """Only RFC 3339 strings with an offset are times here (pydantic would also take numbers)."""
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 string such as 2026-11-23T10:30:00Z")
    return value


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("is out of range") from exc


Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text), AfterValidator(_to_utc)]
EventId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]
ShortText = Annotated[str, Field(max_length=200)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    v: Literal[1] = 1
    event_id: EventId
    ts: Timestamp | None = None


class UsagePayload(_Payload):
    """`usage` channel: a use of the station starts or stops."""

    event: Literal["start", "stop"]
    session_id: Annotated[str, Field(max_length=64)] | None = None
    duration_s: Annotated[float, Field(ge=0, le=7 * 24 * 3600)] | None = None
    metrics: dict[str, Any] | None = None


class CleaningPayload(_Payload):
    """`cleaning` channel: the station was cleaned."""

    event: Literal["cleaned"]
    by: ShortText | None = None
    method: Annotated[str, Field(max_length=100)] | None = None


class FaultPayload(_Payload):
    """`fault` channel: a fault is raised or cleared; a critical one takes the station out of service."""

    event: Literal["fault", "cleared"]
    code: Annotated[str, Field(max_length=64)] | None = None
    severity: Literal["info", "warning", "critical"] | None = None  # a fault without one counts as a warning
    message: Annotated[str, Field(max_length=500)] | None = None


_NOT_EVENT_FIELDS = frozenset({"v", "ts"})  # a payload's fields that are not DeviceEvent's own (ts is device_ts)

PAYLOAD_MODELS: dict[str, type[_Payload]] = {
    "usage": UsagePayload,
    "cleaning": CleaningPayload,
    "fault": FaultPayload,
}


def decode(topic: str, payload: bytes, *, prefix: str, received_at: datetime) -> Decoded:
    """Turn one MQTT message into a domain message; never raises, a bad message becomes `Rejected`."""
    try:
        parts = parse_topic(topic, prefix)
    except TopicError as exc:
        return CodedReject(topic=topic, payload=payload, reason=str(exc), received_at=received_at, code="unknown_topic")

    def reject(code: ReasonCode, reason: str) -> Rejected:
        return CodedReject(topic, payload, reason, received_at, parts.site, parts.equipment_id, code)

    if len(payload) > MAX_PAYLOAD_BYTES:
        return reject("too_large", f"payload of {len(payload)} bytes is over the {MAX_PAYLOAD_BYTES}-byte limit")
    if parts.channel == "status":
        text = payload.decode("utf-8", "replace").strip().lower()
        if text not in ("online", "offline"):
            return reject("schema", f"status payload must be 'online' or 'offline', got {_preview(payload)}")
        return StatusReport(parts.site, parts.equipment_id, text == "online", received_at, topic, payload)
    document = _v1_object(payload)
    if isinstance(document, tuple):
        return reject(*document)
    try:
        model = PAYLOAD_MODELS[parts.channel].model_validate(document)
    except ValidationError as exc:
        return reject("schema", f"{parts.channel} payload: {_describe(exc)}")
    except RecursionError:
        return reject("malformed_json", f"{parts.channel} payload is nested too deeply")
    return DeviceEvent(
        site=parts.site,
        equipment_id=parts.equipment_id,
        channel=parts.channel,
        received_at=received_at,
        device_ts=model.ts,
        topic=topic,
        payload=payload,
        **{name: value for name, value in model.__dict__.items() if name not in _NOT_EVENT_FIELDS},
    )


def _v1_object(payload: bytes) -> dict[str, Any] | tuple[ReasonCode, str]:
    """The payload as a version-1 JSON object, or the code and reason it is not one (checked in the order that
    keeps a hostile payload cheap: depth before parsing, text escapes only when there are any)."""
    if (depth := _nesting(payload)) > MAX_NESTING:  # before json.loads, which would recurse that deep
        return "malformed_json", f"payload is nested {depth} levels deep; at most {MAX_NESTING} are accepted"
    document = None  # orjson first (faster); json reads what orjson refuses (for the reason in its words) and
    if not _LONG_NUMBER.search(payload):  # long numbers, which orjson would round to a float beyond 64 bits
        with contextlib.suppress(orjson.JSONDecodeError):
            document = orjson.loads(payload)
    try:
        if document is None:
            document = json.loads(payload, parse_constant=_refuse_constant, parse_float=_finite_float)
    except NonFiniteNumber as exc:
        return "malformed_json", f"payload has a number that is not finite ({exc}): send a real number or leave it out"
    except (ValueError, RecursionError) as exc:
        return "malformed_json", f"payload is not JSON: {_short(str(exc))}"
    if not isinstance(document, dict):
        return "malformed_json", f"payload must be a JSON object, got {type(document).__name__}"
    # NUL and lone surrogates can only arrive as \u escapes (raw ones fail JSON or UTF-8 decoding above).
    text_problem = _text_problem(document) if b"\\u" in payload else None
    if text_problem:
        return "bad_text", text_problem
    version = document.get("v", SUPPORTED_VERSION)
    if version != SUPPORTED_VERSION or isinstance(version, bool):
        return "unsupported_version", f"unsupported payload version v={_short(repr(version))} (this listener reads v=1)"
    return document


class NonFiniteNumber(ValueError):
    """NaN, Infinity or a number too large for a float: no chart or sum can use it."""


def _refuse_constant(name: str) -> float:
    raise NonFiniteNumber(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise NonFiniteNumber(_short(text))
    return value


def _text_problem(document: dict[str, Any]) -> str | None:
    """Text the store cannot hold: NUL characters (PostgreSQL refuses them) or lone UTF-16 surrogates."""
    dumped = json.dumps(document, ensure_ascii=False)
    if "\\u0000" in dumped:
        return "payload text contains a NUL character (\\u0000)"
    try:
        dumped.encode("utf-8")
    except UnicodeEncodeError:
        return "payload text contains an unpaired UTF-16 surrogate"
    return None


def _describe(exc: ValidationError) -> str:
    """Name each bad field, what was wrong and the value given."""
    problems = []
    for error in exc.errors(include_url=False)[:3]:
        where = ".".join(str(p) for p in error["loc"]) or "payload"
        given = "missing" if error["type"] == "missing" else f"got {_short(repr(error.get('input')))}"
        problems.append(f"{where}: {error['msg']} ({given})")
    more = exc.error_count() - len(problems)
    return "; ".join(problems) + (f"; and {more} more" if more > 0 else "")


def _preview(payload: bytes) -> str:
    return _short(repr(payload.decode("utf-8", "replace")))


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _nesting(payload: bytes) -> int:
    """How deeply objects and arrays nest (brackets inside strings do not count); counted only when the payload
    has enough brackets to be deep, so an ordinary message costs two `bytes.count` calls."""
    if payload.count(b"[") + payload.count(b"{") <= MAX_NESTING:
        return 0
    depth = deepest = 0
    in_string = escaped = False
    for byte in payload:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest
