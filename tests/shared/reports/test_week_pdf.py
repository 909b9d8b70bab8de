"""The weekly report's PDF: A4 portrait pages, the charts and tables with the CSV files' numbers, readable
(the pages as images: large enough text, the charts' bars drawn)."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest
from matplotlib.text import Text
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
    """The PDF itself, opened as images (pdfium renders each page at 100 dpi: 827 x 1169 pixels, A4): the bar charts
    and the heatmap are drawn in the report's blues; no text on a page is smaller than 8 pt (readable on paper)."""
    for number, figure in enumerate(report_pages(report)):
        sizes = [float(t.get_fontsize()) for t in figure.findobj(Text) if isinstance(t, Text) and t.get_text()]
        assert min(sizes) >= 8, number
    path = tmp_path / "week.pdf"
    write_pdf(report, path)
    document = pdfium.PdfDocument(path)
    try:
        images = [page.render(scale=100 / 72).to_pil().convert("RGB") for page in document]
    finally:
        document.close()
    assert len(images) == 4 and all(abs(i.width - 827) <= 1 and abs(i.height - 1169) <= 1 for i in images)
    bar_pixels = sum(1 for p in images[0].get_flattened_data() if _near(p, (0x1F, 0x5F, 0x8B)))
    assert bar_pixels > 20_000  # the two bar charts' bars: about 6 square centimetres of blue
    assert len(set(images[1].get_flattened_data())) > 50  # the shades of the heatmap's cells and colour bar


def _near(pixel: tuple[int, ...], colour: tuple[int, int, int]) -> bool:
    """The same colour within a rasteriser's rounding."""
    return all(abs(a - b) <= 3 for a, b in zip(pixel, colour, strict=False))


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
