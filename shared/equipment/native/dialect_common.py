"""What the native dialect parsers share: strict readers of JSON and plain-text payloads that say what is wrong.

A reader raises `Unreadable` with a reason naming the field and the bad value (`ENERGY.Power must be a number,
got 'abc'`); `dialects.parse_native` puts the topic in front and turns it into a `NativeMalformed`.
"""

from __future__ import annotations

import json
import math
import re

MAX_PAYLOAD_BYTES = 64 * 1024
NUMBER_TEXT = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


class Unreadable(Exception):
    """A payload its dialect cannot read; the message is the reason, without the topic."""


def shown(value: object) -> str:
    """A JSON value as a reason shows it: strings and numbers quoted short, containers by their kind."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def text_of(payload: bytes) -> str:
    """The payload as UTF-8 text."""
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"payload is not UTF-8 text (bad byte at {exc.start})") from None


def _no_constant(name: str) -> object:
    """Refuse `NaN`, `Infinity` and `-Infinity`, which are not JSON."""
    raise Unreadable(f"payload is not JSON: {name} is not a JSON value")


def load_json(payload: bytes) -> object:
    """The payload as JSON, refusing NaN and Infinity (which `json.loads` would otherwise accept)."""
    raw = text_of(payload)
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise Unreadable(f"payload is not JSON: {exc.msg} at character {exc.pos}") from None
    except RecursionError:
        raise Unreadable("payload is not JSON we read: nested too deeply") from None
    except ValueError as exc:  # an integer of thousands of digits
        raise Unreadable(f"payload is not JSON we read: {shown(str(exc))}") from None


def as_object(value: object, what: str) -> dict[str, object]:
    """`value` when it is a JSON object."""
    if not isinstance(value, dict):
        raise Unreadable(f"{what} must be a JSON object, got {shown(value)}")
    return value


def json_object(payload: bytes) -> dict[str, object]:
    """The payload as a JSON object."""
    return as_object(load_json(payload), "payload")


def number(value: object, what: str) -> float:
    """`value` as a finite number; a bool is not one (`true` is not a watt)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unreadable(f"{what} must be a number, got {shown(value)}")
    try:
        result = float(value)
    except OverflowError:
        result = math.inf
    if not math.isfinite(result):
        raise Unreadable(f"{what} must be a finite number, got {shown(value)}")
    return result


def optional_number(body: dict[str, object], key: str, what: str) -> float | None:
    """`body[key]` as a number, or None when it is absent or null."""
    value = body.get(key)
    return None if value is None else number(value, what)


def flag(value: object, what: str) -> bool:
    """`value` when it is a JSON boolean."""
    if not isinstance(value, bool):
        raise Unreadable(f"{what} must be true or false, got {shown(value)}")
    return value


def on_off(word: str, what: str) -> bool:
    """A plain `ON`/`OFF` (any case) as a bool."""
    folded = word.strip().upper()
    if folded not in ("ON", "OFF"):
        raise Unreadable(f"{what} must be ON or OFF, got {shown(word)}")
    return folded == "ON"


def number_text(word: str, what: str) -> float:
    """A number written as text (`61.50`, `-3`, `1e3`) as a finite float."""
    stripped = word.strip()
    if not NUMBER_TEXT.fullmatch(stripped):
        raise Unreadable(f"{what} must be a number, got {shown(word)}")
    value = float(stripped)
    if not math.isfinite(value):
        raise Unreadable(f"{what} must be a finite number, got {shown(word)}")
    return value


def finite_numbers(body: dict[str, object], keys: tuple[str, ...]) -> dict[str, object]:
    """The keys of `body` that hold finite numbers (for people: a bad value here is left out, not fatal)."""
    return {key: body[key] for key in keys if is_finite_number(body.get(key))}


def is_finite_number(value: object) -> bool:
    """Whether `value` is a JSON number (not a bool) that a float can hold."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond a float's range
        return False
