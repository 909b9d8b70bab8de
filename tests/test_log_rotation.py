"""Logs that cannot fill the disk: rotated by size while the process writing them goes on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from clinic.log_rotation import rotate_logs

WRITER = (
    "import time\n"
    "for n in range(400):\n"
    "    print(f'line {n:04d} ' + 'x' * 90, flush=True)\n"
    "    time.sleep(0.002)\n"
)


def test_a_big_log_is_rotated_and_the_writer_goes_on_at_the_start(tmp_path: Path) -> None:
    log = tmp_path / "listener.log"
    with log.open("ab") as out:  # as clinic up starts its children: appending
        writer = subprocess.Popen([sys.executable, "-c", WRITER], stdout=out)
    rotated: list[Path] = []
    while True:  # clinic up checks every 30 s; here every 20 ms, while the writer writes
        rotated += rotate_logs(tmp_path, max_bytes=8_000, keep=3)
        try:
            writer.wait(timeout=0.02)
            break
        except subprocess.TimeoutExpired:
            continue
    assert rotated, "the log grew past the limit and was rotated"
    copies = sorted(tmp_path.glob("listener.log.*"))
    assert [p.name for p in copies] == [f"listener.log.{n}" for n in range(1, len(copies) + 1)] and len(copies) <= 3
    text = log.read_text()
    assert not text.startswith("\0"), "the writer went on at the start of the truncated file, not at its old end"
    assert text.rstrip().endswith("line 0399 " + "x" * 90)
    assert all(p.stat().st_size < 20_000 for p in [log, *copies])
