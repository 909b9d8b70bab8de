"""Check-in cards ready to print: one card on a page of its own size, or cards on A4 sheets to cut apart.

The card image is shared.care.qr's and the PDF writer shared.equipment.labels', so a card prints the same from the
staff app and from `clinic patient card --pdf`, at 100 % and at its real size (85.7 x 54 mm).
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

from shared.care.cards import IssuedCard
from shared.care.qr import CARD_SIZE, card_image
from shared.equipment.labels import sheet_pages, sheet_pdf

SHEET_TITLE = "Check-in cards: cut along the edges"  # no names on the page heading: only on the cards


def issued_card_image(card: IssuedCard, *, clinic_name: str) -> Image.Image:
    """The printable image of a card just issued."""
    return card_image(card.url, first_name=card.first_name, clinic_name=clinic_name)


def card_pdf(card: Image.Image) -> bytes:
    """One card on a card-size page (for a card printer, or "actual size" on any printer)."""
    return sheet_pdf([_gray(card)])


def cards_sheet_pdf(cards: Sequence[Image.Image]) -> bytes:
    """Cards on A4 pages (2 x 4 per page, 5 mm apart), for an office printer and scissors."""
    if not cards:
        raise ValueError("a sheet needs at least one card")
    return sheet_pdf(sheet_pages([_gray(card) for card in cards], title=SHEET_TITLE, cell=CARD_SIZE))


def _gray(card: Image.Image) -> Image.Image:
    """Black on white prints as one colour: grey is enough, and a third of the size."""
    if card.size != CARD_SIZE:
        raise ValueError(f"a card is {CARD_SIZE[0]} x {CARD_SIZE[1]} px, not {card.width} x {card.height}")
    return card.convert("L")
