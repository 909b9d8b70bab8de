"""The store's schema version: run the Alembic revisions in shared/store/migrations/, say where a store stands.

`upgrade_store` is what `clinic init`, `clinic up`, the listener and the apps run at start (through
`shared.store.db.init_db`; this module works on the engine it is given and never imports `shared.store.db`, an
import-linter contract). It is a single read when the store is already at head, so starting a process is cheap; an
upgrade runs in one transaction that holds the write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory
lock), so two processes starting at once do it once. A store made by the releases before migrations (tables,
no alembic_version) is adopted: the baseline revision creates only the tables it lacks. A store whose revision
this code does not know was upgraded by a newer release, and nothing may run on it.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from shared.store.errors import ClinicError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
BASELINE = "0001"  # the schema of the last release before migrations (commit 364688b)
PG_LOCK_KEY = 0x636C_696E_6963  # "clinic": one advisory lock serialises upgrades of a PostgreSQL store

log = logging.getLogger(__name__)


class SchemaTooNew(ClinicError):
    """The store was upgraded by a newer release; running this code on it could corrupt it."""


class SchemaCheckFailed(ClinicError):
    """An upgrade would leave rows that break a foreign key; it was rolled back."""


@dataclass(frozen=True)
class SchemaStatus:
    """Where a store stands: its revision (None when unversioned), head, and whether it predates migrations."""

    revision: str | None
    head: str
    legacy: bool  # tables of the pre-migration releases, no version table yet
    empty: bool

    @property
    def up_to_date(self) -> bool:
        """Whether nothing is left to run."""
        return self.revision == self.head


@dataclass(frozen=True)
class UpgradeResult:
    """What `upgrade_store` did."""

    before: str | None
    after: str
    adopted: bool  # a pre-migration store was taken over

    @property
    def changed(self) -> bool:
        """Whether any revision ran."""
        return self.before != self.after


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built here so that no alembic.ini is needed in the working directory."""
    # Alembic logs a dozen INFO lines (plugins, "Context impl") at every start of every process: only its
    # warnings belong in the clinic's logs; what was upgraded is said by the callers.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def script_directory() -> ScriptDirectory:
    """The revisions shipped with this code (parsed once per process)."""
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision this code knows; one head only (two means a merge needs renumbering)."""
    heads = script_directory().get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads ({', '.join(heads)}); renumber the newest")
    return heads[0]


def store_status(engine: Engine) -> SchemaStatus:
    """Read where the store stands, without changing it."""
    with engine.connect() as conn:
        return _status(conn)


def upgrade_store(engine: Engine) -> UpgradeResult:
    """Bring the store to head (creating it when empty); a no-op at head; refuses a store newer than the code."""
    status = store_status(engine)
    _refuse_unknown(status, engine)
    if status.up_to_date:
        return UpgradeResult(before=status.revision, after=status.head, adopted=False)
    with _migration_connection(engine) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
        status = _status(conn)  # again under the lock: another process may have done it meanwhile
        _refuse_unknown(status, engine)
        if not status.up_to_date:
            if status.legacy:
                log.info("adopting a store made before schema migrations as revision %s", BASELINE)
            command.upgrade(alembic_config(conn), "head")
            _check_foreign_keys(conn)
            log.info("store schema upgraded from %s to %s", status.revision or "nothing", status.head)
    return UpgradeResult(before=status.revision, after=status.head, adopted=status.legacy)


def new_revision(message: str) -> Path:
    """Write a revision for the model changes not yet migrated (compared on a scratch SQLite store at head)."""
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{scratch}/scratch.db")  # throwaway: none of the store's pragmas needed
        try:
            upgrade_store(engine)
            number = len(list(script_directory().walk_revisions())) + 1
            with engine.connect() as conn:
                if not model_changes(conn):
                    raise ClinicError("the models match the head revision: there is nothing to migrate")
                script: Any = command.revision(
                    alembic_config(conn), message=message, autogenerate=True, rev_id=f"{number:04d}"
                )
        finally:
            engine.dispose()
    script_directory.cache_clear()
    return Path(script.path)


def model_changes(conn: Connection) -> list[Any]:
    """What the models have that the store's schema lacks (or the reverse): empty when they agree."""
    from alembic.autogenerate import compare_metadata

    from shared.tables import metadata  # the domain's tables, imported only when comparing

    return list(compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata))


def _status(conn: Connection) -> SchemaStatus:
    revision = MigrationContext.configure(conn).get_current_revision()
    tables = set(inspect(conn).get_table_names()) - {VERSION_TABLE}
    return SchemaStatus(
        revision=revision, head=head_revision(), legacy=revision is None and bool(tables), empty=not tables
    )


def is_known(revision: str) -> bool:
    """Whether this code has the revision (an unknown one was written by a newer release)."""
    try:
        script_directory().get_revision(revision)
    except CommandError:
        return False
    return True


def _refuse_unknown(status: SchemaStatus, engine: Engine) -> None:
    if status.revision is not None and not is_known(status.revision):
        where = make_url(str(engine.url)).render_as_string(hide_password=True)
        raise SchemaTooNew(
            f"the store {where} has schema revision {status.revision}, which this version of clinic does not know "
            f"(its newest is {status.head}): it was upgraded by a newer release. Run that release, or restore a "
            "backup made before the upgrade; nothing was changed"
        )


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for running revisions. On SQLite it begins IMMEDIATE, with foreign keys off while batch mode
    copies tables (dropping a parent table would otherwise cascade); `_check_foreign_keys` runs before commit."""
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        raw: Any = conn.connection.driver_connection
        if sqlite:
            raw.execute("PRAGMA foreign_keys=OFF")  # outside any transaction, or SQLite ignores it
            conn.execution_options(sqlite_begin="IMMEDIATE")
        try:
            yield conn
        finally:
            if sqlite and not conn.invalidated:
                raw.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(conn: Connection) -> None:
    if conn.dialect.name != "sqlite":
        return  # PostgreSQL checks every constraint as the revision runs
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise SchemaCheckFailed(f"the upgrade would leave {len(broken)} rows without their parent in {tables}")
