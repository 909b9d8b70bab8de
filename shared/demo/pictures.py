"""Simple pictures for the demo exercises, drawn here with Pillow (a figure and its equipment), so the demo
plan has a picture on every exercise without shipping anyone else's artwork."""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image, ImageDraw

SIZE = 480
INK, SKIN, KIT, FLOOR = "#1b2a41", "#e0a878", "#4f7cac", "#c9d3dd"
Draw = ImageDraw.ImageDraw


def _figure(d: Draw, x: int, y: int, *, legs: tuple[tuple[int, int], tuple[int, int]] | None = None,
            arms: tuple[tuple[int, int], tuple[int, int]] | None = None, hip: tuple[int, int] | None = None) -> None:
    """A stick figure with its head at (x, y); joints may be moved to show a pose."""
    d.ellipse((x - 28, y - 28, x + 28, y + 28), fill=SKIN, outline=INK, width=5)
    neck, hip = (x, y + 30), hip or (x, y + 150)
    d.line((neck, hip), fill=INK, width=14)
    for hand in arms or ((x - 60, y + 110), (x + 60, y + 110)):
        d.line(((x, y + 55), hand), fill=INK, width=11)
    for foot in legs or ((x - 40, y + 280), (x + 40, y + 280)):
        d.line((hip, foot), fill=INK, width=13)


def _treadmill(d: Draw) -> None:
    d.polygon(((60, 400), (420, 360), (420, 390), (60, 430)), fill=KIT)
    d.line(((380, 365), (380, 150), (330, 150)), fill=KIT, width=12)
    _figure(d, 240, 90, legs=((190, 395), (290, 380)), arms=((330, 155), (190, 200)))


def _bike(d: Draw) -> None:
    d.rectangle((110, 250, 250, 290), fill=KIT)
    d.rectangle((110, 150, 140, 290), fill=KIT)
    d.ellipse((300, 300, 400, 400), outline=KIT, width=12)
    _figure(d, 150, 80, hip=(180, 250), legs=((330, 330), (370, 370)), arms=((260, 200), (250, 210)))


def _bars(d: Draw) -> None:
    for y in (210, 250):
        d.line(((40, y), (440, y)), fill=KIT, width=12)
    for x in (60, 420):
        d.line(((x, 210), (x, 430)), fill=KIT, width=12)
    _figure(d, 240, 90, arms=((170, 212), (310, 212)))


def _steps(d: Draw) -> None:
    d.polygon(((40, 440), (40, 390), (190, 390), (190, 340), (340, 340), (340, 440)), fill=KIT)
    _figure(d, 200, 70, legs=((160, 385), (250, 335)))


def _heel_raise(d: Draw) -> None:
    d.line(((80, 230), (400, 230)), fill=KIT, width=12)
    _figure(d, 240, 70, arms=((180, 232), (300, 232)), legs=((215, 350), (265, 350)))
    for x in (205, 255):
        d.polygon(((x, 350), (x + 20, 350), (x + 32, 390), (x - 5, 390)), fill=INK)
    d.polygon(((430, 150), (460, 190), (400, 190)), fill="#0b6b2f")


def _hot_pack(d: Draw) -> None:
    d.rectangle((40, 330, 440, 370), fill=KIT)
    d.ellipse((60, 270, 120, 330), fill=SKIN, outline=INK, width=5)
    d.line(((120, 310), (420, 310)), fill=INK, width=16)
    d.rounded_rectangle((200, 270, 300, 305), radius=12, fill="#c0392b")
    for x in (220, 250, 280):
        d.arc((x - 10, 220, x + 10, 265), 90, 270, fill="#c0392b", width=5)


def _bridge(d: Draw) -> None:
    d.rectangle((40, 380, 440, 410), fill=KIT)
    d.ellipse((60, 320, 120, 380), fill=SKIN, outline=INK, width=5)
    d.line(((120, 360), (250, 270), (330, 300), (350, 380)), fill=INK, width=15)
    d.line(((130, 365), (200, 375)), fill=INK, width=11)
    d.polygon(((250, 180), (280, 230), (220, 230)), fill="#0b6b2f")


DRAWINGS: dict[str, Callable[[Draw], None]] = {
    "Treadmill walk": _treadmill, "Recumbent bike": _bike, "Parallel bars walk": _bars, "Step-ups": _steps,
    "Heel raises": _heel_raise, "Hot pack": _hot_pack, "Bridges": _bridge,
}  # fmt: skip


def demo_picture(exercise: str) -> bytes:
    """The PNG for a demo exercise (a plain figure for one without its own drawing)."""
    image = Image.new("RGB", (SIZE, SIZE), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 440, SIZE, SIZE), fill=FLOOR)
    DRAWINGS.get(exercise, lambda d: _figure(d, 240, 90))(draw)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
