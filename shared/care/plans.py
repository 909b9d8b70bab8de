"""Patients' plans as staff edit them: adding, changing, reordering and ending plan lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal, Required, TypedDict, Unpack

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, select

from shared.care.exercises import exercise_id
from shared.care.models import Exercise, Patient, PlanItem
from shared.staff.audit import apply_changes, audit
from shared.store.errors import NotFound, ValidationFailed
from shared.store.settings import ID_PATTERN


@dataclass(frozen=True, slots=True)
class PlannedExercise:
    """What staff's row and the patient's line both show of a plan line: the exercise, its dose, station, notes."""

    exercise: str
    sets: int | None
    reps: int | None
    hold_s: int | None
    minutes: float | None
    load: str | None
    equipment_id: str | None
    notes: str | None

    @property
    def dose(self) -> str:
        """'3 x 10, hold 5 s, 10 min, 2 kg' in plain words."""
        return dose_words(self.sets, self.reps, self.hold_s, self.minutes, self.load)


@dataclass(frozen=True, slots=True)
class PlanRow(PlannedExercise):
    """One line of a patient's plan as staff see and edit it."""

    id: int
    position: int
    active_from: date
    active_to: date | None


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


def active_on(day: date) -> ColumnElement[bool]:
    """The plan lines in force on `day`: started by then and not ended before it (the one rule for "today's")."""
    return (col(PlanItem.active_from) <= day) & or_(col(PlanItem.active_to).is_(None), col(PlanItem.active_to) >= day)


class PlanLineFields(TypedDict, total=False):
    """A plan line's details as staff give them: the keywords of `add_plan_item` and `update_plan_item`."""

    exercise: Required[str]  # the library's name
    active_from: Required[date]
    sets: int | None
    reps: int | None
    hold_s: int | None
    minutes: float | None
    load: str | None
    equipment_site: str | None
    equipment_id: str | None
    notes: str | None
    active_to: date | None


def add_plan_item(
    *, session: Session, patient_id: int, position: int | None = None, actor: str | None = None,
    **line: Unpack[PlanLineFields],
) -> PlanItem:  # fmt: skip
    """Add an exercise to a patient's plan; it goes last unless a position is given.

    With `actor`, the addition is recorded in the audit log in the same transaction.
    """
    item = PlanItem(patient_id=patient_id, exercise_id=0, position=position or 0, **_stored(line))
    check_plan_line(item)
    if session.get(Patient, patient_id) is None:
        raise NotFound(f"no patient with id {patient_id}")
    item.exercise_id = exercise_id(session=session, name=line["exercise"])
    if position is None:
        existing = session.exec(select(PlanItem.position).where(PlanItem.patient_id == patient_id)).all()
        item.position = max(existing, default=0) + 1
    session.add(item)
    session.flush()
    if actor is not None:
        audit(session, actor=actor, action="plan.add", target=f"patient {patient_id}",
              detail={"item": item.id, "exercise": " ".join(line["exercise"].split())})  # fmt: skip
    return item


def list_plan_items(*, session: Session, patient_id: int, today: date | None = None) -> list[PlanRow]:
    """The patient's plan lines in order; with `today`, only those not ended before it (future ones too)."""
    if session.get(Patient, patient_id) is None:
        raise NotFound(f"no patient with id {patient_id}")
    showing = None if today is None else or_(col(PlanItem.active_to).is_(None), col(PlanItem.active_to) >= today)
    rows = plan_lines(session=session, patient_id=patient_id, where=showing)
    return [PlanRow(id=item.id or 0, position=item.position, active_from=item.active_from, active_to=item.active_to,
                    **line_fields(item, exercise)) for item, exercise in rows]  # fmt: skip


def plan_lines(
    *, session: Session, patient_id: int, where: ColumnElement[bool] | None = None
) -> Sequence[tuple[PlanItem, Exercise]]:
    """The patient's plan lines with their exercises in the therapist's order (the one plan query), those
    matching `where` (like `active_on(day)`) when given."""
    query = (
        select(PlanItem, Exercise)
        .join(Exercise, col(Exercise.id) == col(PlanItem.exercise_id))
        .where(PlanItem.patient_id == patient_id)
        .order_by(col(PlanItem.position), col(PlanItem.id))
    )
    return session.exec(query if where is None else query.where(where)).all()


def line_fields(item: PlanItem, exercise: Exercise) -> dict[str, Any]:
    """A stored line's `PlannedExercise` fields, for staff's row and the patient's line alike."""
    return {"exercise": exercise.name, "sets": item.sets, "reps": item.reps, "hold_s": item.hold_s,
            "minutes": item.minutes, "load": item.load, "equipment_id": item.equipment_id,
            "notes": item.notes}  # fmt: skip


def update_plan_item(
    *, session: Session, item_id: int, actor: str | None = None, **line: Unpack[PlanLineFields]
) -> PlanItem:
    """Replace every detail of a plan line (None clears a dose, the station or the end); its place stays.

    With `actor`, the names of the changed fields go to the audit log in the same transaction.
    """
    item = session.get(PlanItem, item_id)
    if item is None:
        raise NotFound(f"no plan line with id {item_id}")
    values = {"exercise_id": exercise_id(session=session, name=line["exercise"]), **_stored(line)}
    check_plan_line(PlanItem(patient_id=item.patient_id, **values))
    apply_changes(session, item, values, actor=actor, action="plan.update", target=f"patient {item.patient_id}",
                  detail={"item": item_id})  # fmt: skip
    return item


def _stored(line: PlanLineFields) -> dict[str, Any]:
    """A plan line's fields as stored, for adding and changing one alike: texts trimmed (empty is none), and a
    station's site only with a station."""
    station = (line.get("equipment_id") or "").strip() or None
    return {
        "sets": line.get("sets"), "reps": line.get("reps"), "hold_s": line.get("hold_s"),
        "minutes": line.get("minutes"), "load": (line.get("load") or "").strip() or None,
        "equipment_site": line.get("equipment_site") if station else None, "equipment_id": station,
        "notes": (line.get("notes") or "").strip() or None, "active_from": line["active_from"],
        "active_to": line.get("active_to"),
    }  # fmt: skip


def move_plan_item(
    *,
    session: Session,
    item_id: int,
    direction: Literal["up", "down"],
    today: date,
    actor: str | None = None,
) -> bool:
    """Swap a line with the one above or below it among the lines still showing on `today`.

    The patient's lines are renumbered 1, 2, 3... on the way (imports can leave gaps or ties). Returns whether
    the line moved (the first line cannot go up, nor the last down).
    """
    if direction not in ("up", "down"):
        raise ValidationFailed(f"direction {direction!r} is not 'up' or 'down'")
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


def end_plan_item(*, session: Session, item_id: int, today: date, actor: str | None = None) -> bool:
    """End a plan line so that it no longer shows from `today` on: it ends yesterday.

    A line that had not started before today was never part of a past day's plan, so it is removed instead.
    Returns True when the line was removed. An earlier end is kept.
    """
    yesterday = today - timedelta(days=1)
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


def check_plan_line(item: PlanItem) -> None:
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
