"""A video file for Chromium's fake camera (`--use-file-for-fake-video-capture`): a card held up to the lens."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from shared.care.qr import qr_image

WIDTH, HEIGHT = 640, 480


def card_frame(url: str, *, size: int = 400) -> Image.Image:
    """One grayscale frame: the card's QR code big and centred on white (the code keeps its quiet zone)."""
    frame = Image.new("L", (WIDTH, HEIGHT), 255)
    code = qr_image(url).convert("L").resize((size, size), Image.Resampling.NEAREST)
    frame.paste(code, ((WIDTH - size) // 2, (HEIGHT - size) // 2))
    return frame


def write_y4m(path: Path, frame: Image.Image, *, frames: int = 10) -> Path:
    """Write a YUV4MPEG2 (4:2:0) file: the grayscale frame as luma, neutral chroma, repeated `frames` times."""
    assert frame.mode == "L" and frame.size == (WIDTH, HEIGHT)
    luma = frame.tobytes()
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + luma + chroma + chroma)
    return path
