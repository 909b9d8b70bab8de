"""Read a QR code from a camera picture (zxing-cpp, restricted to QR codes: fast and robust)."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image, UnidentifiedImageError


def read_qr(image_bytes: bytes) -> str | None:
    """The text of the first QR code in the picture, or None when there is none (or no picture)."""
    try:
        image = Image.open(io.BytesIO(image_bytes))
        image.load()
    except (UnidentifiedImageError, OSError):
        return None
    results = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    return results[0].text if results else None
