"""Patients' plans as staff edit them: adding, changing, reordering and ending plan lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, select

from shared.care.exercises import exercise_id
from shared.care.models import Exercise, Patient, PlanItem
from shared.staff.audit import audit
from shared.store.errors import NotFound, ValidationFailed
from shared.store.settings import ID_PATTERN


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


def active_on(day: date) -> ColumnElement[bool]:
    """The plan lines in force on `day`: started by then and not ended before it (the one rule for "today's")."""
    return (col(PlanItem.active_from) <= day) & or_(col(PlanItem.active_to).is_(None), col(PlanItem.active_to) >= day)


def add_plan_item(
    *,
    session: Session,
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
    check_plan_line(item)
    if session.get(Patient, patient_id) is None:
        raise NotFound(f"no patient with id {patient_id}")
    found = exercise_id(session=session, name=exercise)
    if position is None:
        existing = session.exec(select(PlanItem.position).where(PlanItem.patient_id == patient_id)).all()
        item.position = max(existing, default=0) + 1
    item.exercise_id = found
    session.add(item)
    session.flush()
    if actor is not None:
        audit(session, actor=actor, action="plan.add", target=f"patient {patient_id}",
              detail={"item": item.id, "exercise": " ".join(exercise.split())})  # fmt: skip
    return item


def list_plan_items(*, session: Session, patient_id: int, today: date | None = None) -> list[PlanRow]:
    """The patient's plan lines in order; with `today`, only those not ended before it (future ones too)."""
    query = (
        select(PlanItem, Exercise)
        .join(Exercise, col(Exercise.id) == col(PlanItem.exercise_id))
        .where(PlanItem.patient_id == patient_id)
        .order_by(col(PlanItem.position), col(PlanItem.id))
    )
    if today is not None:
        query = query.where(or_(col(PlanItem.active_to).is_(None), col(PlanItem.active_to) >= today))
    if session.get(Patient, patient_id) is None:
        raise NotFound(f"no patient with id {patient_id}")
    rows = session.exec(query).all()
    return [_plan_row_view(item, exercise) for item, exercise in rows]


def update_plan_item(
    *,
    session: Session,
    item_id: int,
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
    item = session.get(PlanItem, item_id)
    if item is None:
        raise NotFound(f"no plan line with id {item_id}")
    found = exercise_id(session=session, name=exercise)
    values: dict[str, object] = {
        "exercise_id": found, "sets": sets, "reps": reps, "hold_s": hold_s, "minutes": minutes,
        "load": (load or "").strip() or None, "equipment_site": equipment_site if equipment_id else None,
        "equipment_id": (equipment_id or "").strip() or None, "notes": (notes or "").strip() or None,
        "active_from": active_from, "active_to": active_to,
    }  # fmt: skip
    check_plan_line(PlanItem(patient_id=item.patient_id, **values))  # type: ignore[arg-type]
    changed = [name for name, value in values.items() if getattr(item, name) != value]
    for name in changed:
        setattr(item, name, values[name])
    session.add(item)
    if actor is not None and changed:
        audit(session, actor=actor, action="plan.update", target=f"patient {item.patient_id}",
              detail={"item": item_id, "changed": changed})  # fmt: skip
    return item


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
