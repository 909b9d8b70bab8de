"""The weekly report as CSV: one file per table, named for the table (`usage.csv`, ...), columns as documented."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from shared.reports.table import Cell, Table
from shared.reports.week_report import WeekReport
from shared.store.errors import ValidationFailed


def cell_text(value: Cell) -> str:
    """A figure as every output writes it: numbers as computed (already rounded), nothing for no figure."""
    return "" if value is None else str(value)


def csv_text(table: Table) -> str:
    """One table as CSV text: its column names, then its rows."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(table.columns)
    writer.writerows([cell_text(v) for v in row] for row in table.rows)
    return text.getvalue()


def write_csv_files(report: WeekReport, folder: Path) -> list[Path]:
    """Write each table to `folder/<name>.csv` (the folder is made if missing); returns the files written."""
    written = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for table in report.tables:
            path = folder / f"{table.name}.csv"
            path.write_text(csv_text(table), encoding="utf-8", newline="")
            written.append(path)
    except OSError as exc:
        raise ValidationFailed(f"cannot write CSV files in {folder}: {exc.strerror or exc}") from None
    return written


def csv_zip(report: WeekReport) -> bytes:
    """Every table's CSV file in one ZIP (the staff page's download), named as `write_csv_files` names them."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in report.tables:
            archive.writestr(f"{table.name}.csv", csv_text(table))
    return out.getvalue()
