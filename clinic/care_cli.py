"""The care side of the `clinic` command: patients, cards, appointments, exercises, plans, check-in and demo data.

Thin adapters over `shared.*` services. `clinic.cli` registers these commands while it loads, so its helpers
(`user_errors`, `settings`, `engine_for`, `_table`) are imported when a command runs, never at import time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from PIL import Image
from sqlalchemy import Engine

from shared.care.appointments import CSV_COLUMNS, add_appointment, appointments_between, import_appointments_csv
from shared.care.card_print import card_pdf, cards_sheet_pdf, issued_card_image
from shared.care.cards import IssuedCard, issue_card, revoke_cards
from shared.care.checkin import Outcome, check_in
from shared.care.checkin_messages import headline
from shared.care.exercise_images import save_image_file
from shared.care.exercises import add_exercise, list_exercises, update_exercise
from shared.care.models import Appointment, PlanItem
from shared.care.patient_language import checked_language, language_choices, set_language
from shared.care.patients import add_patient, get_patient
from shared.care.plan_import import PLAN_CSV_COLUMNS, import_plan_csv
from shared.care.plan_shares import revoke_shares
from shared.care.plans import add_plan_item
from shared.care.qr import card_image
from shared.care.todays_plan import PATIENT_STATUS_WORDS, PlanLine
from shared.care.todays_plan import todays_plan as plan_for_day
from shared.demo.patients import DemoPatient, existing_demo_patients, seed_demo_patients
from shared.demo.stations import seed_demo
from shared.fhir.identifiers import check_identifier_free, parse_identifier, set_identifier
from shared.store.clock import local_today, parse_date, parse_local_datetime
from shared.store.db import read_session, unit_of_work
from shared.store.errors import ValidationFailed
from shared.store.settings import Settings
from shared.store.types import utcnow

patient_app = typer.Typer(help="Register patients and print their check-in cards.", no_args_is_help=True)
appointment_app = typer.Typer(help="Book appointments, one at a time or from a CSV file.", no_args_is_help=True)
exercise_app = typer.Typer(help="The exercise library.", no_args_is_help=True)
plan_app = typer.Typer(help="Patients' exercise plans.", no_args_is_help=True)

F = TypeVar("F", bound=Callable[..., Any])
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of text.")]
PatientId = Annotated[int, typer.Argument(help="The patient's id (printed by `clinic patient add`).")]


def user_errors(func: F) -> F:
    """`clinic.cli.user_errors` (one `error:` line, exit 2), looked up when the command runs."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from clinic.cli import user_errors as handled

        return handled(func)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@contextmanager
def store() -> Iterator[tuple[Settings, Engine]]:
    """The settings and an engine on the store, through `clinic.cli`'s helpers."""
    from clinic.cli import engine_for, settings

    cfg = settings()
    with engine_for(cfg) as engine:
        yield cfg, engine


ImageOption = Annotated[
    Path | None, typer.Option("--image", help="A PNG or JPEG picture of the exercise (at most 2 MB).")
]
NameEsOption = Annotated[str | None, typer.Option("--name-es", help="The name in Spanish (for the lobby).")]
InstructionsEsOption = Annotated[str | None, typer.Option("--instructions-es", help="The instructions in Spanish.")]

# --- patients -------------------------------------------------------------------------------------------------


@patient_app.command("add")
@user_errors
def patient_add(
    first: Annotated[str, typer.Option("--first", help="First name (printed on the card).")],
    last: Annotated[str, typer.Option("--last", help="Last name (never shown; the lobby shows its initial).")],
    dob: Annotated[str, typer.Option("--dob", help="Date of birth, like 1950-04-17.")],
    phone: Annotated[str | None, typer.Option("--phone", help="Phone number.")] = None,
    identifier: Annotated[
        str | None, typer.Option("--identifier", help="The patient's id in the EHR, as SYSTEM|VALUE.")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="The lobby's language after their scan: en, es, ...")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Register a patient and print the new id."""
    ehr_id = parse_identifier(identifier)
    lobby_language = checked_language(language)  # refused before anything is added
    with store() as (_, engine):
        with read_session(engine) as session:
            check_identifier_free(session=session, identifier=ehr_id)  # before the patient is added
        with unit_of_work(engine) as session:  # the patient, their EHR id and language: all or nothing
            patient = add_patient(session=session, first=first, last=last, dob=dob, phone=phone)
            assert patient.id is not None
            if ehr_id is not None:
                set_identifier(session=session, patient_id=patient.id, identifier=ehr_id)
            if lobby_language is not None:
                set_language(session=session, patient_id=patient.id, code=lobby_language)
    if as_json:
        typer.echo(json.dumps({"id": patient.id, "display_name": patient.display_name}))
    else:
        typer.echo(f"added patient {patient.id} ({patient.display_name})")


@patient_app.command("card")
@user_errors
def patient_card(
    patient_id: PatientId,
    out: Annotated[Path, typer.Option("--out", dir_okay=False, help="Where to write the printable card.")],
    pdf: Annotated[bool, typer.Option("--pdf", help="A print-ready PDF at card size (85.7 x 54 mm).")] = False,
    a4: Annotated[bool, typer.Option("--a4", help="With --pdf: the card on an A4 page, to cut out.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Issue a new card (older cards stop working), write it as a PNG (or a PDF) and print its link."""
    if a4 and not pdf:
        raise ValidationFailed("--a4 lays the card out in a PDF: add --pdf")
    with store() as (cfg, engine):
        with read_session(engine) as session:
            get_patient(session=session, patient_id=patient_id)
        _writable(out)
        with unit_of_work(engine) as session:
            card = issue_card(session=session, patient_id=patient_id, base_url=cfg.resolved_kiosk_url)
    image = issued_card_image(card, clinic_name=cfg.clinic_name)
    if pdf:
        _save_bytes(cards_sheet_pdf([image]) if a4 else card_pdf(image), out)
    else:
        _save_png(image, out)
    if as_json:
        typer.echo(json.dumps({"patient_id": card.patient_id, "url": card.url, "token": card.token}))
        return
    typer.echo(f"card for patient {card.patient_id} written to {out}; older cards no longer work")
    typer.echo(card.url)


@patient_app.command("revoke")
@user_errors
def patient_revoke(patient_id: PatientId) -> None:
    """Stop the patient's cards working at once (a lost card); print a new one with `clinic patient card`."""
    with store() as (_, engine):
        with read_session(engine) as session:
            get_patient(session=session, patient_id=patient_id)
        with unit_of_work(engine) as session:
            count = revoke_cards(session=session, patient_id=patient_id)
            links = revoke_shares(session=session, patient_id=patient_id)
    typer.echo(f"revoked {count} card(s)")
    if links:
        typer.echo(f"revoked {links} take-home plan link(s)")


@patient_app.command("language")
@user_errors
def patient_language(
    patient_id: PatientId, code: Annotated[str, typer.Argument(help="Language code: en, es, ...")]
) -> None:
    """Set the language the lobby speaks to the patient after their scan."""
    with store() as (_, engine), unit_of_work(engine) as session:
        set_language(session=session, patient_id=patient_id, code=code)
    typer.echo(f"patient {patient_id}: lobby language {language_choices()[checked_language(code) or 'en']}")


# --- appointments ---------------------------------------------------------------------------------------------


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
    when = _local(appointment.starts_at, cfg.tz)
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
    text = _read_text(file)
    with store() as (cfg, engine):
        today = local_today(utcnow(), cfg.tz)
        with unit_of_work(engine) as session:
            rows = import_appointments_csv(session=session, text=text, site=cfg.site, tz=cfg.tz, today=today)
    if as_json:
        typer.echo(json.dumps({"imported": len(rows), "appointments": [_appointment_json(a) for a in rows]}))
    else:
        typer.echo(f"imported {len(rows)} appointment(s)")


# --- exercises and plans --------------------------------------------------------------------------------------


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
                                    image_file=picture, name_es=name_es, instructions_es=instructions_es)  # fmt: skip
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
        with read_session(engine) as session:
            found = next((e for e in list_exercises(session=session) if e.name == " ".join(name.split())), None)
        if found is None or found.id is None:
            raise ValidationFailed(f"no exercise named {name!r} in the library (see `clinic exercise add`)")
        picture = save_image_file(cfg.data_dir, image) if image else ("" if no_image else None)
        with unit_of_work(engine) as session:
            exercise = update_exercise(session=session, exercise_id=found.id, name=new_name,
                                       instructions=instructions, equipment_kind=kind,
                                       image_file=picture, name_es=name_es,
                                       instructions_es=instructions_es)  # fmt: skip
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
            active_from=_day(active_from, "--from") or local_today(utcnow(), cfg.tz),
            active_to=_day(active_to, "--to"),
        )
    if as_json:
        typer.echo(json.dumps(_plan_item_json(item)))
    else:
        typer.echo(f"added plan line {item.id} (position {item.position}) for patient {patient_id}")


@plan_app.command("show")
@user_errors
def plan_show(patient_id: PatientId, as_json: JsonFlag = False) -> None:
    """Today's plan for a patient, with each station's live status."""
    with store() as (cfg, engine):
        with read_session(engine) as session:
            get_patient(session=session, patient_id=patient_id)
        lines = plan_for_day(
            engine=engine, patient_id=patient_id, day=local_today(utcnow(), cfg.tz), site=cfg.site, tz=cfg.tz
        )
    if as_json:
        typer.echo(json.dumps([line.as_json() for line in lines], indent=2))
    elif not lines:
        typer.echo(f"patient {patient_id} has no exercises planned for today (see `clinic plan add`)")
    else:
        _print_plan(lines)


@plan_app.command("import", help=f"""Add plan lines from a CSV file, all or nothing.

Columns (a header row first): {",".join(PLAN_CSV_COLUMNS)}. patient_id and exercise (a library name) are
required; hold_s is in seconds; station is an equipment id at this site; from/to are dates like 2026-11-23
(from defaults to today). A bad row imports nothing and names its line.""")  # fmt: skip
@user_errors
def plan_import(file: Annotated[Path, typer.Argument(help="The CSV file.")], as_json: JsonFlag = False) -> None:
    """Add plan lines from a CSV file, all or nothing."""
    text = _read_text(file)
    with store() as (cfg, engine), unit_of_work(engine) as session:
        items = import_plan_csv(session=session, text=text, site=cfg.site, today=local_today(utcnow(), cfg.tz))
    if as_json:
        typer.echo(json.dumps({"imported": len(items), "plan_lines": [_plan_item_json(i) for i in items]}))
    else:
        typer.echo(f"imported {len(items)} plan line(s)")


# --- check-in and demo data -----------------------------------------------------------------------------------


@user_errors
def checkin(
    scan: Annotated[str, typer.Argument(help="The card's token or its whole link.")],
    as_json: JsonFlag = False,
) -> None:
    """Check a card's patient in for today's appointment, as the kiosk does but without the birth-date step.

    Exit 0 when checked in (now or earlier), 1 otherwise (invalid card, no appointment, locked).
    """
    with store() as (cfg, engine):
        outcome = check_in(engine=engine, settings=cfg, scan=scan, kiosk="cli")
    if as_json:
        typer.echo(json.dumps(_outcome_json(outcome)))
    else:
        typer.echo(headline(outcome, cfg.tz))
        if outcome.plan:
            _print_plan(outcome.plan)
    if not outcome.ok:
        raise typer.Exit(1)


@user_errors
def seed(
    demo: Annotated[bool, typer.Option("--demo", help="Add the demo stations, patients and cards.")] = False,
) -> None:
    """Add demo data to try the system: stations, patients with appointments soon, plans and cards."""
    if not demo:
        raise ValidationFailed("nothing to seed: add --demo for the demo stations, patients and cards")
    now = utcnow()
    with store() as (cfg, engine):
        stations = seed_demo(engine, site=cfg.site)
        existing = existing_demo_patients(engine)
        cards = [] if existing else seed_demo_patients(engine, cfg, now=now)
        with read_session(engine) as session:
            booked = appointments_between(
                session=session, site=cfg.site, start=now - timedelta(hours=1), end=now + timedelta(days=1)
            )
    typer.echo(f"demo stations ready at site {cfg.site!r} ({len(stations)})")
    if existing:
        names = ", ".join(f"{demo.first} (patient {patient_id})" for demo, patient_id in existing)
        typer.echo(f"demo data already exists: {names}.")
        typer.echo("Card links are stored only as hashes, so they cannot be shown again; issue a new card with")
        typer.echo("`clinic patient card <id> --out card.png` (its older cards stop working).")
        return
    folder = cfg.data_dir / "cards"
    _print_table(["FIRST", "BORN", "APPOINTMENT", "CARD"], _demo_cards(cfg, cards, booked, folder))
    typer.echo(f"printable cards in {folder}/ (all on A4: cards.pdf); at the lobby, scan a card (or open its link)"
               " and enter the birth date")  # fmt: skip


# --- helpers --------------------------------------------------------------------------------------------------


def _demo_cards(
    cfg: Settings, cards: list[tuple[DemoPatient, IssuedCard]], booked: list[Appointment], folder: Path
) -> list[list[str]]:
    """Write each demo card as <folder>/<first>.png, and all of them on A4 as <folder>/cards.pdf; rows of first
    name, birth date, appointment and link."""
    starts = {a.patient_id: a.starts_at for a in reversed(booked)}  # the earliest wins
    rows, images = [], []
    for patient, card in cards:
        image = card_image(card.url, first_name=card.first_name, clinic_name=cfg.clinic_name)
        _save_png(image, folder / f"{patient.first}.png")
        images.append(image)
        at = starts.get(card.patient_id)
        rows.append([patient.first, patient.dob.isoformat(), _local(at, cfg.tz) if at else "none today", card.url])
    if images:
        _save_bytes(cards_sheet_pdf(images), folder / "cards.pdf")
    return rows


def _print_plan(lines: list[PlanLine]) -> None:
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
    _print_table(["#", "EXERCISE", "DOSE", "STATION", "STATUS"], rows)


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    """`clinic.cli._table`, so every table looks the same."""
    from clinic.cli import _table

    _table(header, rows)


def _outcome_json(outcome: Outcome) -> dict[str, object]:
    """The documented shape of `clinic checkin --json`."""
    return {
        "result": outcome.result,
        "display_name": outcome.display_name,
        "appointment_at": _rfc3339(outcome.appointment_at),
        "plan": [line.as_json() for line in outcome.plan],
    }


def _appointment_json(appointment: Appointment) -> dict[str, object]:
    """An appointment for scripts (times as RFC 3339 UTC)."""
    return {
        "id": appointment.id,
        "patient_id": appointment.patient_id,
        "site": appointment.site,
        "starts_at": _rfc3339(appointment.starts_at),
        "minutes": appointment.minutes,
        "clinician": appointment.clinician,
        "status": appointment.status,
    }


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


def _rfc3339(value: datetime | None) -> str | None:
    """An aware time as RFC 3339 in UTC ("2026-11-23T10:30:00Z"), None for none."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _local(value: datetime, tz: tzinfo) -> str:
    """A time as the clinic's wall clock shows it, with the day."""
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _day(text: str | None, what: str) -> date | None:
    """An optional ISO date typed by staff."""
    return parse_date(text, what) if text is not None else None


def _read_text(path: Path) -> str:
    """A CSV file's text (UTF-8, with or without a byte-order mark)."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None


def _writable(path: Path) -> None:
    """Refuse an output path whose folder cannot be made, before a card is issued (and the old one revoked)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValidationFailed(f"cannot write {path}: {exc.strerror or exc}") from None


def _save_bytes(data: bytes, path: Path) -> None:
    """Write a file (a PDF), making its folder."""
    _writable(path)
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise ValidationFailed(f"cannot write {path}: {exc.strerror or exc}") from None


def _save_png(image: Image.Image, path: Path) -> None:
    """Write an image as PNG (whatever the file name's suffix), making its folder."""
    _writable(path)
    try:
        image.save(path, format="PNG")
    except OSError as exc:
        raise ValidationFailed(f"cannot write {path}: {exc.strerror or exc}") from None
