"""Adherence: done over prescribed in 7 and 30 days, days with data in 30, and who needs a nudge (hand-computed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from shared.outcomes.adherence import adherence, needs_nudge
from shared.outcomes.home_log import note_home_pain, tick
from shared.store.db import read_session, unit_of_work
from tests.factories import new_patient_id
from tests.shared.outcomes.home_support import plan_with_link

NOW = datetime(2026, 12, 7, 18, 30, tzinfo=UTC)
TODAY = NOW.date()


def days_ago(n: int) -> datetime:
    """The same time of day `n` days before NOW."""
    return NOW - timedelta(days=n)


def test_adherence_figures_over_7_and_30_days(engine: Engine) -> None:
    # Two lines in force for the last 10 days (today included): 7 days prescribe 14, 30 days prescribe 20.
    maria, (heel, squat), token = plan_with_link(engine, active_from=TODAY - timedelta(days=9), now=days_ago(9))
    ticks = [(heel, 0), (heel, 1), (heel, 2), (squat, 0), (heel, 8)]  # four this week, five in 30 days
    for item, ago in ticks:
        with unit_of_work(engine) as session:
            tick(session=session, token=token, plan_item_id=item, tz=UTC, limit=30, now=days_ago(ago))
    with unit_of_work(engine) as session:  # a pain answer on a day without ticks is a day with data
        note_home_pain(session=session, token=token, pain=3, tz=UTC, limit=30, now=days_ago(5))
    with read_session(engine) as session:
        figures = adherence(session=session, patient_id=maria, today=TODAY)
    assert (figures.done_7, figures.prescribed_7, figures.percent_7) == (4, 14, 28)
    assert (figures.done_30, figures.prescribed_30, figures.percent_30) == (5, 20, 25)
    assert figures.days_with_data_30 == 5  # today, 1, 2, 5 and 8 days ago
    assert figures.needs_nudge
    assert figures.words() == "This week 4 of 14 done (28%); 30 days 5 of 20 (25%); 5 of 30 days with data"
    with read_session(engine) as session:
        old = adherence(session=session, patient_id=maria, today=TODAY + timedelta(days=31))
    assert (old.done_30, old.days_with_data_30) == (0, 0)


def test_only_patients_on_the_home_programme_under_half_this_week_need_a_nudge(engine: Engine) -> None:
    maria, _, _ = plan_with_link(engine, active_from=TODAY - timedelta(days=2), now=days_ago(2))
    _, (heel, squat), james_token = plan_with_link(engine, first="James", active_from=TODAY, now=NOW)
    for item in (heel, squat):
        with unit_of_work(engine) as session:
            tick(session=session, token=james_token, plan_item_id=item, tz=UTC, limit=30, now=NOW)
    new_patient_id(engine, "Ana")  # no plan, no link
    with read_session(engine) as session:
        listed = needs_nudge(session=session, today=TODAY, now=NOW, site="main")
        elsewhere = needs_nudge(session=session, today=TODAY, now=NOW, site="north")
    assert [(n.patient_id, n.name, n.adherence.percent_7) for n in listed] == [(maria, "Maria Gonzalez", 0)]
    assert elsewhere == []
