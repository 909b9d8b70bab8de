"""How `clinic` commands print and write: tables, times, URLs without passwords, and the files they read or write.

A file that cannot be read or written is a user error (`ValidationFailed`, one `error:` line through
`clinic.common.user_errors`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from pathlib import Path

import typer
from PIL import Image
from sqlalchemy.engine import make_url

from shared.store.clock import parse_date
from shared.store.errors import ValidationFailed


def table(header: list[str], rows: list[list[str]]) -> None:
    """Print rows under a header in left-aligned columns, so every table of the command looks the same."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    for row in [header, *rows]:
        typer.echo("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip())


def local_time(value: datetime | None, tz: tzinfo, *, missing: str = "-") -> str:
    """A time as the clinic's wall clock shows it, with the day ("2026-11-23 10:30"); `missing` for none."""
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else missing


def rfc3339(value: datetime | None) -> str | None:
    """An aware time as RFC 3339 in UTC ("2026-11-23T10:30:00Z"), None for none."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def optional_day(text: str | None, what: str) -> date | None:
    """An optional ISO date typed by staff."""
    return parse_date(text, what) if text is not None else None


def clip(text: str, limit: int) -> str:
    """One line of at most `limit` characters (an ellipsis marks a cut)."""
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    return make_url(url).render_as_string(hide_password=True)


def read_text(path: Path) -> str:
    """A text file (a CSV) as UTF-8, with or without a byte-order mark."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None


def ensure_folder(path: Path) -> None:
    """Make the folder of an output path, refused before anything is done (e.g. before a card is issued)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValidationFailed(f"cannot write {path}: {exc.strerror or exc}") from None


def write_bytes(path: Path, data: bytes) -> None:
    """Write a file (a PDF, a PNG, a Bundle), making its folder."""
    ensure_folder(path)
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise ValidationFailed(f"cannot write {path}: {exc.strerror or exc}") from None


def save_png(image: Image.Image, path: Path) -> None:
    """Write an image as PNG (whatever the file name's suffix), making its folder."""
    ensure_folder(path)
    try:
        image.save(path, format="PNG")
    except OSError as exc:
        raise ValidationFailed(f"cannot write {path}: {exc.strerror or exc}") from None
