"""The weekly report's PDF: A4 portrait pages, the charts and tables with the CSV files' numbers, readable
(the pages as images: large enough text, the charts' bars drawn)."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.text import Text
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import Engine

from shared.reports.pdf import report_pages, write_pdf
from shared.reports.week_report import WeekReport, build_week_report
from shared.reports.weeks import parse_week
from shared.store.db import read_session
from tests.factories import station
from tests.shared.reports.known_week import NY, WEEK, build_known_week

A4_POINTS = (595.3, 841.9)


@pytest.fixture
def report(engine: Engine) -> WeekReport:
    build_known_week(engine)
    with read_session(engine) as session:
        return build_week_report(session=session, site="main", week=parse_week(WEEK, NY))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_pdf_is_a4_with_the_charts_and_the_csv_numbers(report: WeekReport, tmp_path: Path) -> None:
    path = tmp_path / "week.pdf"
    pages = write_pdf(report, path)
    reader = PdfReader(path)
    assert len(reader.pages) == pages == 4
    for page in reader.pages:
        assert (round(float(page.mediabox.width), 1), round(float(page.mediabox.height), 1)) == A4_POINTS
    text = [" ".join(page.extract_text().split()) for page in reader.pages]
    assert "Weekly report 2026-W44, site main (2026-10-26 to 2026-11-01)" in text[0]
    assert "Uses per station" in text[0] and "Cleaning compliance per station" in text[0]
    assert "Cleaning compliance (%) (cleaning_compliance_pct): 71.4" in text[0]  # in words, and the CSV's column
    assert "Hours in the week (week_hours): 169.0" in text[0]
    assert "Utilization by local hour and day" in text[1] and "16.7 (2 h)" in text[1]  # Sunday's repeated 01:00
    tables = " ".join(text[2:])
    for name in ("usage", "cleaning", "cleaning_by_zone", "maintenance", "maintenance_done", "arrivals"):
        assert f"{name}.csv" in tables
    assert "table-1 Table 1 treatment 1 1.0 34.0 3.5" in tables
    assert "bike-1 gym 6 3 1 1 1 66.7 10.0 27.0" in tables
    assert "table-1 Calibration 7.0 - missed 2026-10-07 09:00" in tables
    assert "$ok <b>fine</b>" in tables  # a note printed as typed


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_pages_as_images_show_the_charts(report: WeekReport, tmp_path: Path) -> None:
    """At 100 dpi a page is 826 x 1169 pixels; the bar charts and the heatmap are drawn in the report's blues, and
    no text on a page is smaller than 8 pt (readable on paper)."""
    figures = report_pages(report)
    for number, figure in enumerate(figures):
        figure.savefig(tmp_path / f"page{number}.png", dpi=100)
        image = Image.open(tmp_path / f"page{number}.png").convert("RGB")
        assert image.size == (826, 1169)  # 210 x 297 mm
        sizes = [float(t.get_fontsize()) for t in figure.findobj(Text) if isinstance(t, Text) and t.get_text()]
        assert min(sizes) >= 8, number
    summary = Image.open(tmp_path / "page0.png").convert("RGB")
    bar_pixels = sum(1 for p in summary.get_flattened_data() if p == (0x1F, 0x5F, 0x8B))
    assert bar_pixels > 20_000  # the two bar charts' bars: about 6 square centimetres of blue
    heatmap = Image.open(tmp_path / "page1.png").convert("RGB")
    assert len(set(heatmap.get_flattened_data())) > 50  # the shades of the heatmap's cells and colour bar


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_week_with_nothing_in_it_still_makes_a_pdf(engine: Engine, tmp_path: Path) -> None:
    with read_session(engine) as session:
        report = build_week_report(session=session, site="main", week=parse_week("2026-W49", NY))
    assert write_pdf(report, tmp_path / "empty.pdf") >= 3
    text = " ".join(page.extract_text() for page in PdfReader(tmp_path / "empty.pdf").pages)
    assert "Nothing this week." in text and "Stations (stations): 0" in text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_name_beyond_latin_1_is_printed_as_named(engine: Engine, tmp_path: Path) -> None:
    """Latin-1 reports use the PDF's own Helvetica; a Greek station name brings an embedded font that has it."""
    station(engine, "bike-9", "Ποδήλατο 9", zone="gym")
    with read_session(engine) as session:
        report = build_week_report(session=session, site="main", week=parse_week("2026-W49", NY))
    write_pdf(report, tmp_path / "greek.pdf")
    text = " ".join(page.extract_text() for page in PdfReader(tmp_path / "greek.pdf").pages)
    assert "Ποδήλατο 9" in text
