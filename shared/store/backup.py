"""Backups of the store while the listener and apps run, and restoring one (with the listener stopped).

SQLite: the online backup API copies the whole file in one step inside one read transaction, so the copy is
the store as of one instant (every transaction committed before it, none half) while writers go on (WAL). The
copy is made self-contained (rollback journal, not WAL), checked, then renamed into place. PostgreSQL:
`pg_dump` in its custom format (a consistent snapshot too); restore replaces every table in one transaction.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url

from shared.store.errors import ClinicError
from shared.store.lock import exclusive_store
from shared.store.schema import VERSION_TABLE, head_revision, is_known

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
PG_CLIENT_HINT = "install PostgreSQL's client programs (Debian/Ubuntu: apt-get install postgresql-client)"


class BackupError(ClinicError):
    """A backup or restore could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupInfo:
    """What a backup file holds."""

    path: Path
    kind: str  # "sqlite" | "postgresql"
    size: int
    revision: str | None  # its schema revision (None for a pg_dump file, read only on restore)


def backup(*, url: str, out: Path) -> BackupInfo:
    """Write a consistent copy of the store at `url` to `out` (which must not exist yet)."""
    if out.exists():
        raise BackupError(f"{out} exists already; give a new file name (backups are never overwritten)")
    out.parent.mkdir(parents=True, exist_ok=True)
    parsed = make_url(url)
    partial = out.with_name(f".{out.name}.partial")
    try:
        if parsed.get_backend_name() == "sqlite":
            revision = _sqlite_backup(_sqlite_path(parsed), partial)
            kind = "sqlite"
        else:
            _pg_dump(parsed, partial)
            revision, kind = None, "postgresql"
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return BackupInfo(path=out, kind=kind, size=out.stat().st_size, revision=revision)


def restore(*, url: str, source: Path, data_dir: Path) -> BackupInfo:
    """Replace the store at `url` with the backup `source`, refusing while a listener uses it."""
    kind = backup_kind(source)
    parsed = make_url(url)
    backend = "sqlite" if parsed.get_backend_name() == "sqlite" else "postgresql"
    if kind != backend:
        raise BackupError(f"{source} is a {kind} backup but CLINIC_DATABASE_URL is a {backend} store")
    with exclusive_store(data_dir, url):
        revision = _sqlite_restore(source, _sqlite_path(parsed)) if kind == "sqlite" else _pg_restore(parsed, source)
    return BackupInfo(path=source, kind=kind, size=source.stat().st_size, revision=revision)


def backup_kind(path: Path) -> str:
    """Whether `path` is a SQLite or a pg_dump backup (by its first bytes)."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a backup made by `clinic db backup` (neither SQLite nor pg_dump)")


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite store cannot be backed up or restored")
    return Path(url.database)


def _sqlite_backup(store: Path, partial: Path) -> str | None:
    if not store.exists():
        raise BackupError(f"there is no store at {store} to back up")
    partial.unlink(missing_ok=True)
    with closing(sqlite3.connect(store, timeout=30)) as src, closing(sqlite3.connect(partial)) as dst:
        src.backup(dst)  # pages=-1: one step, one read transaction, so one consistent instant
    with _sqlite(partial) as copy:
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        _check_sqlite(copy, partial)
        revision = _sqlite_revision(copy)
    with partial.open("rb") as file:
        os.fsync(file.fileno())
    return revision


def _sqlite_restore(source: Path, store: Path) -> str | None:
    with _sqlite(source, read_only=True) as src:
        _check_sqlite(src, source)
        revision = _sqlite_revision(src)
        _refuse_newer(revision, source)
        store.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(store, timeout=30)) as dst:
            src.backup(dst)  # page by page under the destination's write lock: readers see old or new, never half
            dst.execute("PRAGMA journal_mode=WAL")
    return revision


@contextmanager
def _sqlite(path: Path, *, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {path}: {exc}") from None
    with closing(conn):
        yield conn


def _check_sqlite(conn: sqlite3.Connection, path: Path) -> None:
    try:
        result = conn.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is damaged: {exc}") from None
    if result is None or result[0] != "ok":
        raise BackupError(f"{path} is damaged: {result[0] if result else 'no answer'}")


def _sqlite_revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
    except sqlite3.OperationalError:
        return None  # a store of the releases before migrations; the next start adopts it
    return str(row[0]) if row else None


def _refuse_newer(revision: str | None, source: Path) -> None:
    if revision is not None and not is_known(revision):
        raise BackupError(
            f"{source} was made by a newer release (schema revision {revision}, this code knows up to "
            f"{head_revision()}); restore it with that release"
        )


def _pg_env(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password (which would show in `ps`) and the environment carrying it."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed, and a PostgreSQL store needs it: {PG_CLIENT_HINT}")
    return found


def _run(argv: list[str], env: dict[str, str]) -> bytes:
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    if done.returncode != 0:
        raise BackupError(_failure(argv[0], done.returncode, done.stderr))
    return done.stdout


def _failure(program: str, code: int, stderr: bytes) -> str:
    lines = stderr.decode(errors="replace").strip().splitlines()
    return f"{Path(program).name} failed: {' / '.join(lines[-3:]) or f'exit code {code}'}"


def _pg_dump(url: URL, partial: Path) -> None:
    conninfo, env = _pg_env(url)
    _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}", f"--dbname={conninfo}"], env)


def _pg_restore(url: URL, source: Path) -> str | None:
    conninfo, env = _pg_env(url)
    psql, pg_restore = _pg_tool("psql"), _pg_tool("pg_restore")
    revision = _pg_dump_revision(pg_restore, source, env)
    _refuse_newer(revision, source)
    tables = _pg_tables_if_unused(url)
    drops = " ".join(f'DROP TABLE IF EXISTS public."{name}" CASCADE;' for name in tables) or "SELECT 1;"
    # One transaction: the old tables go and the backup's come, or (on any error) nothing changes.
    with subprocess.Popen([pg_restore, "--no-owner", "--file=-", str(source)], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as dump:  # fmt: skip
        done = subprocess.run(
            [psql, "--quiet", "--no-psqlrc", "--single-transaction", "-v", "ON_ERROR_STOP=1",
             "-c", drops, "-f", "-", conninfo],
            env=env, stdin=dump.stdout, capture_output=True, check=False,
        )  # fmt: skip
        assert dump.stdout is not None and dump.stderr is not None
        dump.stdout.close()
        dump_errors = dump.stderr.read()
    if dump.returncode != 0:
        raise BackupError(_failure(pg_restore, dump.returncode, dump_errors))
    if done.returncode != 0:
        raise BackupError(_failure(psql, done.returncode, done.stderr) + "; the store was left as it was")
    return revision


def _pg_dump_revision(pg_restore: str, source: Path, env: dict[str, str]) -> str | None:
    """The schema revision recorded in a pg_dump file (the row of its alembic_version table's COPY)."""
    script = _run([pg_restore, "--data-only", f"--table={VERSION_TABLE}", "--file=-", str(source)], env)
    lines = script.decode().splitlines()
    for number, line in enumerate(lines):
        if line.startswith("COPY ") and VERSION_TABLE in line and number + 1 < len(lines):
            value = lines[number + 1].strip()
            return None if value == "\\." else value
    return None


def _pg_tables_if_unused(url: URL) -> list[str]:
    """The store's tables, after making sure no other session uses the database (a listener elsewhere)."""
    from shared.store.db import make_engine

    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            others = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
            if others:
                raise BackupError(
                    f"{others} other connection(s) use this database: stop the listener and the apps (Ctrl-C in "
                    "`clinic up`, or stop their services) on every machine, then restore"
                )
            return list(inspect(conn).get_table_names())
    finally:
        engine.dispose()
