"""Scale benchmark: the board, check-in and usage chart on a clinic chain's store, and how they grow with it.

    python -m bench.scale                                  # full: 1,000 stations / 20 sites / 5,000,000 events
    python -m bench.scale --scale 0.1 --calls 50           # quick: 2 sites against 1 (~2 min)
    python -m bench.scale --backends sqlite --explain      # one backend, with the query plans of each call

Each backend gets two stores, generated with bulk inserts into a schema made by `shared.store.db.init_db` (so every
index exists while loading): the full one and one 10x smaller (`--ratio`). Both keep 50 stations per site,
about 5,000 usage events per station over the last 30 days and 5,000 patients per site, so a query that
reads one site should take the same time in both, and one that reads everything should grow 10x:

  stations     equipment + equipment_state rows with counters that agree with the events
  events       usage start/stop pairs (unique event ids, device_ts = event_at, received_at a little later)
               in opening hours, a cleaning after ~85% of the stops of stations cleaned after each use,
               some stations in use, needing cleaning, offline or out of service (a fault event)
  care side    patients, past (done / no-show) and future appointments, 6% of each site's patients booked
               today, 3-5 active plan lines on stations of the patient's site, an exercise library, one QR
               card per patient (10% also have an older, revoked one) and the check-ins of past visits

Then each query runs through the project's own services, interleaved between the two stores (small, full,
full, small, ...) so that load from other work on the machine hits both alike: median and p95 of `--calls`
calls after warm-up, and the growth ratio full / small.

  board, one site     shared.equipment.stations.list_stations(session=..., tz=..., site=...)      target < 50 ms
  board, all sites    shared.equipment.stations.list_stations(session=..., tz=...)                 target < 50 ms
  board()             shared.equipment.board.board(session=..., tz=..., site=...) (alerts + urgency sort, for reference)
  check-in, first     shared.care.checkin.check_in: token -> card -> patient -> today's appointment (marked arrived,
                      check-in recorded) -> plan with live station status; a new patient each call, at a time
                      shortly before their appointment                                   target < 30 ms
  check-in, repeat    the same cards again (already checked in: the same reads, fewer writes)
  usage chart         shared.equipment.usage.usage_stats(..., days=7) for one site

SQLite stores are files in a temporary folder, loaded with sqlite3 `executemany` (one transaction per chunk,
journal off while loading, then back to WAL) and not ANALYZEd (the app never runs ANALYZE). PostgreSQL stores
are temporary databases loaded with COPY (psycopg `cursor.copy()`; foreign-key triggers skipped with
`session_replication_role = replica`, the data being consistent by construction), then VACUUM ANALYZEd as
autovacuum would soon do. Everything is removed at the end, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url

from bench.common import PG_ADMIN_URL, install_sigterm_as_interrupt, machine
from shared.care.checkin import check_in
from shared.care.qr import hash_token
from shared.equipment.board import board
from shared.equipment.stations import list_stations
from shared.equipment.usage import usage_stats
from shared.store.db import init_db, make_engine, read_session
from shared.store.settings import Settings

RESULTS_DIR = Path(__file__).resolve().parent / "results"
FULL_SITES = 20
STATIONS_PER_SITE = 50
EVENTS_PER_STATION = 5_000  # usage events (start + stop) over HISTORY_DAYS: 5,000,000 for 1,000 stations
PATIENTS_PER_SITE = 5_000
HISTORY_DAYS = 30
OPEN, CLOSE = dtime(6, 30), dtime(20, 30)  # opening hours, local
TODAY_SHARE = 0.06  # share of a site's patients booked today (the check-in pool)
TARGETS_MS = {"board_site": 50.0, "board_all": 50.0, "checkin_first": 30.0}
CODE_PATHS = ["shared/equipment/stations.py", "shared/equipment/board.py", "shared/care/checkin.py",
              "shared/care/todays_plan.py", "shared/equipment/usage.py", "shared/store/types.py",
              "shared/equipment/models.py", "shared/care/models.py", "shared/store/db.py",
              "shared/equipment/state_machine.py"]  # fmt: skip

# kind, label, zone, stations per 50, relative use, cleaned after each use, maintenance interval (h)
STATION_MIX: tuple[tuple[str, str, str, int, float, bool, float | None], ...] = (
    ("treadmill", "Treadmill", "Gym A", 7, 1.4, True, 500.0),
    ("recumbent_bike", "Recumbent bike", "Gym A", 7, 1.3, True, None),
    ("nustep", "NuStep T5", "Gym A", 4, 1.2, True, None),
    ("elliptical", "Elliptical", "Gym A", 3, 1.1, True, 500.0),
    ("rower", "Rowing machine", "Gym A", 2, 0.9, True, None),
    ("cable_column", "Cable column", "Gym B", 4, 1.0, True, None),
    ("parallel_bars", "Parallel bars", "Gym B", 3, 0.8, True, None),
    ("stairs", "Training stairs", "Gym B", 2, 0.7, True, None),
    ("plinth", "Hi-lo plinth", "Gym B", 8, 1.0, True, None),
    ("balance_platform", "Balance platform", "Gym B", 2, 0.8, True, None),
    ("hot_pack", "Hot-pack unit", "Modalities", 2, 0.9, False, None),
    ("ultrasound", "Ultrasound", "Modalities", 3, 0.8, True, 1000.0),
    ("traction_table", "Traction table", "Modalities", 3, 0.6, True, None),
)
assert sum(m[3] for m in STATION_MIX) == STATIONS_PER_SITE
FIRST_NAMES = ("Maria", "James", "Linh", "Ahmed", "Olga", "Kofi", "Sofia", "Noah", "Aisha", "Mateo", "Grace",
               "Ravi", "Elena", "Tom", "Yuki", "Fatima", "Lucas", "Ines", "Omar", "Hannah", "Diego", "Mei", "Jonas",
               "Zara")  # fmt: skip
LAST_NAMES = ("Garcia", "Smith", "Nguyen", "Khan", "Ivanova", "Mensah", "Rossi", "Brown", "Okafor", "Silva", "Kim",
              "Patel", "Novak", "Weber", "Tanaka", "Haddad", "Martin", "Costa", "Ali", "Schmidt", "Lopez",
              "Chen")  # fmt: skip
CLINICIANS = ("Dr. Lee", "A. Moreau", "J. Park", "S. Okoye", "R. Diaz", "K. Berg", "M. Haas", "T. Ito")
STAFF = ("aide.jo", "aide.sam", "pt.alex", "pt.kim", "front.desk")
MOVES = ("Walking", "Cycling", "Step-ups", "Squats", "Lunges", "Bridges", "Heel raises", "Rows", "Presses",
         "Balance stand", "Side steps", "Hip abduction", "Knee extension", "Shoulder flexion", "Wall slides",
         "Clamshells", "Hamstring stretch", "Calf stretch", "Trunk rotation", "Sit to stand")  # fmt: skip
VARIANTS = ("easy", "moderate", "hard", "single leg", "with band", "with weight", "slow", "intervals", "seated",
            "standing")  # fmt: skip
EPOCH = datetime(1970, 1, 1)


# -- sizes ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Size:
    label: str
    sites: int

    @property
    def stations(self) -> int:
        return self.sites * STATIONS_PER_SITE

    @property
    def events(self) -> int:
        return self.stations * EVENTS_PER_STATION

    @property
    def patients(self) -> int:
        return self.sites * PATIENTS_PER_SITE

    def describe(self) -> str:
        return (
            f"{self.sites} sites, {self.stations:,} stations, {self.events:,} usage events, {self.patients:,} patients"
        )


def sizes(scale: float, ratio: int) -> tuple[Size, Size]:
    sites = max(1, round(FULL_SITES * scale))
    small = max(1, round(sites / ratio))
    return Size("small", small), Size("full", sites)


# -- progress -------------------------------------------------------------------------------------------------
class Progress:
    """A plain-text progress bar on stderr (redrawn in place on a terminal, a line every 10 s otherwise)."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, max(1, total), 0
        self.began = self._last = time.monotonic()
        self.tty = sys.stderr.isatty()
        self._draw(force=True)

    def update(self, n: int, note: str = "") -> None:
        self.done += n
        self.note = note
        self._draw()

    def close(self) -> None:
        self._draw(force=True)
        if self.tty:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < (0.25 if self.tty else 10.0):
            return
        self._last = now
        share = min(1.0, self.done / self.total)
        elapsed = now - self.began
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate and share < 1 else 0.0
        bar = "#" * int(share * 30) + "." * (30 - int(share * 30))
        line = (
            f"  {self.label:<28} [{bar}] {share:4.0%} {self.done:>10,}/{self.total:,} "
            f"{rate:>9,.0f}/s {elapsed:5.0f}s eta {eta:4.0f}s {getattr(self, 'note', '')}"
        )
        sys.stderr.write(("\r" + line) if self.tty else line + "\n")
        sys.stderr.flush()


# -- generation -----------------------------------------------------------------------------------------------
Row = tuple[Any, ...]
Chunk = tuple[str, Sequence[str], list[Row]]

EQUIPMENT_COLS = ("site", "id", "name", "kind", "zone", "clean_after_use", "maintenance_interval_hours", "created_at")
STATE_COLS = ("site", "equipment_id", "usage_status", "out_of_service", "online", "online_changed_at", "last_seen",
              "last_event_at", "in_use_since", "current_session_id", "needs_cleaning_since", "last_cleaned_at",
              "last_cleaned_by", "used_without_cleaning", "fault_code", "fault_severity", "fault_message",
              "fault_since", "uses_total", "uses_today", "uses_today_date", "in_use_seconds_total", "serviced_at",
              "serviced_in_use_seconds", "updated_at")  # fmt: skip
EVENT_COLS = ("site", "equipment_id", "event_id", "channel", "event", "device_ts", "event_at", "received_at",
              "session_id", "duration_s", "code", "severity", "message", "by", "method", "metrics",
              "source")  # fmt: skip
DAY_COLS = ("site", "equipment_id", "day", "uses", "in_use_seconds", "cleanings", "faults", "uses_needing_cleaning",
            "cleaned_before_next_use", "clean_wait_minutes")
EXERCISE_COLS = ("id", "name", "instructions", "image_url", "equipment_kind")
PATIENT_COLS = ("id", "first_name", "last_name", "dob", "phone", "created_at")
APPOINTMENT_COLS = ("id", "patient_id", "site", "starts_at", "minutes", "clinician", "status", "arrived_at",
                    "created_at")  # fmt: skip
CHECKIN_COLS = ("site", "at", "result", "patient_id", "appointment_id", "kiosk")
PLAN_COLS = ("patient_id", "exercise_id", "position", "sets", "reps", "hold_s", "minutes", "load", "equipment_site",
             "equipment_id", "notes", "active_from", "active_to")  # fmt: skip
QR_COLS = ("patient_id", "token_hash", "created_at", "revoked_at", "failed_dob_attempts", "locked_until",
           "last_used_at")  # fmt: skip
EXPLICIT_IDS = ("exercise", "patient", "appointment")  # tables whose ids are generated here (sequences follow)


def us(at: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    delta = at.astimezone(UTC).replace(tzinfo=None) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_DAYS: dict[int, str] = {}


def fmt(micros: int) -> str:
    """The storage text of a UTC time ("2026-11-23 10:30:00.000000"): what UTCDateTime writes on SQLite, and UTC
    input for timestamptz (the loading session's zone is UTC). Same text as datetime.isoformat(" ", "microseconds"),
    about 4x faster."""
    days, rest = divmod(micros, 86_400_000_000)
    day = _DAYS.get(days)
    if day is None:
        day = _DAYS[days] = (EPOCH + timedelta(days=days)).date().isoformat()
    seconds, fraction = divmod(rest, 1_000_000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{day} {hours:02d}:{minutes:02d}:{seconds:02d}.{fraction:06d}"


def fmt_dt(at: datetime) -> str:
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


@dataclass
class Station:
    site: str
    id: str
    kind: str
    clean_after_use: bool
    maintenance_h: float | None
    weight: float
    uses: int = 0
    in_use_at_end: bool = False
    # state, kept as the events are generated (times in epoch microseconds)
    status: str = "available"
    uses_total: int = 0
    uses_today: int = 0
    in_use_s: float = 0.0
    last_event: int | None = None
    last_received: int | None = None
    in_use_since: int | None = None
    session: str | None = None
    needs_cleaning_since: int | None = None
    last_cleaned: int | None = None
    last_cleaned_by: str | None = None
    without_cleaning: int = 0
    fault: tuple[str, str, str, int] | None = None


@dataclass(frozen=True)
class Case:
    """A patient booked today: their card's raw token and when they scan it (shortly before the start)."""

    site: str
    token: str
    at: datetime


@dataclass
class Chain:
    """What the benchmark keeps of a generated store."""

    size: Size
    sites: list[str]
    now: datetime
    tz: tzinfo
    cases: list[Case] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)


class Generator:
    """The rows of a clinic chain, chunk by chunk, in the storage formats the app reads."""

    def __init__(self, size: Size, now: datetime, tz: tzinfo, seed: int) -> None:
        self.size, self.now, self.tz = size, now, tz
        self.rng = random.Random(seed)
        self.sites = [f"site-{n:02d}" for n in range(1, size.sites + 1)]
        self.today = now.astimezone(tz).date()
        self.chain = Chain(size, self.sites, now, tz)
        self.stations: list[Station] = []
        for site in self.sites:
            for kind, _label, _zone, count, weight, clean, maint in STATION_MIX:
                for n in range(1, count + 1):
                    self.stations.append(Station(site, f"{kind}-{n}", kind, clean, maint, weight))
        self._allocate_uses()
        self._day = self.today.isoformat()
        self.days: dict[tuple[str, str, str], list[Any]] = {}  # station_day rollups, as ingest keeps them

    def _rollup(self, st: Station) -> list[Any]:
        """The station's rollup for the day being generated: uses, seconds, cleanings, faults, needing, cleaned,
        waits."""
        key = (st.site, st.id, self._day)
        day = self.days.get(key)
        if day is None:
            day = self.days[key] = [0, 0.0, 0, 0, 0, 0, []]
        return day

    def day_rows(self) -> Iterator[Chunk]:
        rows = [(site, eq, day, d[0], round(d[1], 1), d[2], d[3], d[4], d[5], "".join(d[6]))
                for (site, eq, day), d in self.days.items()]  # fmt: skip
        yield "station_day", DAY_COLS, rows

    # -- stations and events ----------------------------------------------------------------------------------
    def _allocate_uses(self) -> None:
        """Uses per station by weight, so that starts + stops total exactly size.events; about 12% of the
        stations (an even number) end in use: one more start without its stop."""
        rng = self.rng
        in_use = [s for s in self.stations if rng.random() < 0.12]
        if len(in_use) % 2:
            in_use.pop()
        for s in in_use:
            s.in_use_at_end = True
        pairs = (self.size.events - len(in_use)) // 2
        total_weight = sum(s.weight for s in self.stations)
        raw = [pairs * s.weight / total_weight for s in self.stations]
        for s, r in zip(self.stations, raw, strict=True):
            s.uses = int(r)
        left = pairs - sum(s.uses for s in self.stations)
        by_remainder = sorted(range(len(raw)), key=lambda i: raw[i] - int(raw[i]), reverse=True)
        for i in by_remainder[:left]:
            self.stations[i].uses += 1

    def equipment_rows(self) -> Iterator[Chunk]:
        created = fmt_dt(self.now - timedelta(days=400))
        labels = {m[0]: (m[1], m[2]) for m in STATION_MIX}
        rows = []
        for s in self.stations:
            label, zone = labels[s.kind]
            number = s.id.rsplit("-", 1)[1]
            rows.append((s.site, s.id, f"{label} {number}", s.kind, zone, int(s.clean_after_use), s.maintenance_h,
                         created))  # fmt: skip
        yield "equipment", EQUIPMENT_COLS, rows

    def _open_intervals(self) -> list[tuple[int, int, bool]]:
        """Opening hours of the last HISTORY_DAYS local days as (start, end, is_today) in epoch microseconds,
        ending an hour before now so that every use (at most one slot long) is over by then."""
        out = []
        cutoff = us(self.now) - 3_600_000_000
        for back in range(HISTORY_DAYS - 1, -1, -1):
            day = self.today - timedelta(days=back)
            start = us(datetime.combine(day, OPEN, tzinfo=self.tz))
            end = min(us(datetime.combine(day, CLOSE, tzinfo=self.tz)), cutoff)
            if end > start:
                out.append((start, end, back == 0))
        return out

    def event_rows(self, progress: Progress) -> Iterator[Chunk]:
        """Usage (and cleaning) events day by day, each day's rows in time order (as the listener inserts them):
        each station's uses are spread evenly over the opening hours, one per slot with some jitter."""
        rng = self.rng
        intervals = self._open_intervals()
        open_total = sum(end - start for start, end, _ in intervals)
        bits = rng.getrandbits
        for start, end, is_today in intervals:
            rows: list[Row] = []
            offset = sum(e - s for s, e, _ in intervals if s < start)  # timeline position of this day's opening
            self._day = self._day_of(start)
            for st in self.stations:
                slot = open_total / st.uses
                first = -(-offset // slot) if offset else 0
                i = int(first)
                while i < st.uses and i * slot < offset + (end - start):
                    slot_at = start + int(i * slot - offset)
                    self._use(st, rows, slot_at, slot, is_today, rng, bits)
                    i += 1
            if start == intervals[-1][0]:
                rows.extend(self._final_events())
            rows.sort(key=lambda r: r[6])
            usage = sum(1 for r in rows if r[3] == "usage")
            progress.update(usage, f"day {self._day_of(start)}")
            for piece in range(0, len(rows), 100_000):
                yield "equipment_event", EVENT_COLS, rows[piece : piece + 100_000]

    def _day_of(self, micros: int) -> str:
        return (EPOCH + timedelta(microseconds=micros)).replace(tzinfo=UTC).astimezone(self.tz).date().isoformat()

    def _use(
        self, st: Station, rows: list[Row], slot_at: int, slot: float, is_today: bool, rng: random.Random, bits: Any
    ) -> None:
        duration = slot * (0.3 + 0.3 * rng.random())
        gap = slot * (0.02 + 0.1 * rng.random())
        begin = slot_at + int(rng.random() * (slot - duration - gap) * 0.9)
        stop = begin + int(duration)
        session = f"s-{bits(48):012x}"
        seconds = round(duration / 1e6, 1)
        # start
        if st.status == "needs_cleaning":
            st.without_cleaning += 1
        b_txt, b_recv = fmt(begin), begin + 30_000 + bits(19)
        rows.append((st.site, st.id, f"{bits(128):032x}", "usage", "start", b_txt, b_txt, fmt(b_recv), session,
                     None, None, None, None, None, None, None, "device"))  # fmt: skip
        st.uses_total += 1
        st.uses_today += is_today
        # stop
        s_txt, s_recv = fmt(stop), stop + 30_000 + bits(19)
        metrics = f'{{"avg_heart_rate":{70 + bits(6)},"active_s":{round(seconds * 0.9, 1)}}}'
        rows.append((st.site, st.id, f"{bits(128):032x}", "usage", "stop", s_txt, s_txt, fmt(s_recv), session,
                     seconds, None, None, None, None, None, metrics, "device"))  # fmt: skip
        st.in_use_s += seconds
        day = self._rollup(st)
        day[0] += 1
        day[1] += seconds
        day[4] += st.clean_after_use
        st.last_event, st.last_received = stop, s_recv
        st.in_use_since, st.session = None, None
        if st.clean_after_use:
            st.status, st.needs_cleaning_since = "needs_cleaning", stop
        cleaned = rng.random() < (0.85 if st.clean_after_use else 0.1)
        if cleaned:
            at = stop + int(gap)
            by = STAFF[bits(16) % len(STAFF)]
            c_txt, c_recv = fmt(at), at + 30_000 + bits(19)
            rows.append((st.site, st.id, f"{bits(128):032x}", "cleaning", "cleaned", c_txt, c_txt, fmt(c_recv),
                         None, None, None, None, None, by, "wipe", None, "device"))  # fmt: skip
            day[2] += 1
            if st.status == "needs_cleaning":
                day[5] += 1
                day[6].append(f"{gap / 60e6:.3f} ")
            st.status, st.needs_cleaning_since = "available", None
            st.last_cleaned, st.last_cleaned_by, st.without_cleaning = at, by, 0
            st.last_event, st.last_received = at, c_recv

    def _final_events(self) -> list[Row]:
        """Starts still open at the end (stations in use) and faults of stations out of service, in the last
        hour before now (after every regular use)."""
        rng, bits, now = self.rng, self.rng.getrandbits, us(self.now)
        rows: list[Row] = []
        for st in self.stations:
            if st.in_use_at_end:
                at = now - int(rng.uniform(1, 15) * 60e6)
                session = f"s-{bits(48):012x}"
                t = fmt(at)
                rows.append((st.site, st.id, f"{bits(128):032x}", "usage", "start", t, t, fmt(at + 40_000), session,
                             None, None, None, None, None, None, None, "device"))  # fmt: skip
                if st.status == "needs_cleaning":
                    st.without_cleaning += 1
                st.status, st.in_use_since, st.session, st.needs_cleaning_since = "in_use", at, session, None
                st.uses_total += 1
                st.uses_today += 1
                self._day = self.today.isoformat()
                self._rollup(st)[0] += 1
                st.last_event, st.last_received = at, at + 40_000
            elif rng.random() < 0.02:
                at = now - int(rng.uniform(16, 55) * 60e6)
                t = fmt(at)
                fault = ("E_MOTOR", "critical", "Motor overcurrent, stopped", at)
                rows.append((st.site, st.id, f"{bits(128):032x}", "fault", "fault", t, t, fmt(at + 40_000), None,
                             None, fault[0], fault[1], fault[2], None, None, None, "device"))  # fmt: skip
                st.fault = fault
                self._day = self.today.isoformat()
                self._rollup(st)[3] += 1
                st.last_event, st.last_received = at, at + 40_000
        return rows

    def state_rows(self) -> Iterator[Chunk]:
        rng, now = self.rng, us(self.now)
        today = self.today.isoformat()
        rows = []
        for st in self.stations:
            online = st.in_use_at_end or rng.random() >= 0.03
            changed = now - int(rng.uniform(1, 72) * 3600e6) if not online else now - int(rng.uniform(1, 20) * 86400e6)
            serviced = serviced_s = None
            if st.maintenance_h:
                serviced = fmt(now - int(rng.uniform(5, 90) * 86400e6))
                serviced_s = round(st.in_use_s * rng.uniform(0.2, 0.9), 1)
            f = st.fault
            rows.append((
                st.site, st.id, st.status, int(f is not None), int(online), fmt(changed), _opt(st.last_received),
                _opt(st.last_event), _opt(st.in_use_since), st.session, _opt(st.needs_cleaning_since),
                _opt(st.last_cleaned), st.last_cleaned_by, st.without_cleaning, f[0] if f else None,
                f[1] if f else None, f[2] if f else None, fmt(f[3]) if f else None, st.uses_total, st.uses_today,
                today, round(st.in_use_s, 1), serviced, serviced_s or 0.0, _opt(st.last_received),
            ))  # fmt: skip
        yield "equipment_state", STATE_COLS, rows

    # -- care side --------------------------------------------------------------------------------------------
    def exercise_rows(self) -> Iterator[Chunk]:
        rows = []
        kinds = [m[0] for m in STATION_MIX]
        for n, (move, variant) in enumerate(((m, v) for m in MOVES for v in VARIANTS), start=1):
            instructions = f"{move}, {variant}. Keep a steady pace, breathe out on effort, stop if pain rises above 5."
            rows.append((n, f"{move} ({variant})", instructions, None, kinds[n % len(kinds)] if n % 3 else None))
        self.exercises = len(rows)
        yield "exercise", EXERCISE_COLS, rows

    def care_rows(self, progress: Progress) -> Iterator[Chunk]:
        """Patients with their appointments, past check-ins, plan lines and cards, in chunks of patients."""
        rng, bits = self.rng, self.rng.getrandbits
        tz, now, today = self.tz, self.now, self.today
        stations_of: dict[str, list[str]] = {}
        for st in self.stations:
            stations_of.setdefault(st.site, []).append(st.id)
        opening = {d: datetime.combine(today + timedelta(days=d), OPEN, tzinfo=tz).astimezone(UTC) for d in
                   range(-60, 22)}  # fmt: skip
        per_site = PATIENTS_PER_SITE
        booked_today = {site: sorted(rng.sample(range(per_site), round(per_site * TODAY_SHARE))) for site in self.sites}
        today_slot: dict[tuple[str, int], int] = {}
        for site, chosen in booked_today.items():
            step = (14 * 60 - 45) / len(chosen)  # spread over the opening hours, the last start 45 min before close
            for k, local_index in enumerate(chosen):
                today_slot[(site, local_index)] = int(k * step)
        appointment_id = 0
        chunk = 5_000
        cases: list[Case] = []
        for first in range(1, self.size.patients + 1, chunk):
            patients, appointments, checkins, plans, cards = [], [], [], [], []
            for pid in range(first, min(first + chunk, self.size.patients + 1)):
                site = self.sites[(pid - 1) % len(self.sites)]
                local_index = (pid - 1) // len(self.sites)
                created = now - timedelta(days=rng.randint(30, 900))
                dob = date(1935, 1, 1) + timedelta(days=rng.randrange(70 * 365))
                patients.append((pid, FIRST_NAMES[bits(16) % len(FIRST_NAMES)], LAST_NAMES[bits(16) % len(LAST_NAMES)],
                                 dob.isoformat(), f"555-{bits(20) % 10_000:04d}", fmt_dt(created)))  # fmt: skip
                clinician = CLINICIANS[pid % len(CLINICIANS)]
                # past visits (done or no-show, with their check-ins) and future bookings
                for _ in range(rng.randint(2, 4)):
                    starts = opening[-rng.randint(1, 60)] + timedelta(minutes=15 * rng.randrange(53))
                    appointment_id += 1
                    done = rng.random() < 0.85
                    arrived = starts - timedelta(minutes=rng.randint(0, 15)) if done else None
                    appointments.append((appointment_id, pid, site, fmt_dt(starts), 45, clinician,
                                         "done" if done else "no_show", fmt_dt(arrived) if arrived else None,
                                         fmt_dt(starts - timedelta(days=rng.randint(1, 30)))))  # fmt: skip
                    if arrived is not None:
                        checkins.append((site, fmt_dt(arrived), "checked_in", pid, appointment_id, "lobby-1"))
                for _ in range(rng.randint(0, 2)):
                    starts = opening[rng.randint(1, 21)] + timedelta(minutes=15 * rng.randrange(53))
                    appointment_id += 1
                    appointments.append((appointment_id, pid, site, fmt_dt(starts), 45, clinician, "scheduled", None,
                                         fmt_dt(now - timedelta(days=rng.randint(0, 20)))))  # fmt: skip
                # today's booking, if any: a check-in case (the card scanned 2-20 min before the start)
                slot = today_slot.get((site, local_index))
                if slot is not None:
                    starts = opening[0] + timedelta(minutes=slot)
                    appointment_id += 1
                    appointments.append((appointment_id, pid, site, fmt_dt(starts), 45, clinician, "scheduled", None,
                                         fmt_dt(now - timedelta(days=rng.randint(1, 20)))))  # fmt: skip
                # plan: 3-5 active lines, most on a station of the patient's site; sometimes an ended line
                local = stations_of[site]
                for position in range(rng.randint(3, 5)):
                    on_station = rng.random() < 0.85
                    station = local[bits(16) % len(local)] if on_station else None
                    begins = (today - timedelta(days=rng.randint(1, 90))).isoformat()
                    ends = None if rng.random() < 0.7 else (today + timedelta(days=rng.randint(1, 60))).isoformat()
                    minutes = float(5 + bits(3)) if on_station else None
                    plans.append((pid, 1 + bits(16) % self.exercises, position, 3, 10 + bits(3), None, minutes, None,
                                  site if on_station else None, station, None, begins, ends))  # fmt: skip
                if rng.random() < 0.3:
                    plans.append((pid, 1 + bits(16) % self.exercises, 9, 2, 8, 20, None, None, None, None,
                                  "ended at review", (today - timedelta(days=120)).isoformat(),
                                  (today - timedelta(days=rng.randint(1, 30))).isoformat()))  # fmt: skip
                # cards: one active, sometimes an older revoked one
                token = base64.urlsafe_b64encode(rng.randbytes(24)).rstrip(b"=").decode()
                cards.append((pid, hash_token(token), fmt_dt(created), None, 0, None, None))
                if rng.random() < 0.1:
                    old = base64.urlsafe_b64encode(rng.randbytes(24)).rstrip(b"=").decode()
                    cards.append((pid, hash_token(old), fmt_dt(created - timedelta(days=200)), fmt_dt(created), 0,
                                  None, None))  # fmt: skip
                if slot is not None:
                    scan_at = opening[0] + timedelta(minutes=slot - rng.randint(2, 20))
                    cases.append(Case(site, token, scan_at))
            yield "patient", PATIENT_COLS, patients
            yield "appointment", APPOINTMENT_COLS, appointments
            yield "check_in", CHECKIN_COLS, checkins
            yield "plan_item", PLAN_COLS, plans
            yield "qr_token", QR_COLS, cards
            progress.update(len(patients))
        rng.shuffle(cases)
        self.chain.cases = cases


def _opt(micros: int | None) -> str | None:
    return None if micros is None else fmt(micros)


# -- loaders --------------------------------------------------------------------------------------------------
class SQLiteLoader:
    """sqlite3 executemany, one transaction per chunk, journal off and a 1 GiB page cache while loading."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1048576", "temp_store=MEMORY",
                       "foreign_keys=OFF", "locking_mode=EXCLUSIVE"):  # fmt: skip
            self.conn.execute(f"PRAGMA {pragma}")

    def write(self, table: str, columns: Sequence[str], rows: list[Row]) -> None:
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" * len(columns))
        self.conn.execute("BEGIN")
        self.conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
        self.conn.execute("COMMIT")

    def finish(self) -> None:
        self.conn.execute("PRAGMA locking_mode=NORMAL")
        self.conn.execute("PRAGMA journal_mode=WAL")  # what make_engine sets; the app finds the file as it expects
        self.conn.close()


class PostgresLoader:
    """COPY … FROM STDIN in text format through psycopg's `cursor.copy()`, one transaction per chunk."""

    def __init__(self, url: str) -> None:
        import psycopg

        conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.conn = psycopg.connect(conninfo)
        with self.conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")  # the UTC texts below are read as UTC timestamptz
            cur.execute("SET synchronous_commit = off")
            try:
                cur.execute("SET session_replication_role = replica")  # no FK trigger per row (superuser only)
            except psycopg.Error:
                self.conn.rollback()
                cur.execute("SET TIME ZONE 'UTC'")
        self.conn.commit()

    def write(self, table: str, columns: Sequence[str], rows: list[Row]) -> None:
        names = ", ".join(f'"{c}"' for c in columns)
        with self.conn.cursor() as cur, cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            for piece in range(0, len(rows), 20_000):
                copy.write("".join(_copy_line(r) for r in rows[piece : piece + 20_000]))
        self.conn.commit()

    def finish(self) -> None:
        with self.conn.cursor() as cur:
            for table in EXPLICIT_IDS:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
        self.conn.commit()
        self.conn.autocommit = True
        self.conn.execute("VACUUM ANALYZE")
        self.conn.close()


def _copy_line(row: Row) -> str:
    # Generated texts hold no tab, newline or backslash; None is \N; booleans are loaded as 0/1.
    return "\t".join("\\N" if v is None else str(v) for v in row) + "\n"


# -- stores ---------------------------------------------------------------------------------------------------
@dataclass
class Store:
    backend: str
    chain: Chain
    url: str
    engine: Engine
    settings: dict[str, Settings]
    gen_s: float
    load_s: dict[str, float]
    bytes: int | None


def create_store(
    backend: str, size: Size, args: argparse.Namespace, stack: ExitStack, tmp: Path, now: datetime
) -> Store:
    tz = ZoneInfo(args.timezone)
    if backend == "sqlite":
        path = tmp / f"scale-{size.label}-{uuid.uuid4().hex[:6]}.db"
        url = f"sqlite:///{path}"
    else:
        url = _postgres_database(args.pg_url, stack)
    engine = make_engine(url)
    init_db(engine)
    engine.dispose()
    loader: SQLiteLoader | PostgresLoader = SQLiteLoader(path) if backend == "sqlite" else PostgresLoader(url)
    gen = Generator(size, now, tz, args.seed)
    counts: dict[str, int] = {}
    seconds: dict[str, float] = {}
    began = time.perf_counter()

    def load(chunks: Iterator[Chunk]) -> None:
        for table, columns, rows in chunks:
            t0 = time.perf_counter()
            loader.write(table, columns, rows)
            seconds[table] = seconds.get(table, 0.0) + time.perf_counter() - t0  # writing only, not generating
            counts[table] = counts.get(table, 0) + len(rows)

    print(f"  {backend} {size.label}: {size.describe()}", file=sys.stderr, flush=True)
    load(gen.equipment_rows())
    progress = Progress(f"{backend} {size.label}: events", size.events)
    load(gen.event_rows(progress))
    progress.close()
    load(gen.state_rows())
    load(gen.day_rows())
    load(gen.exercise_rows())
    progress = Progress(f"{backend} {size.label}: patients", size.patients)
    load(gen.care_rows(progress))
    progress.close()
    t0 = time.perf_counter()
    loader.finish()
    seconds["finish (VACUUM ANALYZE / WAL)"] = time.perf_counter() - t0
    gen_s = time.perf_counter() - began
    gen.chain.rows = counts
    engine = make_engine(url)
    stack.callback(engine.dispose)
    settings = {
        site: Settings(_env_file=None, site=site, timezone=args.timezone, database_url=url)  # type: ignore[call-arg]
        for site in gen.sites
    }
    return Store(backend, gen.chain, url, engine, settings, gen_s, seconds, _store_bytes(backend, url, engine))


def _postgres_database(admin_url: str, stack: ExitStack) -> str:
    name = f"clinic_scale_{uuid.uuid4().hex[:10]}"
    admin = make_engine(admin_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        try:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()

    stack.callback(drop)
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _store_bytes(backend: str, url: str, engine: Engine) -> int | None:
    if backend == "sqlite":
        database = make_url(url).database
        return sum(Path(p).stat().st_size for p in (database, f"{database}-wal") if p and Path(p).exists())
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())


# -- the queries ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    key: str
    label: str
    call: Callable[[Store, int], Any]
    calls_share: float = 1.0  # fewer calls for the slow chart query


def _board_site(store: Store, _i: int) -> Any:
    with read_session(store.engine) as session:
        return list_stations(session=session, tz=store.chain.tz, site=store.chain.sites[0])


def _board_all(store: Store, _i: int) -> Any:
    with read_session(store.engine) as session:
        return list_stations(session=session, tz=store.chain.tz)


def _board_fn(store: Store, _i: int) -> Any:
    with read_session(store.engine) as session:
        return board(session=session, tz=store.chain.tz, site=store.chain.sites[0])


def _checkin(store: Store, i: int) -> Any:
    case = store.chain.cases[i]
    return check_in(engine=store.engine, settings=store.settings[case.site], scan=case.token, now=case.at,
                    kiosk="bench")


def _chart(store: Store, _i: int) -> Any:
    with read_session(store.engine) as session:
        return usage_stats(session=session, site=store.chain.sites[0], days=7, tz=store.chain.tz, now=store.chain.now)


QUERIES = (
    Query("board_site", "board, one site: list_stations(site=)", _board_site),
    Query("board_all", "board, all sites: list_stations()", _board_all),
    Query("board_fn", "board() one site (alerts + sort)", _board_fn),
    Query("checkin_first", "check-in, first scan (new patient)", _checkin),
    Query("checkin_repeat", "check-in, repeat scan (same cards)", _checkin),
    Query("chart", "usage chart, one site, 7 days", _chart, 0.25),
)


@dataclass
class Timing:
    samples: dict[str, list[float]] = field(default_factory=dict)  # store label -> seconds per call
    cpu: dict[str, list[float]] = field(default_factory=dict)  # store label -> this thread's CPU seconds per call
    statements: dict[str, int] = field(default_factory=dict)  # store label -> SQL statements per call
    results: dict[str, dict[str, int]] = field(default_factory=dict)  # check-in results seen


def run_queries(stores: list[Store], args: argparse.Namespace) -> dict[str, Timing]:
    """Every query, interleaved over the stores (the order flips each round); returns samples per store."""
    out: dict[str, Timing] = {}
    for q in QUERIES:
        calls = max(10, int(args.calls * q.calls_share))
        warmup = max(2, int(args.warmup * q.calls_share))
        timing = Timing()
        # check-ins: one case per call; the first scans use cases [0, warmup + calls), repeats the same again
        for store in stores:
            timing.statements[store.chain.size.label] = _count_statements(store, q)
        for i in range(warmup):
            for store in stores:
                _note(timing, store, q, q.call(store, i))
        for i in range(calls):
            order = stores if i % 2 == 0 else stores[::-1]
            for store in order:
                index = warmup + i
                cpu, began = time.thread_time(), time.perf_counter()
                result = q.call(store, index)
                elapsed, cpu = time.perf_counter() - began, time.thread_time() - cpu
                timing.samples.setdefault(store.chain.size.label, []).append(elapsed)
                timing.cpu.setdefault(store.chain.size.label, []).append(cpu)
                _note(timing, store, q, result)
        out[q.key] = timing
        meds = ", ".join(f"{k} {statistics.median(v) * 1000:.1f} ms" for k, v in timing.samples.items())
        print(f"    {q.label:<40} {calls} calls: {meds}", file=sys.stderr, flush=True)
    return out


def _note(timing: Timing, store: Store, q: Query, result: Any) -> None:
    if q.key.startswith("checkin"):
        label = store.chain.size.label
        key = result.result
        if key.endswith("checked_in"):
            key += f", {len(result.plan)} plan lines"
        timing.results.setdefault(label, {})
        timing.results[label][key] = timing.results[label].get(key, 0) + 1


def _count_statements(store: Store, q: Query) -> int:
    """SQL statements one call issues (traced on a spare case for the first check-in)."""
    seen: list[str] = []

    def listener(_conn: Any, _cursor: Any, statement: str, *_a: Any) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):  # SQLite's explicit BEGIN (shared.store.db)
            seen.append(statement)

    index = len(store.chain.cases) - 1 if q.key == "checkin_first" else 0
    if q.key == "checkin_repeat":
        index = len(store.chain.cases) - 1
    event.listen(store.engine, "before_cursor_execute", listener)
    try:
        q.call(store, index)
    finally:
        event.remove(store.engine, "before_cursor_execute", listener)
    return len(seen)


def explain(store: Store, args: argparse.Namespace) -> dict[str, list[str]]:
    """The plan of every statement each query issues, on this store (SELECTs on PostgreSQL: EXPLAIN ANALYZE)."""
    plans: dict[str, list[str]] = {}
    spare = len(store.chain.cases) - 2
    for q in QUERIES:
        if q.key == "checkin_repeat":
            continue
        seen: list[tuple[str, Any]] = []

        def listener(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_a: Any) -> None:
            if not statement.lstrip().upper().startswith("BEGIN"):
                seen.append((statement, parameters))  # noqa: B023 (called within this iteration only)

        event.listen(store.engine, "before_cursor_execute", listener)
        try:
            q.call(store, spare)
        finally:
            event.remove(store.engine, "before_cursor_execute", listener)
        lines: list[str] = []
        with store.engine.connect() as conn:
            for statement, parameters in seen:
                lines.append("SQL: " + " ".join(statement.split())[:400])
                if store.backend == "sqlite":
                    rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
                    lines.extend(f"    {r[-1]}" for r in rows)
                else:
                    analyse = "(ANALYZE, BUFFERS) " if statement.lstrip().upper().startswith("SELECT") else ""
                    rows = conn.exec_driver_sql(f"EXPLAIN {analyse}{statement}", parameters).all()
                    lines.extend(f"    {r[0]}" for r in rows)
            conn.rollback()
        plans[q.key] = lines
    return plans


def profile(store: Store, calls: int) -> dict[str, str]:
    """pyinstrument text profiles of each query on this store (check-ins on spare cases)."""
    from pyinstrument import Profiler

    out: dict[str, str] = {}
    base = len(store.chain.cases) - 3 - calls
    for q in QUERIES:
        if q.key == "checkin_repeat":
            continue
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for i in range(calls):
            q.call(store, base + i)
        profiler.stop()
        out[q.key] = profiler.output_text(unicode=False, color=False, show_all=False)
    return out


# -- report ---------------------------------------------------------------------------------------------------
def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "calls": len(samples),
        "median_ms": statistics.median(samples) * 1000,
        "p95_ms": p95 * 1000,
        "min_ms": ordered[0] * 1000,
        "mean_ms": statistics.fmean(samples) * 1000,
    }


def report(backend: str, stores: list[Store], timings: dict[str, Timing]) -> dict[str, Any]:
    print()
    print(f"== {backend} ==")
    print(f"{'store':<6} {'sites':>5} {'stations':>8} {'event rows':>11} {'patients':>8} {'appts':>8} "
          f"{'plan lines':>10} {'cards':>7} {'generated':>9} {'size':>9}")  # fmt: skip
    for s in stores:
        r = s.chain.rows
        size = f"{s.bytes / 2**20:,.0f} MiB" if s.bytes else "?"
        print(f"{s.chain.size.label:<6} {s.chain.size.sites:>5} {s.chain.size.stations:>8,} "
              f"{r.get('equipment_event', 0):>11,} {r.get('patient', 0):>8,} {r.get('appointment', 0):>8,} "
              f"{r.get('plan_item', 0):>10,} {r.get('qr_token', 0):>7,} {s.gen_s:>8.0f}s {size:>9}")  # fmt: skip
    print()
    what = "wall median / p95 ms [CPU ms]"
    print(f"{'query':<38} {'stmts':>5}  {'small: ' + what:<40} {'full: ' + what:<39} {'full/small':>10}  target")
    out: dict[str, Any] = {}
    for q in QUERIES:
        t = timings[q.key]
        a, b = summary(t.samples["small"]), summary(t.samples["full"])
        cpu_a, cpu_b = statistics.median(t.cpu["small"]) * 1000, statistics.median(t.cpu["full"]) * 1000
        a["cpu_median_ms"], b["cpu_median_ms"] = cpu_a, cpu_b
        growth = b["median_ms"] / a["median_ms"]
        target = TARGETS_MS.get(q.key)
        verdict = ""
        if target is not None:
            if b["median_ms"] < target:
                verdict = f"< {target:g} ms: met"
            else:
                verdict = f"< {target:g} ms: MISSED ({b['median_ms'] / target:.1f}x)"
                if b["cpu_median_ms"] < target:
                    verdict += ", met on CPU time"
        cells = [f"{x['median_ms']:8.1f} / {x['p95_ms']:<7.1f} [{x['cpu_median_ms']:6.1f}]" for x in (a, b)]
        print(f"{q.label:<38} {t.statements['full']:>5}  {cells[0]:<40} {cells[1]:<39} {growth:>10.2f}  {verdict}")
        out[q.key] = {
            "label": q.label,
            "small": a,
            "full": b,
            "growth": growth,
            "growth_cpu": cpu_b / cpu_a if cpu_a else None,
            "statements": t.statements,
            "target_ms": target,
            "met": None if target is None else b["median_ms"] < target,
            "results": t.results,
            "samples_ms": {k: [round(v * 1000, 3) for v in vs] for k, vs in t.samples.items()},
        }
    print(
        "  CPU: this thread's CPU time per call (SQLite works in-process, so all of it; PostgreSQL: client side only)"
    )
    for key in ("checkin_first", "checkin_repeat"):
        for label, seen in timings[key].results.items():
            print(f"  {key} results on {label}: " + ", ".join(f"{k} x{v}" for k, v in sorted(seen.items())))
    return out


def versions(pg_url: str | None) -> dict[str, str]:
    from importlib.metadata import version

    out = {"python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version}
    for package in ("sqlalchemy", "sqlmodel", "psycopg"):
        out[package] = version(package)
    if pg_url:
        engine = make_engine(pg_url)
        try:
            with engine.connect() as conn:
                out["postgresql"] = str(conn.execute(text("SHOW server_version")).scalar_one())
        except Exception as exc:
            out["postgresql"] = f"unavailable ({type(exc).__name__})"
        finally:
            engine.dispose()
    return out


def code_version() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "diff", "--name-only", "HEAD", "--", *CODE_PATHS], cwd=root, capture_output=True, text=True
        )
    except OSError:
        return "?"
    changed = dirty.stdout.split()
    return head.stdout.strip() + (f" (uncommitted changes in {', '.join(changed)})" if changed else "")


# -- main -----------------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="size of the full store (1 = 20 sites; 0.1 quick)")
    parser.add_argument("--ratio", type=int, default=10, help="the small store is this many times smaller")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--calls", type=int, default=200, help="timed calls per query and store (chart: a quarter)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls first")
    parser.add_argument("--timezone", default="America/New_York", help="the clinics' zone (what 'today' is)")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--pg-url", default=PG_ADMIN_URL, help="admin URL; a temporary database is made per store")
    parser.add_argument("--explain", action="store_true", help="print the plan of every statement (full store)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="pyinstrument N calls per query (full)")
    parser.add_argument("--json", type=Path, default=None, help="write results here (default bench/results/)")
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown backends {sorted(unknown)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    install_sigterm_as_interrupt()
    small, full = sizes(args.scale, args.ratio)
    info = {**machine(), **versions(args.pg_url if "postgresql" in args.backends else None), "commit": code_version()}
    print("machine:", ", ".join(f"{k} {v}" for k, v in info.items()))
    print(f"stores: full = {full.describe()}; small = {small.describe()}")
    need = args.warmup + args.calls + 3 + args.profile
    pool = round(PATIENTS_PER_SITE * TODAY_SHARE) * small.sites
    if need > pool:
        print(f"--warmup + --calls (+ spares) need {need} patients booked today; the small store has {pool}")
        return 2
    now = datetime.now(UTC).replace(microsecond=0)
    results: dict[str, Any] = {}
    began = time.monotonic()
    try:
        with ExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="clinic-scale-")))
            for backend in args.backends:
                with ExitStack() as per_backend:
                    stores = [create_store(backend, size, args, per_backend, tmp, now) for size in (small, full)]
                    load_avg = os.getloadavg()[0]
                    print(f"  {backend}: timing (1-minute load average {load_avg:.2f})", file=sys.stderr, flush=True)
                    timings = run_queries(stores, args)
                    figures = report(backend, stores, timings)
                    extra: dict[str, Any] = {}
                    if args.explain:
                        extra["plans"] = explain(stores[1], args)
                        for key, lines in extra["plans"].items():
                            print(f"\n-- plans, {backend} full: {key}")
                            print("\n".join(lines))
                    if args.profile:
                        extra["profiles"] = profile(stores[1], args.profile)
                        for key, textual in extra["profiles"].items():
                            print(f"\n-- pyinstrument, {backend} full, {args.profile} calls: {key}")
                            print(textual)
                    results[backend] = {
                        "queries": figures,
                        "load_average_before": load_avg,
                        "stores": {
                            s.chain.size.label: {
                                "size": s.chain.size.describe(),
                                "rows": s.chain.rows,
                                "generate_s": s.gen_s,
                                "write_s": s.load_s,
                                "bytes": s.bytes,
                            }
                            for s in stores
                        },
                        **extra,
                    }
                    for s in stores:
                        s.engine.dispose()
    except KeyboardInterrupt:
        print("\ninterrupted: temporary databases dropped, files removed", file=sys.stderr)
        return 130
    print(f"\ntotal wall time {time.monotonic() - began:.0f}s")
    path = args.json or RESULTS_DIR / f"scale-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    arguments = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    path.write_text(json.dumps({"args": arguments, "machine": info, "results": results}, indent=2, default=str))
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
