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
    """A fresh random token (URL-safe text); only its hash is ever stored. It never begins with "-", which a
    command line would read as an option (`clinic checkin -Nx...` failed): that costs under 0.1 of its 192 bits."""
    while (token := secrets.token_urlsafe(TOKEN_BYTES)).startswith("-"):
        pass
    return token


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


def parse_token(text: str) -> str | None:
    """A bare token as typed or taken from a link's query, if it has the shape of one."""
    cleaned = text.strip()
    return cleaned if TOKEN_RE.match(cleaned) else None


def qr_image(data: str, *, box_size: int = 10) -> Image.Image:
    """A QR code with medium error correction (survives a worn card)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(data)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def card_image(
    url: str, *, first_name: str, clinic_name: str, hint: tuple[str, str] = ("Scan at the lobby", "tablet to check in.")
) -> Image.Image:
    """A printable check-in card (about 85 x 55 mm at 300 dpi): QR, the clinic's name (wrapped, never cut),
    the first name and where to scan it (`hint`, two short lines: the take-home plan card says its own)."""
    width, height = CARD_SIZE
    card = Image.new("RGB", (width, height), "white")
    code = qr_image(url, box_size=12).resize((520, 520), Image.Resampling.NEAREST)
    card.paste(code, (20, (height - 520) // 2))
    draw = ImageDraw.Draw(card)
    x, room = 560, width - 560 - 30
    y = 60
    for size in (44, 38, 32, 28):  # the largest size at which the name fits in three lines
        lines = _wrap(draw, clinic_name, _font(size), room)
        if len(lines) <= 3:
            break
    title = _font(size)
    for line in lines[:3]:
        draw.text((x, y), line, fill="black", font=title)
        y += int(size * 1.2)
    y += 30
    for line in _wrap(draw, first_name, _font(44), room)[:2]:
        draw.text((x, y), line, fill="black", font=_font(44))
        y += 54
    body = _font(34)
    draw.text((x, max(y + 30, 420)), hint[0], fill="black", font=body)
    draw.text((x, max(y + 30, 420) + 46), hint[1], fill="black", font=body)
    draw.rectangle((2, 2, width - 3, height - 3), outline="black", width=3)
    return card


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Font, room: int) -> list[str]:
    """Words in lines no wider than `room` pixels (a word too long for a line is cut into pieces that fit)."""
    lines: list[str] = []
    for word in " ".join(text.split()).split(" "):
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(candidate, font=font) <= room:
            lines[-1] = candidate
            continue
        while draw.textlength(word, font=font) > room and len(word) > 1:
            cut = max(1, next(n for n in range(len(word), 0, -1) if draw.textlength(word[:n], font=font) <= room))
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    return [line for line in lines if line]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "DejaVuSans-Bold.ttf"):
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size)
