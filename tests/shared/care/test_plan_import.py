"""Plan CSV import on real SQLite and PostgreSQL: all or nothing, line numbers, positions, defaults."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, func, select

from shared.care.exercises import add_exercise
from shared.care.models import PlanItem
from shared.care.patients import add_patient
from shared.care.plan_import import import_plan_csv
from shared.care.plans import add_plan_item
from shared.store.db import unit_of_work
from shared.store.errors import ValidationFailed

TODAY = date(2026, 11, 23)
HEADER = "patient_id,exercise,sets,reps,hold_s,minutes,load,station,notes,from,to\n"


@pytest.fixture
def patient_id(engine: Engine) -> int:
    """Maria with one plan line already, and a two-exercise library."""
    with unit_of_work(engine) as session:
        patient = add_patient(session=session, first="Maria", last="Gonzalez", dob=date(1950, 4, 17))
    assert patient.id is not None
    with unit_of_work(engine) as session:
        add_exercise(session=session, name="Heel raises")
    with unit_of_work(engine) as session:
        add_exercise(session=session, name="Treadmill walk")
    with unit_of_work(engine) as session:
        add_plan_item(
            session=session, patient_id=patient.id, exercise="Heel raises", sets=3, reps=10, active_from=TODAY
        )
    return patient.id


def plan_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(PlanItem)).scalar_one())


def test_import_appends_in_file_order_with_defaults(engine: Engine, patient_id: int) -> None:
    text = HEADER + (
        f"{patient_id},Treadmill walk,,,,10,1.5 km/h,treadmill-1,easy pace,,\n"
        f"{patient_id}, Heel  raises ,2,8,3,,,,,2026-11-20,2026-12-31\n"
    )
    with unit_of_work(engine) as session:
        items = import_plan_csv(session=session, text=text, site="main", today=TODAY)
    assert [(i.position, i.minutes, i.equipment_site, i.equipment_id, i.active_from) for i in items] == [
        (2, 10.0, "main", "treadmill-1", TODAY),
        (3, None, None, None, date(2026, 11, 20)),
    ]
    assert (items[1].sets, items[1].reps, items[1].hold_s, items[1].active_to) == (2, 8, 3, date(2026, 12, 31))
    assert (items[0].load, items[0].notes) == ("1.5 km/h", "easy pace")
    assert plan_count(engine) == 3


def test_only_patient_and_exercise_columns_are_required(engine: Engine, patient_id: int) -> None:
    with unit_of_work(engine) as session:
        items = import_plan_csv(
            session=session, text=f"\ufeffexercise,patient_id\nHeel raises,{patient_id}\n", site="main", today=TODAY
        )
    assert [(i.exercise_id is not None, i.active_from, i.sets) for i in items] == [(True, TODAY, None)]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("99,Heel raises,,,,,,,,,", "line 3: no patient with id '99'; nothing was imported"),
        ("{pid},Yoga,,,,,,,,,", "line 3: no exercise named 'Yoga' in the library; nothing was imported"),
        ("{pid},Heel raises,three,,,,,,,,", "line 3: sets 'three' is not a whole number; nothing was imported"),
        ("{pid},Heel raises,,,,ten,,,,,", "line 3: minutes 'ten' is not a number; nothing was imported"),
        ("{pid},Heel raises,0,,,,,,,,", "line 3: sets must be between 1 and 1000; nothing was imported"),
        ("{pid},Heel raises,,,,,,Bad Id,,,", "line 3: station 'Bad Id' is not an equipment id"),
        ("{pid},Heel raises,,,,,,,,17/04/2026,", "line 3: from '17/04/2026' is not a date like 1950-04-17"),
        ("{pid},Heel raises,,,,,,,,2026-11-23,2026-11-01", "line 3: the plan cannot end before it starts"),
        ("{pid},Heel raises,,,,," + "x" * 61 + ",,,,", "line 3: load is longer than 60 characters"),
    ],
)
def test_one_bad_row_names_its_line_and_imports_nothing(
    engine: Engine, patient_id: int, row: str, message: str
) -> None:
    text = HEADER + f"{patient_id},Treadmill walk,,,,10,,,,,\n" + row.format(pid=patient_id) + "\n"
    with pytest.raises(ValidationFailed) as caught, unit_of_work(engine) as session:
        import_plan_csv(session=session, text=text, site="main", today=TODAY)
    assert str(caught.value).startswith(message)
    assert plan_count(engine) == 1


def test_a_missing_required_column_is_refused(engine: Engine, patient_id: int) -> None:
    with (
        pytest.raises(ValidationFailed, match=r"^line 1: missing column\(s\) exercise; expected patient_id,"),
        unit_of_work(engine) as session,
    ):
        import_plan_csv(session=session, text=f"patient_id,sets\n{patient_id},3\n", site="main", today=TODAY)


def test_add_plan_item_refuses_a_load_too_long_for_the_column(engine: Engine, patient_id: int) -> None:
    with pytest.raises(ValidationFailed, match="load is longer than 60 characters"), unit_of_work(engine) as session:
        add_plan_item(session=session, patient_id=patient_id, exercise="Heel raises", load="x" * 61, active_from=TODAY)
