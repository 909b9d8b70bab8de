"""After the rounds: did every message arrive once, and are the uses on the board the uses the plugs made?"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.native.rig import Rig, Service
from bench.native.rounds import Round
from bench.native.traffic import Plug, Use
from shared.equipment.native.defaults import defaults_for

MARGIN_S = 3.0  # a use this close to its hold's end at the check may or may not have its event yet
ERROR_WORDS = (" ERROR ", " CRITICAL ", "Traceback")
STATS = re.compile(r"(listener|native adapter) stopped: (\w+\(.*\))")


@dataclass
class Checks:
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def check(self, ok: bool, text: str) -> None:
        self.lines.append(f"  {'ok  ' if ok else 'FAIL'}  {text}")
        if not ok:
            self.failures.append(text)


def check_uses(rig: Rig, plugs: Sequence[Plug], checks: Checks) -> dict[str, int]:
    """Each plug's station has one start per run that stayed above on-watts for the on-hold, and one stop per such
    run that then stayed below off-watts for the off-hold; within `MARGIN_S` of a hold's end, either way is right."""
    now = time.time()
    recorded = rig.usage_by_station()
    differing: list[str] = []
    keys = ("runs", "ended", "starts", "starts_due", "starts_open", "stops", "stops_due", "stops_open", "off")
    totals = dict.fromkeys(keys, 0)
    for plug in plugs:
        expected = [_expected(use, now) for use in plug.uses] or [(0, 0, 0, 0)]
        due_starts, open_starts, due_stops, open_stops = (sum(column) for column in zip(*expected, strict=True))
        got_starts, got_stops = recorded.get((plug.station, "start"), 0), recorded.get((plug.station, "stop"), 0)
        starts_ok = due_starts <= got_starts <= due_starts + open_starts
        off = not (starts_ok and due_stops <= got_stops <= due_stops + open_stops)
        if off:
            ages = ", ".join(f"rose {now - u.rose_at:.1f} s ago" + (f", fell {now - u.fell_at:.1f} s ago"
                             if u.fell_at is not None else "") for u in plug.uses)  # fmt: skip
            differing.append(f"{plug.station} ({plug.name}): {got_starts} starts, {got_stops} stops; runs: {ages}; "
                             f"adapter state {rig.inference_state(plug.station)}")  # fmt: skip
        ended = sum(u.fell_at is not None for u in plug.uses)
        values = (len(plug.uses), ended, got_starts, due_starts, open_starts, got_stops, due_stops, open_stops, off)
        for key, value in zip(keys, values, strict=True):
            totals[key] += int(value)
    t = totals
    hold = defaults_for("treadmill")
    checks.check(t["off"] == 0,
                 f"uses: the plugs made {t['runs']} runs above idle ({t['ended']} back at idle); starts recorded "
                 f"{t['starts']}, expected {t['starts_due']} (+ up to {t['starts_open']} within {MARGIN_S:g} s of "
                 f"the {hold.on_hold_s:g} s on-hold); stops recorded {t['stops']}, expected {t['stops_due']} (+ up "
                 f"to {t['stops_open']}); {t['runs'] - t['starts']} runs shorter than the on-hold so far (in "
                 f"progress, or a spike); stations that differ: {t['off']}")  # fmt: skip
    checks.lines += [f"        {line}" for line in differing[:5]]
    return totals


def _expected(use: Use, now: float) -> tuple[int, int, int, int]:
    """(start due, start open, stop due, stop open) for one run at `now`: a run is a use once it stayed above
    on-watts for the on-hold (its last level holds while the plug is silent), and ends once it stayed below
    off-watts for the off-hold; within `MARGIN_S` of either, the event may or may not be there yet."""
    hold = defaults_for("treadmill")
    high = (use.fell_at if use.fell_at is not None else now) - use.rose_at
    start_due = high >= hold.on_hold_s + MARGIN_S
    start_open = not start_due and high >= hold.on_hold_s - MARGIN_S
    low = now - use.fell_at if use.fell_at is not None else -1.0
    stop_due = start_due and low >= hold.off_hold_s + MARGIN_S
    stop_open = not stop_due and (start_due or start_open) and low >= hold.off_hold_s - MARGIN_S
    return int(start_due), int(start_open), int(stop_due), int(stop_open)


def check_store(rig: Rig, rounds: Sequence[Round], checks: Checks) -> None:
    contract = sum(r.published for r in rounds if r.kind == "contract")
    native = sum(r.published for r in rounds if r.kind == "native")
    refused = sum(r.refused for r in rounds)
    checks.check(refused == 0, f"PUBACKs refused by the broker: {refused}")
    stored = rig.events("contract")
    checks.check(stored == contract, f"contract messages published {contract:,}, stored {stored:,}")
    committed = rig.adapter_committed()
    checks.check(committed == native, f"native messages published {native:,}, committed by the adapter {committed:,}")
    dead = rig.dead_letters()
    checks.check(dead == 0, f"dead letters: {dead}")


def check_logs(rig: Rig, checks: Checks) -> None:
    """After the services stopped: no error in either log, a clean exit, and their own totals."""
    for service in (rig.listener, rig.adapter):
        text = service.log_text()
        errors = [line for line in text.splitlines() if any(word in line for word in ERROR_WORDS)]
        warnings = sum(" WARNING " in line for line in text.splitlines())
        detail = f"; first: {errors[0][:160]}" if errors else ""
        checks.check(not errors and service.proc.returncode == 0,
                     f"`clinic {service.name}`: {len(errors)} errors, {warnings} warnings in its log, exit code "
                     f"{service.proc.returncode}{detail}")  # fmt: skip
        found = STATS.search(text)
        if found:
            checks.lines.append(f"        {_stats(service, found.group(2))}")


def _stats(service: Service, stats: str) -> str:
    return f"{service.name} said at exit: {stats}"
