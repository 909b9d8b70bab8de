"""The weekly report as a PDF on A4 portrait: the summary and the two bar charts, the utilization heatmap, then
every table (the CSV files' numbers under the CSV files' column names).

Drawn on matplotlib `Figure`s without pyplot (no global figure state, safe in the staff app's threads), laid
out top to bottom in inches: a block that does not fit on the page starts the next one.
"""

from __future__ import annotations

import logging
import textwrap
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from shared.reports.csv_files import cell_text
from shared.reports.pdf_output import save_pages, to_bytes, to_file
from shared.reports.table import Cell, Table
from shared.reports.week_report import WEEKDAYS, WeekReport
from shared.reports.words import figure_words

PAGE_W, PAGE_H = 210 / 25.4, 297 / 25.4  # A4 portrait, inches
MARGIN = 0.6
TEXT_PT = 10
ROW_IN = 0.24  # a table row of one line at TEXT_PT
LINE_IN = 0.17  # each further line
CELL_WIDTH = 12  # characters before a cell's text wraps (at a space)
CELL_CHARS = 160  # longer text (a note) is cut in the PDF; the CSV has it whole
INK = "#31333f"
BAR = "#1f5f8b"
RULE = "#c8c8d0"
TABLES = ("usage", "cleaning", "cleaning_by_zone", "maintenance", "maintenance_done", "arrivals", "adherence",
          "outcomes")  # fmt: skip
STYLE: dict[str, Any] = {"font.size": TEXT_PT, "text.color": INK, "axes.labelcolor": INK, "xtick.color": INK,
                         "ytick.color": INK, "axes.titlesize": TEXT_PT + 2, "axes.titleweight": "bold",
                         "axes.edgecolor": INK, "text.parse_math": False}  # fmt: skip
# ^ parse_math off: a "$" in a station's name or a maintenance note is printed as typed, never as mathtext
CORE_FONTS: dict[str, Any] = {"pdf.use14corefonts": True, "font.family": "sans-serif",
                              "font.sans-serif": ["Helvetica", "DejaVu Sans"], "font.weight": "medium"}  # fmt: skip


def write_pdf(report: WeekReport, path: Path) -> int:
    """Write the report to `path`; returns the number of pages."""
    return to_file(path, lambda out: _render(report, out))


def pdf_bytes(report: WeekReport) -> bytes:
    """The PDF as bytes (the staff page's download)."""
    return to_bytes(lambda out: _render(report, out))


def _render(report: WeekReport, out: BinaryIO) -> int:
    """Draw and save the pages in one font setting (text takes its font when drawn, the PDF when saved)."""
    fonts = logging.getLogger("matplotlib.font_manager")
    level = fonts.level
    fonts.setLevel(logging.ERROR)  # "Helvetica: using medium for normal" is said for every page; it is not news
    try:
        with rc_context(_fonts(report)):  # type: ignore[arg-type]
            return save_pages(report_pages(report), out, title=title(report), creator="clinic report week")
    finally:
        fonts.setLevel(level)


def _fonts(report: WeekReport) -> dict[str, Any]:
    """The PDF's standard Helvetica (nothing embedded: three times faster to write) when every character of the
    report is Latin-1; otherwise DejaVu Sans, embedded, which has the rest (a station named in Greek or Chinese)."""
    texts = [str(v) for t in report.tables for row in t.rows for v in row if isinstance(v, str)]
    if all(ord(ch) < 256 for text in texts for ch in text):
        return CORE_FONTS
    return {}


def report_pages(report: WeekReport) -> list[Figure]:
    """The report's pages, each an A4 figure."""
    with rc_context(STYLE):  # type: ignore[arg-type]
        flow = _Flow()
        _summary(flow, report)
        usage, cleaning = report.table("usage"), report.table("cleaning")
        names = dict(zip(usage.column("station"), usage.column("name"), strict=True))  # bars named as on the board
        _bars(flow, "Uses per station", usage.column("name"), usage.column("uses"), "uses")
        _bars(flow, "Cleaning compliance per station (% of uses cleaned in time)",
              [names.get(s, s) for s in cleaning.column("station")],
              cleaning.column("cleaning_compliance_pct"), "cleaning_compliance_pct", limit=100)  # fmt: skip
        _heatmap(flow.new_page(), report)
        flow.new_page()
        for name in TABLES:
            _table(flow, report.table(name))
        return flow.pages


def title(report: WeekReport) -> str:
    """The report's heading: week, site and days."""
    week = report.week
    return f"Weekly report {week.label}, site {report.site} ({week.days[0]} to {week.days[-1]})"


class _Flow:
    """Pages filled top to bottom; `take(h)` gives the top of an `h`-inch block, on a new page if need be."""

    def __init__(self) -> None:
        self.pages: list[Figure] = []
        self.y = 0.0

    def new_page(self) -> Figure:
        self.pages.append(Figure(figsize=(PAGE_W, PAGE_H)))
        self.y = PAGE_H - MARGIN
        return self.pages[-1]

    def take(self, height: float) -> tuple[Figure, float]:
        if not self.pages or self.y - height < MARGIN:
            self.new_page()
        top = self.y
        self.y -= height
        return self.pages[-1], top

    def axes(self, figure: Figure, left: float, top: float, width: float, height: float) -> Axes:
        """Axes placed in inches from the page's left and bottom."""
        return figure.add_axes((left / PAGE_W, (top - height) / PAGE_H, width / PAGE_W, height / PAGE_H))


def _summary(flow: _Flow, report: WeekReport) -> None:
    summary = report.table("summary")
    lines = [f"{figure_words(name)} ({name}): {cell_text(v) or '-'}"
             for name, v in zip(summary.columns, summary.rows[0], strict=True)]  # fmt: skip
    half = (len(lines) + 1) // 2
    figure, top = flow.take(0.5 + half * 0.21 + 0.3)
    figure.text(MARGIN / PAGE_W, top / PAGE_H, title(report), fontsize=TEXT_PT + 4, weight="bold", va="top")
    for column, chunk in enumerate((lines[:half], lines[half:])):
        x = (MARGIN + column * (PAGE_W - 2 * MARGIN) / 2) / PAGE_W
        figure.text(x, (top - 0.45) / PAGE_H, "\n".join(chunk), va="top", linespacing=1.6)


def _bars(flow: _Flow, heading: str, labels: list[Cell], values: list[Cell], what: str,
          limit: float | None = None) -> None:  # fmt: skip
    """Horizontal bars, each with its figure written at its end ("-": no figure)."""
    plot_h = max(1.2, 0.3 * len(labels))
    figure, top = flow.take(plot_h + 1.2)
    axes = flow.axes(figure, 1.9, top - 0.4, PAGE_W - 1.9 - MARGIN - 0.5, plot_h)
    numbers = [float(v) if isinstance(v, int | float) else 0.0 for v in values]
    drawn = axes.barh([str(label) for label in labels], numbers, color=BAR)
    axes.bar_label(drawn, labels=[cell_text(v) or "-" for v in values], padding=3)
    axes.invert_yaxis()  # the first station at the top, as in the tables
    axes.set_title(heading, loc="left")
    axes.set_xlabel(what)
    axes.set_xlim(0, limit if limit is not None else max([1.0, *numbers]) * 1.15)
    axes.ticklabel_format(axis="x", style="plain", useOffset=False)
    axes.spines[["top", "right"]].set_visible(False)


def _heatmap(figure: Figure, report: WeekReport) -> None:
    """Hours down, days across (a portrait page), each cell's utilization_pct written in it ("-": no such hour)."""
    heat = report.table("utilization_heatmap")
    days = report.week.days
    values: list[list[Cell]] = [[None] * 7 for _ in range(24)]
    lengths: list[list[Cell]] = [[None] * 7 for _ in range(24)]
    for day, hour, length, pct in zip(heat.column("date"), heat.column("hour"), heat.column("hour_length_hours"),
                                      heat.column("utilization_pct"), strict=True):  # fmt: skip
        at, column = int(str(hour)), days.index(date.fromisoformat(str(day)))
        values[at][column], lengths[at][column] = pct, length
    numbers = [[float(v) if isinstance(v, int | float) else 0.0 for v in row] for row in values]
    top = max(10.0, *(max(row) for row in numbers))
    axes = figure.add_axes((0.14, 0.07, 0.7, 0.83))
    image = axes.imshow(numbers, cmap="Blues", vmin=0, vmax=top, aspect="auto")
    for hour, row in enumerate(values):
        for column, value in enumerate(row):
            text = "-" if value is None else cell_text(value)
            if lengths[hour][column] == 2.0:
                text += " (2 h)"
            dark = numbers[hour][column] > 0.6 * top
            axes.text(column, hour, text, ha="center", va="center", color="white" if dark else INK)
    axes.set_xticks(range(7), [f"{WEEKDAYS[i]}\n{d:%d %b}" for i, d in enumerate(days)])
    axes.set_yticks(range(24), [f"{h:02d}:00" for h in range(24)])
    axes.xaxis.tick_top()
    axes.set_title(f"Utilization by local hour and day, {report.week.label} (% of station-hours in use)", loc="left",
                   pad=40)  # fmt: skip
    figure.colorbar(image, ax=axes, fraction=0.04, pad=0.02, label="utilization_pct")
    figure.text(0.14, 0.035, "Local wall-clock hours. '(2 h)': the hour the clock repeated; '-': an hour it skipped.")


def _table(flow: _Flow, table: Table) -> None:
    """The table under its CSV file's name and columns; long tables go on across pages, the header repeated.
    Text wraps at spaces (a date and its time on two lines); a very long note is cut here (whole in the CSV)."""
    header = [_wrap(name) for name in table.columns]
    cells = [[_cell_lines(v) for v in row] for row in table.rows] or [[["Nothing this week."]]]
    widths = [1 + max([_longest(h.split("\n")), *(_longest(r[i]) for r in cells if i < len(r))])
              for i, h in enumerate(header)]  # fmt: skip
    scale = (PAGE_W - 2 * MARGIN) / max(sum(widths), 1)
    xs = [MARGIN + sum(widths[:i]) * scale for i in range(len(widths))]
    header_h = LINE_IN * max(h.count("\n") + 1 for h in header) + 0.1
    size = min(TEXT_PT, 0.95 * scale * 72 / 0.6)  # a character is about 0.6 em wide
    heights = [LINE_IN * max(len(lines) for lines in row) + ROW_IN - LINE_IN for row in cells]
    start = 0
    while start < len(cells):
        room, end = (flow.y - MARGIN - 0.45 - header_h) if flow.pages else 0.0, start
        while end < len(cells) and sum(heights[start : end + 1]) <= room:
            end += 1
        if end == start or (end < len(cells) and end - start < 3 and flow.y < PAGE_H - MARGIN - 0.01):
            flow.new_page()
            continue
        figure, top = flow.take(0.45 + header_h + sum(heights[start:end]) + 0.3)
        more = " (continued)" if start else ""
        figure.text(MARGIN / PAGE_W, top / PAGE_H, f"{table.title}{more}   {table.name}.csv", va="top",
                    fontsize=TEXT_PT + 2, weight="bold")  # fmt: skip
        y = top - 0.45
        for x, h in zip(xs, header, strict=True):
            figure.text(x / PAGE_W, y / PAGE_H, h, va="top", fontsize=size, weight="bold", linespacing=1.2)
        y -= header_h
        _rule(figure, y)
        for row, height in zip(cells[start:end], heights[start:end], strict=True):
            for x, lines in zip(xs, row, strict=False):
                figure.text(x / PAGE_W, (y - 0.04) / PAGE_H, "\n".join(lines), va="top", fontsize=size,
                            linespacing=1.2)  # fmt: skip
            y -= height
            _rule(figure, y)
        start = end


def _cell_lines(value: Cell) -> list[str]:
    text = cell_text(value) or "-"
    if len(text) > CELL_CHARS:
        text = text[: CELL_CHARS - 3] + "..."
    return textwrap.wrap(text, CELL_WIDTH, break_long_words=False) or ["-"]


def _longest(lines: list[str]) -> int:
    return max((len(line) for line in lines), default=1)


def _wrap(name: str, width: int = 9) -> str:
    """A column name over lines of about `width` characters, broken after an underscore (the name unchanged)."""
    lines, line = [], ""
    for part in name.split("_"):
        piece = part if not line else "_" + part
        if line and len(line) + len(piece) > width:
            lines.append(line + "_")
            line = part
        else:
            line += piece
    return "\n".join([*lines, line])


def _rule(figure: Figure, y: float) -> None:
    """A thin line across the page under a table row."""
    x = [MARGIN / PAGE_W, 1 - MARGIN / PAGE_W]
    figure.add_artist(Line2D(x, [y / PAGE_H] * 2, color=RULE, linewidth=0.6, transform=figure.transFigure))
