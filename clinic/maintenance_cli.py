"""`clinic maintenance` and `clinic disinfectant`: stations' maintenance plans, and the disinfectants the clinic keeps.

Thin adapters over `shared.equipment.maintenance`, `maintenance_blocks` and `disinfectants` (docs/records.md).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from clinic.common import JsonTableFlag, fail, store, user_errors
from clinic.output import local_time, table
from shared.store.db import read_session, unit_of_work

maintenance_app = typer.Typer(help="Stations' maintenance plans: tasks, what is due, what was done.",
                              no_args_is_help=True)  # fmt: skip
records_app = typer.Typer(help="The append-only records: correct one (a new record pointing at it).",
                           no_args_is_help=True)  # fmt: skip
disinfectant_app = typer.Typer(help="The disinfectants the clinic keeps, with their contact times.",
                               no_args_is_help=True)  # fmt: skip
StationArg = Annotated[str, typer.Argument(help="The station's id.")]
TaskOption = Annotated[str, typer.Option("--task", help="What to do, e.g. 'Calibration'.")]
SiteOption = Annotated[str | None, typer.Option("--site", help="Site id; default CLINIC_SITE.")]


@maintenance_app.command("add")
@user_errors
def add(
    station: StationArg,
    task: TaskOption,
    every_days: Annotated[float | None, typer.Option("--every-days", help="Due every N days.")] = None,
    every_hours: Annotated[float | None, typer.Option("--every-hours", help="Due every H hours of use.")] = None,
    blocks_use: Annotated[bool, typer.Option("--blocks-use", help="Out of service while overdue.")] = False,
    site: SiteOption = None,
) -> None:
    """Add a task to a station's maintenance plan (or change its schedule): --every-days N or --every-hours H."""
    from shared.equipment.maintenance import add_task
    from shared.staff.audit import cli_actor

    if (every_days is None) == (every_hours is None):
        fail("give one schedule: --every-days N or --every-hours H")
    with store() as (cfg, engine), unit_of_work(engine) as session:
        row = add_task(session=session, site=site or cfg.site, equipment_id=station, task=task, every_days=every_days,
                       every_hours=every_hours, blocks_use=blocks_use, by=cli_actor())  # fmt: skip
        every = f"every {every_days:g} days" if every_days is not None else f"every {every_hours:g} h of use"
        blocking = "; the station is out of service while it is overdue" if blocks_use else ""
        typer.echo(f"{row.equipment_id}: {row.task}, {every}{blocking}")


@maintenance_app.command("done")
@user_errors
def done(
    station: StationArg,
    task: TaskOption,
    notes: Annotated[str, typer.Option("--notes", help="What was done, readings, parts.")] = "",
    site: SiteOption = None,
) -> None:
    """Record a maintenance task done (with notes, by you); the next one is due one interval from now."""
    from shared.equipment.maintenance_blocks import done as mark_done
    from shared.staff.audit import cli_actor

    with store() as (cfg, engine), unit_of_work(engine) as session:
        back = mark_done(session=session, site=site or cfg.site, equipment_id=station, task=task, by=cli_actor(),
                         notes=notes, tz=cfg.tz, now=datetime.now(UTC))  # fmt: skip
    typer.echo(f"{station}: {task} done" + ("; back in service" if back else ""))


@maintenance_app.command("due")
@user_errors
def due(
    as_json: JsonTableFlag = False,
    show_all: Annotated[bool, typer.Option("--all", help="Every task, also those not due yet.")] = False,
    site: SiteOption = None,
) -> None:
    """Tasks due soon, overdue or missed, the most urgent first (stations an overdue task blocks are taken out of
    service now)."""
    from shared.equipment.maintenance import STATUS_WORDS, maintenance_due
    from shared.equipment.maintenance_blocks import apply_blocks

    now = datetime.now(UTC)
    with store() as (cfg, engine):
        with unit_of_work(engine) as session:
            apply_blocks(session=session, now=now, tz=cfg.tz, site=site)
        with read_session(engine) as session:
            tasks = maintenance_due(session=session, now=now, site=site, include_ok=show_all)
    if as_json:
        typer.echo(json.dumps([t.as_json() for t in tasks], indent=2))
        return
    if not tasks:
        typer.echo("nothing due")
        return
    rows = [[t.station, t.station_name, t.task, t.schedule, STATUS_WORDS[t.status],
             local_time(t.due_at, cfg.tz) if t.due_at else f"{t.hours_used:g} h used",
             local_time(t.last_done, cfg.tz, missing="never"), "yes" if t.blocks_use else ""]
            for t in tasks]  # fmt: skip
    table(["STATION", "NAME", "TASK", "SCHEDULE", "STATUS", "DUE", "LAST DONE", "BLOCKS USE"], rows)


@disinfectant_app.command("add")
@user_errors
def disinfectant_add(
    name: Annotated[str, typer.Argument(help="As on the label, e.g. 'Quat wipes'.")],
    contact_min: Annotated[float, typer.Option("--contact-min", help="Contact time in minutes (from the label).")],
    default: Annotated[bool, typer.Option("--default", help="The clinic's default for cleanings.")] = False,
) -> None:
    """Add a disinfectant (or change its contact time)."""
    from shared.equipment.disinfectants import add_disinfectant
    from shared.staff.audit import cli_actor

    with store() as (_cfg, engine), unit_of_work(engine) as session:
        row = add_disinfectant(session=session, name=name, contact_min=contact_min, by=cli_actor(), default=default)
        typer.echo(f"{row.name}: contact time {row.contact_min:g} min" + (" (the default)" if row.is_default else ""))


@disinfectant_app.command("list")
@user_errors
def disinfectant_list(as_json: JsonTableFlag = False) -> None:
    """The clinic's disinfectants, the default first."""
    from shared.equipment.disinfectants import list_disinfectants

    with store() as (_cfg, engine), read_session(engine) as session:
        rows = [(d.name, d.contact_min, d.is_default) for d in list_disinfectants(session=session)]
    if as_json:
        typer.echo(json.dumps([{"name": n, "contact_min": c, "default": d} for n, c, d in rows], indent=2))
        return
    if not rows:
        typer.echo("no disinfectants listed (clinic disinfectant add NAME --contact-min N); cleanings use "
                   "CLINIC_CONTACT_TIME_MIN")  # fmt: skip
        return
    table(["NAME", "CONTACT MIN", "DEFAULT"], [[n, f"{c:g}", "yes" if d else ""] for n, c, d in rows])


@records_app.command("correct")
@user_errors
def records_correct(
    record: Annotated[int, typer.Argument(help="The record's number (`clinic report audit` shows it).")],
    reason: Annotated[str, typer.Option("--reason", help="Why, in a sentence the inspector reads.")],
    void: Annotated[bool, typer.Option("--void", help="The record should not stand at all.")] = False,
    disinfectant: Annotated[str | None, typer.Option("--disinfectant", help="The one the cleaning used.")] = None,
) -> None:
    """Correct a record: a new record pointing at it (both stay, both are shown in the audit log)."""
    from shared.equipment.disinfectants import find_disinfectant
    from shared.equipment.record_chain import correct_record
    from shared.staff.audit import audit, cli_actor

    with store() as (_cfg, engine), unit_of_work(engine) as session:
        conn = session.connection()
        choice = find_disinfectant(conn, disinfectant) if disinfectant else None
        seq = correct_record(conn, seq=record, by=cli_actor(), reason=reason, void=void,
                             disinfectant=choice.name if choice else None,
                             contact_min=choice.contact_min if choice else None)  # fmt: skip
        audit(session, actor=cli_actor(), action="records.correct", target=str(record),
              detail={"correction": seq, "void": void, "disinfectant": choice.name if choice else None})  # fmt: skip
    typer.echo(f"record {seq} corrects record {record}" + (" (voids it)" if void else ""))
