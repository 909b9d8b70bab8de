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
from clinic.output import table

report_app = typer.Typer(help="Reports: the weekly report and the records' audit log.", no_args_is_help=True)

WeekOption = Annotated[str | None, typer.Option("--week", help="The ISO week, e.g. 2026-W49; default last week.")]
SiteOption = Annotated[str | None, typer.Option("--site", help="The site's stations and desk; default CLINIC_SITE.")]
PdfOption = Annotated[Path | None, typer.Option("--pdf", help="Write the report (charts and tables, A4) here.")]
CsvOption = Annotated[Path | None, typer.Option("--csv", help="Write one CSV per table into this folder.")]


@report_app.command("week")
@user_errors
def week(
    week_text: WeekOption = None, site: SiteOption = None, pdf: PdfOption = None, csv_dir: CsvOption = None
) -> None:
    """The weekly report: cleaning, use, downtime, arrivals and waits, in the clinic's time zone."""
    from shared.reports.csv_files import cell_text, write_csv_files
    from shared.reports.week_report import build_week_report, report_sites
    from shared.reports.weeks import last_full_week, parse_week
    from shared.store.db import read_session
    from shared.store.errors import ValidationFailed

    with store() as (cfg, engine):
        chosen = parse_week(week_text, cfg.tz) if week_text else last_full_week(datetime.now(UTC), cfg.tz)
        with read_session(engine) as session:
            known = report_sites(session=session, home=cfg.site)
            if site is not None and site not in known:
                raise ValidationFailed(f"no stations at site {site!r}; sites here: {', '.join(known)}")
            report = build_week_report(session=session, site=site or cfg.site, week=chosen)
    typer.echo(f"Week {chosen.label} at site {report.site}: {chosen.days[0]} to {chosen.days[-1]} "
               f"({chosen.hours:g} hours, {cfg.timezone or 'local time'})")  # fmt: skip
    summary = report.table("summary")
    for name, value in list(zip(summary.columns, summary.rows[0], strict=True))[5:]:
        typer.echo(f"  {name}: {cell_text(value) or '-'}")
    for shown in report.tables:
        if shown.name in ("summary", "utilization_heatmap"):
            continue
        typer.echo(f"\n{shown.title}")
        table(list(shown.columns), [[cell_text(v) or "-" for v in row] for row in shown.rows])
    if csv_dir is not None:
        files = write_csv_files(report, csv_dir)
        typer.echo(f"\n{len(files)} CSV files written to {csv_dir}")
    if pdf is not None:
        from shared.reports.pdf import write_pdf

        pages = write_pdf(report, pdf)
        typer.echo(f"PDF written to {pdf} ({pages} pages, A4)")
