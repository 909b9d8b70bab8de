"""Demo patients: an exercise library, patients with appointments today and plans on the demo stations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from shared.care.appointments import add_appointment, appointments_between
from shared.care.cards import IssuedCard, issue_card
from shared.care.exercise_images import save_image
from shared.care.exercises import add_exercise
from shared.care.models import Patient
from shared.care.patients import add_patient
from shared.care.plans import add_plan_item
from shared.demo.home_exercises import seed_demo_home_log
from shared.demo.outcomes import seed_demo_outcomes
from shared.demo.pictures import demo_picture
from shared.store.clock import local_today
from shared.store.db import read_session, unit_of_work
from shared.store.settings import Settings

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


SPANISH = {
    "Treadmill walk": ("Caminar en la cinta", "Camine a un ritmo suave y constante. Sujétese de las barras si lo "
                       "necesita. Pare si se marea."),
    "Recumbent bike": ("Bicicleta reclinada", "Siéntese recostado, con los pies en los pedales, y pedalee "
                       "con suavidad. Debería poder hablar."),
    "Parallel bars walk": ("Caminar en barras paralelas", "Sujétese de las dos barras. Camine despacio hasta el final "
                           "y vuelva, con la espalda recta."),
    "Step-ups": ("Subir escalón", "Suba con la pierna más fuerte y luego suba la otra. Baje de la misma manera."),
    "Heel raises": ("Elevación de talones", "Sujétese de la barra. Suba despacio de puntillas, pare y baje despacio."),
    "Hot pack": ("Compresa caliente", "Recuéstese cómodamente. Avísenos enseguida si la compresa quema demasiado."),
    "Bridges": ("Puente", "Túmbese boca arriba con las rodillas dobladas. Levante la cadera, mantenga y baje "
                "despacio."),
}  # fmt: skip


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


def seed_demo_patients(
    *, engine: Engine, settings: Settings, now: datetime, questionnaires: bool = True
) -> list[tuple[DemoPatient, IssuedCard]]:
    """Make sure the demo patients exist with an appointment today, and give each a fresh card to try.

    Safe to run on every start: the library and patients are created once; a demo patient without an
    appointment today gets one; cards are re-issued because only their hashes are kept. With `questionnaires`, new
    demo patients are asked the pain rating and the PSFS after check-in (shared/demo/outcomes.py). Takes the engine: it
    draws the exercise pictures (Pillow) between short units of work, so no write lock waits on the drawing.
    """
    for name, instructions, kind in EXERCISES:
        picture = save_image(settings.data_dir, demo_picture(name))
        with unit_of_work(engine) as session:
            add_exercise(session=session, name=name, instructions=instructions, equipment_kind=kind, image_file=picture,
                         name_es=SPANISH[name][0], instructions_es=SPANISH[name][1])  # fmt: skip
    today = local_today(now, settings.tz)
    cards = []
    for demo in DEMO_PATIENTS:
        patient_id = _demo_patient_id(engine, demo, today, settings.site, now if questionnaires else None)
        if demo.starts_in_min is not None and not _has_appointment_today(engine, patient_id, settings, now):
            starts = (now + timedelta(minutes=demo.starts_in_min)).replace(second=0, microsecond=0)
            with unit_of_work(engine) as session:
                add_appointment(
                    session=session,
                    patient_id=patient_id,
                    starts_at=starts,
                    site=settings.site,
                    clinician=demo.clinician,
                )
        with unit_of_work(engine) as session:  # a week of home exercises ticked on a take-home link (Maria, James)
            seed_demo_home_log(session=session, patient_id=patient_id, first=demo.first, settings=settings, now=now)
        with unit_of_work(engine) as session:
            cards.append(
                (demo, issue_card(session=session, patient_id=patient_id, base_url=settings.resolved_kiosk_url))
            )
    return cards


def existing_demo_patients(*, session: Session) -> list[tuple[DemoPatient, int]]:
    """The demo patients already in the store with their ids; creates and re-issues nothing."""
    found = ((demo, _find_demo_patient(session, demo)) for demo in DEMO_PATIENTS)
    return [(demo, patient_id) for demo, patient_id in found if patient_id is not None]


def _find_demo_patient(session: Session, demo: DemoPatient) -> int | None:
    """The id of the patient with the demo patient's name and birth date, if there is one."""
    query = select(Patient.id).where(
        Patient.first_name == demo.first, Patient.last_name == demo.last, Patient.dob == demo.dob
    )
    return session.exec(query).first()


def _demo_patient_id(engine: Engine, demo: DemoPatient, today: date, site: str, now: datetime | None) -> int:
    """The demo patient's id, creating the patient, their plan and their questionnaires the first time."""
    with read_session(engine) as session:
        found = _find_demo_patient(session, demo)
    if found is not None:
        return found
    with unit_of_work(engine) as session:  # the patient with their plan, all or nothing
        patient = add_patient(session=session, first=demo.first, last=demo.last, dob=demo.dob)
        assert patient.id is not None
        for exercise, dose, station in demo.plan:
            add_plan_item(
                session=session,
                patient_id=patient.id,
                exercise=exercise,
                active_from=today - timedelta(days=7),
                equipment_id=station,
                **dose,  # type: ignore[arg-type]
            )
        if now is not None:  # None: without questionnaires
            seed_demo_outcomes(session=session, patient_id=patient.id, first=demo.first, site=site, now=now)
    return patient.id


def _has_appointment_today(engine: Engine, patient_id: int, settings: Settings, now: datetime) -> bool:
    day_start = datetime.combine(local_today(now, settings.tz), time.min, tzinfo=settings.tz)
    with read_session(engine) as session:
        todays = appointments_between(
            session=session, site=settings.site, start=day_start, end=day_start + timedelta(days=1)
        )
    return any(a.patient_id == patient_id and a.starts_at >= now - timedelta(minutes=30) for a in todays)
