"""`clinic exercise` and `clinic plan`: the exercise library and patients' plans (thin adapters over `shared.care`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from clinic.common import JsonFlag, PatientId, store, user_errors
from clinic.output import ensure_folder, optional_day, read_text, rfc3339, save_png, table, write_bytes
from shared.care.card_print import card_pdf
from shared.care.exercise_images import save_image_file
from shared.care.exercises import add_exercise, exercise_id, update_exercise
from shared.care.home_links import current_link, link_key
from shared.care.models import PlanItem
from shared.care.patients import get_patient
from shared.care.plan_import import PLAN_CSV_COLUMNS, import_plan_csv
from shared.care.plans import add_plan_item
from shared.care.qr import card_image
from shared.care.todays_plan import PATIENT_STATUS_WORDS, PlanLine
from shared.care.todays_plan import todays_plan as plan_for_day
from shared.staff.audit import cli_actor
from shared.store.clock import local_today
from shared.store.db import read_session, unit_of_work
from shared.store.errors import ValidationFailed
from shared.store.types import utcnow

exercise_app = typer.Typer(help="The exercise library.", no_args_is_help=True)
plan_app = typer.Typer(help="Patients' exercise plans.", no_args_is_help=True)

ImageOption = Annotated[
    Path | None, typer.Option("--image", help="A PNG or JPEG picture of the exercise (at most 2 MB).")
]
NameEsOption = Annotated[str | None, typer.Option("--name-es", help="The name in Spanish (for the lobby).")]
InstructionsEsOption = Annotated[str | None, typer.Option("--instructions-es", help="The instructions in Spanish.")]


@exercise_app.command("add")
@user_errors
def exercise_add(
    name: Annotated[str, typer.Argument(help="Exercise name, as plans refer to it.")],
    instructions: Annotated[str, typer.Option("--instructions", help="Plain-words instructions.")] = "",
    kind: Annotated[str | None, typer.Option("--kind", help="Equipment kind: treadmill, bike, ...")] = None,
    image: ImageOption = None,
    name_es: NameEsOption = None,
    instructions_es: InstructionsEsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Add an exercise to the library (or update the one with that name)."""
    with store() as (cfg, engine):
        picture = save_image_file(cfg.data_dir, image) if image else None  # a bad file is refused first
        with unit_of_work(engine) as session:
            exercise = add_exercise(session=session, name=name, instructions=instructions, equipment_kind=kind,
                                    image_file=picture, name_es=name_es, instructions_es=instructions_es,
                                    actor=cli_actor())  # fmt: skip
    if as_json:
        typer.echo(json.dumps({"id": exercise.id, "name": exercise.name, "image": exercise.image_file}))
    else:
        typer.echo(f"saved exercise {exercise.name!r} (id {exercise.id})")


@exercise_app.command("update")
@user_errors
def exercise_update(
    name: Annotated[str, typer.Argument(help="The exercise's name in the library.")],
    new_name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    instructions: Annotated[str | None, typer.Option("--instructions", help="New instructions.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Equipment kind ('' clears it).")] = None,
    image: ImageOption = None,
    no_image: Annotated[bool, typer.Option("--no-image", help="Remove the exercise's picture.")] = False,
    name_es: NameEsOption = None,
    instructions_es: InstructionsEsOption = None,
) -> None:
    """Change an exercise of the library: texts, Spanish texts, equipment kind or picture."""
    if image and no_image:
        raise ValidationFailed("give --image or --no-image, not both")
    with store() as (cfg, engine):
        picture = save_image_file(cfg.data_dir, image) if image else ("" if no_image else None)  # refused first
        with unit_of_work(engine) as session:
            found = exercise_id(session=session, name=name)
            exercise = update_exercise(session=session, exercise_id=found, name=new_name,
                                       instructions=instructions, equipment_kind=kind,
                                       image_file=picture, name_es=name_es,
                                       instructions_es=instructions_es, actor=cli_actor())  # fmt: skip
    typer.echo(f"saved exercise {exercise.name!r} (id {exercise.id})")


@plan_app.command("add")
@user_errors
def plan_add(
    patient_id: PatientId,
    exercise: Annotated[str, typer.Option("--exercise", help="Exercise name from the library.")],
    sets: Annotated[int | None, typer.Option("--sets")] = None,
    reps: Annotated[int | None, typer.Option("--reps")] = None,
    hold: Annotated[int | None, typer.Option("--hold", help="Hold, in seconds.")] = None,
    minutes: Annotated[float | None, typer.Option("--minutes")] = None,
    load: Annotated[str | None, typer.Option("--load", help="Like '2 kg' or 'level 3'.")] = None,
    station: Annotated[str | None, typer.Option("--station", help="Equipment id at this site.")] = None,
    notes: Annotated[str | None, typer.Option("--notes")] = None,
    active_from: Annotated[
        str | None, typer.Option("--from", help="First day, like 2026-11-23; default today.")
    ] = None,
    active_to: Annotated[str | None, typer.Option("--to", help="Last day; default open-ended.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add an exercise to a patient's plan (after their other exercises)."""
    with store() as (cfg, engine), unit_of_work(engine) as session:
        item = add_plan_item(
            session=session,
            patient_id=patient_id,
            exercise=exercise,
            sets=sets,
            reps=reps,
            hold_s=hold,
            minutes=minutes,
            load=load,
            equipment_site=cfg.site if station else None,
            equipment_id=station,
            notes=notes,
            active_from=optional_day(active_from, "--from") or local_today(utcnow(), cfg.tz),
            active_to=optional_day(active_to, "--to"),
            actor=cli_actor(),
        )
    if as_json:
        typer.echo(json.dumps(_plan_item_json(item)))
    else:
        typer.echo(f"added plan line {item.id} (position {item.position}) for patient {patient_id}")


@plan_app.command("show")
@user_errors
def plan_show(patient_id: PatientId, as_json: JsonFlag = False) -> None:
    """Today's plan for a patient, with each station's live status."""
    with store() as (cfg, engine), read_session(engine) as session:
        get_patient(session=session, patient_id=patient_id)
        lines = plan_for_day(
            session=session, patient_id=patient_id, day=local_today(utcnow(), cfg.tz), site=cfg.site, tz=cfg.tz
        )
    if as_json:
        typer.echo(json.dumps([line.as_json() for line in lines], indent=2))
    elif not lines:
        typer.echo(f"patient {patient_id} has no exercises planned for today (see `clinic plan add`)")
    else:
        print_plan(lines)


@plan_app.command("link")
@user_errors
def plan_link(
    patient_id: PatientId,
    out: Annotated[
        Path | None,
        typer.Option("--out", dir_okay=False, help="Also write it to print: a card-size .pdf or a .png."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Make or show the patient's take-home plan link: the same link until it ends (CLINIC_PLAN_LINK_DAYS) or is
    revoked (`clinic patient revoke`); the phone page ticks exercises done."""
    if out is not None and out.suffix.lower() not in (".pdf", ".png"):
        raise ValidationFailed(f"--out {out.name}: the link is written as .pdf (a card to print) or .png (an image)")
    with store() as (cfg, engine), unit_of_work(engine) as session:
        patient = get_patient(session=session, patient_id=patient_id)
        link = current_link(session=session, patient_id=patient_id, site=cfg.site, tz=cfg.tz,
                            key=link_key(cfg.data_dir), days=cfg.plan_link_days, language=patient.language,
                            actor=cli_actor())  # fmt: skip
        if out is not None:
            ensure_folder(out)
    url = link.url(cfg.resolved_kiosk_url)
    if out is not None:
        image = card_image(url, first_name=patient.first_name, clinic_name=cfg.clinic_name,
                           hint=("Scan with your phone", "for your exercises."))  # fmt: skip
        if out.suffix.lower() == ".pdf":
            write_bytes(out, card_pdf(image))
        else:
            save_png(image, out)
    if as_json:
        typer.echo(json.dumps({"patient_id": patient_id, "url": url, "expires_at": rfc3339(link.expires_at),
                               "created": link.created}))  # fmt: skip
        return
    state = "new link" if link.created else "current link"
    typer.echo(f"{state} for patient {patient_id}, works until {link.expires_at.astimezone(cfg.tz):%Y-%m-%d %H:%M}")
    typer.echo(url)


@plan_app.command("import", help=f"""Add plan lines from a CSV file, all or nothing.

Columns (a header row first): {",".join(PLAN_CSV_COLUMNS)}. patient_id and exercise (a library name) are
required; hold_s is in seconds; station is an equipment id at this site; from/to are dates like 2026-11-23
(from defaults to today). A bad row imports nothing and names its line.""")  # fmt: skip
@user_errors
def plan_import(file: Annotated[Path, typer.Argument(help="The CSV file.")], as_json: JsonFlag = False) -> None:
    """Add plan lines from a CSV file, all or nothing."""
    text = read_text(file)
    with store() as (cfg, engine), unit_of_work(engine) as session:
        items = import_plan_csv(session=session, text=text, site=cfg.site, today=local_today(utcnow(), cfg.tz))
    if as_json:
        typer.echo(json.dumps({"imported": len(items), "plan_lines": [_plan_item_json(i) for i in items]}))
    else:
        typer.echo(f"imported {len(items)} plan line(s)")


def print_plan(lines: list[PlanLine]) -> None:
    """Today's plan as a table: exercise, dose, station and its status in the lobby's words."""
    rows = [
        [
            str(number),
            line.exercise,
            line.dose or "-",
            line.equipment_name or line.equipment_id or "-",
            PATIENT_STATUS_WORDS.get(line.station_status or "", line.station_status or "-"),
        ]
        for number, line in enumerate(lines, start=1)
    ]
    table(["#", "EXERCISE", "DOSE", "STATION", "STATUS"], rows)


def _plan_item_json(item: PlanItem) -> dict[str, object]:
    """A stored plan line for scripts."""
    return {
        "id": item.id,
        "patient_id": item.patient_id,
        "position": item.position,
        "active_from": item.active_from.isoformat(),
        "active_to": item.active_to.isoformat() if item.active_to else None,
        "equipment_id": item.equipment_id,
    }
