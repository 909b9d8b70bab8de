"""The `clinic` command: the composition root, assembling every sub-command's Typer app into one.

The commands live in `clinic/*_cli.py` (and `clinic.run_cli`); what they share (settings, the engine, the one
error handler) is `clinic.common`, and how they print is `clinic.output`.
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

from clinic import run_cli
from clinic.appointment_cli import appointment_app
from clinic.audit_cli import audit
from clinic.chain_cli import chain_app
from clinic.db_cli import db_app
from clinic.equipment_cli import dead_app, device_app, equipment_app
from clinic.fhir_cli import fhir_app
from clinic.maintenance_cli import disinfectant_app, maintenance_app, records_app
from clinic.native_cli import native
from clinic.native_sim_cli import simulate_native
from clinic.patient_cli import checkin, patient_app, seed
from clinic.plan_cli import exercise_app, plan_app
from clinic.questionnaire_cli import outcomes, questionnaire_app
from clinic.report_cli import report_app
from clinic.staff_cli import staff_app
from clinic.status_cli import status

app = typer.Typer(help="Clinic check-in and equipment telemetry.", no_args_is_help=True, add_completion=False)


def _print_version(wanted: bool) -> None:
    """`clinic --version`: the installed distribution's version (from its metadata), then exit 0."""
    if wanted:
        try:
            typer.echo(f"clinic {version('clinic-checkin')}")
        except PackageNotFoundError:  # run from a checkout that was never installed
            typer.echo("clinic (not installed: no version)")
        raise typer.Exit()


@app.callback()
def _options(
    _version: Annotated[
        bool,
        typer.Option("--version", help="Print the installed version and exit.", callback=_print_version, is_eager=True),
    ] = False,
) -> None:
    """Clinic check-in and equipment telemetry."""


# Top-level commands, in the order `clinic --help` lists them.
app.command("checkin")(checkin)
app.command("seed")(seed)
app.command("init")(run_cli.init)
app.command("listen")(run_cli.listen)
app.command("native")(native)
app.command("lobby")(run_cli.lobby)
app.command("up")(run_cli.up)
app.command("simulate")(run_cli.simulate)
app.command("simulate-native")(simulate_native)
app.command("status")(status)
patient_app.command("outcomes")(outcomes)  # `clinic patient outcomes` (clinic/questionnaire_cli.py)
report_app.command("audit")(audit)  # `clinic report audit` (clinic/audit_cli.py)

# Command groups, in the order `clinic --help` lists them.
for name, group in [
    ("device", device_app),
    ("equipment", equipment_app),
    ("maintenance", maintenance_app),
    ("disinfectant", disinfectant_app),
    ("records", records_app),
    ("deadletters", dead_app),
    ("patient", patient_app),
    ("appointment", appointment_app),
    ("exercise", exercise_app),
    ("plan", plan_app),
    ("questionnaire", questionnaire_app),
    ("staff", staff_app),
    ("fhir", fhir_app),
    ("db", db_app),
    ("chain", chain_app),
    ("report", report_app),
]:
    app.add_typer(group, name=name)


PRIVATE_UMASK = 0o077  # the store, backups, logs, cards and broker files hold patient data or secrets


def main() -> None:
    """Entry point of the console script: everything it and its children create is owner-only, whatever the
    shell's umask (the systemd units set the same, UMask=0077)."""
    os.umask(PRIVATE_UMASK)
    app()
