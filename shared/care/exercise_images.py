"""Exercise pictures: uploads checked with Pillow (PNG or JPEG, size-limited), stored as normalised PNG files
named by their content under `<data dir>/exercise-images`, and read back for the lobby."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from functools import lru_cache
from pathlib import Path

from PIL import Image

from shared.pictures import checked_picture
from shared.store.errors import NotFound, ValidationFailed

FOLDER = "exercise-images"
MAX_BYTES = 2 * 1024 * 1024  # a phone photo re-saved for the web; anything larger is refused, not shrunk
MAX_SIDE_IN = 6000  # pixels; larger claims are refused before decoding (decompression bombs)
STORED_SIDE = 800  # stored pictures are at most this wide or tall: plenty for a tablet card
FILE_RE = re.compile(r"^[0-9a-f]{64}\.png$")


def images_dir(data_dir: Path) -> Path:
    """Where the clinic's exercise pictures live."""
    return data_dir / FOLDER


def checked_image(data: bytes) -> Image.Image:
    """The upload as an RGB(A) image, or a refusal that says what is wrong with it."""
    image = checked_picture(data, noun="picture", max_bytes=MAX_BYTES, max_side_in=MAX_SIDE_IN,
                            stored_side=STORED_SIDE)  # fmt: skip
    return image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")


def save_image(data_dir: Path, data: bytes) -> str:
    """Check and store a picture; returns its file name (the same picture twice is stored once)."""
    image = checked_image(data)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    png = out.getvalue()
    name = f"{hashlib.sha256(png).hexdigest()}.png"
    folder = images_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if not target.exists():
        partial = target.with_suffix(".part")
        partial.write_bytes(png)
        partial.replace(target)  # never a half-written picture under the real name
    return name


def save_image_file(data_dir: Path, path: Path) -> str:
    """`save_image` for a file on disk (the CLI), with a clear answer when it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc.strerror or exc}") from None
    return save_image(data_dir, data)


def image_path(data_dir: Path, name: str) -> Path:
    """The stored file of a picture name (names are checked, so nothing outside the folder is read)."""
    if not FILE_RE.match(name):
        raise NotFound(f"no exercise picture named {name!r}")
    return images_dir(data_dir) / name


@lru_cache(maxsize=256)
def _data_uri(path: Path) -> str | None:
    try:
        return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
    except OSError:
        return None


def image_data_uri(data_dir: Path, name: str | None) -> str | None:
    """The picture inline (`data:` URI) for the lobby's HTML, or None when there is none or it is missing.

    Names are the content's hash, so a cached answer never goes stale."""
    if not name or not FILE_RE.match(name):
        return None
    return _data_uri(image_path(data_dir, name).resolve())
