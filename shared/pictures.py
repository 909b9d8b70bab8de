"""Pictures people upload (an exercise's drawing, a fault's phone photo): one check for all of them, so every
upload is refused for the same reasons and in the same words, whatever it is for.

The check reads the image with Pillow, refuses an empty, oversized, non-PNG/JPEG or damaged file and claims of
more pixels than a phone takes (decompression bombs) before decoding, turns a phone's portrait photo upright
(its EXIF orientation; the EXIF itself is not kept once the caller re-encodes), and shrinks it to what is stored.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from shared.store.errors import ValidationFailed

FORMATS = ("PNG", "JPEG")
FILE_TYPES = ["jpg", "jpeg", "png"]  # the file names an upload field offers for these formats


def checked_picture(data: bytes, *, noun: str, max_bytes: int, max_side_in: int, stored_side: int) -> Image.Image:
    """The upload, upright and at most `stored_side` pixels wide or tall, or a refusal naming what is wrong
    (`noun` is what the person uploaded: "picture", "photo")."""
    if not data:
        raise ValidationFailed(f"the {noun} is empty")
    if len(data) > max_bytes:
        raise ValidationFailed(f"the {noun} is {len(data) / 1048576:.1f} MB; at most {max_bytes // 1048576} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))
            if opened.format not in FORMATS:
                raise ValidationFailed(f"the {noun} is {opened.format or 'not an image'}; use a PNG or JPEG file")
            if max(opened.size) > max_side_in:
                raise ValidationFailed(f"the {noun} is {opened.width} x {opened.height} pixels; at most {max_side_in}")
            opened.load()
            image = ImageOps.exif_transpose(opened)
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning,
            Image.DecompressionBombError):  # fmt: skip
        raise ValidationFailed(f"that file is not a PNG or JPEG {noun} (or it is damaged)") from None
    image.thumbnail((stored_side, stored_side))
    return image
