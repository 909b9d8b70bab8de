"""Every service write succeeds while the listener commits batches through another connection (both backends).

This is what failed in the running clinic: a DEFERRED transaction that read and then wrote died at once with
"database is locked" as soon as the listener committed in between (sign-in, with its 100 ms password check
inside the transaction, failed about half the time). Each write here runs while a background writer commits an
ingest batch every few milliseconds, as the listener does under a steady device stream.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from shared.care.appointments import (
    add_appointment,
    import_appointments_csv,
    set_appointment_status,
    update_appointment,
)
from shared.care.arrivals import note_waiting_patient
from shared.care.cards import issue_card, revoke_cards
from shared.care.exercises import add_exercise, update_exercise
from shared.care.feedback import add_exercise_feedback, record_feedback
from shared.care.models import Appointment, Patient
from shared.care.patients import add_patient, update_patient
from shared.care.plan_import import import_plan_csv
from shared.care.plans import add_plan_item, end_plan_item, move_plan_item
from shared.equipment import board
from shared.equipment.events import DeviceEvent
from shared.equipment.ingest import record_batch
from shared.equipment.models import EquipmentEvent
from shared.equipment.stations import register_equipment
from shared.staff.accounts import create_account, update_account
from shared.staff.sign_in import sign_in
from shared.store.db import make_engine, read_session, unit_of_work
from shared.store.settings import Settings
from tests import lobby_steps
from tests.helpers import wait_until

DOB = date(1950, 4, 17)
PASSWORD = "correct horse battery"
ROUNDS = 4  # each write is repeated, so a read-then-write race has several chances to show


@dataclass
class Ingesting:
    """A background writer committing small ingest batches back to back, like the listener."""

    engine: Engine
    stop: threading.Event
    committed: int = 0
    error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                now = datetime.now(UTC)
                events = [_usage(f"bike-{n % 3}", now) for n in range(10)]
                record_batch(engine=self.engine, items=events, tz=UTC)
                self.committed += len(events)
                self.stop.wait(0.002)  # a paced stream: the next batch a couple of milliseconds later
        except BaseException as exc:  # reported by the fixture, so a failing writer fails the test
            self.error = exc


def _usage(equipment_id: str, now: datetime) -> DeviceEvent:
    return DeviceEvent(site="main", equipment_id=equipment_id, channel="usage", event="heartbeat",
                       event_id=uuid.uuid4().hex, received_at=now)  # fmt: skip


@pytest.fixture
def ingesting(db_url: str, engine: Engine) -> Iterator[Ingesting]:
    """Stations bike-0..2 registered, and a writer committing batches for them until the test ends."""
    for n in range(3):
        with unit_of_work(engine) as session:
            register_equipment(session=session, site="main", equipment_id=f"bike-{n}", name=f"Bike {n}")
    writer = Ingesting(make_engine(db_url), threading.Event())
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    wait_until(lambda: writer.committed > 0 or writer.error is not None, timeout=10, interval=0.01, what="a write")
    yield writer
    writer.stop.set()
    thread.join(timeout=30)
    writer.engine.dispose()
    assert writer.error is None, writer.error
    with engine.connect() as conn:
        device = select(func.count()).select_from(EquipmentEvent).where(EquipmentEvent.source == "device")
        stored = conn.execute(device).scalar_one()
    assert stored == writer.committed, "every device message the writer committed is stored once"


def _settings() -> Settings:
    return Settings(timezone="UTC", _env_file=None)  # type: ignore[call-arg]


def _booked_patient(engine: Engine, first: str = "Maria") -> tuple[int, int, str]:
    """A patient booked ten minutes from now, with a card: (patient id, appointment id, token)."""
    with unit_of_work(engine) as session:
        patient = add_patient(session=session, first=first, last="Gonzalez", dob=DOB)
    assert patient.id is not None
    starts = datetime.now(UTC) + timedelta(minutes=10)
    with unit_of_work(engine) as session:
        appointment = add_appointment(session=session, patient_id=patient.id, starts_at=starts, site="main")
    assert appointment.id is not None
    with unit_of_work(engine) as session:
        return (
            patient.id,
            appointment.id,
            issue_card(session=session, patient_id=patient.id, base_url="https://lobby.example").token,
        )


def test_front_desk_writes_succeed_while_devices_report(engine: Engine, ingesting: Ingesting) -> None:
    for n in range(ROUNDS):
        with unit_of_work(engine) as session:
            patient = add_patient(session=session, first=f"Ann{n}", last="Lee", dob=DOB, phone="555 0100", actor="desk")
        assert patient.id is not None
        with unit_of_work(engine) as session:
            update_patient(session=session, patient_id=patient.id, phone="555 0199", actor="desk")
        with unit_of_work(engine) as session:
            issue_card(session=session, patient_id=patient.id, base_url="https://lobby.example", actor="desk")
        with unit_of_work(engine) as session:
            assert revoke_cards(session=session, patient_id=patient.id, actor="desk") == 1
        with unit_of_work(engine) as session:
            appointment = add_appointment(session=session, patient_id=patient.id,
                                          starts_at=datetime.now(UTC) + timedelta(hours=1),
                                          site="main", actor="desk")  # fmt: skip
        assert appointment.id is not None
        with unit_of_work(engine) as session:
            update_appointment(session=session, appointment_id=appointment.id, minutes=30, actor="desk")
        with unit_of_work(engine) as session:
            set_appointment_status(session=session, appointment_id=appointment.id, status="arrived", actor="desk")
        with unit_of_work(engine) as session:
            import_appointments_csv(session=session, text=f"patient_id,start\n{patient.id},16:00\n", site="main",
                                    tz=UTC,
                                    today=date.today(), actor="desk")  # fmt: skip
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Patient)).scalar_one() == ROUNDS
        assert conn.execute(select(func.count()).select_from(Appointment)).scalar_one() == 2 * ROUNDS


def test_plan_writes_succeed_while_devices_report(engine: Engine, ingesting: Ingesting) -> None:
    patient_id, _, _ = _booked_patient(engine)
    for n in range(ROUNDS):
        with unit_of_work(engine) as session:
            exercise = add_exercise(session=session, name=f"Bridge {n}", instructions="Lift slowly.", actor="pt")
        assert exercise.id is not None
        with unit_of_work(engine) as session:
            update_exercise(session=session, exercise_id=exercise.id, instructions="Lift slowly, hold 3 s.", actor="pt")
        with unit_of_work(engine) as session:
            item = add_plan_item(session=session, patient_id=patient_id, exercise=f"Bridge {n}", sets=3, reps=10,
                                 equipment_id="bike-0", active_from=date.today(), actor="pt")  # fmt: skip
        assert item.id is not None
        if n:
            with unit_of_work(engine) as session:
                assert move_plan_item(session=session, item_id=item.id, direction="up", today=date.today(), actor="pt")
    with unit_of_work(engine) as session:
        import_plan_csv(
            session=session,
            text=f"patient_id,exercise,sets\n{patient_id},Bridge 0,2\n",
            site="main",
            today=date.today(),
        )
    with unit_of_work(engine) as session:
        assert end_plan_item(session=session, item_id=item.id, today=date.today(), actor="pt")


def test_lobby_check_ins_succeed_while_devices_report(engine: Engine, ingesting: Ingesting) -> None:
    settings = _settings()
    for n in range(ROUNDS):
        _, appointment_id, token = _booked_patient(engine, first=f"Pat{n}")
        assert lobby_steps.begin(engine=engine, settings=settings, scan=token, kiosk="lobby-1").result == "needs_dob"
        assert (
            lobby_steps.confirm(engine=engine, settings=settings, token=token, dob=date(1960, 1, 1)).result
            == "wrong_dob"
        )
        outcome = lobby_steps.confirm(engine=engine, settings=settings, token=token, dob=DOB, kiosk="lobby-1")
        assert outcome.result == "checked_in"
        assert lobby_steps.check_in(engine=engine, settings=settings, scan=token).result == "already_checked_in"
        assert lobby_steps.begin(engine=engine, settings=settings, scan="t=" + "A" * 40).result == "invalid"
        assert outcome.patient_id is not None
        later = datetime.now(UTC) + timedelta(minutes=40)
        with unit_of_work(engine) as session:
            assert note_waiting_patient(session=session, appointment_id=appointment_id, limit_min=15, now=later)
        with unit_of_work(engine) as session:
            feedback = record_feedback(session=session, appointment_id=appointment_id, patient_id=outcome.patient_id,
                                       pain=3,
                                       difficulty="about_right")  # fmt: skip
        with unit_of_work(engine) as session:
            add_exercise_feedback(session=session, feedback_id=feedback.id, patient_id=outcome.patient_id, exercises={})


def test_staff_sign_ins_and_account_changes_succeed_while_devices_report(engine: Engine, ingesting: Ingesting) -> None:
    create_account(engine=engine, username="admin", password=PASSWORD, role="admin")
    for n in range(ROUNDS):
        create_account(engine=engine, username=f"tech{n}", password=PASSWORD, role="technician", actor="admin")
        with unit_of_work(engine) as session:
            assert sign_in(session=session, username=f"tech{n}", password=PASSWORD).user is not None
        with unit_of_work(engine) as session:
            assert sign_in(session=session, username=f"tech{n}", password="wrong password!").user is None
        update_account(engine=engine, username=f"tech{n}", actor="admin", role="front_desk")
    with unit_of_work(engine) as session:
        assert sign_in(session=session, username="admin", password=PASSWORD).user is not None


def test_board_actions_succeed_while_devices_report(engine: Engine, ingesting: Ingesting) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1", name="Treadmill 1", actor="admin")
    for _ in range(ROUNDS):
        with unit_of_work(engine) as session:
            board.start_use(session=session, site="main", equipment_id="tm-1", by="tech", tz=UTC)
        with unit_of_work(engine) as session:
            board.end_use(session=session, site="main", equipment_id="tm-1", by="tech", tz=UTC)
        with unit_of_work(engine) as session:
            board.mark_cleaned(session=session, site="main", equipment_id="tm-1", by="tech", method="spray", tz=UTC)
        with unit_of_work(engine) as session:
            board.report_problem(
                session=session, site="main", equipment_id="tm-1", by="tech", message="squeaks", tz=UTC
            )
        with unit_of_work(engine) as session:
            board.take_out_of_service(
                session=session, site="main", equipment_id="tm-1", by="tech", reason="belt", tz=UTC
            )
        with unit_of_work(engine) as session:
            board.back_in_service(session=session, site="main", equipment_id="tm-1", by="tech", tz=UTC)
        with unit_of_work(engine) as session:
            board.mark_serviced(session=session, site="main", equipment_id="tm-1", by="tech", tz=UTC)
    with read_session(engine) as session:
        view = board.get_station(session=session, site="main", equipment_id="tm-1", tz=UTC)
    assert view.status == "available"
    assert view.uses_total == ROUNDS
