"""The rows of a generated clinic chain's equipment side: stations, their usage events, state and day rollups.

The care side (patients, appointments, plans, cards) is the mixin `bench.scale.care.CareRows`: both sides draw from
one seeded random stream, in one order, so that a seed always gives the same chain.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from bench.scale.care import CareRows
from bench.scale.formats import (
    DAY_COLS,
    EPOCH,
    EQUIPMENT_COLS,
    EVENT_COLS,
    STATE_COLS,
    Chunk,
    Row,
    fmt,
    fmt_dt,
    fmt_opt,
    us,
)
from bench.scale.progress import Progress
from bench.scale.sizes import CLOSE, HISTORY_DAYS, OPEN, STATION_MIX, Chain, Size

STAFF = ("aide.jo", "aide.sam", "pt.alex", "pt.kim", "front.desk")


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


class Generator(CareRows):
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
            self._clean(st, rows, stop, gap, day, bits)

    def _clean(self, st: Station, rows: list[Row], stop: int, gap: float, day: list[Any], bits: Any) -> None:
        """A cleaning `gap` after the stop: its event, the day's rollup and the station's state."""
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
                st.site, st.id, st.status, int(f is not None), int(online), fmt(changed), fmt_opt(st.last_received),
                fmt_opt(st.last_event), fmt_opt(st.in_use_since), st.session, fmt_opt(st.needs_cleaning_since),
                fmt_opt(st.last_cleaned), st.last_cleaned_by, st.without_cleaning, f[0] if f else None,
                f[1] if f else None, f[2] if f else None, fmt(f[3]) if f else None, st.uses_total, st.uses_today,
                today, round(st.in_use_s, 1), serviced, serviced_s or 0.0, fmt_opt(st.last_received),
            ))  # fmt: skip
        yield "equipment_state", STATE_COLS, rows
