"""The exercise library and patients' plans, and today's plan with each station's live status."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, tzinfo

from sqlalchemy import Engine, or_
from sqlmodel import col, select

from shared.care_models import Exercise, Patient, PlanItem
from shared.db import session_for
from shared.errors import NotFound, ValidationFailed
from shared.stations import list_stations

PATIENT_STATUS_WORDS = {
    "available": "available",
    "in_use": "in use",
    "needs_cleaning": "being cleaned",
    "out_of_service": "out of service",
}


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
    for label, value in (("sets", sets), ("reps", reps), ("hold", hold_s), ("minutes", minutes)):
        if value is not None and not 0 < value <= 1000:
            raise ValidationFailed(f"{label} must be between 1 and 1000")
    if active_to is not None and active_to < active_from:
        raise ValidationFailed("the plan cannot end before it starts")
    with session_for(engine) as session:
        if session.get(Patient, patient_id) is None:
            raise NotFound(f"no patient with id {patient_id}")
        found = session.exec(select(Exercise).where(Exercise.name == " ".join(exercise.split()))).first()
        if found is None or found.id is None:
            raise NotFound(f"no exercise named {exercise!r} in the library (add it with `clinic exercise add`)")
        if position is None:
            existing = session.exec(select(PlanItem.position).where(PlanItem.patient_id == patient_id)).all()
            position = max(existing, default=0) + 1
        item = PlanItem(
            patient_id=patient_id,
            exercise_id=found.id,
            position=position,
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
        session.add(item)
        session.commit()
        return item


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
