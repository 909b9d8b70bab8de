"""Profile `clinic listen` draining a queued backlog, with py-spy (sampling, wall clock, idle time included).

    pip install py-spy
    python -m bench.profile_listener --backend sqlite --messages 100000
    python -m bench.profile_listener --backend postgresql --messages 100000

Same set-up as bench/ingest/ (the repo's broker config on a free port, a fresh store with the devices
registered, the listener's session created first and the backlog queued), then `clinic listen` runs under
`py-spy record --subprocesses` (its writer process too) until every message is committed. Prints, for each of
the two processes, the functions with the most samples: inclusive (the
function or anything it calls) and self (the function itself), as a share of all samples of the drain.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import psutil

from bench.common import (
    ID_STYLES,
    PG_ADMIN_URL,
    child_env,
    count_rows,
    device_ids,
    drop_session,
    install_sigterm_as_interrupt,
    listener_settings,
    postgres_store,
    prime_session,
    publish_backlog,
    sqlite_store,
    start_broker,
    stop_process,
    usage_backlog,
    wait_until,
)
from bench.common.pyspy_stacks import print_tally, tally
from bench.ingest.report import RESULTS_DIR
from bench.ingest.service import clinic_listen_command
from shared.store.db import make_engine
from telemetry.broker_acl import LISTENER_USER

GROUPS = {  # where time goes, by the file a frame comes from
    "paho": "paho-mqtt (network loop, packet parsing, acks)",
    "pydantic": "pydantic (payload validation)",
    "shared/equipment/payloads.py": "decode() outside pydantic (json, text check)",
    "sqlalchemy": "SQLAlchemy (statement compile/execute, result rows, types)",
    "psycopg": "psycopg driver",
    "sqlite3": "sqlite3 driver",
    "shared/equipment/state_machine.py": "state machine (apply_event)",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--ids", choices=ID_STYLES, default="uuid", help="event ids: random UUIDs or sequential")
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--pg-url", default=PG_ADMIN_URL)
    parser.add_argument("--out", type=Path, default=None, help="raw py-spy output (default bench/results/)")
    args = parser.parse_args()
    if shutil.which("py-spy") is None:
        print("py-spy is not installed: pip install py-spy", file=sys.stderr)
        return 2
    install_sigterm_as_interrupt()
    out = args.out or RESULTS_DIR / f"pyspy-{args.backend}-{uuid.uuid4().hex[:6]}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with ExitStack() as stack:
            drain_s = profile(stack, args, out)
    except KeyboardInterrupt:
        print("\ninterrupted: child processes stopped, temporary databases dropped", file=sys.stderr)
        return 130
    rate = args.messages / drain_s
    print(f"\n{args.messages:,} messages drained under py-spy in {drain_s:.1f}s ({rate:,.0f} msgs/s, incl. start-up")
    print(f"and sampling overhead); raw stacks in {out}\n")
    report(out, args.top)
    return 0


def profile(stack: ExitStack, args: argparse.Namespace, out: Path) -> float:
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="clinic-profile-")))
    broker = start_broker(tmp / "data", stack)
    devices = device_ids(args.devices)
    url = sqlite_store(tmp, devices) if args.backend == "sqlite" else postgres_store(stack, devices, args.pg_url)
    client_id = f"bench-profile-{uuid.uuid4().hex[:8]}"
    settings = listener_settings(broker, tmp, url)
    prime_session(broker, client_id, LISTENER_USER, broker.listener_password)
    stack.callback(drop_session, broker, client_id, LISTENER_USER, broker.listener_password)
    print(f"queueing {args.messages:,} messages ...", flush=True)
    publish_backlog(broker, usage_backlog(devices, args.messages, uuid.uuid4().hex[:8], ids=args.ids))
    engine = make_engine(url)
    stack.callback(engine.dispose)

    cmd = ["py-spy", "record", "--idle", "--nonblocking", "--subprocesses", "-r", str(args.rate), "-f", "raw",
           "-o", str(out)]  # fmt: skip
    started = time.perf_counter()
    spy = subprocess.Popen(
        [*cmd, "--", *clinic_listen_command()],
        env=child_env(settings),
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    stack.callback(stop_process, spy)

    def drained() -> bool:
        if spy.poll() is not None:
            raise RuntimeError(f"py-spy exited early: {spy.stderr.read().decode() if spy.stderr else ''}")
        return count_rows(engine) >= args.messages

    wait_until(drained, timeout=60 + args.messages / 100, interval=0.02, what="the backlog to be committed")
    drain_s = time.perf_counter() - started
    for child in psutil.Process(spy.pid).children():  # the listener: stop it, and py-spy writes its output
        child.send_signal(signal.SIGTERM)
    spy.wait(timeout=60)
    return drain_s


ROOTS = {  # the two processes of `clinic listen`, each reported on its own
    "Listener.run (": "the network loop (Listener.run: read, acknowledge)",
    "_Writer.run (": "the writer process (_Writer.run: decode, commit)",
}


def report(path: Path, top: int) -> None:
    for root, title in ROOTS.items():
        print(f"== {title}")
        report_root(path, top, root)
        print()


def report_root(path: Path, top: int, root: str) -> None:
    found = tally([path], lambda frame: frame.startswith(root), GROUPS)
    if not found.total:
        print("no samples")
        return
    print(f"{found.total:,} samples inside {root.strip(' (')} (wall clock, idle included); {found.other:,} elsewhere\n")
    print_tally(found, top)


if __name__ == "__main__":
    sys.exit(main())
