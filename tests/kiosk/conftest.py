"""Fixtures the kiosk tests share: each app's environment (the test store, a data folder, no cached settings),
and the lobby's booked patient and her card."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine

from clinic.apps import compose_staff
from kiosk import resources
from shared.care.appointments import add_appointment
from shared.care.cards import issue_card
from shared.care.exercises import add_exercise
from shared.care.patients import add_patient
from shared.care.plans import add_plan_item
from shared.equipment.ingest import record_batch
from shared.equipment.payloads import decode
from shared.equipment.stations import register_equipment
from shared.store.db import unit_of_work
from shared.store.settings import get_settings
from tests.clock import clock_at
from tests.factories import DOB
from tests.kiosk.lobby_app import soon
from tests.kiosk.staff_app import CARE_CLOCK, CLINIC_TZ_NAME


def _app_env(monkeypatch: pytest.MonkeyPatch, *, clear: bool, **env: str) -> Iterator[None]:
    """Set CLINIC_* variables (after removing every other one when `clear`); cached settings and engines from
    other tests must not leak in, and the app's pooled connections are closed after."""
    if clear:
        for name in list(os.environ):
            if name.startswith("CLINIC_"):
                monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(f"CLINIC_{name.upper()}", value)
    get_settings.cache_clear()
    st.cache_resource.clear()
    compose_staff()  # the adapters the server registers (AppTest runs the app's script, not the server)
    yield
    resources.engine().dispose()  # the app's pooled connections, before the cache forgets the engine
    st.cache_resource.clear()
    get_settings.cache_clear()


@pytest.fixture
def staff_env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> Iterator[Path]:
    """Point the staff app at the test store and a data folder of its own; returns that data folder."""
    data = tmp_path / "data"
    env = _app_env(monkeypatch, clear=True, database_url=db_url, data_dir=str(data), timezone="UTC")
    next(env)
    yield data
    next(env, None)


@pytest.fixture
def lobby_env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path, clock: datetime) -> Iterator[None]:
    """Point the lobby at the test store, its cards at https://lobby.example; the clock at midday (UTC, the
    clinic's zone here), so "in 20 minutes" is today whatever the hour the suite runs at."""
    yield from _app_env(monkeypatch, clear=False, database_url=db_url, data_dir=str(tmp_path / "data"),
                        timezone="UTC", kiosk_url="https://lobby.example")  # fmt: skip


@pytest.fixture
def care_env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> Iterator[None]:
    """Point the staff app's care pages at the test store, the clinic in CLINIC_TZ_NAME with the clock at
    CARE_CLOCK (12:30 there)."""
    with clock_at(CARE_CLOCK):
        yield from _app_env(monkeypatch, clear=True, database_url=db_url, data_dir=str(tmp_path / "data"),
                            timezone=CLINIC_TZ_NAME)  # fmt: skip


@pytest.fixture
def patient_id(engine: Engine, lobby_env: None) -> int:
    """Maria, booked 20 minutes from now with Alex, with a plan on a treadmill that is in use."""
    with unit_of_work(engine) as session:
        patient = add_patient(session=session, first="Maria", last="Gonzalez", dob=DOB)
    assert patient.id is not None
    starts = soon(20)
    with unit_of_work(engine) as session:
        add_appointment(session=session, patient_id=patient.id, starts_at=starts, site="main", clinician="Alex")
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1", name="Treadmill 1", zone="Gym A")
    with unit_of_work(engine) as session:
        add_exercise(session=session, name="Treadmill walk", instructions="Walk at an easy pace.")
    with unit_of_work(engine) as session:
        add_plan_item(session=session, patient_id=patient.id, exercise="Treadmill walk", minutes=10,
                      equipment_id="tm-1",
                      active_from=date.today() - timedelta(days=1))  # fmt: skip
    start = b'{"event_id": "u1", "event": "start"}'
    record_batch(engine=engine, items=[decode("clinic/main/equipment/tm-1/usage", start, prefix="clinic",
                                              received_at=datetime.now(UTC))], tz=UTC)  # fmt: skip
    return patient.id


@pytest.fixture
def card_url(engine: Engine, patient_id: int) -> str:
    """The link on a new card of `patient_id`'s (the lobby at https://lobby.example)."""
    with unit_of_work(engine) as session:
        return issue_card(session=session, patient_id=patient_id, base_url="https://lobby.example").url
