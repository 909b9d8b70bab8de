"""Schema migrations: a store of the last release before migrations upgrades and keeps its data; the models and
the head revision agree on both backends; a store newer than the code stops every command.

tests/fixtures/store_364688b.sql is a real store of release 364688b: that commit's `clinic init`, `clinic seed
--demo`, `clinic staff add frontdesk`, three device events and a dead letter through its ingest, Maria checked
in with `clinic checkin`, one session feedback; dumped with sqlite3's iterdump (CLINIC_TIMEZONE=UTC).

Revision 0002's backfill of the day rollups is frozen in the revision: after an upgrade its rows must equal what
today's `rebuild_days` computes from the same events, on the fixture and on a long, untidy made-up history.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    insert,
    text,
)

from shared.care.patients import get_patient
from shared.care.plans import list_plan_items
from shared.equipment.dead_letters import list_dead_letters
from shared.equipment.events import DeviceEvent
from shared.equipment.rollups import rebuild_days
from shared.equipment.stations import list_stations
from shared.staff.sign_in import sign_in
from shared.store.db import init_db, make_engine, read_session, unit_of_work
from shared.store.errors import ClinicError
from shared.store.schema import (
    BASELINE,
    SchemaTooNew,
    _migration_connection,
    alembic_config,
    head_revision,
    model_changes,
    script_directory,
    store_status,
    upgrade_store,
)
from shared.store.settings import Settings, get_settings
from shared.tables import metadata
from tests.conftest import new_pg_database
from tests.lobby_steps import check_in

FIXTURE = Path(__file__).parent / "fixtures" / "store_364688b.sql"
CHICAGO = ZoneInfo("America/Chicago")  # its midnight is 05:00 or 06:00 UTC: days split where UTC's do not
MARIA_CARD = "zB9Es7ZLxHFBLpSdgjYD_Hrvm8v2m5VO"  # checked in by the old release
JAMES_CARD = "Ip9jl-IeGtM02VEzEnULZSJMy2G59I4w"  # booked for 2026-12-02 00:03 UTC, not yet checked in
JAMES_APPOINTMENT = datetime(2026, 12, 2, 0, 3, tzinfo=UTC)
STAFF_PASSWORD = "Sup3r-secret-pass!"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store with nothing in it on each backend (its own PostgreSQL database, dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    with new_pg_database("clinic_mig") as url:
        yield url


def old_rows() -> dict[str, list[dict[str, object]]]:
    """The fixture's rows, table by table, read back through SQLite."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(FIXTURE.read_text())
    conn.row_factory = sqlite3.Row
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t: [dict(row) for row in conn.execute(f'SELECT * FROM "{t}"')] for t in tables}


def load_old_rows(engine: Engine) -> None:
    """Insert the fixture's rows into a store at the baseline, typed by the store's own (reflected) columns."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.begin() as conn:
        for table in meta.sorted_tables:
            rows = old_rows().get(table.name, [])
            if rows:
                conn.execute(insert(table), [_typed(table, row) for row in rows])
        if engine.dialect.name == "postgresql":  # explicit ids leave the sequences behind
            for table in meta.sorted_tables:
                if "id" in table.c and isinstance(table.c.id.type, Integer):
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                      f"(SELECT coalesce(max(id), 1) FROM {table.name}))"))  # fmt: skip


def _typed(table: Table, row: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, value in row.items():
        kind = table.c[name].type
        if value is not None and isinstance(kind, DateTime):
            value = datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
        elif value is not None and isinstance(kind, Date):
            value = date.fromisoformat(str(value))
        elif value is not None and isinstance(kind, Boolean):
            value = bool(value)
        out[name] = value
    return out


def settings() -> Settings:
    return Settings(timezone="UTC", kiosk_url="http://localhost:8501", _env_file=None)  # type: ignore[call-arg]


def station_days(conn: Connection) -> list[tuple[Any, ...]]:
    """Every rollup row, in key order."""
    query = text(
        "SELECT site, equipment_id, day, uses, in_use_seconds, cleanings, faults, uses_needing_cleaning, "
        "cleaned_before_next_use, clean_wait_minutes FROM station_day ORDER BY site, equipment_id, day"
    )
    return [tuple(row) for row in conn.execute(query)]


def assert_rollups_as_rebuilt_today(engine: Engine, tz: tzinfo) -> list[tuple[Any, ...]]:
    """The rows the upgrade left in `station_day` are those today's `rebuild_days` computes (then rolled back)."""
    with engine.connect() as conn:
        upgraded = station_days(conn)
    with engine.connect() as conn, conn.begin() as rebuilt:
        rebuild_days(conn, tz=tz)
        assert station_days(conn) == upgraded
        rebuilt.rollback()
    return upgraded


def assert_old_data_kept(engine: Engine) -> None:
    """Patients, appointments, plans, devices, events, dead letters, staff and cards as the old release left them."""
    with read_session(engine) as session:
        maria = get_patient(session=session, patient_id=1)
    assert (maria.first_name, maria.dob) == ("Maria", date(1950, 4, 17))
    with read_session(engine) as session:
        plan = list_plan_items(session=session, patient_id=1, today=date(2026, 12, 1))
    assert [row.exercise for row in plan] == ["Treadmill walk", "Heel raises", "Hot pack"]
    with read_session(engine) as session:
        stations = {s.id: s for s in list_stations(session=session, tz=UTC)}
    assert len(stations) == 11
    assert stations["treadmill-1"].uses_total == 1
    assert stations["treadmill-1"].last_cleaned_by == "Sam"
    with engine.connect() as conn:  # 0002 filled the daily rollups the charts read from the old event log
        days = {r.equipment_id: (r.uses, r.cleanings) for r in conn.execute(text("SELECT * FROM station_day"))}
    assert days["treadmill-1"] == (1, 1)
    with read_session(engine) as session:
        assert next(d.reason for d in list_dead_letters(session=session)).startswith("payload is not JSON")
    with unit_of_work(engine) as session:
        assert (
            sign_in(session=session, username="frontdesk", password=STAFF_PASSWORD, now=JAMES_APPOINTMENT).user
            is not None
        )
    already = check_in(engine=engine, settings=settings(), scan=MARIA_CARD, now=JAMES_APPOINTMENT)
    assert already.result == "already_checked_in"
    james = check_in(engine=engine, settings=settings(), scan=JAMES_CARD, now=JAMES_APPOINTMENT)
    assert (james.result, james.display_name, james.clinician) == ("checked_in", "James O.", "Priya")
    assert james.appointment_at == JAMES_APPOINTMENT


def test_the_migrations_have_one_line_of_history_from_the_baseline() -> None:
    script = script_directory()
    assert script.get_bases() == [BASELINE]
    assert script.get_heads() == [head_revision()]


def test_models_and_head_revision_agree(engine: Engine) -> None:
    """A model change without its revision fails here (CI runs it on SQLite and PostgreSQL)."""
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert model_changes(conn) == diff
    assert diff == [], "the models differ from the head revision: add one with `clinic db revision -m ...`"


def test_a_real_store_of_release_364688b_upgrades_and_keeps_its_data(tmp_path: Path) -> None:
    store = tmp_path / "clinic.db"
    with sqlite3.connect(store) as conn:
        conn.executescript(FIXTURE.read_text())
    env = {
        **os.environ,
        "CLINIC_DATABASE_URL": f"sqlite:///{store}",
        "CLINIC_DATA_DIR": str(tmp_path / "data"),
        "CLINIC_TIMEZONE": "UTC",
    }
    before = _clinic(env, "db", "current")
    assert "made before migrations" in before.stdout
    done = _clinic(env, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert f"adopted and upgraded to {head_revision()}" in done.stdout
    again = _clinic(env, "db", "upgrade")
    assert f"schema {head_revision()}, up to date" in again.stdout
    engine = make_engine(f"sqlite:///{store}")
    try:
        assert_rollups_as_rebuilt_today(engine, UTC)
        assert_old_data_kept(engine)
    finally:
        engine.dispose()


@pytest.mark.parametrize("versioned", [True, False], ids=["at-baseline", "before-migrations"])
def test_a_filled_baseline_store_upgrades_to_head_and_keeps_its_data(
    empty_url: str, versioned: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLINIC_TIMEZONE", "UTC")  # the zone the fixture was made in, which 0002's backfill reads
    get_settings.cache_clear()
    engine = make_engine(empty_url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), BASELINE)
            if not versioned:  # what the releases before migrations left: tables, no version
                conn.execute(text("DROP TABLE alembic_version"))
        load_old_rows(engine)
        assert store_status(engine).legacy is not versioned
        result = upgrade_store(engine)
        assert (result.after, result.adopted) == (head_revision(), not versioned)
        assert store_status(engine).up_to_date
        assert_rollups_as_rebuilt_today(engine, UTC)
        assert_old_data_kept(engine)
    finally:
        engine.dispose()
        get_settings.cache_clear()


def made_up_history(seed: int) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Stations (some cleaned after use) and a long event history at the baseline's columns: sessions with and
    without ids, stops with and without durations, starts that close a session whose stop comes later, cleanings,
    faults, device clocks missing or wrong, several events at one instant, days that end at Chicago's midnight,
    and a few rows whose stored order (event_at as an older release stored it) differs from their device time."""
    rng = random.Random(seed)
    t0 = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # 21:00 the evening before in Chicago
    equipment = [
        {"site": site, "id": f"{site}-{n}", "name": f"Bike {n}", "kind": "bike", "zone": "Gym",
         "clean_after_use": n % 3 != 0, "maintenance_interval_hours": None, "created_at": t0}
        for site in ("main", "annex") for n in range(4)
    ]  # fmt: skip
    events: list[dict[str, object]] = []
    for station in equipment:
        at, session = t0, 0
        for n in range(90):
            at += timedelta(minutes=rng.choice([0, 1, 4, 20, 45, 200]))
            channel, name = rng.choices(
                [("usage", "start"), ("usage", "stop"), ("cleaning", "cleaned"), ("fault", "fault"),
                 ("fault", "cleared")], weights=[5, 5, 3, 1, 1])[0]  # fmt: skip
            session_id: str | None = None
            duration: float | None = None
            if channel == "usage":
                if name == "start":
                    session += 1
                session_id = rng.choice([f"s{session}", f"s{session - 1}", None])
                if name == "stop" and rng.random() < 0.6:
                    duration = rng.choice([0.0, 30.0, 600.0, 5400.0, -5.0])
            received = at + timedelta(seconds=rng.choice([0, 2, 30]))
            clocks = [at, None, at + timedelta(days=2), at - timedelta(days=9)]  # right, none, ahead, far behind
            device_ts = rng.choices(clocks, weights=[12, 2, 1, 1])[0]
            event = DeviceEvent(
                site=str(station["site"]),
                equipment_id=str(station["id"]),
                channel=channel,
                event=name,  # type: ignore[arg-type]
                event_id=f"e{n}",
                received_at=received,
                device_ts=device_ts,
                session_id=session_id,
                duration_s=duration,
                severity=rng.choice(["warning", "critical"]) if name == "fault" else None,
                code="E1" if channel == "fault" else None,
                by="Sam" if channel == "cleaning" else None,
            )
            stored_at = event.event_at if rng.random() < 0.93 else received + timedelta(minutes=rng.choice([-90, 90]))
            events.append({
                "site": event.site, "equipment_id": event.equipment_id, "event_id": event.event_id,
                "channel": channel, "event": name, "device_ts": device_ts, "event_at": stored_at,
                "received_at": received, "session_id": session_id, "duration_s": duration, "code": event.code,
                "severity": event.severity, "message": None, "by": event.by, "method": None, "metrics": None,
                "source": "device",
            })  # fmt: skip
    return equipment, events


def test_revision_0002_backfills_the_rollups_as_todays_rebuild_days_computes_them(empty_url: str) -> None:
    """The backfill frozen in 0002 and today's rollup code agree on a long, untidy history (in Chicago's days)."""
    engine = make_engine(empty_url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), BASELINE)
        meta = MetaData()
        meta.reflect(engine, only=["equipment", "equipment_event"])
        equipment, events = made_up_history(seed=24)
        with engine.begin() as conn:
            conn.execute(insert(meta.tables["equipment"]), equipment)
            conn.execute(insert(meta.tables["equipment_event"]), events)
        with _migration_connection(engine) as conn, conn.begin():
            config = alembic_config(conn)
            config.attributes["clinic_tz"] = CHICAGO
            command.upgrade(config, "head")
        days = assert_rollups_as_rebuilt_today(engine, CHICAGO)
        assert len(days) > 2 * len(equipment), "several local days per station"
        for column, name in enumerate(("uses", "in_use_seconds", "cleanings", "faults", "uses_needing_cleaning",
                                       "cleaned_before_next_use"), start=3):  # fmt: skip
            assert sum(row[column] for row in days) > 0, f"the history exercises {name}"
    finally:
        engine.dispose()


def test_batch_mode_rebuilds_a_parent_table_without_losing_its_children(tmp_path: Path) -> None:
    """SQLite cannot ALTER most things: batch mode copies the table, with foreign keys off so nothing cascades."""
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        init_db(engine)
        load_old_rows(engine)
        with _migration_connection(engine) as conn, conn.begin():
            ops = Operations(MigrationContext.configure(conn))
            with ops.batch_alter_table("patient", recreate="always") as batch:
                batch.add_column(Column("preferred_name", Text(), nullable=True))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM appointment")).scalar() == 3
            assert conn.execute(text("SELECT count(*) FROM qr_token")).scalar() == 4
            assert conn.execute(text("SELECT count(*) FROM plan_item")).scalar() == 9
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1  # back on for the app
    finally:
        engine.dispose()


def test_a_store_newer_than_the_code_stops_commands_and_the_listener(tmp_path: Path) -> None:
    store = tmp_path / "clinic.db"
    engine = make_engine(f"sqlite:///{store}")
    try:
        init_db(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(SchemaTooNew, match="schema revision 9999, which this version of clinic does not know"):
            init_db(engine)
        assert issubclass(SchemaTooNew, ClinicError)
    finally:
        engine.dispose()
    env = {**os.environ, "CLINIC_DATABASE_URL": f"sqlite:///{store}", "CLINIC_DATA_DIR": str(tmp_path / "data")}
    for argv in (("listen",), ("equipment", "list"), ("init",), ("db", "upgrade"), ("db", "current")):
        done = _clinic(env, *argv)
        assert done.returncode == 2, (argv, done.stdout, done.stderr)
        assert "9999" in done.stderr and "newer" in done.stderr, argv
        assert "Traceback" not in done.stderr
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("9999",)  # untouched


def test_upgrading_an_up_to_date_store_is_one_read(engine: Engine) -> None:
    result = upgrade_store(engine)
    assert not result.changed and result.after == head_revision()


def _clinic(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "clinic", *argv], env=env, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
