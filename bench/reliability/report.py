"""The bench's output: a row per scenario as it finishes, the summary table, and the JSON results file.

In one place so the printed figures and the saved ones come from the same Result, in the same format.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.reliability.result import Result

RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"  # bench/results/
STOP_DURATION_S = 55.0  # bench.common.usage_backlog gives every stop this duration

COLUMNS = (
    "backend",
    "scenario",
    "faults injected",
    "published",
    "stored",
    "duplicated",
    "lost",
    "dead-lettered",
    "uses_total = starts",
    "wall time",
)


def row(res: Result) -> list[str]:
    uses = f"{res.uses_total:,} = {res.starts_stored:,}" if res.uses_consistent else (
        f"MISMATCH {res.uses_total:,} vs {res.starts_stored:,}"
    )  # fmt: skip
    return [
        res.backend,
        res.scenario,
        res.faults,
        f"{res.published:,}",
        f"{res.stored:,}",
        f"{res.duplicated:,}",
        f"{res.lost:,}",
        f"{res.dead_lettered:,}",
        uses,
        f"{res.wall_s:.0f} s",
    ]


def print_row(res: Result) -> None:
    print(" | ".join(row(res)) + ("" if res.ok else "   <-- FAILED"), flush=True)
    for line in res.details:
        print(f"    {line}")
    print(
        f"    flood PUBACKed in {res.publish_s:.1f}s; publisher connects {res.publisher_connects}, listener "
        f"connects {res.listener_connects}, database retries logged {res.db_retries_logged}; listener exit codes "
        f"on SIGTERM {res.listener_exit_codes}; in-use seconds {res.in_use_seconds:,.0f} "
        f"(stops x {STOP_DURATION_S:g} = {STOP_DURATION_S * (res.stored - res.starts_stored):,.0f}); "
        f"load {res.load_before:.2f} -> {res.load_after:.2f}",
        flush=True,
    )
    for error in res.errors:
        print(f"    ERROR: {error}", flush=True)


def print_table(results: list[Result]) -> None:
    print()
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "|".join("---:" if i >= 3 else "---" for i in range(len(COLUMNS))) + "|")
    for res in results:
        print("| " + " | ".join(row(res)) + " |")


def write_results(
    path: Path,
    args: argparse.Namespace,
    argv: list[str] | None,
    info: dict[str, Any],
    total_s: float,
    results: list[Result],
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                "command": " ".join(["python -m bench.reliability", *(argv if argv is not None else sys.argv[1:])]),
                "machine": info,
                "total_s": total_s,
                "results": [{**asdict(r), "ok": r.ok, "uses_consistent": r.uses_consistent} for r in results],
            },
            indent=2,
        )
    )
