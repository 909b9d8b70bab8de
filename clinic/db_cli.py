"""`clinic db`: the store's schema version (upgrade, current), backups and restore, and new revisions.

Thin adapters over `shared.store.schema` and `shared.store.backup`. Unlike the other commands these open the
store without creating its schema (`upgrade` and `restore` manage it; `current` reports an empty one as empty).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from clinic.common import engine_for, fail, settings, user_errors
from clinic.output import safe_url
from shared.store.settings import Settings

db_app = typer.Typer(help="The store: schema upgrades, backups and restore, the records' check.", no_args_is_help=True)


@db_app.command("upgrade")
@user_errors
def upgrade() -> None:
    """Bring the store's schema to this release (creating it when empty); safe to run any number of times."""
    from shared.store.schema import upgrade_store

    cfg = settings()
    with engine_for(cfg, create_schema=False) as engine:
        result = upgrade_store(engine)
    where = safe_url(cfg.resolved_database_url)
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
    from shared.store.schema import is_known, store_status

    cfg = settings()
    with engine_for(cfg, create_schema=False) as engine:
        status = store_status(engine)
    if as_json:
        info = {"revision": status.revision, "head": status.head, "up_to_date": status.up_to_date,
                "legacy": status.legacy, "empty": status.empty}  # fmt: skip
        typer.echo(json.dumps(info))
        return
    where = safe_url(cfg.resolved_database_url)
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


@db_app.command("verify")
@user_errors
def verify(as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False) -> None:
    """Check the records' hash chain (cleaning, maintenance, out of service, corrections): exit 0 when intact,
    1 naming the first broken record."""
    from shared.equipment.record_chain import verify_chain

    cfg = settings()
    with engine_for(cfg) as engine, engine.connect() as conn:
        report = verify_chain(conn)
    if as_json:
        typer.echo(json.dumps({"intact": report.intact, "records": report.records, "head_hash": report.head_hash,
                               "broken_record": report.broken_seq, "problem": report.problem or None}))  # fmt: skip
    elif report.intact:
        typer.echo(f"records intact: {report.records} records, chain head {report.head_hash}")
    else:
        where = f"record {report.broken_seq}" if report.broken_seq is not None else "the chain's head"
        intact = f"{report.records} record{'' if report.records == 1 else 's'} before it intact"
        typer.echo(f"records BROKEN at {where}: {report.problem} ({intact})")
    if not report.intact:
        raise typer.Exit(1)


@db_app.command("backup")
@user_errors
def backup(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="The archive to write (must not exist), or a folder for a dated one. "
            "Default: CLINIC_BACKUP_DIR (data/backups).",
        ),
    ] = None,
    keep: Annotated[
        int | None,
        typer.Option("--keep", min=1, help="Then delete all but the newest N dated backups in that folder."),
    ] = None,
) -> None:
    """Write one archive of the store (a consistent copy while everything runs) and the broker's accounts, ACL
    and TLS files, owner-only (0600); with --keep N, rotate the folder's dated backups."""
    from shared.store.backup import backup as make_backup
    from shared.store.backup_rotation import dated_name, rotate
    from shared.store.types import utcnow
    from shared.upkeep.backups import record_backup

    cfg = settings()
    now = utcnow()
    folder = out if out is None or out.is_dir() else None
    if out is not None and folder is None and keep is not None:
        fail("--keep rotates the dated backups in a folder: give --out a folder, or leave --out out")
    target = (folder or cfg.resolved_backup_dir) / dated_name(now) if out is None or folder else out
    info = make_backup(url=cfg.resolved_database_url, out=target, data_dir=cfg.data_dir, files=kept_files(cfg),
                       made_at=now)  # fmt: skip
    record_backup(cfg.data_dir, path=info.path, at=now, size=info.size)
    schema = f", schema {info.revision}" if info.revision else ""
    where = safe_url(cfg.resolved_database_url)
    typer.echo(f"backed up {where} and {len(info.files)} broker and TLS files to {info.path} "
               f"({info.kind}, {info.size:,} bytes{schema})")  # fmt: skip
    if keep is not None:
        for path in rotate(target.parent, keep=keep):
            typer.echo(f"deleted the older backup {path}")


def kept_files(cfg: Settings) -> list[Path]:
    """What a backup holds beside the store: the broker's accounts, ACL and TLS files, the lobby's certificate."""
    from telemetry.broker_files import BrokerFiles

    lobby_tls = [cfg.data_dir / "tls" / name for name in ("lobby.pem", "lobby.key")]
    return BrokerFiles(cfg.broker_dir).kept_by_backups() + [path for path in lobby_tls if path.is_file()]


@db_app.command("restore")
@user_errors
def restore(source: Annotated[Path, typer.Argument(help="An archive written by `clinic db backup`.")]) -> None:
    """Replace the store and the broker's accounts, ACL and TLS files with a backup (refused while the listener
    runs), then upgrade the store to this release. The data folder ends owner-only (0700 folders, 0600 files)."""
    from shared.equipment.recording import close_restored_heartbeats
    from shared.store.backup import restore as restore_backup
    from shared.store.db import unit_of_work
    from shared.store.schema import upgrade_store

    cfg = settings()
    info = restore_backup(url=cfg.resolved_database_url, source=source, data_dir=cfg.data_dir)
    with engine_for(cfg, create_schema=False) as engine:
        result = upgrade_store(engine)
        with unit_of_work(engine) as session:  # the backup's listeners are not running in the restored store
            close_restored_heartbeats(session=session)
    upgraded = f", upgraded to {result.after}" if result.changed else ""
    schema = info.revision or "before migrations"
    typer.echo(f"restored {safe_url(cfg.resolved_database_url)} from {source} (schema {schema}{upgraded})")
    if info.archive:
        typer.echo(f"restored {len(info.files)} broker and TLS files into {cfg.data_dir} "
                   f"({', '.join(info.files) or 'none'}); restart the broker (`clinic up`, or "
                   "`systemctl restart clinic-broker`) so devices connect with their old passwords")  # fmt: skip
    else:
        typer.echo("this is a store-only backup from an older release: the broker's accounts were not in it; "
                   "copy data/mosquitto/ from the old machine, or give each device a new password")  # fmt: skip


@db_app.command("revision", hidden=True)
@user_errors
def revision(
    message: Annotated[str, typer.Option("--message", "-m", help="What the change is, in a few words.")],
) -> None:
    """For developers: write a revision for the model changes that have none yet (shared/store/migrations/versions)."""
    from shared.store.schema import new_revision

    path = new_revision(message)
    typer.echo(f"wrote {path}: read it, fix what autogenerate cannot know (renames, data), and commit it")
