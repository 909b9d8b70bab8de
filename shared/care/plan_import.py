"""Importing plan lines from a CSV file: one bad row imports nothing and names its line."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import TypeVar

from sqlalchemy import func
from sqlmodel import Session, col, select

from shared.care.models import Exercise, Patient, PlanItem
from shared.care.plans import check_plan_line
from shared.store.clock import parse_date
from shared.store.errors import ValidationFailed

PLAN_CSV_COLUMNS = (
    "patient_id", "exercise", "sets", "reps", "hold_s", "minutes", "load", "station", "notes", "from", "to",
)  # fmt: skip
N = TypeVar("N", int, float)


def import_plan_csv(*, session: Session, text: str, site: str, today: date) -> list[PlanItem]:
    """Import plan lines from CSV (PLAN_CSV_COLUMNS); one bad row imports nothing and names its line.

    Only patient_id and exercise are required; `from` defaults to today, and each patient's new lines go
    after their existing ones in file order. A station is an equipment id at `site`.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("patient_id", "exercise") if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(f"line 1: missing column(s) {', '.join(missing)}; expected {','.join(PLAN_CSV_COLUMNS)}")
    known = set(session.exec(select(Patient.id)).all())
    exercises = {e.name: e.id for e in session.exec(select(Exercise)).all()}
    last = _last_positions(session)
    items = []
    for row in reader:
        item = _plan_row(row, reader.line_num, known, exercises, site, today)
        item.position = last[item.patient_id] = last.get(item.patient_id, 0) + 1
        items.append(item)
    session.add_all(items)
    return items


def _plan_row(
    row: dict[str, str], line: int, known: set[int | None], exercises: dict[str, int | None], site: str, today: date
) -> PlanItem:
    """One CSV row as an unsaved plan line (position left to the caller), or the row's error naming its line."""
    try:
        patient_id = _csv_number(row, "patient_id", int)
        if patient_id is None or patient_id not in known:
            raise ValidationFailed(f"no patient with id {(row.get('patient_id') or '').strip()!r}")
        name = " ".join((row.get("exercise") or "").split())
        exercise_id = exercises.get(name)
        if exercise_id is None:
            raise ValidationFailed(f"no exercise named {name!r} in the library")
        station = _csv_text(row, "station")
        item = PlanItem(
            patient_id=patient_id,
            exercise_id=exercise_id,
            sets=_csv_number(row, "sets", int),
            reps=_csv_number(row, "reps", int),
            hold_s=_csv_number(row, "hold_s", int),
            minutes=_csv_number(row, "minutes", float),
            load=_csv_text(row, "load"),
            notes=_csv_text(row, "notes"),
            equipment_site=site if station else None,
            equipment_id=station,
            active_from=parse_date(row["from"], "from") if _csv_text(row, "from") else today,
            active_to=parse_date(row["to"], "to") if _csv_text(row, "to") else None,
        )
        check_plan_line(item)
    except ValidationFailed as exc:
        raise ValidationFailed(f"line {line}: {exc}; nothing was imported") from None
    return item


def _last_positions(session: Session) -> dict[int, int]:
    """Each patient's highest plan position, to append imported lines after it."""
    query = select(PlanItem.patient_id, func.max(PlanItem.position)).group_by(col(PlanItem.patient_id))
    return {patient_id: position or 0 for patient_id, position in session.execute(query).all()}


def _csv_text(row: dict[str, str], column: str) -> str | None:
    """The column's text, stripped; None when empty or absent."""
    return (row.get(column) or "").strip() or None


def _csv_number(row: dict[str, str], column: str, kind: Callable[[str], N]) -> N | None:
    """The column as a number (int or float), None when empty."""
    text = _csv_text(row, column)
    if text is None:
        return None
    try:
        return kind(text)
    except ValueError:
        raise ValidationFailed(f"{column} {text!r} is not a {'whole ' if kind is int else ''}number") from None
