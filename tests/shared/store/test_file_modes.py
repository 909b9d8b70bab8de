"""Patient data and broker secrets are readable by the clinic's user only (before: clinic.db 0644 in 0755)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from shared.store.db import init_db, make_engine, unit_of_work
from shared.store.settings import Settings
from telemetry.broker import ensure_broker_files


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The usual umask (022), under which these used to come out 0755 and 0644; restored afterwards."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def test_a_new_data_folder_and_database_are_private(tmp_path: Path) -> None:
    db = tmp_path / "data" / "clinic.db"
    engine = make_engine(f"sqlite:///{db}")
    init_db(engine)
    with unit_of_work(engine) as session:
        session.execute(text("CREATE TABLE probe (x INTEGER)"))
    assert (mode(db.parent), mode(db)) == ("0o700", "0o600")
    assert mode(db.with_name("clinic.db-wal")) == "0o600", "SQLite gives the WAL the database's mode"
    engine.dispose()


def test_an_existing_folder_is_left_as_the_admin_set_it(tmp_path: Path) -> None:
    folder = tmp_path / "shared-data"
    folder.mkdir(mode=0o750)
    make_engine(f"sqlite:///{folder / 'clinic.db'}").dispose()
    assert (mode(folder), mode(folder / "clinic.db")) == ("0o750", "0o600")


def test_broker_files_live_in_a_private_folder(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]
    ensure_broker_files(settings)
    broker_dir = settings.broker_dir
    assert (mode(settings.data_dir), mode(broker_dir)) == ("0o700", "0o700")
    assert {mode(broker_dir / name) for name in ("passwd", "acl", "accounts.json")} == {"0o600"}
