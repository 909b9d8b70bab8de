"""`clinic questionnaire add|list|assign` and `clinic patient outcomes`, as a clinic uses them (both backends)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from shared.store.db import make_engine
from tests import factories as make
from tests.cli_support import run, run_json
from tests.shared.outcomes.test_questionnaire_scoring import _lefs_like

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def test_add_then_list_a_clinics_questionnaire(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "lower-limb.json"
    path.write_text(json.dumps(_lefs_like()), encoding="utf-8")
    code, out, err = run(cli, "questionnaire", "add", str(path))
    assert code == 0, err
    assert out.strip() == "added questionnaire lower-limb (Lower limb, 20 items, sum 0-80, higher is better, MCID 9)"
    listed = run_json(cli, "questionnaire", "list")
    assert isinstance(listed, list)
    assert [(q["code"], q["shipped"], q["mcid"]) for q in listed] == [("nprs", True, 2), ("psfs", True, 2),
                                                                      ("lower-limb", False, 9)]  # fmt: skip
    code, out, _ = run(cli, "questionnaire", "list")
    rows = [[cell for cell in line.split("  ") if cell.strip()] for line in out.splitlines()]
    assert [cell.strip() for cell in rows[2]] == ["psfs", "Patient-Specific Functional Scale", "5",
                                                  "mean 0-10, higher is better, MCID 2", "shipped"]  # fmt: skip
    assert rows[3][0] == "lower-limb" and rows[3][-1].strip() == "added"


def test_a_bad_file_is_refused_in_one_line(cli: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"resourceType": "Questionnaire",', encoding="utf-8")
    code, out, err = run(cli, "questionnaire", "add", str(broken))
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {broken} is not JSON (line 1:")
    no_rule = tmp_path / "no-rule.json"
    no_rule.write_text(json.dumps(_lefs_like(extension=[])), encoding="utf-8")
    code, _, err = run(cli, "questionnaire", "add", str(no_rule))
    assert code == 2
    assert err.startswith("error: the Questionnaire has no scoring rule")
    assert [q["code"] for q in run_json(cli, "questionnaire", "list")] == ["nprs", "psfs"]  # type: ignore[union-attr]


def test_assign_then_outcomes(cli: CliRunner, maria: int, db_url: str) -> None:
    code, out, err = run(cli, "questionnaire", "assign", str(maria), "nprs", "--every-visits", "1")
    assert code == 0, err
    assert out.strip() == f"patient {maria}: nprs (Pain rating (0-10)) asked every visit"
    assigned = run_json(cli, "questionnaire", "assign", str(maria), "psfs", "--every-days", "14",
                        "--activity", "Climbing stairs", "--activity", "Gardening")  # fmt: skip
    assert assigned == {"patient_id": maria, "questionnaire": "psfs", "when": "every 14 days",
                        "activities": ["Climbing stairs", "Gardening"]}  # fmt: skip
    code, _, err = run(cli, "questionnaire", "assign", str(maria), "psfs", "--every-days", "14")
    assert (code, err.strip()) == (2, 'error: Patient-Specific Functional Scale rates activities the patient names: '
                                      'name at least one, such as "Climbing stairs"')  # fmt: skip
    code, _, err = run(cli, "questionnaire", "assign", str(maria), "nprs")
    assert code == 2 and "say when it is due" in err
    engine = make_engine(db_url)
    try:
        make.weekly_pain_answers(engine, maria, [7, 6, 4], start=T0)
    finally:
        engine.dispose()
    report = run_json(cli, "patient", "outcomes", str(maria))
    assert isinstance(report, dict)
    pain = report["outcomes"][0]
    assert (pain["questionnaire"], [s["score"] for s in pain["scores"]], pain["change"], pain["improved"]) == (
        "nprs", [7, 6, 4], -3, True)  # fmt: skip
    assert pain["verdict"] == "Improved by more than the MCID since intake"
    assert report["outcomes"][1]["verdict"] == "No scores yet"
    code, out, _ = run(cli, "patient", "outcomes", str(maria))
    assert "nprs: Pain rating (0-10) (0-10, lower is better, MCID 2)" in out
    assert "Improved by more than the MCID since intake (7 -> 4)" in out
    code, out, _ = run(cli, "questionnaire", "unassign", str(maria), "psfs")
    assert (code, out.strip()) == (0, f"patient {maria}: psfs no longer asked")
    code, _, err = run(cli, "questionnaire", "unassign", str(maria), "psfs")
    assert (code, err.strip()) == (2, f"error: patient {maria} is not assigned 'psfs'")
