"""Store growth (--growth ROWS, --long): backlog after backlog drained into the same store per backend, each beside
a bare subscriber draining a backlog of the same size in the same round.

A slow-down as the store grows then shows as a falling ratio project/limit, which drift on the machine (other
load, thermal limits) moves far less than either rate alone. The limit drains before and after each listener's
drain (the one after a backend's drain is the one before the next backend's), and the ratio is over the mean of
the two: a single limit drain moved by 20 % between rounds on a machine whose listener held within 10 %, and a
round-1 limit that happened to be fast or slow set every later round's "vs round 1". Every round checks the
listener's counts, so a
round that drained anything but its own backlog (the trap of a session shared with the limit) fails loudly
instead of reading as a slow-down.
"""

from __future__ import annotations

import statistics
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import backlog_minutes
from bench.ingest.limit import limit_problems, run_limit
from bench.ingest.listeners import project_problems, run_project
from bench.ingest.stores import store
from bench.ingest.trial import Context, Trial

LONG_ROWS = 5_000_000  # --long
WARM_UP = 5_000  # messages per consumer before round 1, so round 1 (every round's reference) is not a cold start


@dataclass
class GrowthRound:
    backend: str
    round: int
    stored_before: int  # rows in the store when the round began
    limit: Trial  # the limit's drain before the listener's
    project: Trial
    limit_after: Trial  # and after it
    first_ratio: float | None = None  # the backend's round-1 ratio (its own, in round 1)
    problems: list[str] = field(default_factory=list)

    @property
    def limit_rate(self) -> float:
        """The limit's msgs/s around the listener's drain: the mean of the drains before and after it."""
        return (self.limit.rate + self.limit_after.rate) / 2

    @property
    def limit_cpu_us(self) -> float | None:
        both = [t.cpu_us for t in (self.limit, self.limit_after) if t.cpu_us is not None]
        return sum(both) / len(both) if both else None

    @property
    def ratio(self) -> float:
        """Project msgs/s over the limit's, all measured in this round."""
        return self.project.rate / self.limit_rate

    @property
    def vs_first(self) -> float:
        return self.ratio / (self.first_ratio or self.ratio)

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "round": self.round,
            "stored_before": self.stored_before,
            "limit_rate": self.limit_rate,
            "project_rate": self.project.rate,
            "ratio": self.ratio,
            "vs_round_1": self.vs_first,
            "problems": self.problems,
            "limit": {**asdict(self.limit), "cpu_us": self.limit.cpu_us},
            "limit_after": {**asdict(self.limit_after), "cpu_us": self.limit_after.cpu_us},
            "project": {**asdict(self.project), "cpu_us": self.project.cpu_us},
        }


def run_growth(ctx: Context, stack: ExitStack, backends: list[str], messages: int, rows: int) -> list[GrowthRound]:
    """Rounds until every backend's store holds at least `rows` rows; stops at the first round that fails its checks.

    One store per backend for the whole run (a SQLite file, a PostgreSQL database dropped when `stack` closes).
    In a round the limit drains, then each backend's listener followed by the limit again, so each listener's drain
    lies between two of the limit's and sees the same state of the machine.
    Each backlog is built, published and dropped inside its drain, so memory stays at one backlog.
    """
    _warm_up(ctx, backends, min(messages, WARM_UP))
    urls = {backend: store(ctx, stack, backend) for backend in backends}
    total = -(-rows // messages)
    # Device time moves on from round to round and the last round ends before now, as a store's year does: each
    # station's new events come after its stored ones (which the event key's index order follows).
    span = timedelta(minutes=total * backlog_minutes(ctx.devices, messages) + 5)
    ctx.device_clock = dict.fromkeys(backends, datetime.now(UTC) - span)
    held = dict.fromkeys(backends, 0)
    first: dict[str, float] = {}
    out: list[GrowthRound] = []
    r = 0
    while min(held.values()) < rows:
        r += 1
        limit = run_limit(ctx, messages)
        for backend in backends:
            project = run_project(ctx, backend, messages, url=urls[backend])
            after = run_limit(ctx, messages)
            done = GrowthRound(backend, r, int(project.extra["stored_before"]), limit, project, after)
            done.problems = limit_problems(limit) + project_problems(project) + limit_problems(after)
            limit = after
            first.setdefault(backend, done.ratio)
            done.first_ratio = first[backend]
            held[backend] = int(project.extra["rows"])
            out.append(done)
            x = project.extra
            print(
                f"  [round {r}/{total}] {backend:<10} {done.stored_before:>10,} stored: limit {done.limit.rate:,.0f} "
                f"and {after.rate:,.0f} msgs/s, project {project.rate:8,.0f} msgs/s = {done.ratio:.2f}x (vs round 1 "
                f"{done.vs_first:.2f}); "
                f"received {x['received']:,}, inserted {x['inserted']:,}, duplicates {x['duplicates']}, "
                f"dead letters {x['dead_letters']}",
                flush=True,
            )
            if done.problems:
                print(f"  round {r} on {backend} FAILED its checks: {'; '.join(done.problems)}", flush=True)
                return out
    return out


def _warm_up(ctx: Context, backends: list[str], n: int) -> None:
    """A short drain per consumer, the listener's into a throwaway store: imports, caches and connections warm."""
    print(f"  warm-up, not reported: {n:,} messages to the limit and to the listener on a throwaway store", flush=True)
    for backend in backends:
        limit, project = run_limit(ctx, n), run_project(ctx, backend, n)
        problems = limit_problems(limit) + project_problems(project)
        if problems:
            raise RuntimeError(f"the warm-up on {backend} failed its checks: {'; '.join(problems)}")


def growth_summary(rounds: list[GrowthRound]) -> dict[str, dict[str, Any]]:
    """Per backend, over the rounds that passed their checks: the median ratio and the lowest `vs round 1`."""
    out: dict[str, dict[str, Any]] = {}
    for backend in dict.fromkeys(g.backend for g in rounds):
        good = [g for g in rounds if g.backend == backend and not g.problems]
        if not good:
            out[backend] = {"rounds": 0, "failed": True}
            continue
        low = min(good, key=lambda g: g.vs_first)
        out[backend] = {
            "rounds": len(good),
            "rows": int(good[-1].project.extra["rows"]),
            "median_ratio": statistics.median(g.ratio for g in good),
            "min_vs_round_1": low.vs_first,
            "min_vs_round_1_at": low.round,
            "failed": any(g.problems for g in rounds if g.backend == backend),
        }
    return out
