"""Outcomes on the staff app's Patients page (AppTest, both backends): each score over time charted on the
instrument's range with the MCID band, the verdict since intake, and assigning a questionnaire."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine
from streamlit.testing.v1.element_tree import Block, Node

from shared.outcomes.schedule import assign, assignments
from shared.store.db import read_session, unit_of_work
from tests import factories as make
from tests.kiosk.staff_app import add_staff, click, errors, open_page, successes


def _pain_scores(engine: Engine, patient_id: int, values: list[int]) -> None:
    with unit_of_work(engine) as session:
        assign(session=session, patient_id=patient_id, questionnaire="nprs", every_visits=1, actor="cli:test")
    make.weekly_pain_answers(engine, patient_id, values, start=datetime.now(UTC) - timedelta(days=7 * len(values)))


def _chart_specs(node: Node) -> list[dict[str, Any]]:
    """Every Vega-Lite chart's spec under `node`, at any depth, with its data rows as "rows"."""
    if getattr(node, "type", "") == "vega_lite_chart":
        spec = json.loads(node.proto.spec)  # type: ignore[attr-defined]
        tables = [pa.ipc.open_stream(d.data.data).read_pandas() for d in node.proto.datasets]  # type: ignore[attr-defined]
        spec["rows"] = [row for table in tables for row in table.to_dict("records")]
        return [spec]
    if isinstance(node, Block):
        return [spec for child in node.children.values() for spec in _chart_specs(child)]
    return []


def test_the_patient_page_charts_scores_with_the_mcid_band_and_says_improved(engine: Engine, care_env: None) -> None:
    add_staff(engine, "desk", "front_desk")
    maria = make.new_patient_id(engine, "Maria", "Gonzalez")
    _pain_scores(engine, maria, [7, 6, 4])
    app = open_page("desk", "patients.py")
    app.text_input(key="patients_search").set_value(f"#{maria}")
    app.run()
    assert not app.exception, app.exception
    assert "Improved by more than the MCID since intake" in successes(app)
    [spec] = _chart_specs(app.main)
    band, line = spec["layer"]
    assert band["mark"]["type"] == "rect"
    assert line["encoding"]["y"]["scale"]["domain"] == [0, 10]
    # Plain axes (issue #28's "2e+2"): whole numbers (Vega's "~g" drew 10 as "1e+1"), one title, days for dates.
    assert line["encoding"]["y"]["axis"]["format"] == band["encoding"]["y"]["axis"]["format"] == "d"
    titles = {line["encoding"]["y"]["title"], band["encoding"]["y"]["title"], band["encoding"]["y2"]["title"]}
    assert titles == {"Score"}
    assert (line["encoding"]["x"]["type"], line["encoding"]["x"]["axis"]["format"]) == ("temporal", "%d %b")
    values = spec["rows"]
    assert [row["Score"] for row in values if "Score" in row] == [7, 6, 4]
    assert {"low": 5, "high": 9} in values, "one MCID (2) either side of the intake score (7)"


def test_staff_assign_a_questionnaire_from_the_patient_page(engine: Engine, care_env: None) -> None:
    add_staff(engine, "desk", "front_desk")
    maria = make.new_patient_id(engine, "Maria", "Gonzalez")
    app = open_page("desk", "patients.py")
    app.text_input(key="patients_search").set_value(f"#{maria}")
    app.run()
    app.selectbox(key=f"assign_q_{maria}").set_value("psfs")
    app.radio(key=f"assign_when_{maria}").set_value("every_days")
    app.number_input(key=f"assign_n_{maria}").set_value(14)
    click(app, f"assign_submit_{maria}")
    assert errors(app) and errors(app)[0].startswith("Patient-Specific Functional Scale rates activities the patient "
                                                     "names: name at least one")  # fmt: skip
    app.text_area(key=f"assign_activities_{maria}").set_value("Climbing stairs\n\nGardening\n")
    click(app, f"assign_submit_{maria}")
    assert "Patient-Specific Functional Scale asked every 14 days." in successes(app)
    with read_session(engine) as session:
        [done] = assignments(session=session, patient_id=maria)
    assert (done.questionnaire, done.rule.every_days, done.activities) == ("psfs", 14, ("Climbing stairs", "Gardening"))
    click(app, f"unassign_{maria}_psfs")
    with read_session(engine) as session:
        assert assignments(session=session, patient_id=maria) == []
