"""`clinic patient`, `clinic checkin` and `clinic seed`: patients and their cards, a check-in, demo data.

Thin adapters over `shared.care` (and `shared.demo`); `clinic.cli` registers `checkin` and `seed` as
top-level commands.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from clinic.common import JsonFlag, PatientId, store, user_errors
from clinic.output import ensure_folder, local_time, rfc3339, save_png, table, write_bytes
from clinic.plan_cli import print_plan
from shared.care.appointments import appointments_between
from shared.care.card_print import card_pdf, cards_sheet_pdf, issued_card_image
from shared.care.cards import IssuedCard, issue_card, revoke_lost_card
from shared.care.checkin import Outcome, check_in_card
from shared.care.checkin_messages import headline
from shared.care.models import Appointment
from shared.care.patient_language import checked_language, language_choices, set_language
from shared.care.patients import add_patient
from shared.care.qr import card_image
from shared.demo.patients import DemoPatient, existing_demo_patients, seed_demo_patients
from shared.demo.stations import seed_demo
from shared.fhir.identifiers import parse_identifier
from shared.outcomes.adherence import adherence
from shared.staff.audit import cli_actor
from shared.store.clock import local_today
from shared.store.db import read_session, unit_of_work
from shared.store.errors import ValidationFailed
from shared.store.settings import Settings
from shared.store.types import utcnow

patient_app = typer.Typer(help="Register patients and print their check-in cards.", no_args_is_help=True)


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
    ehr_id = parse_identifier(identifier)  # refused before anything is added
    with store() as (_, engine), unit_of_work(engine) as session:  # the patient, EHR id and language: all or nothing
        patient = add_patient(session=session, first=first, last=last, dob=dob, phone=phone, identifier=ehr_id,
                              language=language, actor=cli_actor())  # fmt: skip
    if as_json:
        typer.echo(json.dumps({"id": patient.id, "display_name": patient.display_name}))
    else:
        typer.echo(f"added patient {patient.id} ({patient.display_name})")


@patient_app.command("card")
@user_errors
def patient_card(
    patient_id: PatientId,
    out: Annotated[
        Path,
        typer.Option("--out", dir_okay=False, help="Where to write the card: a .png image, or a .pdf at card size "
                     "(85.7 x 54 mm) ready to print."),
    ],
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Check that --out is a PDF (a .pdf name already makes a print-ready card).")
    ] = False,
    png: Annotated[bool, typer.Option("--png", help="Check that --out is a PNG (a .png name).")] = False,
    a4: Annotated[bool, typer.Option("--a4", help="In a PDF: the card on an A4 page, to cut out.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Issue a new card (older cards stop working), write it as a PNG or a PDF (as --out's name says) and print
    its link."""
    as_pdf = _card_format(out, pdf=pdf, png=png, a4=a4)  # refused before a card is issued
    with store() as (cfg, engine), unit_of_work(engine) as session:
        card = issue_card(session=session, patient_id=patient_id, base_url=cfg.resolved_kiosk_url,
                          actor=cli_actor())  # fmt: skip
        ensure_folder(out)  # an unwritable folder issues no card
    image = issued_card_image(card, clinic_name=cfg.clinic_name)
    if as_pdf:
        write_bytes(out, cards_sheet_pdf([image]) if a4 else card_pdf(image))
    else:
        save_png(image, out)
    if as_json:
        typer.echo(json.dumps({"patient_id": card.patient_id, "url": card.url, "token": card.token}))
        return
    typer.echo(f"card for patient {card.patient_id} written to {out}; older cards no longer work")
    typer.echo(card.url)


@patient_app.command("revoke")
@user_errors
def patient_revoke(patient_id: PatientId) -> None:
    """Stop the patient's cards and take-home plan links working at once (a lost card); print a new card with
    `clinic patient card`."""
    with store() as (_, engine), unit_of_work(engine) as session:
        revoked = revoke_lost_card(session=session, patient_id=patient_id, actor=cli_actor())
    typer.echo(f"revoked {revoked.cards} card(s)")
    if revoked.plan_links:
        typer.echo(f"revoked {revoked.plan_links} take-home plan link(s)")


@patient_app.command("language")
@user_errors
def patient_language(
    patient_id: PatientId, code: Annotated[str, typer.Argument(help="Language code: en, es, ...")]
) -> None:
    """Set the language the lobby speaks to the patient after their scan."""
    with store() as (_, engine), unit_of_work(engine) as session:
        set_language(session=session, patient_id=patient_id, code=code, actor=cli_actor())
    typer.echo(f"patient {patient_id}: lobby language {language_choices()[checked_language(code) or 'en']}")


@patient_app.command("adherence")
@user_errors
def patient_adherence(patient_id: PatientId, as_json: JsonFlag = False) -> None:
    """Home exercises done over prescribed in the last 7 and 30 days, and the days with any data in the last 30
    (ticks and pain answers from the take-home link)."""
    with store() as (cfg, engine), read_session(engine) as session:
        figures = adherence(session=session, patient_id=patient_id, today=local_today(utcnow(), cfg.tz))
    if as_json:
        typer.echo(json.dumps(figures.as_json()))
        return
    typer.echo(f"patient {patient_id}: {figures.words()}")
    if figures.needs_nudge:
        typer.echo("needs a nudge: under 50% this week")


def _card_format(out: Path, *, pdf: bool, png: bool, a4: bool) -> bool:
    """Whether the card goes out as a PDF: --out's extension decides (.pdf or .png); a flag or --a4 that says
    otherwise is refused, as is any other extension."""
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".png"):
        raise ValidationFailed(f"--out {out.name}: a card is written as .png (an image) or .pdf (ready to print); "
                               "name the file like card.png or card.pdf")  # fmt: skip
    if pdf and png:
        raise ValidationFailed("--pdf and --png contradict each other: give one, or neither (--out's name decides)")
    if (pdf and suffix == ".png") or (png and suffix == ".pdf"):
        flag, other = ("--pdf", ".pdf") if pdf else ("--png", ".png")
        raise ValidationFailed(f"{flag} does not match --out {out.name}: name the file with {other}, or drop {flag}")
    if a4 and suffix != ".pdf":
        raise ValidationFailed(f"--a4 lays the card out in a PDF: write it to a .pdf file, not {out.name}")
    return suffix == ".pdf"


# --- check-in and demo data -----------------------------------------------------------------------------------


@user_errors
def checkin(
    scan: Annotated[
        str, typer.Argument(help="The card's token or its whole link (an old token beginning with '-' goes after --).")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Check a card's patient in for today's appointment, as the kiosk does but without the birth-date step.

    Exit 0 when checked in (now or earlier), 1 otherwise (invalid card, no appointment, locked).
    """
    with store() as (cfg, engine), unit_of_work(engine) as session:
        outcome = check_in_card(session=session, settings=cfg, scan=scan, kiosk="cli")
    if as_json:
        typer.echo(json.dumps(_outcome_json(outcome)))
    else:
        typer.echo(headline(outcome, cfg.tz))
        if outcome.plan:
            print_plan(outcome.plan)
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
        with unit_of_work(engine) as session:
            stations = seed_demo(session=session, site=cfg.site)
            existing = existing_demo_patients(session=session)
        cards = [] if existing else seed_demo_patients(engine=engine, settings=cfg, now=now)
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
    table(["FIRST", "BORN", "APPOINTMENT", "CARD"], _demo_cards(cfg, cards, booked, folder))
    typer.echo(f"printable cards in {folder}/ (all on A4: cards.pdf); at the lobby, scan a card (or open its link)"
               " and enter the birth date")  # fmt: skip


def _demo_cards(
    cfg: Settings, cards: list[tuple[DemoPatient, IssuedCard]], booked: list[Appointment], folder: Path
) -> list[list[str]]:
    """Write each demo card as <folder>/<first>.png, and all of them on A4 as <folder>/cards.pdf; rows of first
    name, birth date, appointment and link."""
    starts = {a.patient_id: a.starts_at for a in reversed(booked)}  # the earliest wins
    rows, images = [], []
    for patient, card in cards:
        image = card_image(card.url, first_name=card.first_name, clinic_name=cfg.clinic_name)
        save_png(image, folder / f"{patient.first}.png")
        images.append(image)
        at = starts.get(card.patient_id)
        rows.append([patient.first, patient.dob.isoformat(), local_time(at, cfg.tz) if at else "none today", card.url])
    if images:
        write_bytes(folder / "cards.pdf", cards_sheet_pdf(images))
    return rows


def _outcome_json(outcome: Outcome) -> dict[str, object]:
    """The documented shape of `clinic checkin --json`."""
    return {
        "result": outcome.public_result,  # a revoked card is "invalid" here, as on the lobby's screen
        "display_name": outcome.display_name,
        "appointment_at": rfc3339(outcome.appointment_at),
        "plan": [line.as_json() for line in outcome.plan],
    }
