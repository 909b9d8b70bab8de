"""Exercise library and plan editing on real SQLite and PostgreSQL: list, edit, reorder, end; each audited."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine

from shared.care.exercises import add_exercise, list_exercises, update_exercise
from shared.care.patients import add_patient
from shared.care.plans import add_plan_item, end_plan_item, list_plan_items, move_plan_item, update_plan_item
from shared.care.todays_plan import todays_plan
from shared.staff.audit import recent_audit
from shared.store.db import read_session, unit_of_work
from shared.store.errors import NotFound, ValidationFailed

TODAY = date(2026, 11, 23)


def actions(engine: Engine) -> list[tuple[str, str, dict[str, object]]]:
    with read_session(engine) as session:
        return [(a.actor, a.action, json.loads(a.detail)) for a in reversed(recent_audit(session=session))]


@pytest.fixture
def patient_id(engine: Engine) -> int:
    """Maria with three lines (Bridges, Heel raises, Treadmill walk) from a week ago, in that order."""
    with unit_of_work(engine) as session:
        patient = add_patient(session=session, first="Maria", last="Gonzalez", dob=date(1950, 4, 17))
    assert patient.id is not None
    for name in ("Heel raises", "Bridges", "Treadmill walk"):
        with unit_of_work(engine) as session:
            add_exercise(session=session, name=name)
    for name in ("Bridges", "Heel raises", "Treadmill walk"):
        with unit_of_work(engine) as session:
            add_plan_item(
                session=session, patient_id=patient.id, exercise=name, sets=2, active_from=TODAY - timedelta(days=7)
            )
    return patient.id


def names(engine: Engine, patient_id: int, today: date | None = TODAY) -> list[str]:
    with read_session(engine) as session:
        return [row.exercise for row in list_plan_items(session=session, patient_id=patient_id, today=today)]


def test_exercises_are_listed_by_name_and_edited_in_place(engine: Engine, patient_id: int) -> None:
    with read_session(engine) as session:
        assert [e.name for e in list_exercises(session=session)] == ["Bridges", "Heel raises", "Treadmill walk"]
        walk = next(e for e in list_exercises(session=session) if e.name == "Treadmill walk")
    assert walk.id is not None
    with unit_of_work(engine) as session:
        update_exercise(session=session, exercise_id=walk.id, name=" Walking  ", instructions=" Walk slowly. ",
                        equipment_kind="treadmill",
                        actor="boss")  # fmt: skip
    with read_session(engine) as session:
        edited = next(e for e in list_exercises(session=session) if e.id == walk.id)
    assert (edited.name, edited.instructions, edited.equipment_kind) == ("Walking", "Walk slowly.", "treadmill")
    assert names(engine, patient_id) == ["Bridges", "Heel raises", "Walking"]  # the plan follows the rename
    with unit_of_work(engine) as session:
        update_exercise(session=session, exercise_id=walk.id, equipment_kind="", actor="boss")
    with read_session(engine) as session:
        assert next(e for e in list_exercises(session=session) if e.id == walk.id).equipment_kind is None
    with unit_of_work(engine) as session:
        update_exercise(
            session=session, exercise_id=walk.id, name="Walking", actor="boss"
        )  # nothing changed: nothing recorded
    assert actions(engine) == [
        ("boss", "exercise.update", {"changed": ["name", "instructions", "equipment_kind"]}),
        ("boss", "exercise.update", {"changed": ["equipment_kind"]}),
    ]


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"name": "   "}, ValidationFailed, "exercise name must be 1 to 120 characters"),
        ({"name": "Bridges"}, ValidationFailed, "an exercise named 'Bridges' is already in the library"),
        ({"instructions": "x" * 5001}, ValidationFailed, "instructions are longer than 5000 characters"),
        ({"equipment_kind": "k" * 65}, ValidationFailed, "equipment kind is longer than 64 characters"),
        ({"image_url": "javascript:alert(1)"}, ValidationFailed, "image address must be an http(s) link"),
    ],
)
def test_exercise_edits_are_checked(
    engine: Engine, patient_id: int, fields: dict[str, str], error: type[Exception], message: str
) -> None:
    with read_session(engine) as session:
        heel = next(e for e in list_exercises(session=session) if e.name == "Heel raises")
    assert heel.id is not None
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")), unit_of_work(engine) as session:
        update_exercise(session=session, exercise_id=heel.id, actor="boss", **fields)
    with read_session(engine) as session:
        assert [e.name for e in list_exercises(session=session)] == ["Bridges", "Heel raises", "Treadmill walk"]


def test_adding_an_existing_name_can_be_refused_and_unknown_ids_are_not_found(engine: Engine, patient_id: int) -> None:
    with (
        pytest.raises(ValidationFailed, match="an exercise named 'Bridges' is already in the library; edit that one"),
        unit_of_work(engine) as session,
    ):
        add_exercise(session=session, name=" Bridges", replace=False, actor="boss")
    with unit_of_work(engine) as session:
        add_exercise(session=session, name="Clamshells", instructions="Knees apart.", replace=False, actor="boss")
    assert actions(engine) == [("boss", "exercise.add", {})]
    with pytest.raises(NotFound, match="no exercise with id 999"), unit_of_work(engine) as session:
        update_exercise(session=session, exercise_id=999, name="X")


def test_list_shows_lines_in_order_with_the_dose(engine: Engine, patient_id: int) -> None:
    with read_session(engine) as session:
        rows = list_plan_items(session=session, patient_id=patient_id, today=TODAY)
    assert [(r.position, r.exercise, r.dose) for r in rows] == [
        (1, "Bridges", "2 sets"), (2, "Heel raises", "2 sets"), (3, "Treadmill walk", "2 sets"),
    ]  # fmt: skip
    with pytest.raises(NotFound, match="no patient with id 999"), read_session(engine) as session:
        list_plan_items(session=session, patient_id=999)


def test_update_replaces_the_line_and_checks_it(engine: Engine, patient_id: int) -> None:
    with read_session(engine) as session:
        line = list_plan_items(session=session, patient_id=patient_id)[1]
    with unit_of_work(engine) as session:
        update_plan_item(session=session, item_id=line.id, exercise="Treadmill walk", minutes=12.5, load=" 2 km/h ",
                         equipment_site="main",
                         equipment_id="tm-1", notes="easy", active_from=TODAY, active_to=TODAY + timedelta(days=30),
                         actor="boss")  # fmt: skip
    with read_session(engine) as session:
        row = list_plan_items(session=session, patient_id=patient_id)[1]
    assert (row.position, row.exercise, row.sets, row.dose, row.equipment_id, row.notes, row.active_to) == (
        2, "Treadmill walk", None, "12.5 min, 2 km/h", "tm-1", "easy", TODAY + timedelta(days=30),
    )  # fmt: skip
    assert actions(engine)[-1] == ("boss", "plan.update", {"item": line.id, "changed": [
        "exercise_id", "sets", "minutes", "load", "equipment_site", "equipment_id", "notes", "active_from",
        "active_to"]})  # fmt: skip
    for fields, message in (
        ({"exercise": "Yoga"}, "no exercise named 'Yoga' in the library"),
        ({"exercise": "Bridges", "sets": 0}, "sets must be between 1 and 1000"),
        ({"exercise": "Bridges", "equipment_id": "Tread Mill"}, "station 'Tread Mill' is not an equipment id"),
        ({"exercise": "Bridges", "active_to": TODAY - timedelta(days=1)}, "the plan cannot end before it starts"),
    ):
        with pytest.raises((ValidationFailed, NotFound), match=message), unit_of_work(engine) as session:
            update_plan_item(session=session, item_id=line.id, active_from=TODAY, actor="boss", **fields)
    with read_session(engine) as session:
        assert list_plan_items(session=session, patient_id=patient_id)[1].exercise == "Treadmill walk"
    with pytest.raises(NotFound, match="no plan line with id 999"), unit_of_work(engine) as session:
        update_plan_item(session=session, item_id=999, exercise="Bridges", active_from=TODAY)


def test_moving_swaps_neighbours_and_stops_at_the_ends(engine: Engine, patient_id: int) -> None:
    with read_session(engine) as session:
        first, second, third = list_plan_items(session=session, patient_id=patient_id)
    with unit_of_work(engine) as session:
        assert move_plan_item(session=session, item_id=third.id, direction="up", today=TODAY, actor="boss")
    assert names(engine, patient_id) == ["Bridges", "Treadmill walk", "Heel raises"]
    with unit_of_work(engine) as session:
        assert move_plan_item(session=session, item_id=first.id, direction="down", today=TODAY, actor="boss")
    assert names(engine, patient_id) == ["Treadmill walk", "Bridges", "Heel raises"]
    with unit_of_work(engine) as session:
        assert not move_plan_item(
            session=session, item_id=third.id, direction="up", today=TODAY
        )  # the walk is first now
    assert names(engine, patient_id) == ["Treadmill walk", "Bridges", "Heel raises"]
    with unit_of_work(engine) as session:
        assert not move_plan_item(
            session=session, item_id=second.id, direction="down", today=TODAY
        )  # Heel raises is last
    with read_session(engine) as session:
        assert [r.position for r in list_plan_items(session=session, patient_id=patient_id)] == [1, 2, 3]
    assert [a[2] for a in actions(engine)] == [
        {"item": third.id, "direction": "up"}, {"item": first.id, "direction": "down"},
    ]  # fmt: skip
    with (
        pytest.raises(ValidationFailed, match="direction 'left' is not 'up' or 'down'"),
        unit_of_work(engine) as session,
    ):
        move_plan_item(session=session, item_id=first.id, direction="left", today=TODAY)  # type: ignore[arg-type]


def test_moving_skips_ended_lines_and_renumbers_ties(engine: Engine, patient_id: int) -> None:
    with read_session(engine) as session:
        first, second, third = list_plan_items(session=session, patient_id=patient_id)
    with unit_of_work(engine) as session:
        end_plan_item(session=session, item_id=second.id, today=TODAY)
    assert names(engine, patient_id) == ["Bridges", "Treadmill walk"]
    with unit_of_work(engine) as session:
        assert move_plan_item(session=session, item_id=third.id, direction="up", today=TODAY)
    assert names(engine, patient_id) == ["Treadmill walk", "Bridges"]
    with unit_of_work(engine) as session:
        add_plan_item(
            session=session, patient_id=patient_id, exercise="Heel raises", active_from=TODAY, position=1
        )  # a tie
    with unit_of_work(engine) as session:
        assert move_plan_item(session=session, item_id=first.id, direction="up", today=TODAY)
    with read_session(engine) as session:
        assert [r.position for r in list_plan_items(session=session, patient_id=patient_id, today=None)] == [1, 2, 3, 4]


def test_ending_a_line_hides_it_from_today_on_and_keeps_its_history(engine: Engine, patient_id: int) -> None:
    with read_session(engine) as session:
        first = list_plan_items(session=session, patient_id=patient_id)[0]
    with unit_of_work(engine) as session:
        assert end_plan_item(session=session, item_id=first.id, today=TODAY, actor="boss") is False
    assert names(engine, patient_id) == ["Heel raises", "Treadmill walk"]
    assert names(engine, patient_id, today=None) == ["Bridges", "Heel raises", "Treadmill walk"]
    from datetime import UTC

    with read_session(engine) as session:
        shown = todays_plan(session=session, patient_id=patient_id, day=TODAY, site="main", tz=UTC)
    assert [line.exercise for line in shown] == ["Heel raises", "Treadmill walk"]
    with read_session(engine) as session:
        yesterday = todays_plan(
            session=session, patient_id=patient_id, day=TODAY - timedelta(days=1), site="main", tz=UTC
        )
    assert [line.exercise for line in yesterday] == ["Bridges", "Heel raises", "Treadmill walk"]
    with unit_of_work(engine) as session:
        assert (
            end_plan_item(session=session, item_id=first.id, today=TODAY + timedelta(days=5)) is False
        )  # an earlier end is kept
    with read_session(engine) as session:
        assert list_plan_items(session=session, patient_id=patient_id, today=None)[0].active_to == TODAY - timedelta(
            days=1
        )
    assert actions(engine) == [
        ("boss", "plan.end", {"item": first.id, "removed": False, "active_to": str(TODAY - timedelta(days=1))})
    ]


def test_ending_a_line_that_starts_today_or_later_removes_it(engine: Engine, patient_id: int) -> None:
    with unit_of_work(engine) as session:
        new = add_plan_item(session=session, patient_id=patient_id, exercise="Bridges", active_from=TODAY, actor="boss")
    assert new.id is not None
    with unit_of_work(engine) as session:
        assert end_plan_item(session=session, item_id=new.id, today=TODAY, actor="boss") is True
    with read_session(engine) as session:
        assert len(list_plan_items(session=session, patient_id=patient_id, today=None)) == 3
    assert [a[1] for a in actions(engine)] == ["plan.add", "plan.end"]
    with pytest.raises(NotFound, match=f"no plan line with id {new.id}"), unit_of_work(engine) as session:
        end_plan_item(session=session, item_id=new.id, today=TODAY)
