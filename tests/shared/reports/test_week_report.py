"""The weekly report of a known week across the end of daylight-saving time, checked figure by figure in the CSV
files `clinic report week --csv` writes (the same tables the PDF and the staff page show)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from clinic.cli import app
from shared.reports.weeks import parse_week
from shared.store.errors import ValidationFailed
from shared.store.settings import get_settings
from tests.shared.reports.known_week import NOTES, NY, WEEK, build_known_week


def read_csv(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / f"{name}.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def week_csv(engine: Engine, cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The known week in the store, and its report's CSV folder (CLINIC_TIMEZONE=America/New_York)."""
    build_known_week(engine)
    monkeypatch.setenv("CLINIC_TIMEZONE", "America/New_York")
    get_settings.cache_clear()
    out = tmp_path / "report"
    result = cli.invoke(app, ["report", "week", "--week", WEEK, "--csv", str(out)])
    assert result.exit_code == 0, result.output
    assert "Week 2026-W44 at site main: 2026-10-26 to 2026-11-01 (169 hours, America/New_York)" in result.output
    return out


def test_the_week_of_the_autumn_change_is_169_hours_and_the_spring_one_167() -> None:
    assert parse_week("2026-W44", NY).hours == 169
    assert parse_week("2026-W10", NY).hours == 167  # Sun 8 Mar 2026
    assert parse_week("2026-W49", NY).hours == 168


def test_a_site_without_stations_is_refused_naming_the_sites(week_csv: Path, cli: CliRunner) -> None:
    result = cli.invoke(app, ["report", "week", "--week", WEEK, "--site", "nowhere"])
    assert result.exit_code == 2
    assert "error: no stations at site 'nowhere'; sites here: main" in result.output
    bad_week = cli.invoke(app, ["report", "week", "--week", "2026-W54"])
    assert bad_week.exit_code == 2 and "error: week '2026-W54' does not exist" in bad_week.output


@pytest.mark.parametrize("text", ["2026-49", "2026-W54", "W49", "2026-W00"])
def test_a_bad_week_is_refused_naming_it(text: str) -> None:
    with pytest.raises(ValidationFailed, match=text):
        parse_week(text, NY)


def test_usage_per_station(week_csv: Path) -> None:
    assert read_csv(week_csv, "usage") == [
        # 6 uses of 30 + 45 + 20 + 30 + 24 + 60 min = 209 min; offline Wed 08:00-12:00
        {"station": "bike-1", "name": "Bike 1", "zone": "gym", "uses": "6", "in_use_hours": "3.48",
         "out_of_service_hours": "0.0", "offline_hours": "4.0"},
        {"station": "scale-1", "name": "Scale 1", "zone": "gym", "uses": "1", "in_use_hours": "0.17",
         "out_of_service_hours": "0.0", "offline_hours": "0.0"},
        # the Sunday-before use is not this week's; out of service Thu 10:00-Fri 16:00 (30 h) and from Sun 20:00
        # to the week's end (4 h); offline 00:30 EDT to 03:00 EST, 3.5 real hours
        {"station": "table-1", "name": "Table 1", "zone": "treatment", "uses": "1", "in_use_hours": "1.0",
         "out_of_service_hours": "34.0", "offline_hours": "3.5"},
    ]  # fmt: skip


def test_cleaning_per_station_and_zone(week_csv: Path) -> None:
    bike = {"uses_ended": "6", "cleaned_in_time": "3", "late": "1", "not_cleaned": "1",
            "used_before_contact_time": "1", "cleaning_compliance_pct": "66.7",  # (3 + 1) / 6
            "time_to_clean_p50_min": "10.0", "time_to_clean_p90_min": "27.0"}  # of 5, 10, 10, 15, 35  # fmt: skip
    table = {"uses_ended": "1", "cleaned_in_time": "1", "late": "0", "not_cleaned": "0",
             "used_before_contact_time": "0", "cleaning_compliance_pct": "100.0",
             "time_to_clean_p50_min": "10.0", "time_to_clean_p90_min": "10.0"}  # fmt: skip
    assert read_csv(week_csv, "cleaning") == [
        {"station": "bike-1", "zone": "gym", **bike},
        {"station": "table-1", "zone": "treatment", **table},
    ]
    assert read_csv(week_csv, "cleaning_by_zone") == [
        {"zone": "gym", "stations": "1", **bike},
        {"zone": "treatment", "stations": "1", **table},
    ]


def test_the_heatmap_counts_local_wall_clock_hours(week_csv: Path) -> None:
    rows = read_csv(week_csv, "utilization_heatmap")
    assert len(rows) == 7 * 24
    cell = {(r["date"], int(r["hour"])): r for r in rows}
    sunday_one = cell[("2026-11-01", 1)]  # 01:00-02:00 happens twice: one cell two hours long
    assert sunday_one == {"date": "2026-11-01", "weekday": "Sun", "hour": "1", "hour_length_hours": "2.0",
                          "in_use_hours": "1.0", "utilization_pct": "16.7"}  # 1 h / (3 stations x 2 h)  # fmt: skip
    assert [r["hour_length_hours"] for r in rows].count("1.0") == 7 * 24 - 1
    in_use = {key: r["in_use_hours"] for key, r in cell.items() if r["in_use_hours"] != "0.0"}
    assert in_use == {
        ("2026-10-26", 9): "0.5",
        ("2026-10-26", 10): "0.75",  # bike 09:00-09:30, 10:00-10:45
        ("2026-10-26", 23): "0.5",
        ("2026-10-27", 0): "0.5",  # table across midnight
        ("2026-10-27", 14): "0.33",
        ("2026-10-27", 15): "0.9",  # bike 14:00-14:20, 15:00-15:30 + 15:36-16:00
        ("2026-10-28", 9): "0.17",  # scale 09:00-09:10
        ("2026-11-01", 1): "1.0",
    }
    busy = {key: r["utilization_pct"] for key, r in cell.items() if r["utilization_pct"] != "0.0"}
    assert busy == {  # in-use hours over 3 station-hours (6 in Sunday's two-hour 01:00)
        ("2026-10-26", 9): "16.7", ("2026-10-26", 10): "25.0", ("2026-10-26", 23): "16.7", ("2026-10-27", 0): "16.7",
        ("2026-10-27", 14): "11.1", ("2026-10-27", 15): "30.0", ("2026-10-28", 9): "5.6", ("2026-11-01", 1): "16.7",
    }  # fmt: skip


def test_maintenance_at_the_weeks_end_and_done_during_it(week_csv: Path) -> None:
    plan = read_csv(week_csv, "maintenance")
    assert all(r.pop("every_hours") == "" and r.pop("hours_used") == "" for r in plan)  # calendar tasks only
    assert plan == [
        {"station": "bike-1", "task": "Belt check", "every_days": "8.0", "status_at_week_end": "due_soon",
         "due_at": "2026-11-02 09:00", "last_done_at": "", "last_done_by": "", "done_this_week": "0"},
        {"station": "bike-1", "task": "Electrical safety check", "every_days": "30.0", "status_at_week_end": "ok",
         "due_at": "2026-12-01 10:00", "last_done_at": "2026-11-01 10:00", "last_done_by": "Mark",
         "done_this_week": "1"},
        {"station": "scale-1", "task": "Calibration", "every_days": "30.0", "status_at_week_end": "overdue",
         "due_at": "2026-10-25 12:00", "last_done_at": "", "last_done_by": "", "done_this_week": "0"},
        {"station": "table-1", "task": "Calibration", "every_days": "7.0", "status_at_week_end": "missed",
         "due_at": "2026-10-07 09:00", "last_done_at": "", "last_done_by": "", "done_this_week": "0"},
    ]  # fmt: skip
    assert read_csv(week_csv, "maintenance_done") == [
        {
            "station": "bike-1",
            "task": "Electrical safety check",
            "done_at": "2026-11-01 10:00",
            "by": "Mark",
            "notes": NOTES,
        },
    ]


def test_arrivals_waits_and_no_shows(week_csv: Path) -> None:
    days = read_csv(week_csv, "arrivals")
    assert [d["date"] for d in days] == [f"2026-10-{d}" for d in range(26, 32)] + ["2026-11-01", "week"]
    assert days[0] == {"date": "2026-10-26", "weekday": "Mon", "appointments": "3", "arrivals": "2", "no_shows": "1",
                       "waits": "2", "wait_p50_min": "15.0", "wait_p90_min": "19.0"}  # 10 and 20 min  # fmt: skip
    assert days[6] == {"date": "2026-11-01", "weekday": "Sun", "appointments": "1", "arrivals": "1", "no_shows": "0",
                       "waits": "1", "wait_p50_min": "30.0", "wait_p90_min": "30.0"}  # fmt: skip
    assert all(d["appointments"] == "0" and d["wait_p50_min"] == "" for d in days[1:6])
    assert days[7] == {"date": "week", "weekday": "", "appointments": "4", "arrivals": "3", "no_shows": "1",
                       "waits": "3", "wait_p50_min": "20.0", "wait_p90_min": "28.0"}  # fmt: skip


def test_adherence_and_outcomes_where_the_data_exists(week_csv: Path) -> None:
    assert read_csv(week_csv, "adherence") == [
        {"patients_on_home_programme": "1", "exercises_prescribed": "14", "exercises_done": "4",
         "adherence_pct": "28.6", "patients_under_half": "1"}
    ]  # fmt: skip
    assert read_csv(week_csv, "outcomes") == [
        {"questionnaire": "nprs", "responses": "2", "patients": "1", "score_mean": "5.0", "score_p50": "5.0"}
    ]


def test_the_summary(week_csv: Path) -> None:
    assert read_csv(week_csv, "summary") == [{
        "week": "2026-W44", "site": "main", "first_day": "2026-10-26", "last_day": "2026-11-01", "week_hours": "169.0",
        "stations": "3", "uses": "8", "in_use_hours": "4.65", "uses_ended": "7", "cleaned_in_time": "4", "late": "1",
        "not_cleaned": "1", "used_before_contact_time": "1", "cleaning_compliance_pct": "71.4",  # 5 / 7
        "time_to_clean_p50_min": "10.0", "time_to_clean_p90_min": "25.0",  # of 5, 10, 10, 10, 15, 35
        "out_of_service_hours": "34.0", "offline_hours": "7.5", "maintenance_done": "1", "maintenance_due_soon": "1",
        "maintenance_overdue": "1", "maintenance_missed": "1", "appointments": "4", "arrivals": "3", "no_shows": "1",
        "wait_p50_min": "20.0", "wait_p90_min": "28.0",
    }]  # fmt: skip
