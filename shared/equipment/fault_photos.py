"""Fault photos: a phone picture of what is wrong at a station, checked with Pillow (JPEG or PNG, size-limited),
re-encoded as a JPEG (which drops its EXIF: no location or device details are kept) and stored owner-only (0600)
under `<data dir>/fault-photos` with a random name that says nothing about the station or the patient."""

from __future__ import annotations

import base64
import io
import re
import secrets
from functools import lru_cache
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from shared.pictures import checked_picture
from shared.store.errors import NotFound
from shared.store.private_files import private_dir, write_private

FOLDER = "fault-photos"
MAX_BYTES = 10 * 1024 * 1024  # a phone camera's photo; anything larger is refused, not shrunk
MAX_SIDE_IN = 9000  # pixels; larger claims are refused before decoding (decompression bombs)
STORED_SIDE = 1600  # enough to read a serial plate; a stored photo is a few hundred kB
THUMB_SIDE = 320  # what a board card shows (it redraws every few seconds)
NAME_RE = re.compile(r"^[0-9a-f]{32}\.jpg$")


def photos_dir(data_dir: Path) -> Path:
    """Where fault photos live."""
    return data_dir / FOLDER


def checked_photo(data: bytes) -> Image.Image:
    """The upload as an upright RGB image, or a refusal that says what is wrong with it."""
    image = checked_picture(data, noun="photo", max_bytes=MAX_BYTES, max_side_in=MAX_SIDE_IN, stored_side=STORED_SIDE)
    return image.convert("RGB")


def save_photo(data_dir: Path, data: bytes) -> str:
    """Check and store a photo (0600, in a 0700 folder); returns its new random file name."""
    image = checked_photo(data)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    folder = photos_dir(data_dir)
    private_dir(folder)
    name = f"{secrets.token_hex(16)}.jpg"
    write_private(folder / name, out.getvalue())
    return name


def photo_path(data_dir: Path, name: str) -> Path:
    """The stored file of a photo name (names are checked, so nothing outside the folder is read)."""
    if not NAME_RE.match(name):
        raise NotFound(f"no fault photo named {name!r}")
    return photos_dir(data_dir) / name


def photo_data_uri(data_dir: Path, name: str | None, *, side: int = STORED_SIDE) -> str | None:
    """The photo inline (`data:` URI), at most `side` pixels wide or tall; None when there is none or it is gone.

    Names are random and files never rewritten, so a cached answer never goes stale."""
    if not name or not NAME_RE.match(name):
        return None
    return _data_uri(photo_path(data_dir, name).resolve(), side)


@lru_cache(maxsize=128)
def _data_uri(path: Path, side: int) -> str | None:
    try:
        with Image.open(path) as image:
            if max(image.size) > side:
                image.thumbnail((side, side))
                out = io.BytesIO()
                image.save(out, format="JPEG", quality=80)
                data = out.getvalue()
            else:
                data = path.read_bytes()
    except (OSError, UnidentifiedImageError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
