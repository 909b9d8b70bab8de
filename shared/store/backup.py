"""Backups of a site while the listener and apps run, and restoring one (with the listener stopped).

A backup is one gzip'd tar archive, owner-only (0600) whatever the umask: a manifest, the store, and the files
the site's devices need to connect again after a restore onto a new machine (the broker's accounts, ACL and TLS
files, the lobby's certificate), which the caller names (the domain knows no broker).

The store inside: SQLite's online backup API copies the whole file in one step inside one read transaction, so
the copy is the store as of one instant (every transaction committed before it, none half) while writers go on
(WAL); the copy is made self-contained (rollback journal, not WAL) and checked. PostgreSQL: `pg_dump` in its
custom format (a consistent snapshot too); restore replaces every table in one transaction. A bare SQLite or
pg_dump file from the releases before archives still restores (the store only).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url

from shared.store.errors import ClinicError
from shared.store.lock import exclusive_store
from shared.store.private_files import make_private, open_private, private_dir, write_private
from shared.store.schema import VERSION_TABLE, head_revision, is_known

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
GZIP_MAGIC = b"\x1f\x8b"
PG_CLIENT_HINT = "install PostgreSQL's client programs (Debian/Ubuntu: apt-get install postgresql-client)"
ARCHIVE_FORMAT = "clinic-backup"
ARCHIVE_VERSION = 1
MANIFEST = "clinic-backup.json"
STORE_MEMBER = {"sqlite": "store.sqlite", "postgresql": "store.pgdump"}
FILES_PREFIX = "data/"  # kept files, by their path inside the data folder


class BackupError(ClinicError):
    """A backup or restore could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupInfo:
    """What a backup holds."""

    path: Path
    kind: str  # "sqlite" | "postgresql"
    size: int
    revision: str | None  # its schema revision (None for a bare pg_dump file, read only on restore)
    files: list[str] = field(default_factory=list)  # the data folder's files it holds, by relative path
    archive: bool = True  # False for a bare store file from the releases before archives


def backup(*, url: str, out: Path, data_dir: Path, files: Sequence[Path] = (), made_at: datetime) -> BackupInfo:
    """Write an archive of the store at `url` and the data folder's `files` to `out` (which must not exist yet)."""
    if out.exists():
        raise BackupError(f"{out} exists already; give a new file name (backups are never overwritten)")
    names = [_member_name(path, data_dir) for path in files]
    private_dir(out.parent)
    parsed = make_url(url)
    kind = "sqlite" if parsed.get_backend_name() == "sqlite" else "postgresql"
    partial = out.with_name(f".{out.name}.partial")
    partial.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix=".clinic-backup-", dir=out.parent) as work:
        store_copy = Path(work) / STORE_MEMBER[kind]
        if kind == "sqlite":
            revision = _sqlite_backup(_sqlite_path(parsed), store_copy)
        else:
            _pg_dump(parsed, store_copy)
            revision = None
        store = {"kind": kind, "revision": revision, "member": STORE_MEMBER[kind]}
        manifest = {"format": ARCHIVE_FORMAT, "version": ARCHIVE_VERSION, "made_at": made_at.isoformat(),
                    "store": store, "files": names}  # fmt: skip
        try:
            with (
                os.fdopen(open_private(partial), "wb") as raw,
                tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar,
            ):
                _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode())
                _add_file(tar, STORE_MEMBER[kind], store_copy)
                for name, path in zip(names, files, strict=True):
                    _add_file(tar, FILES_PREFIX + name, path)
                tar.close()
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    return BackupInfo(path=out, kind=kind, size=out.stat().st_size, revision=revision, files=names)


def restore(*, url: str, source: Path, data_dir: Path) -> BackupInfo:
    """Replace the store at `url` (and the data folder's kept files) with the backup `source`.

    Refused while a listener uses the store. The store is restored first: when that fails nothing has changed.
    Afterwards the data folder is owner-only throughout (0700 folders, 0600 files), and so is a SQLite store.
    """
    kind = backup_kind(source)
    parsed = make_url(url)
    backend = "sqlite" if parsed.get_backend_name() == "sqlite" else "postgresql"
    private_dir(data_dir)
    if kind != "archive":
        _same_backend(kind, backend, source)
        with exclusive_store(data_dir, url):
            revision = _restore_store(kind, source, parsed)
        _make_store_private(parsed, data_dir)
        return BackupInfo(path=source, kind=kind, size=source.stat().st_size, revision=revision, archive=False)
    with _open_archive(source) as tar, tempfile.TemporaryDirectory(prefix=".clinic-restore-", dir=data_dir) as work:
        manifest = _manifest(tar, source)
        kind = manifest["store"]["kind"]
        _same_backend(kind, backend, source)
        store_copy = Path(work) / STORE_MEMBER[kind]
        _extract(tar, manifest["store"]["member"], store_copy, source)
        kept = {name: _read_member(tar, FILES_PREFIX + name, source) for name in manifest["files"]}
        with exclusive_store(data_dir, url):
            revision = _restore_store(kind, store_copy, parsed)
            for name, data in kept.items():
                target = data_dir / name
                private_dir(target.parent)
                write_private(target, data)
    _make_store_private(parsed, data_dir)
    return BackupInfo(path=source, kind=kind, size=source.stat().st_size, revision=revision, files=list(kept))


def _restore_store(kind: str, source: Path, url: URL) -> str | None:
    return _sqlite_restore(source, _sqlite_path(url)) if kind == "sqlite" else _pg_restore(url, source)


def _same_backend(kind: str, backend: str, source: Path) -> None:
    if kind != backend:
        raise BackupError(f"{source} is a {kind} backup but CLINIC_DATABASE_URL is a {backend} store")


def _make_store_private(url: URL, data_dir: Path) -> None:
    """The data folder and a SQLite store (with its -wal and -shm, which SQLite creates with the store's mode)."""
    make_private(data_dir)
    if url.get_backend_name() == "sqlite":
        store = _sqlite_path(url)
        for path in (store, store.with_name(store.name + "-wal"), store.with_name(store.name + "-shm")):
            make_private(path)


def _member_name(path: Path, data_dir: Path) -> str:
    try:
        return path.resolve().relative_to(data_dir.resolve()).as_posix()
    except ValueError:
        raise BackupError(f"{path} is not inside the data folder {data_dir}; it cannot be backed up with it") from None


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o600
    tar.addfile(info, io.BytesIO(data))


def _add_file(tar: tarfile.TarFile, name: str, path: Path) -> None:
    with path.open("rb") as handle:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = os.fstat(handle.fileno()).st_size, 0o600, int(path.stat().st_mtime)
        tar.addfile(info, handle)


@contextmanager
def _open_archive(source: Path) -> Iterator[tarfile.TarFile]:
    try:
        tar = tarfile.open(source, mode="r:gz")  # noqa: SIM115 (closed by the with below)
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{source} is not a readable backup archive: {exc}") from None
    with tar:
        yield tar


def _manifest(tar: tarfile.TarFile, source: Path) -> dict:
    try:
        manifest = json.loads(_read_member(tar, MANIFEST, source))
        ok = manifest.get("format") == ARCHIVE_FORMAT and manifest["store"]["kind"] in STORE_MEMBER
        names = manifest["files"]
    except (ValueError, KeyError, TypeError, AttributeError):
        ok, names = False, []
    if not ok:
        raise BackupError(f"{source} is not a backup made by `clinic db backup` (its manifest is missing or wrong)")
    if manifest.get("version", 0) > ARCHIVE_VERSION:
        raise BackupError(f"{source} was written by a newer release (archive version {manifest['version']})")
    for name in names:
        parts = PurePosixPath(name).parts
        if not isinstance(name, str) or PurePosixPath(name).is_absolute() or ".." in parts or not parts:
            raise BackupError(f"{source} names a file outside the data folder ({name!r}); refusing it")
    return manifest


def _member(tar: tarfile.TarFile, name: str, source: Path) -> IO[bytes]:
    """The archive member `name` to read, or a clear refusal when the archive lacks it (or it is not a file)."""
    try:
        member = tar.getmember(name)
        handle = tar.extractfile(member) if member.isfile() else None
    except (KeyError, tarfile.TarError):
        handle = None
    if handle is None:
        raise BackupError(f"{source} is incomplete: it has no {name}")
    return handle


def _read_member(tar: tarfile.TarFile, name: str, source: Path) -> bytes:
    with _member(tar, name, source) as handle:
        return handle.read()


def _extract(tar: tarfile.TarFile, name: str, target: Path, source: Path) -> None:
    with _member(tar, name, source) as handle, os.fdopen(open_private(target), "wb") as out:
        shutil.copyfileobj(handle, out, 1024 * 1024)


def backup_kind(path: Path) -> str:
    """Whether `path` is an archive, or a bare SQLite or pg_dump file from before archives (by its first bytes)."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None
    if head.startswith(GZIP_MAGIC):
        return "archive"
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a backup made by `clinic db backup` (not an archive, SQLite or pg_dump)")


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite store cannot be backed up or restored")
    return Path(url.database)


def _sqlite_backup(store: Path, partial: Path) -> str | None:
    if not store.exists():
        raise BackupError(f"there is no store at {store} to back up")
    os.close(open_private(partial))  # owner-only from its first byte
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
        private_dir(store.parent)
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
