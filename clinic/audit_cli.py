"""`clinic report audit`: the inspector's log of the records (cleaning, maintenance, out of service, corrections,
faults) for a range of days, on screen, as a CSV file or as an A4 PDF (registered on `clinic report` by
clinic/cli.py). Thin adapter over `shared.reports.audit_log` and `audit_pdf` (docs/records.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from clinic.common import fail, store, user_errors
from clinic.output import table
from shared.store.db import read_session


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"{option} {text!r} is not a date like 2026-12-01")


@user_errors
def audit(
    from_text: Annotated[str, typer.Option("--from", help="First local day, e.g. 2026-11-30.")],
    to_text: Annotated[str, typer.Option("--to", help="Last local day (included).")],
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the log as an A4 PDF here.")] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Write the log as one CSV file here.")] = None,
    site: Annotated[str | None, typer.Option("--site", help="One site's records; default every site.")] = None,
) -> None:
    """The records' audit log for a range of days, with who and when (times in CLINIC_TIMEZONE), and whether
    the records' chain is intact."""
    from shared.reports.audit_log import audit_log, write_csv

    first, last = _day(from_text, "--from"), _day(to_text, "--to")
    with store() as (cfg, engine), read_session(engine) as session:
        log = audit_log(session=session, first=first, last=last, tz=cfg.tz, tz_name=cfg.timezone or "local time",
                        site=site)  # fmt: skip
    typer.echo(f"{log.title} ({log.zone_name}): {len(log.lines)} line{'' if len(log.lines) == 1 else 's'}")
    typer.echo(log.chain_words)
    if csv_file is not None:
        write_csv(log, csv_file)
        typer.echo(f"CSV written to {csv_file}")
    if pdf is not None:
        from shared.reports.audit_pdf import write_pdf

        pages = write_pdf(log, pdf)
        typer.echo(f"PDF written to {pdf} ({pages} pages, A4)")
    if csv_file is None and pdf is None:
        rows = [[line.when_local, str(line.record or "-"), line.station, line.what, line.who,
                 line.details + (f" [corrected by {', '.join(map(str, line.corrected_by))}]" if line.corrected_by
                                 else "")]
                for line in log.lines]  # fmt: skip
        if rows:
            table(["WHEN", "RECORD", "STATION", "WHAT", "WHO", "DETAILS"], rows)
