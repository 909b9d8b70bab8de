"""A report's A4 pages saved as one PDF, to a file (a refusal naming the path when it cannot be written) or as
bytes (a download): one way for the weekly report and the audit log."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from shared.store.errors import ValidationFailed

Write = Callable[[BinaryIO], int]  # draws the pages into an open binary file; returns how many


def save_pages(pages: Sequence[Figure], out: BinaryIO, *, title: str, creator: str) -> int:
    """Save `pages` into `out` as one PDF with its title; returns the number of pages."""
    with PdfPages(out, metadata={"Title": title, "Creator": creator}) as pdf:
        for figure in pages:
            pdf.savefig(figure)
    return len(pages)


def to_file(path: Path, write: Write) -> int:
    """Write the PDF to `path`; returns the number of pages."""
    try:
        with path.open("wb") as out:
            return write(out)
    except OSError as exc:
        raise ValidationFailed(f"cannot write {path}: {exc.strerror or exc}") from None


def to_bytes(write: Write) -> bytes:
    """The PDF as bytes."""
    out = io.BytesIO()
    write(out)
    return out.getvalue()
