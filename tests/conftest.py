"""Fixtures: a real Mosquitto from the repo's config on a free port, real SQLite and PostgreSQL stores, and a
`clinic` command runner on the test store (its helpers `run`, `run_json` are in tests/cli_support.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from shared.store.db import init_db, make_engine
from shared.store.schema import VERSION_TABLE
from shared.store.settings import Settings, get_settings
from shared.tables import metadata
from telemetry.broker import ensure_broker_files
from telemetry.broker_acl import LISTENER_USER, SIMULATOR_USER
from telemetry.broker_config import write_config
from tests.cli_support import KIOSK, run_json
from tests.clock import MIDDAY, clock_at
from tests.helpers import free_port, wait_for_port

PG_ADMIN_URL = os.environ.get("CLINIC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Every table of the store, from the models' metadata (what the head revision must match) less Alembic's version
# table, so a new table is emptied between tests without anyone remembering to list it.
TABLES = tuple(table.name for table in metadata.sorted_tables if table.name != VERSION_TABLE)


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> Iterator[datetime]:
    """This process's clock at midday of a fixed day (UTC), or at the instant a test passes by indirect
    parametrization (`tests.clock.MIDNIGHT_EDGES`), running on from there; yields that instant."""
    with clock_at(getattr(request, "param", MIDDAY)) as instant:
        yield instant


@pytest.fixture(autouse=True)
def _keep_main_module() -> Iterator[None]:
    """Streamlit's AppTest runs a page as `__main__` and leaves it in `sys.modules`; a later test that starts
    a process with multiprocessing's spawn would re-run that page in the child (bench.clinic_day did, and failed).
    """
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@dataclass
class Broker:
    """A Mosquitto started from the repo's mosquitto.conf (listener rewritten to a free port)."""

    settings: Settings
    port: int
    config: Path
    accounts: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    @property
    def listener_password(self) -> str:
        return self.accounts[LISTENER_USER]

    @property
    def simulator_password(self) -> str:
        return self.accounts[SIMULATOR_USER]

    def start(self) -> None:
        self.process = subprocess.Popen(["mosquitto", "-c", str(self.config)], stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        wait_for_port(self.port, up=False)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A fresh broker with its own data folder (password file, ACL, persistence)."""
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.fail("mosquitto is not installed; .ci/run installs it (apt-get install mosquitto)")
    port = free_port()
    settings = Settings(data_dir=tmp_path / "data", mqtt_port=port, _env_file=None)  # type: ignore[call-arg]
    accounts = ensure_broker_files(settings, listeners=3)  # members of a shared group have an account each
    broker = Broker(settings=settings, port=port, config=write_config(settings, port=port), accounts=accounts)
    broker.start()
    yield broker
    broker.stop()


@contextmanager
def new_pg_database(prefix: str) -> Iterator[str]:
    """A PostgreSQL database of our own (named `<prefix>_<random>`), dropped when the block ends; its URL."""
    admin = make_engine(PG_ADMIN_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database of our own for this test session, dropped at the end."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(new_pg_database("clinic_test"))
        except Exception as exc:
            if os.environ.get("CLINIC_TEST_SKIP_PG") == "1":
                pytest.skip(f"PostgreSQL unavailable and CLINIC_TEST_SKIP_PG=1: {exc}")
            pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is needed (set CLINIC_TEST_PG_URL): {exc}")
        _create_schema(url)
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store on each backend: a fresh SQLite file, or the session's PostgreSQL database truncated."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'clinic.db'}"
        _create_schema(url)
        return url
    url: str = request.getfixturevalue("pg_database")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


def _create_schema(url: str) -> None:
    engine = make_engine(url)
    init_db(engine)
    engine.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the test store."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Iterator[CliRunner]:
    """A runner whose settings point at a fresh data folder, the test store and a known lobby address."""
    monkeypatch.setenv("CLINIC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CLINIC_DATABASE_URL", db_url)
    monkeypatch.setenv("CLINIC_TIMEZONE", "UTC")
    monkeypatch.setenv("CLINIC_KIOSK_URL", KIOSK)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.fixture
def maria(cli: CliRunner) -> int:
    """Maria Gonzalez, born 1950-04-17, added with `clinic patient add`; her id."""
    info = run_json(cli, "patient", "add", "--first", "Maria", "--last", "Gonzalez", "--dob", "1950-04-17")
    assert isinstance(info, dict)
    return int(info["id"])
