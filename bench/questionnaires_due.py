"""What the questionnaires add to a check-in for a patient with nothing due (issue #25: no slower).

A SQLite store with `--patients` patients, each booked today; half of them are asked the pain rating and the PSFS,
with `--history` completed answers each. For the patients with nothing assigned it counts the SQL statements the
lobby's due check (`due_after_check_in`, run in the check-in's own transaction) adds, and times the check-in
transaction (`check_in_card`) without and with it, `--repeat` times each, interleaved (every check-in is a new
patient's first). Prints the figures; run from the repository root:

    python -m bench.questionnaires_due [--patients 1000] [--history 10] [--repeat 250]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, event
from sqlmodel import Session

from shared.care.cards import issue_card
from shared.care.checkin import check_in_card
from shared.care.models import Appointment, Patient
from shared.outcomes.responses import answer
from shared.outcomes.schedule import assign, due_after_check_in
from shared.store.db import init_db, make_engine, unit_of_work
from shared.store.settings import Settings

NOW = datetime.now(UTC).replace(microsecond=0)


def _fill(engine: Engine, patients: int, history: int) -> list[tuple[int, int, str]]:
    """(patient id, today's appointment id, card token) for each patient with nothing assigned."""
    plain = []
    for n in range(patients):
        with unit_of_work(engine) as session:
            person = Patient(first_name=f"P{n}", last_name="Bench", dob=date(1950, 1, 1))
            session.add(person)
            session.flush()
            assert person.id is not None
            visit = Appointment(patient_id=person.id, site="main", starts_at=NOW + timedelta(minutes=10))
            session.add(visit)
            session.flush()
            assert visit.id is not None
            if n % 2:
                _with_history(session, person.id, history)
                continue
            card = issue_card(session=session, patient_id=person.id, base_url="http://lobby.example")
            plain.append((person.id, visit.id, card.token))
    return plain


def _with_history(session: Session, patient_id: int, history: int) -> None:
    assign(session=session, patient_id=patient_id, questionnaire="nprs", every_visits=1, actor="bench")
    assign(session=session, patient_id=patient_id, questionnaire="psfs", every_days=14, activities=["Stairs"],
           actor="bench")  # fmt: skip
    for week in range(history):
        at = NOW - timedelta(days=7 * (history - week))
        visit = Appointment(patient_id=patient_id, site="main", starts_at=at, status="done", arrived_at=at)
        session.add(visit)
        session.flush()
        assert visit.id is not None
        for code, link in (("nprs", "pain"), ("psfs", "activity-1")):
            answer(session=session, patient_id=patient_id, appointment_id=visit.id, questionnaire=code,
                   link_id=link, value=4, now=at)  # fmt: skip


def main() -> None:
    """Fill a store, then measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--history", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=250, help="check-ins of each kind")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        init_db(engine)
        plain = _fill(engine, args.patients, args.history)
        settings = Settings(_env_file=None, timezone="UTC", confirm_dob=False)  # type: ignore[call-arg]
        statements: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(str(a[2])))
        plain_ms: list[float] = []
        hooked_ms: list[float] = []
        hook_ms: list[float] = []
        added: list[int] = []
        for n in range(min(args.repeat * 2, len(plain))):
            _patient_id, _visit, token = plain[n]
            statements.clear()
            started = time.perf_counter()
            with unit_of_work(engine) as session:
                outcome = check_in_card(session=session, settings=settings, scan=token, now=NOW)
                if n % 2:
                    hook_started = time.perf_counter()
                    assert not due_after_check_in(session, outcome, NOW, tz=UTC)
                    hook_ms.append((time.perf_counter() - hook_started) * 1000)
            (hooked_ms if n % 2 else plain_ms).append((time.perf_counter() - started) * 1000)
            if n % 2:
                added.append(sum(1 for s in statements if "questionnaire" in s))
        engine.dispose()
    plain_med, hooked_med = statistics.median(plain_ms), statistics.median(hooked_ms)
    print(f"store: {args.patients} patients, half asked 2 questionnaires with {args.history} answers each (SQLite)")
    print(f"nothing due: statements the due check adds to the check-in: {min(added)}-{max(added)}")
    print(f"check-in alone:          median {plain_med:.2f} ms, p95 {_p95(plain_ms):.2f} ms ({len(plain_ms)})")
    print(f"with the due check:      median {hooked_med:.2f} ms, p95 {_p95(hooked_ms):.2f} ms ({len(hooked_ms)})")
    print(f"the due check alone:     median {statistics.median(hook_ms):.2f} ms, p95 {_p95(hook_ms):.2f} ms")
    print(f"difference of the medians: {hooked_med - plain_med:+.2f} ms ({(hooked_med - plain_med) / plain_med:+.1%})")


def _p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95) - 1]


if __name__ == "__main__":
    main()
