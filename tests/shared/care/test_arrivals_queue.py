"""The order of the front desk's queue: late in the day, who is still to come, waiting or in session comes before
who is done or a no-show, unless a finished patient's feedback needs a look before they leave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.care.arrivals import Arrival, queue_order

NINE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def row(appointment_id: int, status: str) -> Arrival:
    starts_at = NINE + timedelta(minutes=30 * appointment_id)
    return Arrival(appointment_id, appointment_id, f"Patient {appointment_id}", starts_at, 45, "", status, None, None)


def test_finished_visits_go_after_the_ones_that_matter_now_each_in_start_order() -> None:
    day = [row(1, "done"), row(2, "no_show"), row(3, "in_session"), row(4, "done"), row(5, "arrived"),
           row(6, "scheduled")]  # fmt: skip
    assert [(r.appointment_id, r.status) for r in queue_order(day)] == [
        (3, "in_session"), (5, "arrived"), (6, "scheduled"), (1, "done"), (2, "no_show"), (4, "done"),
    ]  # fmt: skip


def test_a_finished_patient_whose_feedback_needs_a_look_stays_up() -> None:
    day = [row(1, "done"), row(2, "done"), row(3, "scheduled")]
    assert [r.appointment_id for r in queue_order(day, flagged=frozenset({2}))] == [2, 3, 1]
