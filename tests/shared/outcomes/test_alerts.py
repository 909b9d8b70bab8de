"""Alerts: a high pain or a "very hard" session flags the patient once, until staff acknowledge it (audited)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from shared.outcomes.alerts import acknowledge_alert, note_effort, note_pain, open_alerts
from shared.store.db import read_session, unit_of_work
from shared.store.errors import ValidationFailed
from tests.factories import audit_log, new_patient_id

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def alerts(engine: Engine, site: str | None = None) -> list[tuple[str, str]]:
    """(patient name, words) of the open alerts."""
    with read_session(engine) as session:
        return [(a.patient_name, a.words) for a in open_alerts(session=session, site=site)]


def test_pain_of_seven_or_more_flags_once_until_acknowledged_and_the_acknowledgement_is_audited(
    engine: Engine,
) -> None:
    maria = new_patient_id(engine)
    with unit_of_work(engine) as session:
        assert note_pain(session=session, patient_id=maria, value=6, source="lobby", now=NOW) is False
    assert alerts(engine) == []
    with unit_of_work(engine) as session:
        assert note_pain(session=session, patient_id=maria, value=8, source="phone", now=NOW) is True
    with unit_of_work(engine) as session:  # a second high answer while the flag is open adds nothing
        assert note_pain(session=session, patient_id=maria, value=9, source="lobby", now=NOW) is False
        assert note_effort(session=session, patient_id=maria, very_hard=True, source="lobby", now=NOW) is False
    assert alerts(engine) == [("Maria Gonzalez", "Pain 8/10 on the take-home page")]
    with read_session(engine) as session:
        alert_id = open_alerts(session=session)[0].id
    with unit_of_work(engine) as session:
        assert acknowledge_alert(session=session, alert_id=alert_id, actor="priya", now=NOW) is True
    with unit_of_work(engine) as session:
        assert acknowledge_alert(session=session, alert_id=alert_id, actor="sam", now=NOW) is False
    assert alerts(engine) == []
    assert audit_log(engine)[-1] == (
        "priya", "alert.acknowledge", f"patient:{maria}", {"alert": alert_id, "reason": "pain", "source": "phone"}
    )  # fmt: skip
    with unit_of_work(engine) as session:  # after the acknowledgement a new high answer flags again
        assert note_effort(session=session, patient_id=maria, very_hard=True, source="lobby",
                           now=NOW + timedelta(days=1), site="main") is True  # fmt: skip
    assert alerts(engine, site="main") == [("Maria Gonzalez", "Found the session very hard at the lobby")]
    assert alerts(engine, site="north") == []


def test_an_easy_session_flags_nothing_and_bad_answers_are_refused(engine: Engine) -> None:
    maria = new_patient_id(engine)
    with unit_of_work(engine) as session:
        assert note_effort(session=session, patient_id=maria, very_hard=False, source="lobby", now=NOW) is False
    with unit_of_work(engine) as session, pytest.raises(ValidationFailed, match="0 to 10"):
        note_pain(session=session, patient_id=maria, value=11, source="phone")
    with unit_of_work(engine) as session, pytest.raises(ValidationFailed, match="source"):
        note_pain(session=session, patient_id=maria, value=9, source="email")
    assert alerts(engine) == []
