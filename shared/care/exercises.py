"""The exercise library: adding, editing and listing exercises (names, instructions, pictures)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from shared.care.models import Exercise
from shared.staff.audit import apply_changes, audit
from shared.store.errors import NotFound, ValidationFailed

MAX_INSTRUCTIONS = 5000


def add_exercise(
    *,
    session: Session,
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
    *,
    session: Session,
    exercise_id: int,
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
    renamed = str(values.get("name", exercise.name))  # the audit names the exercise as it is called now
    apply_changes(session, exercise, values, actor=actor, action="exercise.update", target=renamed)
    return exercise


def exercise_id(*, session: Session, name: str) -> int:
    """The id of the library's exercise of that name (extra spaces do not matter); `NotFound`, naming it."""
    found = session.exec(select(Exercise.id).where(Exercise.name == " ".join((name or "").split()))).first()
    if found is None:
        raise NotFound(f"no exercise named {name!r} in the library")
    return found


def list_exercises(*, session: Session) -> list[Exercise]:
    """The exercise library, by name."""
    return list(session.exec(select(Exercise).order_by(func.lower(col(Exercise.name)), col(Exercise.id))).all())


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
