"""`clinic fhir`: the schedule in from the EHR (a FHIR R4 Bundle file or the server's search API), and a day's
arrivals, plans and feedback out (a Bundle file, or a transaction pushed to the server).

Thin adapters over `shared.fhir`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from clinic.common import JsonFlag, store, user_errors
from clinic.output import write_bytes
from shared.fhir.client import fetch_day, post_transaction
from shared.fhir.exporter import as_transaction, dumps, export_day
from shared.fhir.importer import ImportReport, import_bundle
from shared.store.clock import local_today, parse_date
from shared.store.db import read_session, unit_of_work, with_retry
from shared.store.errors import ValidationFailed
from shared.store.types import utcnow

fhir_app = typer.Typer(help="Exchange schedules, arrivals, plans and feedback with an EHR as FHIR R4.",
                       no_args_is_help=True)  # fmt: skip
MAX_FILE_BYTES = 50 * 1024 * 1024


@fhir_app.command("import")
@user_errors
def fhir_import(
    file: Annotated[Path | None, typer.Argument(help="A FHIR R4 Bundle (JSON) of Patients and Appointments.")] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Instead of a file: a FHIR server's base URL; reads the day's schedule.")
    ] = None,
    day: Annotated[str | None, typer.Option("--day", help="With --url: the day (2026-11-23); default today.")] = None,
    identifier_system: Annotated[
        str | None, typer.Option("--identifier-system", help="Keep new patients' identifier of this system.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Import Patients (matched by identifier) and Appointments (created, moved or cancelled), all or nothing."""
    if (file is None) == (url is None):
        raise ValidationFailed("give a Bundle file or --url (one of them)")
    if day is not None and url is None:
        raise ValidationFailed("--day chooses the day read with --url; a file is imported whole")
    with store() as (cfg, engine):
        if url is not None:
            when = parse_date(day, "--day") if day else local_today(utcnow(), cfg.tz)
            bundle: Any = fetch_day(url, day=when, tz=cfg.tz)
        else:
            assert file is not None
            bundle = _read_json(file)

        def work() -> ImportReport:
            with unit_of_work(engine) as session:
                return import_bundle(session=session, bundle=bundle, site=cfg.site, identifier_system=identifier_system)

        report = with_retry(work)
    if as_json:
        typer.echo(json.dumps(report.as_json()))
        return
    typer.echo(report.summary())
    for note in report.notes:
        typer.echo(f"note: {note}")


@fhir_app.command("export")
@user_errors
def fhir_export(
    day: Annotated[str | None, typer.Option("--day", help="The day, like 2026-11-23; default today.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the Bundle here, not to standard output.")] = None,
    push: Annotated[
        str | None, typer.Option("--push", help="Post it as a transaction to this FHIR server's base URL.")
    ] = None,
) -> None:
    """A Bundle of the day's appointments (current status), patients, visits, plans and feedback (FHIR R4)."""
    with store() as (cfg, engine):
        when = parse_date(day, "--day") if day else local_today(utcnow(), cfg.tz)
        with read_session(engine) as session:
            bundle = export_day(session=session, day=when, site=cfg.site, tz=cfg.tz)
    count = len(bundle["entry"])
    if out is not None:
        write_bytes(out, dumps(bundle).encode("utf-8"))
        typer.echo(f"wrote {count} resources for {when.isoformat()} to {out}")
    elif push is None:
        typer.echo(dumps(bundle), nl=False)
    if push is not None:
        answer = post_transaction(push, as_transaction(bundle))
        typer.echo(f"pushed {count} resources for {when.isoformat()}: the server answered "
                   f"{len(answer.get('entry') or [])} entries")  # fmt: skip


def _read_json(path: Path) -> object:
    """A JSON file's content; a file that cannot be read or parsed is a user error naming it."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ValidationFailed(f"{path} is larger than {MAX_FILE_BYTES // 1024 // 1024} MiB")
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationFailed(f"{path} is not JSON: {exc}") from None
