"""Test data for the home-exercise loop: a patient with a plan of two exercises and a lasting take-home link."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine

from shared.care.exercises import add_exercise
from shared.care.home_links import current_link
from shared.care.plans import add_plan_item
from shared.store.db import unit_of_work
from tests.factories import new_patient_id

KEY = b"yKt6pXbKw0mHq2lD8m8iW3v1c2Vq0m9Zr6eJ1k2XQ0A="  # a fixed Fernet key (32 url-safe base64 bytes)
EXERCISES = ("Heel raises", "Wall squat")


def plan_with_link(
    engine: Engine,
    *,
    first: str = "Maria",
    active_from: date,
    now: datetime,
    days: int = 42,
    key: bytes = KEY,
    language: str | None = None,
) -> tuple[int, list[int], str]:
    """(patient id, plan line ids, token) for a new patient with both EXERCISES from `active_from`, and a link
    sealed with `key` (the app's own: `link_key(data_dir)`)."""
    patient_id = new_patient_id(engine, first)
    with unit_of_work(engine) as session:
        for name in EXERCISES:
            add_exercise(session=session, name=name, replace=True)
        items = [add_plan_item(session=session, patient_id=patient_id, exercise=name, sets=3, reps=10,
                               active_from=active_from).id for name in EXERCISES]  # fmt: skip
        link = current_link(
            session=session, patient_id=patient_id, site="main", tz=UTC, key=key, days=days, now=now, language=language
        )
    return patient_id, [i for i in items if i is not None], link.token
