"""What the front desk reads for an arrived patient: early, on time, late or a walk-in, with the minutes they
have sat there counted (never "waiting 0 min" for someone who came early and sat for ten)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from shared.care.appointments import add_appointment, set_appointment_status
from shared.care.arrival_words import arrival_words, is_walk_in
from shared.care.arrivals import describe_arrival, todays_arrivals
from shared.care.patients import add_patient
from shared.care.walk_ins import check_in_walk_in
from shared.store.db import read_session, unit_of_work

APPT = datetime(2026, 11, 23, 14, 42, tzinfo=UTC)


def words(arrived: str, now: str, *, appt: datetime = APPT, **kwargs: object) -> str:
    """The words for a patient booked at `appt` who arrived at HH:MM `arrived`, read at HH:MM `now` (UTC)."""

    def at(clock: str) -> datetime:
        hour, minute = map(int, clock.split(":"))
        return appt.replace(hour=hour, minute=minute)

    return arrival_words(arrived_at=at(arrived), starts_at=appt, tz=UTC, now=at(now), **kwargs)  # type: ignore[arg-type]


def test_an_early_patient_reads_early_and_the_minutes_they_have_sat_there() -> None:
    assert words("14:24", "14:34") == "arrived at 14:24, early (appt 14:42), here 10 min"
    assert words("14:24", "14:41") == "arrived at 14:24, early (appt 14:42), here 17 min"


def test_once_their_time_has_come_the_wait_counts_from_the_appointment() -> None:
    assert words("14:24", "14:42") == "arrived at 14:24, early (appt 14:42), waiting 0 min"
    assert words("14:24", "14:54") == "arrived at 14:24, early (appt 14:42), waiting 12 min"


def test_on_time_reads_the_wait_alone() -> None:
    assert words("14:42", "14:45") == "arrived at 14:42, waiting 3 min"
    assert words("14:45", "14:52") == "arrived at 14:45, waiting 7 min", "3 minutes after the start is on time"
    half_a_minute_early = arrival_words(arrived_at=APPT - timedelta(seconds=30), starts_at=APPT, tz=UTC,
                                        now=APPT + timedelta(minutes=3))  # fmt: skip
    assert half_a_minute_early == "arrived at 14:41, waiting 3 min"


def test_a_late_patient_reads_late_with_the_wait_from_their_arrival() -> None:
    assert words("14:50", "14:53") == "arrived at 14:50, late (appt 14:42), waiting 3 min"


def test_a_walk_in_reads_walk_in_not_early_or_late() -> None:
    assert words("14:42", "14:50", walk_in=True) == "walk-in, arrived at 14:42, waiting 8 min"


def test_asking_at_the_lobby_is_added() -> None:
    asked = APPT + timedelta(minutes=20)
    assert words("14:50", "15:05", asked_at=asked) == (
        "arrived at 14:50, late (appt 14:42), waiting 15 min; asked at 15:02"
    )


def test_the_clinics_clock_is_used_and_an_arrival_before_midnight_carries_its_day() -> None:
    chicago = ZoneInfo("America/Chicago")
    just_after_midnight = datetime(2026, 11, 24, 0, 10, tzinfo=chicago)
    text = arrival_words(arrived_at=just_after_midnight - timedelta(minutes=20), starts_at=just_after_midnight,
                         tz=chicago, now=just_after_midnight - timedelta(minutes=5))  # fmt: skip
    assert text == "arrived at Mon 23:50, early (appt 00:10), here 15 min"
    text = arrival_words(arrived_at=APPT, starts_at=APPT, tz=chicago, now=APPT + timedelta(minutes=4))
    assert text == "arrived at 08:42, waiting 4 min", "14:42 UTC is 08:42 in Chicago"


def test_without_a_clock_the_counted_wait_is_used() -> None:
    text = arrival_words(arrived_at=APPT, starts_at=APPT, tz=UTC, waiting_min=9)
    assert text == "arrived at 14:42, waiting 9 min"


@pytest.mark.parametrize(
    ("created", "arrived", "expected"),
    [(APPT + timedelta(seconds=20), APPT + timedelta(seconds=20), True),  # booked and arrived together
     (APPT - timedelta(days=2), APPT - timedelta(minutes=5), False),  # booked ahead
     (APPT + timedelta(hours=2), None, False),  # booked afterwards, never came
     (APPT + timedelta(hours=2), APPT, False)],  # an import of the morning's visits later in the day
)  # fmt: skip
def test_a_walk_in_is_an_appointment_booked_as_the_patient_came(
    created: datetime, arrived: datetime | None, expected: bool
) -> None:
    assert is_walk_in(created_at=created, starts_at=APPT, arrived_at=arrived) is expected


def test_the_arrivals_list_reads_the_same_words(engine: Engine) -> None:
    """Through the store: a booked patient who came 18 minutes early, and a walk-in checked in at the desk."""
    with unit_of_work(engine) as session:
        ada = add_patient(session=session, first="Ada", last="Early", dob=date(1950, 1, 1))
        zed = add_patient(session=session, first="Zed", last="Walker", dob=date(1960, 1, 1))
    assert ada.id is not None and zed.id is not None
    with unit_of_work(engine) as session:
        booked = add_appointment(session=session, patient_id=ada.id, starts_at=APPT, site="main")
    assert booked.id is not None
    with unit_of_work(engine) as session:
        set_appointment_status(session=session, appointment_id=booked.id, status="arrived",
                               now=APPT - timedelta(minutes=18))  # fmt: skip
    with unit_of_work(engine) as session:
        check_in_walk_in(session=session, site="main", tz=UTC, now=APPT + timedelta(minutes=5), actor="desk",
                         patient_id=zed.id)  # fmt: skip
    now = APPT + timedelta(minutes=12)
    with read_session(engine) as session:
        rows = todays_arrivals(session=session, site="main", tz=UTC, now=now)
    assert [describe_arrival(r, UTC, now) for r in rows] == [
        "arrived at 14:24, early (appt 14:42), waiting 12 min",
        "walk-in, arrived at 14:47, waiting 7 min",
    ]
    early = now - timedelta(minutes=15)
    assert describe_arrival(rows[0], UTC, early) == "arrived at 14:24, early (appt 14:42), here 15 min"
