"""The demo seed gives Maria and James a take-home link and a week of ticks: James keeps up, Maria needs a nudge
(hand-computed from DEMO_TICKS and their plans, which started 7 days ago); seeding again adds nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from shared.demo.patients import seed_demo_patients
from shared.outcomes.adherence import adherence, needs_nudge
from shared.store.db import read_session
from shared.store.settings import Settings

AT = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)


def test_the_demo_shows_adherence_at_once(engine: Engine, tmp_path: Path) -> None:
    cfg = Settings(_env_file=None, timezone="UTC", kiosk_url="https://lobby.example",  # type: ignore[call-arg]
                   data_dir=tmp_path)  # fmt: skip
    for _ in range(2):
        cards = seed_demo_patients(engine=engine, settings=cfg, now=AT)
    ids = {demo.first: card.patient_id for demo, card in cards}
    with read_session(engine) as session:
        james = adherence(session=session, patient_id=ids["James"], today=AT.date())
        maria = adherence(session=session, patient_id=ids["Maria"], today=AT.date())
        nudged = [n.name for n in needs_nudge(session=session, today=AT.date(), now=AT, site="main")]
    # 3 lines in force 7 of the last 7 days: 21 prescribed; James ticked 3+3+2+3+3+3 on days 1-6 ago.
    assert (james.done_7, james.prescribed_7, james.days_with_data_30) == (17, 21, 6)
    # Maria: 3 lines, 21 prescribed; 2+1+1 ticked.
    assert (maria.done_7, maria.prescribed_7, maria.days_with_data_30) == (4, 21, 3)
    assert nudged == ["Maria Gonzalez"]
