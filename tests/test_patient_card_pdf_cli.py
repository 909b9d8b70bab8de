"""`clinic patient card --pdf`: a print-ready card (card size, or on A4 with --a4) whose QR is only the link."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.cli_support import run, run_json
from tests.pdf_support import pdf_pages, read_qr_codes


def test_a_card_as_pdf_is_card_size_and_scans_to_its_link(cli: CliRunner, maria: int, tmp_path: Path) -> None:
    out = tmp_path / "cards" / "card.pdf"
    info = run_json(cli, "patient", "card", str(maria), "--pdf", "--out", str(out))
    assert isinstance(info, dict)
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and b"Gonzalez" not in data and b"1950" not in data
    [page] = pdf_pages(data)
    assert (round(page.width_mm, 1), round(page.height_mm, 1)) == (85.7, 54.0)
    assert [r.text for r in read_qr_codes(page.image)] == [info["url"]]


def test_a4_lays_the_card_out_on_a_page_to_cut(cli: CliRunner, maria: int, tmp_path: Path) -> None:
    out = tmp_path / "sheet.pdf"
    info = run_json(cli, "patient", "card", str(maria), "--pdf", "--a4", "--out", str(out))
    assert isinstance(info, dict)
    [page] = pdf_pages(out.read_bytes())
    assert (round(page.width_mm), round(page.height_mm)) == (210, 297)
    assert [r.text for r in read_qr_codes(page.image)] == [info["url"]]


def test_a4_without_pdf_is_refused_before_a_card_is_issued(cli: CliRunner, maria: int, tmp_path: Path) -> None:
    code, out, err = run(cli, "patient", "card", str(maria), "--a4", "--out", str(tmp_path / "x.png"))
    assert (code, out, err) == (2, "", "error: --a4 lays the card out in a PDF: add --pdf\n")
    assert not (tmp_path / "x.png").exists()
