"""The exercise library and patients' plans, and today's plan with each station's live status."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, tzinfo
from typing import TypeVar

from sqlalchemy import Engine, func, or_
from sqlmodel import Session, col, select

from shared.care_models import Exercise, Patient, PlanItem
from shared.clock import parse_date
from shared.config import ID_PATTERN
from shared.db import session_for
from shared.errors import NotFound, ValidationFailed
from shared.stations import list_stations

PATIENT_STATUS_WORDS = {
    "available": "available",
    "in_use": "in use",
    "needs_cleaning": "being cleaned",
    "out_of_service": "out of service",
}
PLAN_CSV_COLUMNS = (
    "patient_id", "exercise", "sets", "reps", "hold_s", "minutes", "load", "station", "notes", "from", "to",
)  # fmt: skip
N = TypeVar("N", int, float)


@dataclass(frozen=True, slots=True)
class PlanLine:
    """One exercise of today's plan as the patient sees it."""

    exercise: str
    sets: int | None
    reps: int | None
    hold_s: int | None
    minutes: float | None
    load: str | None
    equipment_id: str | None
    equipment_name: str | None
    equipment_zone: str | None
    equipment_status: str | None
    instructions: str
    image_url: str | None
    notes: str | None

    def as_json(self) -> dict[str, object]:
        """The documented JSON shape (`clinic checkin --json`)."""
        return asdict(self)

    @property
    def dose(self) -> str:
        """'3 x 10, hold 5 s, 10 min, 2 kg' in plain words."""
        parts = []
        if self.sets and self.reps:
            parts.append(f"{self.sets} x {self.reps}")
        elif self.sets:
            parts.append(f"{self.sets} sets")
        elif self.reps:
            parts.append(f"{self.reps} times")
        if self.hold_s:
            parts.append(f"hold {self.hold_s} s")
        if self.minutes:
            parts.append(f"{self.minutes:g} min")
        if self.load:
            parts.append(self.load)
        return ", ".join(parts)


def add_exercise(
    engine: Engine,
    *,
    name: str,
    instructions: str = "",
    equipment_kind: str | None = None,
    image_url: str | None = None,
) -> Exercise:
    """Add an exercise to the library (or update the one with that name)."""
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 120:
        raise ValidationFailed("exercise name must be 1 to 120 characters")
    with session_for(engine) as session:
        exercise = session.exec(select(Exercise).where(Exercise.name == cleaned)).first() or Exercise(name=cleaned)
        exercise.instructions = instructions.strip()
        exercise.equipment_kind = equipment_kind or None
        exercise.image_url = image_url or None
        session.add(exercise)
        session.commit()
        return exercise


def add_plan_item(
    engine: Engine,
    *,
    patient_id: int,
    exercise: str,
    active_from: date,
    sets: int | None = None,
    reps: int | None = None,
    hold_s: int | None = None,
    minutes: float | None = None,
    load: str | None = None,
    equipment_site: str | None = None,
    equipment_id: str | None = None,
    notes: str | None = None,
    active_to: date | None = None,
    position: int | None = None,
) -> PlanItem:
    """Add an exercise to a patient's plan; it goes last unless a position is given."""
    item = PlanItem(
        patient_id=patient_id,
        exercise_id=0,  # set once the exercise is found
        position=position or 0,
        sets=sets,
        reps=reps,
        hold_s=hold_s,
        minutes=minutes,
        load=(load or "").strip() or None,
        equipment_site=equipment_site,
        equipment_id=equipment_id,
        notes=(notes or "").strip() or None,
        active_from=active_from,
        active_to=active_to,
    )
    _check_item(item)
    with session_for(engine) as session:
        if session.get(Patient, patient_id) is None:
            raise NotFound(f"no patient with id {patient_id}")
        found = session.exec(select(Exercise).where(Exercise.name == " ".join(exercise.split()))).first()
        if found is None or found.id is None:
            raise NotFound(f"no exercise named {exercise!r} in the library (add it with `clinic exercise add`)")
        if position is None:
            existing = session.exec(select(PlanItem.position).where(PlanItem.patient_id == patient_id)).all()
            item.position = max(existing, default=0) + 1
        item.exercise_id = found.id
        session.add(item)
        session.commit()
        return item


def import_plan_csv(engine: Engine, text: str, *, site: str, today: date) -> list[PlanItem]:
    """Import plan lines from CSV (PLAN_CSV_COLUMNS); one bad row imports nothing and names its line.

    Only patient_id and exercise are required; `from` defaults to today, and each patient's new lines go
    after their existing ones in file order. A station is an equipment id at `site`.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("patient_id", "exercise") if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(f"line 1: missing column(s) {', '.join(missing)}; expected {','.join(PLAN_CSV_COLUMNS)}")
    with session_for(engine) as session:
        known = set(session.exec(select(Patient.id)).all())
        exercises = {e.name: e.id for e in session.exec(select(Exercise)).all()}
        last = _last_positions(session)
        items = []
        for row in reader:
            item = _plan_row(row, reader.line_num, known, exercises, site, today)
            item.position = last[item.patient_id] = last.get(item.patient_id, 0) + 1
            items.append(item)
        session.add_all(items)
        session.commit()
        return items


def todays_plan(engine: Engine, *, patient_id: int, day: date, site: str, tz: tzinfo) -> list[PlanLine]:
    """The patient's active plan for `day`, in order, each station with its live status."""
    query = (
        select(PlanItem, Exercise)
        .join(Exercise, col(Exercise.id) == col(PlanItem.exercise_id))
        .where(
            PlanItem.patient_id == patient_id,
            col(PlanItem.active_from) <= day,
            or_(col(PlanItem.active_to).is_(None), col(PlanItem.active_to) >= day),
        )
        .order_by(col(PlanItem.position), col(PlanItem.id))
    )
    with session_for(engine) as session:
        rows = session.exec(query).all()
    stations = {(v.site, v.id): v for v in list_stations(engine, tz=tz, site=site)} if rows else {}
    lines = []
    for item, exercise in rows:
        station = stations.get((item.equipment_site or site, item.equipment_id or ""))
        lines.append(
            PlanLine(
                exercise=exercise.name,
                sets=item.sets,
                reps=item.reps,
                hold_s=item.hold_s,
                minutes=item.minutes,
                load=item.load,
                equipment_id=item.equipment_id,
                equipment_name=station.name if station else None,
                equipment_zone=station.zone if station else None,
                equipment_status=station.status if station else None,
                instructions=exercise.instructions,
                image_url=exercise.image_url,
                notes=item.notes,
            )
        )
    return lines


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
        _check_item(item)
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


def _check_item(item: PlanItem) -> None:
    """Refuse a plan line whose dose, text lengths, station id or dates are out of bounds."""
    for label, value in (("sets", item.sets), ("reps", item.reps), ("hold", item.hold_s), ("minutes", item.minutes)):
        if value is not None and not 0 < value <= 1000:
            raise ValidationFailed(f"{label} must be between 1 and 1000")
    if len(item.load or "") > 60:
        raise ValidationFailed("load is longer than 60 characters")
    if len(item.notes or "") > 500:
        raise ValidationFailed("notes are longer than 500 characters")
    if item.equipment_id is not None and not ID_PATTERN.match(item.equipment_id):
        raise ValidationFailed(f"station {item.equipment_id!r} is not an equipment id (like treadmill-1)")
    if item.active_to is not None and item.active_to < item.active_from:
        raise ValidationFailed("the plan cannot end before it starts")
