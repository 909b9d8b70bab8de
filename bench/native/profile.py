"""`--py-spy`: sample `clinic native` with py-spy during the measured native rounds, and say where its time goes.

py-spy attaches to the running adapter (`--nonblocking`, so the adapter is never paused) and records only
while a thread is busy (no `--idle`), so the shares are of the adapter's CPU, not of its waiting. The sampler's
own CPU competes with the services on this machine's cores: compare figures of runs without it.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

from bench.common.pyspy_stacks import print_tally, tally

ENTRY = "NativeAdapter.run (telemetry/native_adapter.py)"  # as short_frame names the frame
GROUPS = {  # where time goes, by the file or function a frame comes from
    "paho": "paho-mqtt (network loop, packets, acks, publishes)",
    "sqlalchemy": "SQLAlchemy (compile, execute, types, rows)",
    "sqlite3": "sqlite3 driver (SQLite's own work)",
    "psycopg": "psycopg driver",
    "store_plan (": "store_plan: writing the batch (states, sources, deliveries, outbox)",
    "Translator.plan (": "Translator.plan: parsing, inference, sources (pure Python)",
    "parse_native (": "parse_native: the Shelly dialect (json, regex)",
    "_note_source (": "_note_source: the device's summary and last readings",
    "_bindings_of (": "_bindings_of: finding the device's bindings",
    "_feed (": "_feed: inference (feed) and contract messages",
    "_copy (": "_copy: copying a device's last readings",
    "_source_row (": "_source_row: a device's row, its readings as JSON",
    "to_json (": "InferenceState.to_json",
    "_do_commit (": "commit (SQLAlchemy RootTransaction._do_commit)",
}


def py_spy() -> str | None:
    """py-spy beside this interpreter (a virtualenv's bin/), else on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def start_py_spy(pid: int, out: Path, rate: int = 100) -> subprocess.Popen[bytes]:
    cmd = [py_spy() or "py-spy", "record", "--pid", str(pid), "--nonblocking", "-r", str(rate), "-f", "raw"]
    cmd += ["-o", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_py_spy(spy: subprocess.Popen[bytes]) -> None:
    """Ctrl-C makes py-spy write what it sampled."""
    if spy.poll() is None:
        spy.send_signal(signal.SIGINT)
    try:
        spy.wait(timeout=60)
    except subprocess.TimeoutExpired:
        spy.kill()
        spy.wait(timeout=5)


def print_profile(paths: list[Path], top: int = 25) -> None:
    found = tally(paths, lambda frame: frame.endswith(ENTRY), GROUPS)
    if not found.total:
        print("  no samples inside NativeAdapter.run")
        return
    print(f"\n  py-spy: {found.total:,} busy samples inside NativeAdapter.run ({found.other:,} elsewhere); shares of "
          "those")  # fmt: skip
    print_tally(found, top, indent="  ")
