"""`clinic questionnaire` (add, list, assign, unassign) and `clinic patient outcomes`: thin adapters over
`shared.outcomes`; `clinic.cli` registers `outcomes` on the patient group."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from clinic.common import JsonFlag, JsonTableFlag, PatientId, store, user_errors
from clinic.output import local_time, rfc3339, table
from shared.outcomes.catalogue import add_questionnaire, catalogue
from shared.outcomes.instruments import Instrument, read_instrument_file
from shared.outcomes.progress import Progress, patient_outcomes
from shared.outcomes.schedule import assign, unassign
from shared.staff.audit import cli_actor
from shared.store.db import read_session, unit_of_work

questionnaire_app = typer.Typer(help="Outcome questionnaires: load, list and assign them.", no_args_is_help=True)
QuestionnaireCode = Annotated[str, typer.Argument(help="The questionnaire's code (`clinic questionnaire list`).")]


@questionnaire_app.command("add")
@user_errors
def questionnaire_add(
    file: Annotated[Path, typer.Argument(help="A FHIR R4 Questionnaire (JSON) with its scoring extension.")],
) -> None:
    """Load a questionnaire the clinic holds a licence for (docs/outcomes.md: the format); again replaces it."""
    instrument = read_instrument_file(file)  # a bad file is refused before the store is opened
    with store() as (_, engine), unit_of_work(engine) as session:
        add_questionnaire(session=session, resource=instrument.resource, actor=cli_actor())
    typer.echo(f"added questionnaire {instrument.code} ({instrument.name('en')}, {len(instrument.items)} items, "
               f"{_rule_words(instrument)})")  # fmt: skip


@questionnaire_app.command("list")
@user_errors
def questionnaire_list(as_json: JsonTableFlag = False) -> None:
    """Every questionnaire that can be assigned: the shipped ones and those the clinic added."""
    with store() as (_, engine), read_session(engine) as session:
        found = catalogue(session=session)
    if as_json:
        typer.echo(json.dumps([_instrument_json(i) for i in found], ensure_ascii=False))
        return
    table(["CODE", "TITLE", "ITEMS", "SCORE", "SOURCE"],
          [[i.code, i.name("en"), str(len(i.items)), _rule_words(i), "shipped" if i.shipped else "added"]
           for i in found])  # fmt: skip


@questionnaire_app.command("assign")
@user_errors
def questionnaire_assign(
    patient_id: PatientId,
    questionnaire: QuestionnaireCode,
    every_visits: Annotated[int | None, typer.Option("--every-visits", help="Ask every N visits (1: each).")] = None,
    every_days: Annotated[int | None, typer.Option("--every-days", help="Ask when N days have passed.")] = None,
    at_intake: Annotated[bool, typer.Option("--at-intake", help="Ask at the next visit if never answered.")] = False,
    at_discharge: Annotated[
        bool, typer.Option("--at-discharge", help="Ask once more at the next visit (the discharge visit).")
    ] = False,
    activity: Annotated[
        list[str] | None, typer.Option("--activity", help="PSFS: an activity the patient named (up to 5, repeat).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Ask a patient a questionnaire at the lobby after check-in, by this rule (replacing the one they had)."""
    with store() as (_, engine), unit_of_work(engine) as session:
        done = assign(session=session, patient_id=patient_id, questionnaire=questionnaire, every_visits=every_visits,
                      every_days=every_days, at_intake=at_intake, at_discharge=at_discharge, activities=activity,
                      actor=cli_actor())  # fmt: skip
    if as_json:
        typer.echo(json.dumps({"patient_id": patient_id, "questionnaire": done.questionnaire, "when": done.rule.words,
                               "activities": list(done.activities)}, ensure_ascii=False))  # fmt: skip
        return
    typer.echo(f"patient {patient_id}: {done.questionnaire} ({done.title}) asked {done.rule.words}")


@questionnaire_app.command("unassign")
@user_errors
def questionnaire_unassign(patient_id: PatientId, questionnaire: QuestionnaireCode) -> None:
    """Stop asking a patient a questionnaire (their scores stay)."""
    with store() as (_, engine), unit_of_work(engine) as session:
        unassign(session=session, patient_id=patient_id, questionnaire=questionnaire, actor=cli_actor())
    typer.echo(f"patient {patient_id}: {questionnaire} no longer asked")


@user_errors
def outcomes(patient_id: PatientId, as_json: JsonFlag = False) -> None:
    """Each questionnaire's scores over time, and whether it improved by more than the MCID since intake."""
    with store() as (cfg, engine), read_session(engine) as session:
        found = patient_outcomes(session=session, patient_id=patient_id)
    if as_json:
        typer.echo(json.dumps({"patient_id": patient_id, "outcomes": [_progress_json(p) for p in found]}))
        return
    if not found:
        typer.echo(f"patient {patient_id}: no questionnaires assigned or answered")
        return
    for progress in found:
        typer.echo(f"{progress.questionnaire}: {progress.title} ({_direction(progress)}, MCID {_num(progress.mcid)})")
        table(["WHEN", "SCORE"], [[local_time(p.at, cfg.tz), _num(p.score)] for p in progress.points])
        typer.echo(progress.verdict.words + _change(progress))


def _num(value: float) -> str:
    """2.0 as "2", 4.67 as "4.67": plain numbers."""
    return f"{value:g}"


def _direction(progress: Progress) -> str:
    return f"{_num(progress.low)}-{_num(progress.high)}, {progress.better} is better"


def _change(progress: Progress) -> str:
    if progress.verdict.change is None:
        return ""
    first, last = progress.points[0].score, progress.points[-1].score
    return f" ({_num(first)} -> {_num(last)})"


def _rule_words(instrument: Instrument) -> str:
    rule = instrument.scoring
    return f"{rule.method} {_num(rule.low)}-{_num(rule.high)}, {rule.better} is better, MCID {_num(rule.mcid)}"


def _instrument_json(instrument: Instrument) -> dict[str, object]:
    rule = instrument.scoring
    return {"code": instrument.code, "title": instrument.name("en"), "titles": instrument.title,
            "items": len(instrument.items), "method": rule.method, "min": rule.low, "max": rule.high,
            "mcid": rule.mcid, "better": rule.better, "shipped": instrument.shipped, "licence": rule.licence,
            "source": rule.source}  # fmt: skip


def _progress_json(progress: Progress) -> dict[str, object]:
    return {"questionnaire": progress.questionnaire, "title": progress.title, "min": progress.low,
            "max": progress.high, "mcid": progress.mcid, "better": progress.better,
            "scores": [{"at": rfc3339(p.at), "score": p.score} for p in progress.points],
            "change": progress.verdict.change, "improved": progress.verdict.improved,
            "verdict": progress.verdict.words}  # fmt: skip
