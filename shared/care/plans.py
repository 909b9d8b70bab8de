"""The exercise library and patients' plans, and today's plan with each station's live status."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Literal, TypeVar

from sqlalchemy import Engine, func, or_
from sqlmodel import Session, col, select

from shared.care.models import Exercise, Patient, PlanItem
from shared.equipment.stations import ShownStatus, StationView, list_stations
from shared.staff.audit import audit
from shared.store.clock import parse_date
from shared.store.db import read_session, unit_of_work
from shared.store.errors import NotFound, ValidationFailed
from shared.store.settings import ID_PATTERN

PATIENT_STATUS_WORDS = {
    "available": "available",
    "in_use": "in use",
    "needs_cleaning": "being cleaned",
    "cleaning": "being cleaned",
    "out_of_service": "out of service",
}
PLAN_CSV_COLUMNS = (
    "patient_id", "exercise", "sets", "reps", "hold_s", "minutes", "load", "station", "notes", "from", "to",
)  # fmt: skip
N = TypeVar("N", int, float)
MAX_INSTRUCTIONS = 5000


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
    equipment_ready_at: datetime | None = None  # while the station's disinfectant contact time runs, its end
    exercise_es: str | None = None  # the library's Spanish texts, when it has them
    instructions_es: str | None = None
    image_file: str | None = None  # the exercise's picture under <data dir>/exercise-images
    alternative_id: str | None = None  # a free station of the same kind, when this one is not free
    alternative_name: str | None = None
    alternative_zone: str | None = None

    def texts(self, lang: str | None) -> tuple[str, str]:
        """The exercise's name and instructions in a language, falling back to the default texts."""
        if lang == "es":
            return self.exercise_es or self.exercise, self.instructions_es or self.instructions
        return self.exercise, self.instructions

    @property
    def free(self) -> bool:
        """The patient can start this one now: no station, an unknown one, or an available one."""
        return self.station_status in (None, "available")

    def as_json(self) -> dict[str, object]:
        """The documented JSON shape (`clinic checkin --json`); times as RFC 3339 in UTC."""
        out = asdict(self)
        for name, value in out.items():
            if isinstance(value, datetime):
                out[name] = value.isoformat().replace("+00:00", "Z")
        return out

    @property
    def station_status(self) -> ShownStatus | None:
        """The station's status as the patient's badge shows it: "cleaning" during the contact time."""
        if self.equipment_ready_at is not None:
            return "cleaning"
        return self.equipment_status  # type: ignore[return-value]

    @property
    def dose(self) -> str:
        """'3 x 10, hold 5 s, 10 min, 2 kg' in plain words."""
        return dose_words(self.sets, self.reps, self.hold_s, self.minutes, self.load)


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One line of a patient's plan as staff see and edit it."""

    id: int
    position: int
    exercise: str
    sets: int | None
    reps: int | None
    hold_s: int | None
    minutes: float | None
    load: str | None
    equipment_id: str | None
    notes: str | None
    active_from: date
    active_to: date | None

    @property
    def dose(self) -> str:
        """'3 x 10, hold 5 s, 10 min, 2 kg' in plain words."""
        return dose_words(self.sets, self.reps, self.hold_s, self.minutes, self.load)


def dose_words(sets: int | None, reps: int | None, hold_s: int | None, minutes: float | None, load: str | None) -> str:
    """'3 x 10, hold 5 s, 10 min, 2 kg' in plain words."""
    parts = []
    if sets and reps:
        parts.append(f"{sets} x {reps}")
    elif sets:
        parts.append(f"{sets} sets")
    elif reps:
        parts.append(f"{reps} times")
    if hold_s:
        parts.append(f"hold {hold_s} s")
    if minutes:
        parts.append(f"{minutes:g} min")
    if load:
        parts.append(load)
    return ", ".join(parts)


def add_exercise(
    engine: Engine,
    *,
    name: str,
    instructions: str = "",
    equipment_kind: str | None = None,
    image_url: str | None = None,
    name_es: str | None = None,
    instructions_es: str | None = None,
    image_file: str | None = None,
    replace: bool = True,
    actor: str | None = None,
) -> Exercise:
    """Add an exercise to the library, or update the one with that name (refused when `replace` is false).

    With `actor`, the change is recorded in the audit log in the same transaction.
    """
    cleaned = _exercise_name(name)
    with unit_of_work(engine) as session:
        exercise = session.exec(select(Exercise).where(Exercise.name == cleaned)).first()
        if exercise is not None and not replace:
            raise ValidationFailed(f"an exercise named {cleaned!r} is already in the library; edit that one")
        exercise = exercise or Exercise(name=cleaned)
        exercise.instructions = _instructions(instructions)
        exercise.equipment_kind = _equipment_kind(equipment_kind)
        exercise.image_url = _image_url(image_url)
        if name_es is not None:
            exercise.name_es = _translated_name(name_es)
        if instructions_es is not None:
            exercise.instructions_es = _instructions(instructions_es) or None
        if image_file is not None:
            exercise.image_file = image_file or None
        session.add(exercise)
        if actor is not None:
            audit(session, actor=actor, action="exercise.add", target=cleaned)
        return exercise


def update_exercise(
    engine: Engine,
    exercise_id: int,
    *,
    name: str | None = None,
    instructions: str | None = None,
    equipment_kind: str | None = None,
    image_url: str | None = None,
    name_es: str | None = None,
    instructions_es: str | None = None,
    image_file: str | None = None,
    actor: str | None = None,
) -> Exercise:
    """Rename or edit an exercise of the library (None keeps a field; an empty kind, text or image clears it).

    Plans refer to the exercise, so a new name or instructions show in every plan that uses it.
    """
    with unit_of_work(engine) as session:
        exercise = session.get(Exercise, exercise_id)
        if exercise is None:
            raise NotFound(f"no exercise with id {exercise_id}")
        values: dict[str, object] = {}
        if name is not None:
            values["name"] = _exercise_name(name)
        if instructions is not None:
            values["instructions"] = _instructions(instructions)
        if equipment_kind is not None:
            values["equipment_kind"] = _equipment_kind(equipment_kind)
        if image_url is not None:
            values["image_url"] = _image_url(image_url)
        if name_es is not None:
            values["name_es"] = _translated_name(name_es)
        if instructions_es is not None:
            values["instructions_es"] = _instructions(instructions_es) or None
        if image_file is not None:
            values["image_file"] = image_file or None
        if "name" in values and values["name"] != exercise.name:
            clash = session.exec(select(Exercise).where(Exercise.name == values["name"])).first()
            if clash is not None:
                raise ValidationFailed(f"an exercise named {values['name']!r} is already in the library")
        changed = [field for field, value in values.items() if getattr(exercise, field) != value]
        for field in changed:
            setattr(exercise, field, values[field])
        session.add(exercise)
        if actor is not None and changed:
            audit(session, actor=actor, action="exercise.update", target=exercise.name, detail={"changed": changed})
        return exercise


def list_exercises(engine: Engine) -> list[Exercise]:
    """The exercise library, by name."""
    with read_session(engine) as session:
        return list(session.exec(select(Exercise).order_by(func.lower(col(Exercise.name)), col(Exercise.id))).all())


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
    actor: str | None = None,
) -> PlanItem:
    """Add an exercise to a patient's plan; it goes last unless a position is given.

    With `actor`, the addition is recorded in the audit log in the same transaction.
    """
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
    with unit_of_work(engine) as session:
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
        session.flush()
        if actor is not None:
            audit(session, actor=actor, action="plan.add", target=f"patient {patient_id}",
                  detail={"item": item.id, "exercise": found.name})  # fmt: skip
        return item


def list_plan_items(engine: Engine, patient_id: int, *, today: date | None = None) -> list[PlanRow]:
    """The patient's plan lines in order; with `today`, only those not ended before it (future ones too)."""
    query = (
        select(PlanItem, Exercise)
        .join(Exercise, col(Exercise.id) == col(PlanItem.exercise_id))
        .where(PlanItem.patient_id == patient_id)
        .order_by(col(PlanItem.position), col(PlanItem.id))
    )
    if today is not None:
        query = query.where(or_(col(PlanItem.active_to).is_(None), col(PlanItem.active_to) >= today))
    with read_session(engine) as session:
        if session.get(Patient, patient_id) is None:
            raise NotFound(f"no patient with id {patient_id}")
        rows = session.exec(query).all()
    return [_plan_row_view(item, exercise) for item, exercise in rows]


def update_plan_item(
    engine: Engine,
    item_id: int,
    *,
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
    actor: str | None = None,
) -> PlanItem:
    """Replace every detail of a plan line (None clears a dose, the station or the end); its place stays.

    With `actor`, the names of the changed fields go to the audit log in the same transaction.
    """
    with unit_of_work(engine) as session:
        item = session.get(PlanItem, item_id)
        if item is None:
            raise NotFound(f"no plan line with id {item_id}")
        found = _find_exercise(session, exercise)
        values: dict[str, object] = {
            "exercise_id": found, "sets": sets, "reps": reps, "hold_s": hold_s, "minutes": minutes,
            "load": (load or "").strip() or None, "equipment_site": equipment_site if equipment_id else None,
            "equipment_id": (equipment_id or "").strip() or None, "notes": (notes or "").strip() or None,
            "active_from": active_from, "active_to": active_to,
        }  # fmt: skip
        _check_item(PlanItem(patient_id=item.patient_id, **values))  # type: ignore[arg-type]
        changed = [name for name, value in values.items() if getattr(item, name) != value]
        for name in changed:
            setattr(item, name, values[name])
        session.add(item)
        if actor is not None and changed:
            audit(session, actor=actor, action="plan.update", target=f"patient {item.patient_id}",
                  detail={"item": item_id, "changed": changed})  # fmt: skip
        return item


def move_plan_item(
    engine: Engine, item_id: int, direction: Literal["up", "down"], *, today: date, actor: str | None = None
) -> bool:
    """Swap a line with the one above or below it among the lines still showing on `today`.

    The patient's lines are renumbered 1, 2, 3... on the way (imports can leave gaps or ties). Returns whether
    the line moved (the first line cannot go up, nor the last down).
    """
    if direction not in ("up", "down"):
        raise ValidationFailed(f"direction {direction!r} is not 'up' or 'down'")
    with unit_of_work(engine) as session:
        item = session.get(PlanItem, item_id)
        if item is None:
            raise NotFound(f"no plan line with id {item_id}")
        lines = list(
            session.exec(
                select(PlanItem).where(PlanItem.patient_id == item.patient_id)
                .order_by(col(PlanItem.position), col(PlanItem.id))
            ).all()
        )  # fmt: skip
        for number, line in enumerate(lines, start=1):
            line.position = number
        showing = [line for line in lines if line.active_to is None or line.active_to >= today]
        index = next((i for i, line in enumerate(showing) if line.id == item_id), None)
        other = None if index is None else index + (-1 if direction == "up" else 1)
        moved = index is not None and other is not None and 0 <= other < len(showing)
        if moved:
            assert index is not None and other is not None
            neighbour = showing[other]
            item.position, neighbour.position = neighbour.position, item.position
        session.add_all(lines)
        if actor is not None and moved:
            audit(session, actor=actor, action="plan.move", target=f"patient {item.patient_id}",
                  detail={"item": item_id, "direction": direction})  # fmt: skip
        return moved


def end_plan_item(engine: Engine, item_id: int, *, today: date, actor: str | None = None) -> bool:
    """End a plan line so that it no longer shows from `today` on: it ends yesterday.

    A line that had not started before today was never part of a past day's plan, so it is removed instead.
    Returns True when the line was removed. An earlier end is kept.
    """
    yesterday = today - timedelta(days=1)
    with unit_of_work(engine) as session:
        item = session.get(PlanItem, item_id)
        if item is None:
            raise NotFound(f"no plan line with id {item_id}")
        removed = item.active_from > yesterday
        if removed:
            session.delete(item)
        elif item.active_to is None or item.active_to > yesterday:
            item.active_to = yesterday
            session.add(item)
        if actor is not None:
            ended = None if removed else str(item.active_to)
            audit(session, actor=actor, action="plan.end", target=f"patient {item.patient_id}",
                  detail={"item": item_id, "removed": removed, "active_to": ended})  # fmt: skip
        return removed


def import_plan_csv(engine: Engine, text: str, *, site: str, today: date) -> list[PlanItem]:
    """Import plan lines from CSV (PLAN_CSV_COLUMNS); one bad row imports nothing and names its line.

    Only patient_id and exercise are required; `from` defaults to today, and each patient's new lines go
    after their existing ones in file order. A station is an equipment id at `site`.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("patient_id", "exercise") if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(f"line 1: missing column(s) {', '.join(missing)}; expected {','.join(PLAN_CSV_COLUMNS)}")
    with unit_of_work(engine) as session:
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


def todays_plan(
    engine: Engine,
    *,
    patient_id: int,
    day: date,
    site: str,
    tz: tzinfo,
    now: datetime | None = None,
    contact_time_min: Mapping[str, float] | None = None,
) -> list[PlanLine]:
    """The patient's active plan for `day`, in order, each station with its live status (and, during a
    disinfectant's contact time, when it is ready; see `list_stations`); a station that is not free comes with
    a free one of the same kind, when there is one (same zone first)."""
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
    with read_session(engine) as session:
        rows = session.exec(query).all()
    views = list_stations(engine, tz=tz, site=site, now=now, contact_time_min=contact_time_min) if rows else []
    stations = {(v.site, v.id): v for v in views}
    lines = []
    for item, exercise in rows:
        station = stations.get((item.equipment_site or site, item.equipment_id or ""))
        other = _free_alternative(station, views)
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
                equipment_ready_at=station.ready_at if station else None,
                exercise_es=exercise.name_es,
                instructions_es=exercise.instructions_es,
                image_file=exercise.image_file,
                alternative_id=other.id if other else None,
                alternative_name=other.name if other else None,
                alternative_zone=other.zone if other else None,
            )
        )
    return lines


def start_here(lines: list[PlanLine]) -> int | None:
    """Which line to start with: the first whose station is free, else the first with a free alternative."""
    first = next((n for n, line in enumerate(lines) if line.free), None)
    if first is None:
        first = next((n for n, line in enumerate(lines) if line.alternative_id), None)
    return first


def _free_alternative(station: StationView | None, views: list[StationView]) -> StationView | None:
    """A free station of the same kind as a busy, cleaning or out-of-service one (same zone first)."""
    if station is None or station.effective_status == "available" or station.kind in ("", "other"):
        return None
    free = [v for v in views if v.kind == station.kind and v.site == station.site and v.id != station.id
            and v.effective_status == "available" and v.online is not False]  # fmt: skip
    free.sort(key=lambda v: (v.zone != station.zone, v.name))
    return free[0] if free else None


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


def _plan_row_view(item: PlanItem, exercise: Exercise) -> PlanRow:
    assert item.id is not None
    return PlanRow(
        id=item.id,
        position=item.position,
        exercise=exercise.name,
        sets=item.sets,
        reps=item.reps,
        hold_s=item.hold_s,
        minutes=item.minutes,
        load=item.load,
        equipment_id=item.equipment_id,
        notes=item.notes,
        active_from=item.active_from,
        active_to=item.active_to,
    )


def _find_exercise(session: Session, name: str) -> int:
    found = session.exec(select(Exercise).where(Exercise.name == " ".join(name.split()))).first()
    if found is None or found.id is None:
        raise NotFound(f"no exercise named {name!r} in the library")
    return found.id


def _exercise_name(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned or len(cleaned) > 120:
        raise ValidationFailed("exercise name must be 1 to 120 characters")
    return cleaned


def _translated_name(name: str) -> str | None:
    cleaned = " ".join((name or "").split())
    if len(cleaned) > 120:
        raise ValidationFailed("the translated exercise name is longer than 120 characters")
    return cleaned or None


def _instructions(text: str) -> str:
    cleaned = (text or "").strip()
    if len(cleaned) > MAX_INSTRUCTIONS:
        raise ValidationFailed(f"instructions are longer than {MAX_INSTRUCTIONS} characters")
    return cleaned


def _equipment_kind(kind: str | None) -> str | None:
    cleaned = " ".join((kind or "").split())
    if len(cleaned) > 64:
        raise ValidationFailed("equipment kind is longer than 64 characters")
    return cleaned or None


def _image_url(url: str | None) -> str | None:
    cleaned = (url or "").strip()
    if cleaned and (len(cleaned) > 500 or not cleaned.startswith(("https://", "http://", "/"))):
        raise ValidationFailed("image address must be an http(s) link of at most 500 characters")
    return cleaned or None


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
