"""Demo patients: an exercise library, patients with appointments today and plans on the demo stations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, func, select

from shared.care_models import Patient
from shared.clock import local_today
from shared.config import Settings
from shared.db import session_for
from shared.patients import IssuedCard, add_appointment, add_patient, issue_card
from shared.plans import add_exercise, add_plan_item

EXERCISES: tuple[tuple[str, str, str | None], ...] = (
    ("Treadmill walk", "Walk at an easy, steady pace. Hold the rails if you need to. Stop if you feel dizzy.",
     "treadmill"),
    ("Recumbent bike", "Sit back, feet on the pedals, and pedal smoothly. You should be able to talk.",
     "recumbent_bike"),
    ("Parallel bars walk", "Hold both bars. Walk slowly to the end and back, standing tall.", "parallel_bars"),
    ("Step-ups", "Step up with your stronger leg, then bring the other leg up. Step down the same way.", "stairs"),
    ("Heel raises", "Hold the bar. Rise slowly onto your toes, pause, then lower slowly.", "parallel_bars"),
    ("Hot pack", "Lie comfortably. Tell us at once if the pack feels too hot.", "hot_pack"),
    ("Bridges", "Lie on your back, knees bent. Lift your hips, hold, then lower slowly.", "plinth"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoPatient:
    """A demo patient: name, birth date, minutes from now to the appointment, clinician, plan."""

    first: str
    last: str
    dob: date
    starts_in_min: int | None
    clinician: str
    plan: tuple[tuple[str, dict[str, object], str | None], ...]


DEMO_PATIENTS: tuple[DemoPatient, ...] = (
    DemoPatient("Maria", "Gonzalez", date(1950, 4, 17), 20, "Alex", (
        ("Treadmill walk", {"minutes": 10}, "treadmill-1"),
        ("Heel raises", {"sets": 3, "reps": 10, "hold_s": 2}, "bars-1"),
        ("Hot pack", {"minutes": 15}, "hotpack-1"),
    )),
    DemoPatient("James", "Okafor", date(1962, 9, 3), 45, "Priya", (
        ("Recumbent bike", {"minutes": 12, "load": "level 3"}, "bike-1"),
        ("Step-ups", {"sets": 2, "reps": 8}, "stairs-1"),
        ("Bridges", {"sets": 3, "reps": 12, "hold_s": 3}, "plinth-1"),
    )),
    DemoPatient("Ruth", "Lindqvist", date(1941, 1, 29), 75, "Alex", (
        ("Parallel bars walk", {"sets": 3, "reps": 2}, "bars-1"),
        ("Treadmill walk", {"minutes": 6, "load": "1.5 km/h"}, "treadmill-2"),
    )),
    DemoPatient("Sam", "Whitfield", date(1988, 6, 11), None, "Priya", (
        ("Step-ups", {"sets": 3, "reps": 10, "load": "2 kg ankle weights"}, "stairs-1"),
    )),
)  # fmt: skip


def seed_demo_patients(engine: Engine, settings: Settings, *, now: datetime) -> list[tuple[DemoPatient, IssuedCard]]:
    """Create the demo patients once (with today's appointments and fresh cards); [] when already there."""
    with session_for(engine) as session:
        if session.execute(select(func.count()).select_from(Patient)).scalar_one():
            return []
    for name, instructions, kind in EXERCISES:
        add_exercise(engine, name=name, instructions=instructions, equipment_kind=kind)
    today = local_today(now, settings.tz)
    cards = []
    for demo in DEMO_PATIENTS:
        patient = add_patient(engine, first=demo.first, last=demo.last, dob=demo.dob)
        assert patient.id is not None
        if demo.starts_in_min is not None:
            starts = (now + timedelta(minutes=demo.starts_in_min)).replace(second=0, microsecond=0)
            add_appointment(
                engine, patient_id=patient.id, starts_at=starts, site=settings.site, clinician=demo.clinician
            )
        for exercise, dose, station in demo.plan:
            add_plan_item(
                engine, patient_id=patient.id, exercise=exercise, active_from=today - timedelta(days=7),
                equipment_site=settings.site, equipment_id=station, **dose,  # type: ignore[arg-type]
            )  # fmt: skip
        cards.append((demo, issue_card(engine, patient.id, base_url=settings.kiosk_url)))
    return cards
