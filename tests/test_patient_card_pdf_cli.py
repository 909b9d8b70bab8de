"""`clinic patient card`: the card's format follows --out's name (.png, or .pdf: a print-ready card at card size, or
on A4 with --a4) and its QR is only the link; a flag that contradicts the name is refused before a card is issued."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Engine
from typer.testing import CliRunner

from kiosk.lobby.camera import read_qr
from shared.care.cards import active_cards
from shared.store.db import read_session
from tests.cli_support import run, run_json
from tests.pdf_support import pdf_pages, read_qr_codes


@pytest.mark.parametrize("flags", [["--pdf"], []], ids=["with-pdf", "by-name-alone"])
def test_a_card_as_pdf_is_card_size_and_scans_to_its_link(
    cli: CliRunner, maria: int, tmp_path: Path, flags: list[str]
) -> None:
    out = tmp_path / "cards" / "card.pdf"
    info = run_json(cli, "patient", "card", str(maria), *flags, "--out", str(out))
    assert isinstance(info, dict)
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and b"Gonzalez" not in data and b"1950" not in data
    [page] = pdf_pages(data)
    assert (round(page.width_mm, 1), round(page.height_mm, 1)) == (85.7, 54.0)
    assert [r.text for r in read_qr_codes(page.image)] == [info["url"]]


@pytest.mark.parametrize(("name", "flags"), [("card.png", []), ("card.png", ["--png"]), ("CARD.PNG", [])])
def test_a_png_name_gets_a_png(cli: CliRunner, maria: int, tmp_path: Path, name: str, flags: list[str]) -> None:
    out = tmp_path / name
    info = run_json(cli, "patient", "card", str(maria), *flags, "--out", str(out))
    assert isinstance(info, dict)
    with Image.open(out) as image:
        assert image.format == "PNG"
    assert read_qr(out.read_bytes()) == info["url"]


def test_a4_lays_the_card_out_on_a_page_to_cut(cli: CliRunner, maria: int, tmp_path: Path) -> None:
    out = tmp_path / "sheet.pdf"
    info = run_json(cli, "patient", "card", str(maria), "--a4", "--out", str(out))
    assert isinstance(info, dict)
    [page] = pdf_pages(out.read_bytes())
    assert (round(page.width_mm), round(page.height_mm)) == (210, 297)
    assert [r.text for r in read_qr_codes(page.image)] == [info["url"]]


@pytest.mark.parametrize(
    ("name", "flags", "message"),
    [
        ("card.jpg", [], "--out card.jpg: a card is written as .png (an image) or .pdf (ready to print); name the "
                         "file like card.png or card.pdf"),
        ("card", ["--pdf"], "--out card: a card is written as .png (an image) or .pdf (ready to print); name the "
                            "file like card.png or card.pdf"),
        ("card.png", ["--pdf"], "--pdf does not match --out card.png: name the file with .pdf, or drop --pdf"),
        ("card.pdf", ["--png"], "--png does not match --out card.pdf: name the file with .png, or drop --png"),
        ("card.pdf", ["--pdf", "--png"],
         "--pdf and --png contradict each other: give one, or neither (--out's name decides)"),
        ("x.png", ["--a4"], "--a4 lays the card out in a PDF: write it to a .pdf file, not x.png"),
    ],
    ids=["other-extension", "no-extension", "pdf-flag-png-name", "png-flag-pdf-name", "both-flags", "a4-png"],
)  # fmt: skip
def test_a_name_and_flags_that_disagree_are_refused_before_a_card_is_issued(
    cli: CliRunner, engine: Engine, maria: int, tmp_path: Path, name: str, flags: list[str], message: str
) -> None:
    code, out, err = run(cli, "patient", "card", str(maria), *flags, "--out", str(tmp_path / name))
    assert (code, out, err) == (2, "", f"error: {message}\n")
    assert not (tmp_path / name).exists()
    with read_session(engine) as session:
        assert active_cards(session=session, patient_id=maria) == 0, "no card was issued"
