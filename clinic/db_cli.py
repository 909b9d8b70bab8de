"""`clinic db`: the store's schema version (upgrade, current), backups and restore, and new revisions.

Thin adapters over `shared.store.schema` and `shared.store.backup`. `clinic.cli` registers `db_app` while it
loads, so its helpers (`user_errors`, `settings`, `fail`) are imported when a command runs, never at import time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.engine import make_url

db_app = typer.Typer(help="The store: schema upgrades, backups and restore.", no_args_is_help=True)
F = TypeVar("F", bound=Callable[..., Any])


def user_errors(func: F) -> F:
    """`clinic.cli.user_errors` (one `error:` line, exit 2), looked up when the command runs."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from clinic.cli import user_errors as handled

        return handled(func)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@db_app.command("upgrade")
@user_errors
def upgrade() -> None:
    """Bring the store's schema to this release (creating it when empty); safe to run any number of times."""
    from clinic.cli import settings
    from shared.store.db import make_engine
    from shared.store.schema import upgrade_store

    cfg = settings()
    engine = make_engine(cfg.resolved_database_url)
    try:
        result = upgrade_store(engine)
    finally:
        engine.dispose()
    where = _safe(cfg.resolved_database_url)
    if not result.changed:
        typer.echo(f"{where}: schema {result.after}, up to date")
    elif result.adopted:
        typer.echo(f"{where}: store made before migrations adopted and upgraded to {result.after}")
    else:
        typer.echo(f"{where}: schema upgraded from {result.before or 'an empty store'} to {result.after}")


@db_app.command("current")
@user_errors
def current(as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False) -> None:
    """Say which schema revision the store has and whether `clinic db upgrade` has anything to do (no change)."""
    from clinic.cli import fail, settings
    from shared.store.db import make_engine
    from shared.store.schema import is_known, store_status

    cfg = settings()
    engine = make_engine(cfg.resolved_database_url)
    try:
        status = store_status(engine)
    finally:
        engine.dispose()
    if as_json:
        info = {"revision": status.revision, "head": status.head, "up_to_date": status.up_to_date,
                "legacy": status.legacy, "empty": status.empty}  # fmt: skip
        typer.echo(json.dumps(info))
        return
    where = _safe(cfg.resolved_database_url)
    if status.up_to_date:
        typer.echo(f"{where}: schema {status.revision} (head), up to date")
    elif status.empty:
        typer.echo(f"{where}: empty; `clinic db upgrade` (or `clinic init`) creates schema {status.head}")
    elif status.legacy:
        typer.echo(f"{where}: made before migrations (no version); `clinic db upgrade` adopts it, to {status.head}")
    elif status.revision is not None and is_known(status.revision):
        typer.echo(f"{where}: schema {status.revision}, behind {status.head}; run `clinic db upgrade`")
    else:
        fail(f"{where}: schema {status.revision} is newer than this release (head {status.head}); run that release")


@db_app.command("backup")
@user_errors
def backup(
    out: Annotated[Path, typer.Option("--out", help="The backup file to write (must not exist).")],
) -> None:
    """Write a consistent copy of the store while the listener and apps keep running (SQLite or pg_dump)."""
    from clinic.cli import settings
    from shared.store.backup import backup as make_backup

    cfg = settings()
    info = make_backup(url=cfg.resolved_database_url, out=out)
    schema = f", schema {info.revision}" if info.revision else ""
    where = _safe(cfg.resolved_database_url)
    typer.echo(f"backed up {where} to {info.path} ({info.kind}, {info.size:,} bytes{schema})")


@db_app.command("restore")
@user_errors
def restore(source: Annotated[Path, typer.Argument(help="A file written by `clinic db backup`.")]) -> None:
    """Replace the store with a backup (refused while the listener runs), then upgrade it to this release."""
    from clinic.cli import settings
    from shared.store.backup import restore as restore_backup
    from shared.store.db import make_engine
    from shared.store.schema import upgrade_store

    cfg = settings()
    info = restore_backup(url=cfg.resolved_database_url, source=source, data_dir=cfg.data_dir)
    engine = make_engine(cfg.resolved_database_url)
    try:
        result = upgrade_store(engine)
    finally:
        engine.dispose()
    upgraded = f", upgraded to {result.after}" if result.changed else ""
    schema = info.revision or "before migrations"
    typer.echo(f"restored {_safe(cfg.resolved_database_url)} from {source} (schema {schema}{upgraded})")


@db_app.command("revision", hidden=True)
@user_errors
def revision(
    message: Annotated[str, typer.Option("--message", "-m", help="What the change is, in a few words.")],
) -> None:
    """For developers: write a revision for the model changes that have none yet (shared/store/migrations/versions)."""
    from shared.store.schema import new_revision

    path = new_revision(message)
    typer.echo(f"wrote {path}: read it, fix what autogenerate cannot know (renames, data), and commit it")
