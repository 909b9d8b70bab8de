"""Questionnaires as data: a FHIR R4 Questionnaire (JSON) with its scoring rule, parsed and checked (pure).

The scoring rule lives in the Questionnaire itself, in one extension (`SCORING_URL`) with these parts:
`method` (`sum`, `mean`, or `percent`: the sum as a percentage of the highest possible sum of the answered items,
as the Oswestry Disability Index is scored), `minScore` and `maxScore` (the score's range), `mcid` (the minimal
clinically important difference, in score points), `better` (`higher` or `lower`: which way is improvement),
`minAnswered` (fewer answers leave no score), `licence` and `source`. Texts in other languages use FHIR's
standard translation extension on `_text`/`_title`. Items are `integer` (with the standard minValue/maxValue
extensions) or `choice` (answerOption valueCoding: the code is the item's points). An item marked with
`PATIENT_NAMED_URL` is asked about an activity the patient named (the Patient-Specific Functional Scale).
See docs/outcomes.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from shared.store.errors import ValidationFailed

SCORING_URL = "https://clinic-checkin.example/fhir/StructureDefinition/questionnaire-scoring"
PATIENT_NAMED_URL = "https://clinic-checkin.example/fhir/StructureDefinition/questionnaire-patient-named"
TRANSLATION_URL = "http://hl7.org/fhir/StructureDefinition/translation"
MIN_VALUE_URL = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE_URL = "http://hl7.org/fhir/StructureDefinition/maxValue"
METHODS = ("sum", "mean", "percent")
SHIPPED_DIR = Path(__file__).parent / "questionnaires"
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
MAX_ITEMS = 100
MAX_POINTS = 1000


@dataclass(frozen=True, slots=True)
class Option:
    """One answer of a choice item: its points and its label per language."""

    points: int
    label: dict[str, str]


@dataclass(frozen=True, slots=True)
class Item:
    """One question: an integer in [low, high], or one of `options`."""

    link_id: str
    text: dict[str, str]
    low: int
    high: int
    options: tuple[Option, ...] = ()
    patient_named: bool = False
    required: bool = False

    def words(self, lang: str) -> str:
        """The question in `lang`, else in the questionnaire's own language."""
        return self.text.get(lang) or self.text["en"]


@dataclass(frozen=True, slots=True)
class Scoring:
    """How answers become a score, its range, its MCID, and which way is better."""

    method: str
    low: float
    high: float
    mcid: float
    better: str
    min_answered: int
    licence: str
    source: str


@dataclass(frozen=True, slots=True)
class Instrument:
    """A questionnaire ready to ask and score, with the JSON it came from."""

    code: str
    title: dict[str, str]
    items: tuple[Item, ...]
    scoring: Scoring
    resource: dict[str, Any]
    shipped: bool = False

    def name(self, lang: str) -> str:
        """The title in `lang`, else in the questionnaire's own language."""
        return self.title.get(lang) or self.title["en"]

    def item(self, link_id: str) -> Item:
        """The item with this linkId."""
        for item in self.items:
            if item.link_id == link_id:
                return item
        raise ValidationFailed(f"questionnaire {self.code} has no item {link_id!r}")


def _texts(node: dict[str, Any], key: str, where: str) -> dict[str, str]:
    """A text and its translations (FHIR's translation extension on `_key`)."""
    text = node.get(key)
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed(f"{where}: '{key}' must be a non-empty text")
    out = {"en": text}
    for ext in (node.get(f"_{key}") or {}).get("extension", []):
        if ext.get("url") != TRANSLATION_URL:
            continue
        parts = {p.get("url"): p for p in ext.get("extension", [])}
        lang, content = parts.get("lang", {}).get("valueCode"), parts.get("content", {}).get("valueString")
        if not isinstance(lang, str) or not isinstance(content, str) or not content.strip():
            raise ValidationFailed(f"{where}: a translation of '{key}' needs 'lang' and 'content'")
        out[lang] = content
    return out


def _ext(node: dict[str, Any], url: str) -> dict[str, Any] | None:
    return next((e for e in node.get("extension", []) if isinstance(e, dict) and e.get("url") == url), None)


def _scoring(resource: dict[str, Any]) -> Scoring:
    ext = _ext(resource, SCORING_URL)
    if ext is None:
        raise ValidationFailed(f"the Questionnaire has no scoring rule (an extension with url {SCORING_URL})")
    parts: dict[str, Any] = {}
    for part in ext.get("extension", []):
        values = [v for k, v in part.items() if k.startswith("value")]
        parts[part.get("url")] = values[0] if values else None
    method = parts.get("method")
    if method not in METHODS:
        raise ValidationFailed(f"scoring 'method' must be one of {', '.join(METHODS)}, not {method!r}")
    numbers = {}
    for key in ("minScore", "maxScore", "mcid"):
        value = parts.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationFailed(f"scoring '{key}' must be a number")
        numbers[key] = float(value)
    width = numbers["maxScore"] - numbers["minScore"]
    if width <= 0 or not 0 < numbers["mcid"] <= width:
        raise ValidationFailed("scoring needs minScore < maxScore and an mcid above 0 within the range")
    if parts.get("better") not in ("higher", "lower"):
        raise ValidationFailed("scoring 'better' must be 'higher' or 'lower'")
    min_answered = parts.get("minAnswered", 1)
    if isinstance(min_answered, bool) or not isinstance(min_answered, int) or min_answered < 1:
        raise ValidationFailed("scoring 'minAnswered' must be a whole number of at least 1")
    return Scoring(method=method, low=numbers["minScore"], high=numbers["maxScore"], mcid=numbers["mcid"],
                   better=parts["better"], min_answered=min_answered, licence=str(parts.get("licence") or ""),
                   source=str(parts.get("source") or ""))  # fmt: skip


def _bound(item: dict[str, Any], url: str, where: str) -> int:
    ext = _ext(item, url)
    value = ext.get("valueInteger") if ext else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_POINTS:
        raise ValidationFailed(f"{where}: an integer item needs minValue and maxValue (valueInteger 0 to {MAX_POINTS})")
    return value


def _item(raw: Any, number: int) -> Item:
    where = f"item {number}"
    if not isinstance(raw, dict) or not isinstance(raw.get("linkId"), str) or not raw["linkId"].strip():
        raise ValidationFailed(f"{where}: needs a 'linkId'")
    where = f"item {raw['linkId']!r}"
    text = _texts(raw, "text", where)
    named = bool((_ext(raw, PATIENT_NAMED_URL) or {}).get("valueBoolean"))
    if raw.get("type") == "integer":
        low, high = _bound(raw, MIN_VALUE_URL, where), _bound(raw, MAX_VALUE_URL, where)
        if low >= high:
            raise ValidationFailed(f"{where}: minValue must be below maxValue")
        return Item(raw["linkId"], text, low, high, patient_named=named, required=bool(raw.get("required")))
    if raw.get("type") == "choice":
        options = []
        for option in raw.get("answerOption") or []:
            coding = option.get("valueCoding") if isinstance(option, dict) else None
            if not isinstance(coding, dict):
                raise ValidationFailed(f"{where}: each answerOption needs a valueCoding whose code is its points")
            code = coding.get("code")
            if not isinstance(code, str) or not code.isdigit() or int(code) > MAX_POINTS:
                raise ValidationFailed(f"{where}: each answerOption needs a valueCoding whose code is its points")
            options.append(Option(int(code), _texts(coding, "display", where)))
        if len(options) < 2:
            raise ValidationFailed(f"{where}: a choice item needs at least two answerOptions")
        points = [o.points for o in options]
        return Item(raw["linkId"], text, min(points), max(points), tuple(options), named, bool(raw.get("required")))
    raise ValidationFailed(f"{where}: type must be 'integer' or 'choice', not {raw.get('type')!r}")


def parse_instrument(resource: Any, *, shipped: bool = False) -> Instrument:
    """Check a Questionnaire and its scoring rule; ValidationFailed names what is wrong."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "Questionnaire":
        raise ValidationFailed("not a FHIR Questionnaire: 'resourceType' must be \"Questionnaire\"")
    code = resource.get("id")
    if not isinstance(code, str) or not CODE_PATTERN.match(code):
        raise ValidationFailed("the Questionnaire's 'id' names it in commands: lower-case letters, digits and '-' "
                               "(at most 64)")  # fmt: skip
    if resource.get("status") not in ("draft", "active", "retired", "unknown"):
        raise ValidationFailed("'status' must be draft, active, retired or unknown")
    raw_items = resource.get("item")
    if not isinstance(raw_items, list) or not 1 <= len(raw_items) <= MAX_ITEMS:
        raise ValidationFailed(f"the Questionnaire needs 1 to {MAX_ITEMS} items")
    items = tuple(_item(raw, n) for n, raw in enumerate(raw_items, start=1))
    if len({i.link_id for i in items}) != len(items):
        raise ValidationFailed("two items share a linkId")
    title = _texts(resource, "title", "the Questionnaire")
    return Instrument(code, title, items, _scoring(resource), resource, shipped)


def read_instrument_file(path: Path) -> Instrument:
    """A Questionnaire JSON file, checked; a file that is not JSON says so with the line."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ValidationFailed(f"{path} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"{path} is not JSON (line {exc.lineno}: {exc.msg})") from None
    return parse_instrument(raw)


@cache
def shipped_instruments() -> tuple[Instrument, ...]:
    """The questionnaires shipped with the package (shared/outcomes/questionnaires/*.json)."""
    out = []
    for path in sorted(SHIPPED_DIR.glob("*.json")):
        out.append(parse_instrument(json.loads(path.read_text(encoding="utf-8")), shipped=True))
    return tuple(out)
