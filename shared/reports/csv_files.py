"""The weekly report as CSV: one file per table, named for the table (`usage.csv`, ...), columns as documented."""

from __future__ import annotations

import csv
from pathlib import Path

from shared.reports.week_report import Cell, WeekReport
from shared.store.errors import ValidationFailed


def cell_text(value: Cell) -> str:
    """A figure as every output writes it: numbers as computed (already rounded), nothing for no figure."""
    return "" if value is None else str(value)


def write_csv_files(report: WeekReport, folder: Path) -> list[Path]:
    """Write each table to `folder/<name>.csv` (the folder is made if missing); returns the files written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for table in report.tables:
            path = folder / f"{table.name}.csv"
            with path.open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(table.columns)
                writer.writerows([cell_text(v) for v in row] for row in table.rows)
            written.append(path)
    except OSError as exc:
        raise ValidationFailed(f"cannot write CSV files in {folder}: {exc.strerror or exc}") from None
    return written
