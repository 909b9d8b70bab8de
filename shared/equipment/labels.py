"""Station QR labels for equipment without electronics: the link a label encodes, reading it back from a scan,
the printable label, and a sheet of labels for a zone.

A label identifies a station, never a person, so it carries no secret: it links to the staff app's scan page,
where every action needs a signed-in staff user.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from urllib.parse import parse_qs, quote, urlsplit

from PIL import Image, ImageDraw, ImageFont
from sqlmodel import Session

from shared.care.qr import qr_image
from shared.equipment.stations import StationView, get_station, list_stations
from shared.store.errors import NotFound
from shared.store.settings import ID_PATTERN

SCAN_PATH = "scan"  # the staff app's page that a label opens
SCAN_PARAM = "s"
DPI = 300
LABEL_SIZE = (591, 354)  # 50 x 30 mm at 300 dpi
PAGE_SIZE = (2480, 3508)  # A4 at 300 dpi
PAGE_MARGIN = 118  # 10 mm
LABEL_GAP = 59  # 5 mm between labels, to cut them apart
QR_SIDE = 318  # at most; the code is scaled by a whole number so its modules stay sharp
FONT_DIR = "/usr/share/fonts/truetype/dejavu"


@dataclass(frozen=True, slots=True)
class StationRef:
    """A station as a label names it: its site and its equipment id."""

    site: str
    equipment_id: str

    def __str__(self) -> str:
        return f"{self.site}/{self.equipment_id}"


@dataclass(frozen=True, slots=True)
class Label:
    """One station's label: the station, the link its QR code holds, and the printable image."""

    station: StationView
    url: str
    image: Image.Image


@dataclass(frozen=True, slots=True)
class LabelSheet:
    """Labels laid out on A4 pages, as a PDF ready to print at 100 %."""

    pdf: bytes
    labels: int
    pages: int


def station_url(staff_url: str, site: str, equipment_id: str) -> str:
    """What a station's QR code encodes: the staff app's scan page with `s=<site>/<id>`, nothing else."""
    return f"{staff_url.rstrip('/')}/{SCAN_PATH}?{SCAN_PARAM}={quote(f'{site}/{equipment_id}', safe='/')}"


def parse_station(text: str, *, default_site: str | None = None) -> StationRef | None:
    """The station in a scan or typed text: a label's URL, `s=site/id`, `site/id`, or (with `default_site`) a
    bare id; None when it names no station in a valid form."""
    cleaned = text.strip().strip("\x00").replace("\r", "").replace("\n", "").strip()
    if not cleaned or len(cleaned) > 2048:
        return None
    if f"{SCAN_PARAM}=" in cleaned and ("?" in cleaned or cleaned.startswith(f"{SCAN_PARAM}=")):
        query = urlsplit(cleaned).query if "?" in cleaned else cleaned
        values = parse_qs(query).get(SCAN_PARAM, [])
        cleaned = values[0].strip() if values else ""
    parts = cleaned.split("/")
    if len(parts) == 1 and default_site is not None:
        parts = [default_site, parts[0]]
    if len(parts) != 2 or not all(ID_PATTERN.match(part) for part in parts):
        return None
    return StationRef(parts[0], parts[1])


def label_image(url: str, *, name: str, zone: str, site: str, equipment_id: str) -> Image.Image:
    """A printable station label (50 x 30 mm at 300 dpi): the QR code, the station's name, zone and id."""
    width, height = LABEL_SIZE
    label = Image.new("RGB", LABEL_SIZE, "white")
    code = qr_image(url, box_size=1)
    scale = max(1, QR_SIDE // code.width)
    code = code.resize((code.width * scale, code.height * scale), Image.Resampling.NEAREST)
    label.paste(code, (6, (height - code.height) // 2))
    draw = ImageDraw.Draw(label)
    x = code.width + 10
    room = width - x - 16
    y = 30
    title = _font(34, bold=True)
    for line in _wrap(draw, _plain(name), title, room, max_lines=3):
        draw.text((x, y), line, fill="black", font=title)
        y += 42
    y += 8
    body = _font(26)
    for line in _wrap(draw, _plain(zone), body, room, max_lines=2):
        draw.text((x, y), line, fill="black", font=body)
        y += 32
    small = _font(22)
    draw.text((x, height - 74), _fit(draw, f"{site}/{equipment_id}", small, room), fill="black", font=small)
    draw.text((x, height - 46), "Scan: use, clean, report", fill="black", font=_font(19))
    draw.rectangle((1, 1, width - 2, height - 2), outline="black", width=2)
    return label


def station_label(*, session: Session, site: str, equipment_id: str, staff_url: str, tz: tzinfo) -> Label:
    """The label of one registered station (`NotFound` for an unknown id)."""
    return _label(get_station(session=session, site=site, equipment_id=equipment_id, tz=tz), staff_url)


def label_zones(*, session: Session, site: str, tz: tzinfo) -> list[str]:
    """The zones that have stations at `site`, sorted ("" for stations without a zone)."""
    return sorted({view.zone for view in list_stations(session=session, tz=tz, site=site)}, key=str.lower)


def zone_labels(*, session: Session, site: str, zone: str, staff_url: str, tz: tzinfo) -> list[Label]:
    """A label for every station of `zone` at `site`, by name; `NotFound` when the zone has none."""
    stations = [view for view in list_stations(session=session, tz=tz, site=site) if view.zone == zone.strip()]
    if not stations:
        raise NotFound(f"no equipment in zone {zone.strip()!r} at site {site!r}")
    return [_label(view, staff_url) for view in stations]


def zone_sheet(*, session: Session, site: str, zone: str, staff_url: str, tz: tzinfo) -> LabelSheet:
    """Every label of a zone on A4 pages, as a PDF."""
    labels = zone_labels(session=session, site=site, zone=zone, staff_url=staff_url, tz=tz)
    pages = sheet_pages([label.image for label in labels], title=f"{zone.strip() or 'No zone'} · site {site}")
    return LabelSheet(pdf=sheet_pdf(pages), labels=len(labels), pages=len(pages))


def sheet_pages(
    labels: Sequence[Image.Image], *, title: str = "", cell: tuple[int, int] = LABEL_SIZE
) -> list[Image.Image]:
    """Images of one size (`cell`, pixels at 300 dpi) in a grid on A4 pages, with a cutting gap and a small page
    heading: 3 x 8 station labels, or 2 x 4 check-in cards, per page."""
    page_w, page_h = PAGE_SIZE
    label_w, label_h = cell
    columns = (page_w - 2 * PAGE_MARGIN + LABEL_GAP) // (label_w + LABEL_GAP)
    rows = (page_h - 2 * PAGE_MARGIN + LABEL_GAP) // (label_h + LABEL_GAP)
    per_page = columns * rows
    left = (page_w - columns * label_w - (columns - 1) * LABEL_GAP) // 2
    count = max(1, -(-len(labels) // per_page))
    pages = []
    heading = _font(30)
    for number in range(count):
        page = Image.new("L", PAGE_SIZE, "white")
        draw = ImageDraw.Draw(page)
        words = f"{_plain(title)} · page {number + 1} of {count}" if title else f"page {number + 1} of {count}"
        draw.text((left, PAGE_MARGIN // 2 - 10), _fit(draw, words, heading, page_w - 2 * left), fill=0, font=heading)
        for index, image in enumerate(labels[number * per_page : (number + 1) * per_page]):
            row, column = divmod(index, columns)
            at = (left + column * (label_w + LABEL_GAP), PAGE_MARGIN + row * (label_h + LABEL_GAP))
            page.paste(image.convert("L"), at)
        pages.append(page)
    return pages


def sheet_pdf(pages: Sequence[Image.Image]) -> bytes:
    """Pages as one PDF at 300 dpi, so each label prints at its size (50 x 30 mm)."""
    out = io.BytesIO()
    first, *rest = pages
    first.save(out, format="PDF", save_all=True, append_images=rest, resolution=DPI, quality=95)
    return out.getvalue()


def _label(view: StationView, staff_url: str) -> Label:
    url = station_url(staff_url, view.site, view.id)
    image = label_image(url, name=view.name, zone=view.zone, site=view.site, equipment_id=view.id)
    return Label(station=view, url=url, image=image)


def _plain(text: str) -> str:
    """One line of printable text (control characters and runs of spaces become one space)."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, room: int, max_lines: int
) -> list[str]:
    """Greedy word wrap to `room` pixels; a word too long for a line is cut; the last line ends in … if cut."""
    lines: list[str] = []
    words = text.split()
    while words and len(lines) < max_lines:
        line = words.pop(0)
        while draw.textlength(line, font=font) > room:  # one word wider than the line: cut it
            cut = len(line) - 1
            while cut > 1 and draw.textlength(line[:cut], font=font) > room:
                cut -= 1
            words.insert(0, line[cut:])
            line = line[:cut]
        while words and draw.textlength(f"{line} {words[0]}", font=font) <= room:
            line = f"{line} {words.pop(0)}"
        lines.append(line)
    if words and lines:
        lines[-1] = _fit(draw, f"{lines[-1]} {' '.join(words)}", font, room)
    return lines


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, room: int) -> str:
    """`text`, cut with … so it fits `room` pixels."""
    if draw.textlength(text, font=font) <= room:
        return text
    while text and draw.textlength(f"{text}…", font=font) > room:
        text = text[:-1]
    return f"{text.rstrip()}…"


def _font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for path in (f"{FONT_DIR}/{name}", name):
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size)
