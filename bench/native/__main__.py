"""`python -m bench.native`: the command line and the order of the runs. The benchmark's documentation, which
--help prints, is the package docstring in __init__.py."""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import bench.native
from bench.common import (
    PG_ADMIN_URL,
    backend_versions,
    install_sigterm_as_interrupt,
    machine,
    stop_process,
)
from bench.ingest.report import RESULTS_DIR
from bench.native.checks import Checks, check_logs, check_store, check_uses
from bench.native.profile import print_profile, py_spy, start_py_spy, stop_py_spy
from bench.native.report import code_measured, print_summary, round_header, round_line, summarise, write_results
from bench.native.rig import build_rig
from bench.native.rounds import Round, run_round
from bench.native.traffic import ContractStation, Plug, PoolPublishers
from shared.equipment.native.translate import RECENT_READINGS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.native", description=bench.native.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--seconds", type=int, default=60, help="length of each round (default 60)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each kind, interleaved (default 2)")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of contract messages first, not reported")
    parser.add_argument(
        "--native-warmup",
        type=int,
        default=RECENT_READINGS + 10,
        help="seconds of plug messages first, not reported (default %(default)s: the adapter keeps "
        f"each plug's last {RECENT_READINGS} readings, and at start-up that history is not full yet)",
    )
    parser.add_argument("--plugs", type=int, default=200, help="plugs, and as many contract stations (default 200)")
    parser.add_argument("--publishers", type=int, default=4, help="publishing clients (pool accounts, default 4)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the plugs' power (default: random)")
    parser.add_argument("--pg-url", default=PG_ADMIN_URL, help="admin URL; a fresh database is created per run")
    parser.add_argument(
        "--py-spy",
        action="store_true",
        help="sample `clinic native` with py-spy during the "
        "measured native rounds and print where its time goes (its CPU figures are then not clean)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write results here (default bench/results/)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.py_spy and py_spy() is None:
        print("py-spy is not installed: pip install py-spy", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_sigterm_as_interrupt()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    pg = args.pg_url if "postgresql" in backends else None
    info = {**machine(), **backend_versions(pg), "commit": code_measured(), "date": time.strftime("%Y-%m-%d %H:%M %Z")}
    print("machine:", ", ".join(f"{k} {v}" for k, v in info.items()))
    print(f"run: {args.plugs} Shelly plugs and {args.plugs} contract stations, each once a second "
          f"({args.plugs} msg/s), {args.rounds} x {args.seconds} s of each kind interleaved after a warm-up of "
          f"{args.native_warmup} s (plugs) and {args.warmup} s (contract), {args.publishers} publishers, "
          "QoS 1")  # fmt: skip
    results: dict[str, Any] = {}
    failed = False
    try:
        for backend in backends:
            results[backend] = run_backend(backend, args)
            failed |= bool(results[backend]["failures"])
    except KeyboardInterrupt:
        print("\ninterrupted: child processes stopped, temporary databases dropped", file=sys.stderr)
        return 130
    print(f"\nresults written to {write_results(args, info, results)}")
    return 1 if failed else 0


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    rounds: list[Round] = []
    checks = Checks()
    with ExitStack() as stack:
        print(f"\n[{backend}] broker, store, {args.plugs} plugs to bind, both services ...", flush=True)
        began = time.monotonic()
        rig = build_rig(stack, backend, args.plugs, args.pg_url)
        plugs = [Plug(station, name, rng) for station, name in zip(rig.plug_stations, rig.plug_names, strict=True)]
        stations = [ContractStation(station, rng) for station in rig.contract_stations]
        publishers = PoolPublishers(rig.broker, args.publishers)
        stack.callback(publishers.close)
        pids = f"listener pid {rig.listener.proc.pid}, adapter pid {rig.adapter.proc.pid}"
        print(f"[{backend}] ready in {time.monotonic() - began:.0f}s: {pids}, broker port {rig.broker.port}")
        print(round_header(), flush=True)
        order = [(kind, 0, s) for kind, s in (("native", args.native_warmup), ("contract", args.warmup)) if s > 0]
        for n in range(1, args.rounds + 1):
            order += [("native", n, args.seconds), ("contract", n, args.seconds)]
        samples: list[Path] = []
        for kind, number, seconds in order:
            senders = [p.message for p in plugs] if kind == "native" else [s.message for s in stations]
            spy = None
            if args.py_spy and kind == "native" and number:
                samples.append(RESULTS_DIR / f"pyspy-native-{backend}-{time.strftime('%H%M%S')}-{number}.txt")
                samples[-1].parent.mkdir(parents=True, exist_ok=True)
                spy = start_py_spy(rig.adapter.proc.pid, samples[-1])
            rounds.append(run_round(rig, publishers, kind, number, senders, seconds))
            if spy is not None:
                stop_py_spy(spy)
            print(round_line(rounds[-1]), flush=True)
        summary = summarise(rounds)
        print_summary(backend, summary, args.rounds)
        if samples:
            print_profile(samples)
        check_store(rig, rounds, checks)
        uses = check_uses(rig, plugs, checks)
        for service in (rig.listener, rig.adapter):
            stop_process(service.proc, timeout=30)
        check_logs(rig, checks)
    print(f"\n{backend}: checks")
    print("\n".join(checks.lines))
    return {"summary": summary, "rounds": rounds, "uses": uses, "checks": checks.lines, "failures": checks.failures}


if __name__ == "__main__":
    sys.exit(main())
