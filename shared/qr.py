"""QR tokens and printable cards: random opaque tokens, stored hashed, parsed from whatever a scanner types."""

from __future__ import annotations

import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import qrcode
from PIL import Image, ImageDraw, ImageFont

TOKEN_BYTES = 24  # 192 random bits: unguessable, and short enough for a small QR code
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,128}$")
CARD_DPI = 300
CARD_SIZE = (1012, 638)  # 85.7 x 54 mm at 300 dpi: the size of a bank card (ID-1), so card holders fit it


def new_token() -> str:
    """A fresh random token (URL-safe text); only its hash is ever stored."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """SHA-256 of the token: enough for 192 random bits (no dictionary to attack), and fast to look up."""
    return hashlib.sha256(token.encode()).hexdigest()


def card_url(base_url: str, token: str) -> str:
    """What the QR code encodes: the lobby's address with the token, and nothing about the patient."""
    return f"{base_url.rstrip('/')}/?{urlencode({'t': token})}"


def parse_scan(text: str) -> str | None:
    """The token in a scan: a card's URL (from a phone or a scanner) or the bare token; None if neither."""
    cleaned = text.strip().strip("\x00").replace("\r", "").replace("\n", "")
    if not cleaned or len(cleaned) > 2048:
        return None
    if "t=" in cleaned and ("?" in cleaned or cleaned.startswith("t=")):
        query = urlsplit(cleaned).query if "?" in cleaned else cleaned
        values = parse_qs(query).get("t", [])
        cleaned = values[0] if values else ""
    return cleaned if TOKEN_RE.match(cleaned) else None


def qr_image(data: str, *, box_size: int = 10) -> Image.Image:
    """A QR code with medium error correction (survives a worn card)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(data)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def card_image(url: str, *, first_name: str, clinic_name: str) -> Image.Image:
    """A printable check-in card (about 85 x 55 mm at 300 dpi): QR, first name and the clinic's name."""
    width, height = CARD_SIZE
    card = Image.new("RGB", (width, height), "white")
    code = qr_image(url, box_size=12).resize((520, 520), Image.Resampling.NEAREST)
    card.paste(code, (20, (height - 520) // 2))
    draw = ImageDraw.Draw(card)
    title, body = _font(44), _font(34)
    x = 560
    draw.text((x, 90), clinic_name[:40], fill="black", font=title)
    draw.text((x, 200), first_name[:30], fill="black", font=title)
    draw.text((x, 300), "Scan at the front desk", fill="black", font=body)
    draw.text((x, 350), "to check in.", fill="black", font=body)
    draw.rectangle((2, 2, width - 3, height - 3), outline="black", width=3)
    return card


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "DejaVuSans-Bold.ttf"):
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size)
