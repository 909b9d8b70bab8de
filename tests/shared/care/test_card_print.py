"""Cards for print: one card on a page of card size, or a sheet of cards on A4; every QR code reads back."""

from __future__ import annotations

import pytest

from shared.care.card_print import card_pdf, cards_sheet_pdf
from shared.care.qr import card_image
from tests.pdf_support import pdf_pages, read_qr_codes

URLS = [f"https://lobby.example/?t=token-number-{n:02d}-abcdefghijkl" for n in range(10)]


def card(n: int) -> object:
    return card_image(URLS[n], first_name=f"Pat {n}", clinic_name="Riverside Physical Therapy")


def test_one_card_prints_on_a_page_of_bank_card_size_and_its_code_reads() -> None:
    [page] = pdf_pages(card_pdf(card(0)))  # type: ignore[arg-type]
    assert (round(page.width_mm, 1), round(page.height_mm, 1)) == (85.7, 54.0)  # ID-1 is 85.6 x 54.0
    assert [r.text for r in read_qr_codes(page.image)] == [URLS[0]]


def test_ten_cards_fill_two_a4_pages_eight_and_two_every_code_readable() -> None:
    pages = pdf_pages(cards_sheet_pdf([card(n) for n in range(10)]))  # type: ignore[misc]
    assert [(round(p.width_mm), round(p.height_mm)) for p in pages] == [(210, 297), (210, 297)]
    found = [sorted(r.text for r in read_qr_codes(p.image)) for p in pages]
    assert found == [sorted(URLS[:8]), sorted(URLS[8:])]


def test_an_image_that_is_not_a_card_is_refused() -> None:
    with pytest.raises(ValueError, match="a card is 1012 x 638 px, not 10 x 10"):
        card_pdf(card(0).resize((10, 10)))  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="at least one card"):
        cards_sheet_pdf([])
