"""What people do during a clinic day, as the lobby and staff apps do it: one process per app, a thread per person.

`run_app` is started in a child process (the lobby and the staff app are separate Streamlit servers, each one
process for all its sessions). Each thread loops over one kind of user action through the same services the
pages call, with a short pause between actions, until the stop event is set, and times every write. A refusal
the service explains (`ClinicError`) is a normal answer and counted apart; anything else is an error.
"""

from __future__ import annotations

import random
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Engine

from shared.care.appointments import add_appointment
from shared.care.cards import issue_card
from shared.care.patients import add_patient
from shared.care.plans import add_plan_item
from shared.equipment import board
from shared.staff.sign_in import sign_in
from shared.store.db import make_engine, unit_of_work
from shared.store.errors import ClinicError
from shared.store.settings import Settings
from tests import lobby_steps

T = TypeVar("T")
DOB = date(1950, 4, 17)
WRONG_DOB = date(1961, 2, 3)
PASSWORD = "clinic-day-password"
EXERCISE = "Clinic day walk"
THINK_S = (0.02, 0.08)  # pause between one staff member's actions: a very busy person, not a loop
ARRIVAL_S = (0.3, 0.6)  # time between two patients at one lobby tablet


@dataclass
class Results:
    """Latencies (seconds) per kind of write, explained refusals and errors, from one app process."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def merge(self, other: Results) -> None:
        for kind, values in other.latencies.items():
            self.latencies.setdefault(kind, []).extend(values)
        for kind, count in other.refused.items():
            self.refused[kind] = self.refused.get(kind, 0) + count
        self.errors.extend(other.errors)


class Recorder:
    """Times actions for one thread and keeps what went wrong (thread-safe through one lock)."""

    def __init__(self, results: Results, lock: threading.Lock) -> None:
        self.results, self.lock = results, lock

    def timed(self, kind: str, action: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            value = action()
        except ClinicError:
            with self.lock:
                self.results.refused[kind] = self.results.refused.get(kind, 0) + 1
            return None
        except Exception as exc:
            with self.lock:
                self.results.errors.append(f"{kind}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
                if len(self.results.errors) <= 3:
                    self.results.errors.append(traceback.format_exc(limit=3))
            return None
        with self.lock:
            self.results.latencies.setdefault(kind, []).append(time.perf_counter() - started)
        return value


def run_app(app: str, url: str, tokens: list[str], staff: list[str], stations: list[str], kiosks: int,
            stop: Any, seed: int, ready: Any = None) -> Results:  # fmt: skip
    """One app's people until `stop` (a multiprocessing Event) is set; returns what they measured. `ready` (a
    multiprocessing queue) hears the app's name once its people are at work, so a phase is timed from there and
    not from when a busy machine got round to starting the process."""
    engine = make_engine(url)
    settings = Settings(timezone="UTC", _env_file=None)  # type: ignore[call-arg]
    results, lock = Results(), threading.Lock()
    if app == "lobby":
        shares = [tokens[n::kiosks] for n in range(kiosks)]
        people = [lambda rec, rng, mine=mine: _kiosk(engine, settings, mine, rec, rng, stop) for mine in shares]
    else:
        people = [
            lambda rec, rng: _staff_sign_ins(engine, staff, rec, rng, stop),
            lambda rec, rng: _technician(engine, stations, rec, rng, stop),
            lambda rec, rng: _front_desk(engine, rec, rng, stop),
        ]
    threads = [threading.Thread(target=person, args=(Recorder(results, lock), random.Random(seed + n)))
               for n, person in enumerate(people)]  # fmt: skip
    for thread in threads:
        thread.start()
    if ready is not None:
        ready.put(app)
    for thread in threads:
        thread.join()
    engine.dispose()
    return results


def _pause(rng: random.Random, stop: Any, between: tuple[float, float] = THINK_S) -> bool:
    """Wait a moment between actions; False once the day is over."""
    return not stop.wait(rng.uniform(*between))


def _kiosk(engine: Engine, settings: Settings, tokens: list[str], rec: Recorder, rng: random.Random,
           stop: Any) -> None:  # fmt: skip
    """Patients at one lobby tablet: scan, sometimes a wrong birth date first, confirm; some scan again."""
    for token in tokens:
        if not _pause(rng, stop, ARRIVAL_S):
            return
        rec.timed(
            "lobby scan",
            lambda token=token: lobby_steps.begin(engine=engine, settings=settings, scan=token, kiosk="bench"),
        )
        if rng.random() < 0.2:
            rec.timed(
                "lobby wrong birth date",
                lambda token=token: lobby_steps.confirm(engine=engine, settings=settings, token=token, dob=WRONG_DOB),
            )
        rec.timed(
            "lobby check-in",
            lambda token=token: lobby_steps.confirm(
                engine=engine, settings=settings, token=token, dob=DOB, kiosk="bench"
            ),
        )
        if rng.random() < 0.3:
            rec.timed(
                "lobby scan again",
                lambda token=token: lobby_steps.check_in(engine=engine, settings=settings, scan=token),
            )


def _staff_sign_ins(engine: Engine, staff: list[str], rec: Recorder, rng: random.Random, stop: Any) -> None:
    """Staff signing in on phones through the day (one in ten mistypes the password)."""
    while _pause(rng, stop):
        user = rng.choice(staff)
        password = PASSWORD if rng.random() > 0.1 else "mistyped-password"
        rec.timed("staff sign-in", partial(_desk, engine, sign_in, username=user, password=password))


def _technician(engine: Engine, stations: list[str], rec: Recorder, rng: random.Random, stop: Any) -> None:
    """A technician starting and ending uses and marking stations cleaned (stations no device reports for)."""
    while _pause(rng, stop):
        station = rng.choice(stations)
        where = {"site": "main", "equipment_id": station, "by": "tech", "tz": UTC}
        rec.timed("board start use", lambda where=where: _desk(engine, board.start_use, **where))
        rec.timed("board end use", lambda where=where: _desk(engine, board.end_use, **where))
        rec.timed("board mark cleaned", lambda where=where: _desk(engine, board.mark_cleaned, method="spray", **where))


def _front_desk(engine: Engine, rec: Recorder, rng: random.Random, stop: Any) -> None:
    """Front desk registering a walk-in: patient, appointment, card, a plan line."""
    while _pause(rng, stop):
        patient = rec.timed("desk add patient", lambda: _desk(engine, add_patient, first="Walk", last="In", dob=DOB,
                                                              actor="desk"))  # fmt: skip
        if patient is None or patient.id is None:
            continue
        starts = datetime.now(UTC) + timedelta(minutes=rng.randint(5, 90))
        rec.timed("desk add appointment", lambda p=patient.id, s=starts: _desk(
            engine, add_appointment, patient_id=p, starts_at=s, site="main", actor="desk"))  # fmt: skip
        rec.timed("desk issue card", lambda p=patient.id: _desk(engine, issue_card, patient_id=p,
                                                                base_url="https://lobby.example",
                                                                actor="desk"))  # fmt: skip
        line: dict[str, Any] = {"exercise": EXERCISE, "sets": 3, "active_from": date.today(), "actor": "desk"}
        rec.timed(
            "desk add plan line", lambda p=patient.id, line=line: _desk(engine, add_plan_item, patient_id=p, **line)
        )


def _desk(engine: Engine, service: Callable[..., T], **values: Any) -> T:
    """One staff action: one unit of work around one service call, as the staff app does per click."""
    with unit_of_work(engine) as session:
        return service(session=session, **values)


def booked_cards(engine: Engine, count: int) -> list[str]:
    """`count` patients booked within the check-in window, each with a card; their tokens."""
    tokens = []
    for n in range(count):
        with unit_of_work(engine) as session:
            patient = add_patient(session=session, first=f"Pat{n}", last=uuid.uuid4().hex[:6], dob=DOB)
        assert patient.id is not None
        with unit_of_work(engine) as session:
            add_appointment(session=session, patient_id=patient.id, starts_at=datetime.now(UTC) + timedelta(minutes=30),
                            site="main")  # fmt: skip
        with unit_of_work(engine) as session:
            tokens.append(issue_card(session=session, patient_id=patient.id, base_url="https://lobby.example").token)
    return tokens
