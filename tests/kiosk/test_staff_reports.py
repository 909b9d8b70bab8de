"""The staff app's Reports page: managers and admins read the weekly report (the known week across the end of
daylight-saving time, tests/shared/reports/known_week.py) and download it; a technician does not see it."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from shared.store.settings import get_settings
from tests.clock import clock_at
from tests.kiosk.staff_app import REFUSED, add_staff, new_app, plain_table, sign_in, texts
from tests.shared.reports.known_week import NY, build_known_week

WEDNESDAY_AFTER = datetime(2026, 11, 4, 12, 0, tzinfo=NY)  # the week after 2026-W44: the page offers W44 first


@pytest.fixture
def reports_env(staff_env: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The staff app on a New York clinic's store holding the known week, the clock the Wednesday after."""
    monkeypatch.setenv("CLINIC_TIMEZONE", "America/New_York")
    get_settings.cache_clear()
    build_known_week(engine)
    with clock_at(WEDNESDAY_AFTER):
        yield


def reports_page(username: str) -> AppTest:
    app = sign_in(new_app(), username)
    assert not app.exception, app.exception
    app.switch_page("screens/reports.py").run(timeout=60)
    assert not app.exception, app.exception
    return app


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_a_manager_reads_last_weeks_report(reports_env: None, engine: Engine, role: str) -> None:
    add_staff(engine, "mia", role)
    app = reports_page("mia")
    assert [t.value for t in app.title] == ["Reports"]
    week = app.selectbox(key="report_week").value
    assert week is not None and week.label == "2026-W44"
    assert app.selectbox(key="report_site").value == "main"
    assert "on the clinic's clock (America/New_York): 169 hours." in texts(app)
    usage = plain_table(app, "Uses, in-use hours and downtime per station")
    assert usage.to_dict("records")[2] == {"station": "table-1", "name": "Table 1", "zone": "treatment", "uses": "1",
                                           "in_use_hours": "1.0", "out_of_service_hours": "34.0",
                                           "offline_hours": "3.5"}  # fmt: skip
    cleaning = plain_table(app, "Cleaning after each use, per station")
    assert list(cleaning["cleaning_compliance_pct"]) == ["66.7", "100.0"]
    glance = plain_table(app, "The week at a glance")
    assert list(glance.columns) == ["Figure", "Value", "CSV column"]
    summary = {csv: value for _, value, csv in glance.values.tolist()}
    assert summary["cleaning_compliance_pct"] == "71.4" and summary["wait_p90_min"] == "28.0"
    words = {csv: figure for figure, _, csv in glance.values.tolist()}
    assert (words["cleaning_compliance_pct"], words["wait_p90_min"]) == ("Cleaning compliance (%)",
                                                                          "Wait, 90th percentile (min)")  # fmt: skip
    assert "(this week, so far)" in app.selectbox(key="report_week").options[0]
    arrivals = plain_table(app, "Arrivals, no-shows and waits per day")
    assert arrivals.iloc[-1].tolist() == ["week", "", "4", "3", "1", "3", "20.0", "28.0"]
    labels = [b.proto.label for b in app.get("download_button")]
    assert labels == ["Download CSV", "Download PDF"]


def test_the_csv_download_holds_one_file_per_table(reports_env: None, engine: Engine) -> None:
    from shared.reports.csv_files import csv_zip
    from shared.reports.week_report import build_week_report
    from shared.reports.weeks import parse_week
    from shared.store.db import read_session

    with read_session(engine) as session:
        report = build_week_report(session=session, site="main", week=parse_week("2026-W44", NY))
    with zipfile.ZipFile(io.BytesIO(csv_zip(report))) as archive:
        names = sorted(archive.namelist())
        usage = archive.read("usage.csv").decode()
    assert names == ["adherence.csv", "arrivals.csv", "cleaning.csv", "cleaning_by_zone.csv", "maintenance.csv",
                     "maintenance_done.csv", "outcomes.csv", "summary.csv", "usage.csv",
                     "utilization_heatmap.csv"]  # fmt: skip
    assert "table-1,Table 1,treatment,1,1.0,34.0,3.5" in usage


def test_a_technician_is_refused_the_reports_page(reports_env: None, engine: Engine) -> None:
    add_staff(engine, "tom", "technician")
    app = reports_page("tom")
    assert REFUSED in texts(app)
    assert not app.get("download_button")
