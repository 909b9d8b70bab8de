"""Stations in the patient's language: staff's Spanish name is kept, changed, cleared and audited; today's plan
gives a Spanish-speaking patient that name, or the kind's word and number."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from typer.testing import CliRunner

from clinic.cli import app
from shared.care.exercises import add_exercise
from shared.care.patients import add_patient
from shared.care.plans import add_plan_item
from shared.care.todays_plan import todays_plan
from shared.equipment.station_names import given_names, set_station_name
from shared.equipment.stations import register_equipment
from shared.staff.models import AuditEntry
from shared.store.db import read_session, unit_of_work
from shared.store.errors import NotFound, ValidationFailed

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def test_staff_keep_change_and_clear_a_stations_spanish_name(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1", name="Treadmill 1", kind="treadmill")
        set_station_name(session=session, site="main", equipment_id="tm-1", lang="es", name=" Cinta  de la ventana ",
                         actor="boss")  # fmt: skip
    with read_session(engine) as session:
        assert given_names(session=session, site="main", lang="es") == {"tm-1": "Cinta de la ventana"}
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "equipment.name")).one()
        assert (entry.actor, entry.target, json.loads(entry.detail)) == (
            "boss", "main/tm-1", {"lang": "es", "name": "Cinta de la ventana"})  # fmt: skip
    with unit_of_work(engine) as session:
        set_station_name(session=session, site="main", equipment_id="tm-1", lang="es", name="")
    with read_session(engine) as session:
        assert given_names(session=session, site="main", lang="es") == {}
    with unit_of_work(engine) as session, pytest.raises(ValidationFailed, match="language 'en'"):
        set_station_name(session=session, site="main", equipment_id="tm-1", lang="en", name="x")
    with unit_of_work(engine) as session, pytest.raises(NotFound):
        set_station_name(session=session, site="main", equipment_id="nope", lang="es", name="x")


def test_todays_plan_names_the_stations_in_spanish(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1", name="Treadmill 1", kind="treadmill")
        register_equipment(session=session, site="main", equipment_id="bars-1", name="Parallel bars",
                           kind="parallel_bars")  # fmt: skip
        set_station_name(session=session, site="main", equipment_id="bars-1", lang="es", name="Barras del fondo")
        patient = add_patient(session=session, first="Ana", last="Ruiz", dob=date(1950, 1, 2))
        assert patient.id is not None
        for name, station in (("Treadmill walk", "tm-1"), ("Heel raises", "bars-1")):
            add_exercise(session=session, name=name, instructions="")
            add_plan_item(session=session, patient_id=patient.id, exercise=name, minutes=5, equipment_id=station,
                          active_from=date(2026, 11, 1))  # fmt: skip
    with read_session(engine) as session:
        lines = todays_plan(session=session, patient_id=patient.id, day=date(2026, 11, 23), site="main", tz=UTC,
                            now=NOW)  # fmt: skip
    assert [line.station_name("es") for line in lines] == ["Cinta de correr 1", "Barras del fondo"]
    assert [line.station_name("en") for line in lines] == ["Treadmill 1", "Parallel bars"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_clinic_device_add_keeps_the_spanish_name(cli: CliRunner, engine: Engine) -> None:
    result = cli.invoke(app, ["device", "add", "tm-1", "--name", "Treadmill 1", "--name-es", "Cinta 1", "--json"])
    assert result.exit_code == 0, result.stderr
    with read_session(engine) as session:
        assert given_names(session=session, site="main", lang="es") == {"tm-1": "Cinta 1"}
    assert cli.invoke(app, ["device", "add", "tm-1", "--name-es", ""]).exit_code == 0
    with read_session(engine) as session:
        assert given_names(session=session, site="main", lang="es") == {}
