"""The home-exercise loop's costs (issue #25): the Patients page's "Needs a nudge" list over many patients on the
home programme, the lobby's take-home QR code at each check-in (the lasting link unsealed, against the old
per-visit day link), and one "Done" tick through a token.

A SQLite store with `--patients` patients, each with a plan of three lines from 30 days ago, a lasting take-home
link and about two thirds of their 30 days ticked at random. Prints medians; run from the repository root:

    python -m bench.home_exercises [--patients 500] [--repeat 50]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import Engine

from shared.care.home_links import current_link
from shared.care.models import Exercise, Patient, PlanItem
from shared.care.plan_shares import create_share
from shared.outcomes.adherence import needs_nudge
from shared.outcomes.home_log import tick
from shared.outcomes.models import ExerciseLog
from shared.store.db import init_db, make_engine, read_session, unit_of_work

NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()
KEY = Fernet.generate_key()


def _fill(engine: Engine, patients: int) -> list[tuple[int, list[int], str]]:
    """(patient id, plan line ids, token) of each patient."""
    rng = random.Random(25)
    with unit_of_work(engine) as session:
        exercises = [Exercise(name=f"Exercise {n}") for n in range(3)]
        session.add_all(exercises)
        session.flush()
    made = []
    for n in range(patients):
        with unit_of_work(engine) as session:
            person = Patient(first_name=f"P{n}", last_name="Bench", dob=date(1950, 1, 1))
            session.add(person)
            session.flush()
            assert person.id is not None
            items = [PlanItem(patient_id=person.id, exercise_id=e.id or 0, position=i,
                              active_from=TODAY - timedelta(days=30)) for i, e in enumerate(exercises)]  # fmt: skip
            session.add_all(items)
            session.flush()
            ids = [item.id for item in items if item.id is not None]
            link = current_link(session=session, patient_id=person.id, site="main", tz=UTC, key=KEY, days=42,
                                now=NOW - timedelta(days=30))  # fmt: skip
            for ago in range(30):
                for item_id in ids:
                    if rng.random() < 0.66 * (n % 3) / 2:  # a third do nothing, a third about a third, a third most
                        session.add(ExerciseLog(patient_id=person.id, plan_item_id=item_id,
                                                day=TODAY - timedelta(days=ago), done_at=NOW))  # fmt: skip
            made.append((person.id, ids, link.token))
    return made


def _median_ms(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    """Fill a store, then measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        init_db(engine)
        made = _fill(engine, args.patients)
        rng = random.Random(1)

        def nudge() -> object:
            with read_session(engine) as session:
                return needs_nudge(session=session, today=TODAY, now=NOW, site="main")

        def lasting() -> object:
            with unit_of_work(engine) as session:
                return current_link(session=session, patient_id=rng.choice(made)[0], site="main", tz=UTC, key=KEY,
                                    days=42, now=NOW)  # fmt: skip

        def day_link() -> object:
            with unit_of_work(engine) as session:
                return create_share(session=session, patient_id=rng.choice(made)[0], site="main", tz=UTC, now=NOW)

        def done() -> object:
            _, ids, token = rng.choice(made)
            with unit_of_work(engine) as session:
                return tick(session=session, token=token, plan_item_id=ids[0], tz=UTC, limit=10_000,
                            now=NOW + timedelta(days=1))  # fmt: skip

        with read_session(engine) as session:
            listed = len(needs_nudge(session=session, today=TODAY, now=NOW, site="main"))
        print(f"store: {args.patients} patients on the home programme, 3 plan lines each, 30 days of ticks")
        print(f"needs a nudge: {listed} listed; median {_median_ms(nudge, args.repeat):.1f} ms per list")
        print(f"take-home QR at check-in: lasting link {_median_ms(lasting, args.repeat * 4):.2f} ms "
              f"(old day link {_median_ms(day_link, args.repeat * 4):.2f} ms), median")  # fmt: skip
        print(f"'Done' tick through a token: median {_median_ms(done, args.repeat * 4):.2f} ms")
        engine.dispose()


if __name__ == "__main__":
    main()
