"""`clinic appointment`: book appointments, one at a time or from a CSV file (thin adapters over `shared.care`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from clinic.common import JsonFlag, PatientId, store, user_errors
from clinic.output import local_time, read_text, rfc3339
from shared.care.appointments import CSV_COLUMNS, add_appointment, import_appointments_csv
from shared.care.models import Appointment
from shared.store.clock import local_today, parse_local_datetime
from shared.store.db import unit_of_work
from shared.store.types import utcnow

appointment_app = typer.Typer(help="Book appointments, one at a time or from a CSV file.", no_args_is_help=True)


@appointment_app.command("add")
@user_errors
def appointment_add(
    patient_id: PatientId,
    at: Annotated[str, typer.Option("--at", help="Local time: '2026-11-23 10:30', or '10:30' for today.")],
    minutes: Annotated[int, typer.Option("--minutes", help="Length in minutes (5 to 480).")] = 45,
    clinician: Annotated[str, typer.Option("--with", help="Clinician's name.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Book an appointment at this site (CLINIC_SITE), at a local time in the clinic's zone."""
    with store() as (cfg, engine):
        starts_at = parse_local_datetime(at, cfg.tz, today=local_today(utcnow(), cfg.tz))
        with unit_of_work(engine) as session:
            appointment = add_appointment(
                session=session,
                patient_id=patient_id,
                starts_at=starts_at,
                site=cfg.site,
                minutes=minutes,
                clinician=clinician,
            )
    if as_json:
        typer.echo(json.dumps(_appointment_json(appointment)))
        return
    with_whom = f" with {appointment.clinician}" if appointment.clinician else ""
    when = local_time(appointment.starts_at, cfg.tz)
    typer.echo(
        f"booked appointment {appointment.id}: patient {patient_id}, {when}, {appointment.minutes} min{with_whom}"
    )


@appointment_app.command("import", help=f"""Book appointments from a CSV file, all or nothing.

Columns (a header row first): {",".join(CSV_COLUMNS)}. patient_id and start are required; start is a local time
like 2026-11-23 10:30 (or 10:30 for today); minutes defaults to 45; clinician is optional. A bad row imports
nothing and names its line.""")  # fmt: skip
@user_errors
def appointment_import(
    file: Annotated[Path, typer.Argument(help="The CSV file.")],
    as_json: JsonFlag = False,
) -> None:
    """Book appointments from a CSV file, all or nothing."""
    text = read_text(file)
    with store() as (cfg, engine):
        today = local_today(utcnow(), cfg.tz)
        with unit_of_work(engine) as session:
            rows = import_appointments_csv(session=session, text=text, site=cfg.site, tz=cfg.tz, today=today)
    if as_json:
        typer.echo(json.dumps({"imported": len(rows), "appointments": [_appointment_json(a) for a in rows]}))
    else:
        typer.echo(f"imported {len(rows)} appointment(s)")


def _appointment_json(appointment: Appointment) -> dict[str, object]:
    """An appointment for scripts (times as RFC 3339 UTC)."""
    return {
        "id": appointment.id,
        "patient_id": appointment.patient_id,
        "site": appointment.site,
        "starts_at": rfc3339(appointment.starts_at),
        "minutes": appointment.minutes,
        "clinician": appointment.clinician,
        "status": appointment.status,
    }
