"""What the questionnaires add to a check-in for a patient with nothing due (issue #25: no slower).

A SQLite store with `--patients` patients, each booked and arrived today; half of them are asked the pain rating
and the PSFS, with `--history` completed answers each. For patients with nothing assigned it counts the SQL
statements of the lobby's due check (`due_at_visit`) and times it against the check-in itself (`check_in_card`,
one transaction), `--repeat` times each, interleaved. Prints the figures; run from the repository root:

    python -m bench.questionnaires_due [--patients 1000] [--history 10] [--repeat 300]
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
from shared.outcomes.schedule import assign, due_at_visit
from shared.store.db import init_db, make_engine, read_session, unit_of_work
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
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        init_db(engine)
        plain = _fill(engine, args.patients, args.history)
        settings = Settings(_env_file=None, timezone="UTC", confirm_dob=False)  # type: ignore[call-arg]
        statements: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(str(a[2])))
        due_ms, checkin_ms, counts = [], [], []
        for n in range(args.repeat):
            patient_id, visit, token = plain[n % len(plain)]
            started = time.perf_counter()
            with unit_of_work(engine) as session:
                check_in_card(session=session, settings=settings, scan=token, now=NOW)
            checkin_ms.append((time.perf_counter() - started) * 1000)
            statements.clear()
            started = time.perf_counter()
            with read_session(engine) as session:
                assert due_at_visit(session=session, patient_id=patient_id, appointment_id=visit, now=NOW, tz=UTC) == []
            due_ms.append((time.perf_counter() - started) * 1000)
            counts.append(sum(1 for s in statements if s.lstrip().upper().startswith("SELECT")))
        engine.dispose()
    due, checkin = statistics.median(due_ms), statistics.median(checkin_ms)
    print(f"store: {args.patients} patients, half asked 2 questionnaires with {args.history} answers each (SQLite)")
    print(f"nothing due: SELECTs per due check: {min(counts)}-{max(counts)}")
    print(f"due check (its own read session): median {due:.2f} ms, p95 {_p95(due_ms):.2f} ms")
    print(f"check-in transaction:             median {checkin:.2f} ms, p95 {_p95(checkin_ms):.2f} ms")
    print(f"due check / check-in: {due / checkin:.1%}")


def _p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95) - 1]


if __name__ == "__main__":
    main()
