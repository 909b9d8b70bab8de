"""What the benchmark prints and writes: each round, the medians and the ratio against the target, the code and
machine measured, and the JSON results file."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import code_version
from bench.common.machine_facts import INGEST_PATHS
from bench.ingest.report import RESULTS_DIR
from bench.native.rounds import Round

TARGET = 1.5  # CPU per native message at most 1.5 x that of a contract message
NATIVE_PATHS = (*INGEST_PATHS, "telemetry/native_adapter.py", "shared/equipment/native", "clinic/native_cli.py")


def code_measured() -> str:
    """`code_version` over the ingest and native paths (a folder's files counted, not listed), plus which of them
    git does not track yet."""
    version = code_version(NATIVE_PATHS)
    head, _, changed = version.partition(" (uncommitted changes in ")
    root = Path(__file__).resolve().parents[2]
    try:
        untracked = subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "--", *NATIVE_PATHS],
                                   cwd=root, capture_output=True, text=True).stdout.split()  # fmt: skip
    except OSError:
        untracked = []
    parts = [f"uncommitted changes in {_compact(changed.rstrip(')').split(', '))}"] if changed else []
    parts += [f"untracked: {_compact(untracked)}"] if untracked else []
    return head + (f" ({'; '.join(parts)})" if parts else "")


def _compact(paths: list[str]) -> str:
    """Paths, those of a folder with three or more of them as `folder/ (n files)`."""
    folders: dict[str, list[str]] = {}
    for path in paths:
        folders.setdefault(path.rsplit("/", 1)[0] + "/" if "/" in path else "", []).append(path)
    shown = [f"{folder} ({len(files)} files)" if len(files) >= 3 else ", ".join(files)
             for folder, files in folders.items()]  # fmt: skip
    return ", ".join(shown)


def round_header() -> str:
    return (f"  {'round':<16} {'msgs':>7} {'msgs/s':>7} {'late ms':>8} {'caught up':>9} {'adapter':>8} "
            f"{'listener':>8} {'per msg':>8} {'broker':>7} {'derived':>7} {'load':>5}\n"
            f"  {'':<16} {'':>7} {'':>7} {'':>8} {'s':>9} {'µs/msg':>8} {'µs/msg':>8} {'µs':>8} "
            f"{'µs/msg':>7}")  # fmt: skip


def round_line(r: Round) -> str:
    name = f"{r.kind} {r.number}" if r.number else f"{r.kind} warm-up"
    return (f"  {name:<16} {r.published:>7,} {r.rate:>7.1f} {r.late_max_ms:>8.1f} {r.catch_up_s:>9.2f} "
            f"{r.us(r.adapter_cpu_s):>8.0f} {r.us(r.listener_cpu_s):>8.0f} {r.per_message_us:>8.0f} "
            f"{r.us(r.broker_cpu_s):>7.0f} {r.plug_events:>7} {r.load:>5.2f}")  # fmt: skip


def summarise(rounds: list[Round]) -> dict[str, Any]:
    measured = [r for r in rounds if r.number]
    native = [r for r in measured if r.kind == "native"]
    contract = [r for r in measured if r.kind == "contract"]

    def median(values: list[float]) -> float:
        return statistics.median(values) if values else float("nan")

    out: dict[str, Any] = {
        "native": {
            "rate": median([r.rate for r in native]),
            "adapter_us": median([r.us(r.adapter_cpu_s) for r in native]),
            "listener_us": median([r.us(r.listener_cpu_s) for r in native]),
            "per_message_us": median([r.per_message_us for r in native]),
            "broker_us": median([r.us(r.broker_cpu_s) for r in native]),
            "derived": sum(r.plug_events for r in native),
            "payload_bytes": median([r.payload_bytes for r in native]),
        },
        "contract": {
            "rate": median([r.rate for r in contract]),
            "listener_us": median([r.us(r.listener_cpu_s) for r in contract]),
            "per_message_us": median([r.per_message_us for r in contract]),
            "broker_us": median([r.us(r.broker_cpu_s) for r in contract]),
            "adapter_idle_ms_per_s": median([r.adapter_cpu_s / r.seconds * 1000 for r in contract]),
            "payload_bytes": median([r.payload_bytes for r in contract]),
        },
        "pairs": [n.per_message_us / c.per_message_us for n, c in zip(native, contract, strict=False)],
    }
    out["ratio"] = out["native"]["per_message_us"] / out["contract"]["per_message_us"]
    out["adapter_ratio"] = out["native"]["adapter_us"] / out["contract"]["per_message_us"]
    out["met"] = out["ratio"] <= TARGET
    return out


def print_summary(backend: str, summary: dict[str, Any], rounds: int) -> None:
    n, c = summary["native"], summary["contract"]
    rows = [
        ("msgs/s achieved", f"{n['rate']:.1f}", f"{c['rate']:.1f}"),
        ("payload (bytes, mean)", f"{n['payload_bytes']:.0f}", f"{c['payload_bytes']:.0f}"),
        ("adapter CPU per message (µs)", f"{n['adapter_us']:.0f}", "-"),
        ("listener CPU per message (µs)", f"{n['listener_us']:.0f}", f"{c['listener_us']:.0f}"),
        ("CPU per message, adapter + listener (µs)", f"{n['per_message_us']:.0f}", f"{c['per_message_us']:.0f}"),
        ("Mosquitto CPU per message (µs, not in the ratio)", f"{n['broker_us']:.0f}", f"{c['broker_us']:.0f}"),
    ]
    print(f"\n{backend}: medians of {rounds} rounds each{'native':>24}{'contract':>11}")
    for label, native, contract in rows:
        print(f"  {label:<50}{native:>8}{contract:>11}")
    pairs = ", ".join(f"{p:.2f}" for p in summary["pairs"])
    print(f"  adapter while idle (contract rounds): {c['adapter_idle_ms_per_s']:.1f} ms of CPU per second")
    print(f"  derived events stored during the native rounds: {n['derived']}")
    print(f"  native / contract, CPU per message: {summary['ratio']:.2f}x (rounds in pairs: {pairs})")
    print(f"  adapter alone / contract: {summary['adapter_ratio']:.2f}x")
    print(f"  target: at most {TARGET:g}x -> {'met' if summary['met'] else 'MISSED'}")


def write_results(args: argparse.Namespace, info: dict[str, str], results: dict[str, Any]) -> Path:
    path = args.json or RESULTS_DIR / f"native-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}, "machine": info,
            "backends": results}  # fmt: skip
    path.write_text(json.dumps(body, indent=2, default=_plain))
    return path


def _plain(value: object) -> object:
    if isinstance(value, Round):
        return {**asdict(value), "rate": value.rate, "per_message_us": value.per_message_us}
    return str(value)
