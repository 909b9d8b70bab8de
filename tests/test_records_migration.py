"""Revision 0013 (#26) on a store of the release before it: each station's in-use-hours maintenance interval becomes
its task "Maintenance", due from its last service (so a station due before the upgrade is due after it), and the
records' chain starts empty and intact."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import MetaData, insert

from shared.equipment.maintenance import maintenance_due
from shared.equipment.record_chain import verify_chain
from shared.store.db import make_engine, read_session
from shared.store.schema import _migration_connection, alembic_config
from tests.conftest import new_pg_database

SERVICED = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    with new_pg_database("clinic_rec") as url:
        yield url


def test_each_maintenance_interval_becomes_the_task_maintenance(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        with _migration_connection(engine) as conn, conn.begin():
            command.upgrade(alembic_config(conn), "0012")
        meta = MetaData()
        meta.reflect(engine, only=["equipment", "equipment_state"])
        with engine.begin() as conn:
            conn.execute(insert(meta.tables["equipment"]), [
                {"site": "main", "id": "tm-1", "name": "Treadmill 1", "kind": "treadmill", "zone": "",
                 "clean_after_use": True, "maintenance_interval_hours": 100.0, "created_at": SERVICED},
                {"site": "main", "id": "bike-1", "name": "Bike 1", "kind": "bike", "zone": "", "clean_after_use": True,
                 "maintenance_interval_hours": None, "created_at": SERVICED},
            ])  # fmt: skip
            conn.execute(insert(meta.tables["equipment_state"]), [
                {"site": "main", "equipment_id": "tm-1", "usage_status": "available", "out_of_service": False,
                 "used_without_cleaning": 0, "uses_total": 40, "uses_today": 0, "in_use_seconds_total": 400_000.0,
                 "serviced_at": SERVICED, "serviced_in_use_seconds": 36_000.0},
            ])  # fmt: skip
        with _migration_connection(engine) as conn, conn.begin():
            command.upgrade(alembic_config(conn), "head")
        with read_session(engine) as session:
            (task,) = maintenance_due(session=session, now=datetime(2026, 12, 7, tzinfo=UTC), include_ok=True)
            report = verify_chain(session.connection())
        assert (task.station, task.task, task.every_hours, task.hours_used, task.status) == (
            "tm-1", "Maintenance", 100.0, 101.11, "overdue")  # fmt: skip
        assert (report.intact, report.records) == (True, 0)
    finally:
        engine.dispose()
