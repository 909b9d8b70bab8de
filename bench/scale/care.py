"""The rows of a generated clinic chain's care side: exercises, patients, appointments, check-ins, plans, cards.

A mixin of `bench.scale.generator.Generator` (which sets the attributes below), so that both sides draw from one
seeded random stream in the same order.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from bench.scale.formats import (
    APPOINTMENT_COLS,
    CHECKIN_COLS,
    EXERCISE_COLS,
    PATIENT_COLS,
    PLAN_COLS,
    QR_COLS,
    Chunk,
    Row,
    fmt_dt,
)
from bench.scale.progress import Progress
from bench.scale.sizes import OPEN, PATIENTS_PER_SITE, STATION_MIX, TODAY_SHARE, Case, Chain, Size
from shared.care.qr import hash_token

if TYPE_CHECKING:
    from bench.scale.generator import Station

FIRST_NAMES = ("Maria", "James", "Linh", "Ahmed", "Olga", "Kofi", "Sofia", "Noah", "Aisha", "Mateo", "Grace",
               "Ravi", "Elena", "Tom", "Yuki", "Fatima", "Lucas", "Ines", "Omar", "Hannah", "Diego", "Mei", "Jonas",
               "Zara")  # fmt: skip
LAST_NAMES = ("Garcia", "Smith", "Nguyen", "Khan", "Ivanova", "Mensah", "Rossi", "Brown", "Okafor", "Silva", "Kim",
              "Patel", "Novak", "Weber", "Tanaka", "Haddad", "Martin", "Costa", "Ali", "Schmidt", "Lopez",
              "Chen")  # fmt: skip
CLINICIANS = ("Dr. Lee", "A. Moreau", "J. Park", "S. Okoye", "R. Diaz", "K. Berg", "M. Haas", "T. Ito")
MOVES = ("Walking", "Cycling", "Step-ups", "Squats", "Lunges", "Bridges", "Heel raises", "Rows", "Presses",
         "Balance stand", "Side steps", "Hip abduction", "Knee extension", "Shoulder flexion", "Wall slides",
         "Clamshells", "Hamstring stretch", "Calf stretch", "Trunk rotation", "Sit to stand")  # fmt: skip
VARIANTS = ("easy", "moderate", "hard", "single leg", "with band", "with weight", "slow", "intervals", "seated",
            "standing")  # fmt: skip


class CareRows:
    """Patients and what they hold, chunk by chunk, in the storage formats the app reads."""

    rng: random.Random
    size: Size
    now: datetime
    tz: tzinfo
    today: date
    sites: list[str]
    stations: list[Station]
    chain: Chain
    exercises: int

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
        today_slot = self._today_slots()
        appointment_id = 0
        chunk = 5_000
        cases: list[Case] = []
        for first in range(1, self.size.patients + 1, chunk):
            patients: list[Row] = []
            appointments: list[Row] = []
            checkins: list[Row] = []
            plans: list[Row] = []
            cards: list[Row] = []
            for pid in range(first, min(first + chunk, self.size.patients + 1)):
                site = self.sites[(pid - 1) % len(self.sites)]
                local_index = (pid - 1) // len(self.sites)
                created = now - timedelta(days=rng.randint(30, 900))
                dob = date(1935, 1, 1) + timedelta(days=rng.randrange(70 * 365))
                patients.append((pid, FIRST_NAMES[bits(16) % len(FIRST_NAMES)], LAST_NAMES[bits(16) % len(LAST_NAMES)],
                                 dob.isoformat(), f"555-{bits(20) % 10_000:04d}", fmt_dt(created)))  # fmt: skip
                slot = today_slot.get((site, local_index))
                appointment_id = self._visits(pid, site, opening, slot, appointment_id, appointments, checkins)
                self._plan_lines(pid, site, stations_of[site], plans)
                token = self._cards(pid, created, cards)
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

    def _today_slots(self) -> dict[tuple[str, int], int]:
        """The patients of each site booked today, by (site, index within the site): minutes after opening."""
        rng = self.rng
        per_site = PATIENTS_PER_SITE
        booked_today = {site: sorted(rng.sample(range(per_site), round(per_site * TODAY_SHARE))) for site in self.sites}
        today_slot: dict[tuple[str, int], int] = {}
        for site, chosen in booked_today.items():
            step = (14 * 60 - 45) / len(chosen)  # spread over the opening hours, the last start 45 min before close
            for k, local_index in enumerate(chosen):
                today_slot[(site, local_index)] = int(k * step)
        return today_slot

    def _visits(
        self,
        pid: int,
        site: str,
        opening: dict[int, datetime],
        slot: int | None,
        appointment_id: int,
        appointments: list[Row],
        checkins: list[Row],
    ) -> int:
        """A patient's appointments and past check-ins; returns the last appointment id used."""
        rng, now = self.rng, self.now
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
        if slot is not None:
            starts = opening[0] + timedelta(minutes=slot)
            appointment_id += 1
            appointments.append((appointment_id, pid, site, fmt_dt(starts), 45, clinician, "scheduled", None,
                                 fmt_dt(now - timedelta(days=rng.randint(1, 20)))))  # fmt: skip
        return appointment_id

    def _plan_lines(self, pid: int, site: str, local: list[str], plans: list[Row]) -> None:
        """3-5 active lines, most on a station of the patient's site; sometimes an ended line."""
        rng, bits, today = self.rng, self.rng.getrandbits, self.today
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

    def _cards(self, pid: int, created: datetime, cards: list[Row]) -> str:
        """One active card, sometimes an older revoked one; returns the active card's raw token."""
        rng = self.rng
        token = base64.urlsafe_b64encode(rng.randbytes(24)).rstrip(b"=").decode()
        cards.append((pid, hash_token(token), fmt_dt(created), None, 0, None, None))
        if rng.random() < 0.1:
            old = base64.urlsafe_b64encode(rng.randbytes(24)).rstrip(b"=").decode()
            cards.append((pid, hash_token(old), fmt_dt(created - timedelta(days=200)), fmt_dt(created), 0,
                          None, None))  # fmt: skip
        return token
