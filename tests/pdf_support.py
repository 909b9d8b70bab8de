"""Reading a PDF as a printer would: each page's size in millimetres and its picture (pypdf, a dev dependency)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import zxingcpp
from PIL import Image
from pypdf import PdfReader

MM_PER_POINT = 25.4 / 72


@dataclass(frozen=True)
class PdfPage:
    """One printed page: its size and the image on it."""

    width_mm: float
    height_mm: float
    image: Image.Image


def pdf_pages(pdf: bytes) -> list[PdfPage]:
    """Every page of the PDF, with the one image each of ours carries."""
    reader = PdfReader(io.BytesIO(pdf))
    pages = []
    for page in reader.pages:
        [picture] = page.images
        pages.append(PdfPage(float(page.mediabox.width) * MM_PER_POINT, float(page.mediabox.height) * MM_PER_POINT,
                             picture.image.copy()))  # fmt: skip
    return pages


def read_qr_codes(image: Image.Image) -> list[zxingcpp.Barcode]:
    """The QR codes on a printed page, as the lobby's camera reads them: QR only (read with every format, the
    text of a card now and then passed for a 1D barcode, and a test failed on a code nobody printed)."""
    return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
