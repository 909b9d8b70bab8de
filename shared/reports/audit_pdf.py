"""The audit log as a PDF an inspector prints: A4 portrait table pages (when, record, station, what, who, details),
each headed with the range, the chain's check and the page number; long cells wrap, nothing is cut.

Drawn on matplotlib `Figure`s without pyplot (no global state, safe in threads), as the weekly report's PDF.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path
from typing import BinaryIO

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from shared.reports.audit_log import AuditLine, AuditLog
from shared.reports.pdf_output import save_pages, to_bytes, to_file

PAGE_W, PAGE_H = 210 / 25.4, 297 / 25.4  # A4 portrait, inches
MARGIN = 0.5
TEXT_PT = 9
LINE_IN = 0.165  # one line of TEXT_PT text
INK, RULE, ALARM = "#31333f", "#c8c8d0", "#a4161a"
# (heading, characters wide): about 100 characters of 9 pt text across the page
COLUMNS = (("When", 17), ("Record", 8), ("Station", 15), ("What", 18), ("Who", 12), ("Details", 30))
WRAP = 1.1  # characters of proportional text per unit of column width (the widths leave a gap between columns)


def write_pdf(log: AuditLog, path: Path) -> int:
    """Write the log to `path`; returns the number of pages."""
    return to_file(path, lambda out: _write(log, out))


def pdf_bytes(log: AuditLog) -> bytes:
    """The PDF as bytes (for a download)."""
    return to_bytes(lambda out: _write(log, out))


def _write(log: AuditLog, out: BinaryIO) -> int:
    return save_pages(audit_pages(log), out, title=log.title, creator="clinic report audit")


def audit_pages(log: AuditLog) -> list[Figure]:
    """The log's pages, each an A4 figure: the heading, then the table's rows, the column headings repeated."""
    rows = [_cells(line) for line in log.lines]
    pages: list[Figure] = []
    start = 0
    while True:
        figure = Figure(figsize=(PAGE_W, PAGE_H))
        y = _heading(figure, log, first=not pages)
        y = _row(figure, y, [[name] for name, _ in COLUMNS], bold=True)
        if not rows:
            figure.text(MARGIN / PAGE_W, (y - 0.1) / PAGE_H, "No records in this range.", va="top", fontsize=TEXT_PT)
        while start < len(rows) and y - _height(rows[start]) >= MARGIN + 0.3:
            y = _row(figure, y, rows[start])
            start += 1
        pages.append(figure)
        if start >= len(rows):
            break
    for number, figure in enumerate(pages, 1):
        figure.text(1 - MARGIN / PAGE_W, 0.35 / PAGE_H, f"page {number} of {len(pages)}", ha="right",
                    fontsize=TEXT_PT, color=INK)  # fmt: skip
    return pages


def _heading(figure: Figure, log: AuditLog, *, first: bool) -> float:
    """The title, the chain's check and the time zone (and on the first page the counts); returns the y below."""
    y = PAGE_H - MARGIN
    figure.text(MARGIN / PAGE_W, y / PAGE_H, log.title, va="top", fontsize=TEXT_PT + 5, weight="bold", color=INK)
    y -= 0.32
    color = INK if log.chain.intact else ALARM
    for line in textwrap.wrap(log.chain_words, 100):
        figure.text(MARGIN / PAGE_W, y / PAGE_H, line, va="top", fontsize=TEXT_PT, color=color,
                    weight="normal" if log.chain.intact else "bold")  # fmt: skip
        y -= LINE_IN
    made = log.made_at.strftime("%Y-%m-%d %H:%M UTC")
    figure.text(MARGIN / PAGE_W, y / PAGE_H, f"Times in {log.zone_name or 'the clinic time zone'}. Made {made}.",
                va="top", fontsize=TEXT_PT, color=INK)  # fmt: skip
    y -= LINE_IN
    if first:
        counts = Counter(line.what for line in log.lines)
        summary = ", ".join(f"{what}: {n}" for what, n in sorted(counts.items())) or "nothing recorded"
        for line in textwrap.wrap(f"{len(log.lines)} line{'' if len(log.lines) == 1 else 's'}. {summary}.", 110):
            figure.text(MARGIN / PAGE_W, y / PAGE_H, line, va="top", fontsize=TEXT_PT, color=INK)
            y -= LINE_IN
    return y - 0.12


def _cells(line: AuditLine) -> list[list[str]]:
    """A line's cells, each wrapped to its column's width."""
    record = str(line.record) if line.record is not None else "-"
    details = line.details
    if line.corrected_by:
        details += f" [corrected by record {', '.join(str(s) for s in line.corrected_by)}]"
    station = f"{line.station_name} ({line.station})" if line.station_name else line.station
    values = (line.when_local, record, station, line.what, line.who, details)
    return [textwrap.wrap(value, int(width * WRAP), break_long_words=True) or [""]
            for value, (_, width) in zip(values, COLUMNS, strict=True)]  # fmt: skip


def _height(cells: list[list[str]]) -> float:
    return max(len(lines) for lines in cells) * LINE_IN + 0.08


def _row(figure: Figure, y: float, cells: list[list[str]], *, bold: bool = False) -> float:
    """Draw one row from `y` down; returns the y under its rule."""
    total = sum(width for _, width in COLUMNS)
    x = MARGIN
    for lines, (_, width) in zip(cells, COLUMNS, strict=True):
        figure.text(x / PAGE_W, (y - 0.04) / PAGE_H, "\n".join(lines), va="top", fontsize=TEXT_PT, color=INK,
                    weight="bold" if bold else "normal", linespacing=1.25)  # fmt: skip
        x += (PAGE_W - 2 * MARGIN) * width / total
    y -= _height(cells)
    figure.add_artist(Line2D([MARGIN / PAGE_W, 1 - MARGIN / PAGE_W], [y / PAGE_H] * 2, color=RULE, linewidth=0.6,
                             transform=figure.transFigure))  # fmt: skip
    return y
