"""The patient, appointment, exercise and plan commands, check-in and demo seeding, as front-desk staff and
scripts use them: output shapes, exit codes, privacy of cards."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from kiosk.lobby.camera import read_qr
from shared.care.models import Appointment, PlanItem
from shared.equipment.stations import register_equipment
from shared.store.db import make_engine, unit_of_work
from shared.store.settings import get_settings
from tests import factories as make
from tests.cli_support import KIOSK, run, run_json
from tests.pdf_support import pdf_pages, read_qr_codes

PLAN_LINE_KEYS = {
    "exercise", "sets", "reps", "hold_s", "minutes", "load", "equipment_id", "equipment_status", "instructions",
}  # fmt: skip


def count(db_url: str, table: type[Appointment] | type[PlanItem]) -> int:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    engine.dispose()
    return total


def soon(minutes: int = 30) -> str:
    """A local (UTC) time `minutes` from now as staff type it."""
    return (datetime.now(UTC) + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M")


def test_patient_add_prints_the_id_and_json_has_id_and_display_name(cli: CliRunner) -> None:
    info = run_json(cli, "patient", "add", "--first", "Maria", "--last", "Gonzalez", "--dob", "1950-04-17")
    assert info == {"id": 1, "display_name": "Maria G."}
    code, out, _ = run(cli, "patient", "add", "--first", "James", "--last", "Okafor", "--dob", "1962-09-03")
    assert (code, out) == (0, "added patient 2 (James O.)\n")


def test_patient_card_writes_a_png_whose_qr_is_only_the_link(cli: CliRunner, maria: int, tmp_path: Path) -> None:
    out_file = tmp_path / "cards" / "maria.png"
    code, out, err = run(cli, "patient", "card", str(maria), "--out", str(out_file), "--json")
    info = json.loads(out)
    assert code == 0
    assert set(info) == {"patient_id", "url", "token"} and info["patient_id"] == maria
    assert info["url"] == f"{KIOSK}/?t={info['token']}"
    assert parse_qs(urlsplit(info["url"]).query) == {"t": [info["token"]]}
    png = out_file.read_bytes()
    assert read_qr(png) == info["url"]
    with Image.open(out_file) as image:
        assert image.format == "PNG" and not image.text  # type: ignore[attr-defined]  # no metadata at all
    code, human, herr = run(cli, "patient", "card", str(maria), "--out", str(out_file))
    assert code == 0 and human.splitlines()[-1] == read_qr(out_file.read_bytes())
    for text in (out, err, human, herr):
        assert "Gonzalez" not in text and "1950" not in text and "04-17" not in text
    assert b"Gonzalez" not in png and b"1950-04-17" not in png


def test_a_new_card_or_revoke_stops_older_cards(cli: CliRunner, maria: int, tmp_path: Path) -> None:
    first = run_json(cli, "patient", "card", str(maria), "--out", str(tmp_path / "a.png"))
    second = run_json(cli, "patient", "card", str(maria), "--out", str(tmp_path / "b.png"))
    assert isinstance(first, dict) and isinstance(second, dict)
    assert run(cli, "checkin", first["url"])[0] == 1
    code, out, _ = run(cli, "patient", "revoke", str(maria))
    assert (code, out) == (0, "revoked 1 card(s)\n")
    code, out, _ = run(cli, "checkin", second["token"], "--json")
    assert (code, json.loads(out)["result"]) == (1, "invalid"), "a revoked card answers as an unknown one"
    unknown = run(cli, "checkin", f"{KIOSK}/?t=not-a-real-token-at-all-000")
    assert run(cli, "checkin", second["url"]) == unknown
    assert unknown[:2] == (1, "We can't use this card. Please see the front desk.\n")


def test_patient_changes_from_the_cli_are_audited_with_the_os_user(
    cli: CliRunner, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGNAME", "frontdesk")  # getpass.getuser() reads LOGNAME first
    info = run_json(cli, "patient", "add", "--first", "Maria", "--last", "Gonzalez", "--dob", "1950-04-17",
                    "--language", "es")  # fmt: skip
    assert isinstance(info, dict)
    patient = f"patient {info['id']}"
    run(cli, "patient", "card", str(info["id"]), "--out", str(tmp_path / "card.png"))
    run(cli, "patient", "language", str(info["id"]), "en")
    assert run(cli, "patient", "revoke", str(info["id"]))[:2] == (0, "revoked 1 card(s)\n")
    assert make.audit_log(engine) == [
        ("cli:frontdesk", "patient.add", patient, {}),
        ("cli:frontdesk", "patient.card_issued", patient, {"older_cards_revoked": 0}),
        ("cli:frontdesk", "patient.language", patient, {"language": "en"}),
        ("cli:frontdesk", "patient.cards_revoked", patient, {"revoked": 1, "plan_links_revoked": 0}),
    ]


def test_appointment_add_reads_local_time_in_the_clinic_zone(
    cli: CliRunner, maria: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLINIC_TIMEZONE", "Europe/Berlin")
    get_settings.cache_clear()
    info = run_json(
        cli, "appointment", "add", str(maria), "--at", "2026-11-23 10:30", "--minutes", "30", "--with", "Alex"
    )
    assert info == {
        "id": 1, "patient_id": maria, "site": "main", "starts_at": "2026-11-23T09:30:00Z", "minutes": 30,
        "clinician": "Alex", "status": "scheduled",
    }  # fmt: skip
    code, out, _ = run(cli, "appointment", "add", str(maria), "--at", "10:30")
    assert code == 0
    assert re.fullmatch(r"booked appointment 2: patient 1, \d{4}-\d\d-\d\d 10:30, 45 min\n", out)


def test_appointment_import_all_rows_or_none(cli: CliRunner, maria: int, tmp_path: Path, db_url: str) -> None:
    good = tmp_path / "good.csv"
    good.write_text(f"patient_id,start,minutes,clinician\n{maria},2026-11-23 10:30,30,Alex\n{maria},11:00,,\n")
    info = run_json(cli, "appointment", "import", str(good))
    assert isinstance(info, dict) and info["imported"] == 2
    assert [a["starts_at"][:10] for a in info["appointments"]] == ["2026-11-23", datetime.now(UTC).date().isoformat()]
    assert info["appointments"][0]["starts_at"] == "2026-11-23T10:30:00Z"
    bad = tmp_path / "bad.csv"
    bad.write_text(f"patient_id,start,minutes,clinician\n{maria},12:00,,\n{maria},half past ten,,\n")
    code, out, err = run(cli, "appointment", "import", str(bad))
    assert code == 2 and out == ""
    expected = "time 'half past ten' is not like 10:30, 3pm, 3:30 pm or 2026-11-23 10:30"
    assert err == f"error: line 3: {expected}; nothing was imported\n"
    assert count(db_url, Appointment) == 2


def test_import_help_documents_the_columns(cli: CliRunner) -> None:
    assert "patient_id,start,minutes,clinician" in run(cli, "appointment", "import", "--help")[1]
    help_text = " ".join(run(cli, "plan", "import", "--help")[1].split())
    assert "patient_id,exercise,sets,reps,hold_s,minutes,load,station,notes,from,to" in help_text.replace("│ ", "")


def test_exercise_and_plan_add_then_show_with_station_status(cli: CliRunner, maria: int, db_url: str) -> None:
    engine = make_engine(db_url)
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1", name="Treadmill 1", zone="Gym A")
    engine.dispose()
    assert run(cli, "exercise", "add", "Treadmill walk", "--instructions", "Easy pace.", "--kind", "treadmill")[0] == 0
    assert run(cli, "exercise", "add", "Bridges")[1] == "saved exercise 'Bridges' (id 2)\n"
    added = run_json(cli, "plan", "add", str(maria), "--exercise", "Treadmill walk", "--minutes", "10",
                     "--station", "tm-1")  # fmt: skip
    assert isinstance(added, dict) and (added["position"], added["equipment_id"]) == (1, "tm-1")
    code, out, _ = run(cli, "plan", "add", str(maria), "--exercise", "Bridges", "--sets", "3", "--reps", "12",
                       "--hold", "3", "--to", "2099-01-01")  # fmt: skip
    assert (code, out) == (0, f"added plan line 2 (position 2) for patient {maria}\n")
    plan = run_json(cli, "plan", "show", str(maria))
    assert isinstance(plan, list) and all(set(line) >= PLAN_LINE_KEYS for line in plan)
    assert [(p["exercise"], p["equipment_status"], p["hold_s"]) for p in plan] == [
        ("Treadmill walk", "available", None),
        ("Bridges", None, 3),
    ]
    table = run(cli, "plan", "show", str(maria))[1]
    assert "Treadmill 1" in table and "3 x 12, hold 3 s" in table and "available" in table


def test_plan_import_all_rows_or_none(cli: CliRunner, maria: int, tmp_path: Path, db_url: str) -> None:
    run(cli, "exercise", "add", "Bridges")
    header = "patient_id,exercise,sets,reps,hold_s,minutes,load,station,notes,from,to\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(header + f"{maria},Bridges,3,12,,,,,,,\n{maria},Yoga,,,,,,,,,\n")
    code, out, err = run(cli, "plan", "import", str(bad))
    assert (code, out) == (2, "")
    assert err == "error: line 3: no exercise named 'Yoga' in the library; nothing was imported\n"
    assert count(db_url, PlanItem) == 0
    good = tmp_path / "good.csv"
    good.write_text(header + f"{maria},Bridges,3,12,3,,,,,,\n{maria},Bridges,,,,5,,,,,\n")
    assert run(cli, "plan", "import", str(good))[1] == "imported 2 plan line(s)\n"
    plan = run_json(cli, "plan", "show", str(maria))
    assert isinstance(plan, list) and [line["minutes"] for line in plan] == [None, 5.0]


def test_checkin_json_human_and_exit_codes(clock: datetime, cli: CliRunner, maria: int, tmp_path: Path) -> None:
    run(cli, "exercise", "add", "Bridges", "--instructions", "Lift your hips.")
    run(cli, "plan", "add", str(maria), "--exercise", "Bridges", "--sets", "3", "--reps", "12")
    card = run_json(cli, "patient", "card", str(maria), "--out", str(tmp_path / "card.png"))
    assert isinstance(card, dict)
    code, out, _ = run(cli, "checkin", card["url"], "--json")
    assert (code, json.loads(out)["result"]) == (1, "no_appointment")
    at = soon()
    run(cli, "appointment", "add", str(maria), "--at", at, "--with", "Alex")
    code, out, _ = run(cli, "checkin", card["url"], "--json")
    outcome = json.loads(out)
    assert code == 0 and set(outcome) == {"result", "display_name", "appointment_at", "plan"}
    assert (outcome["result"], outcome["display_name"]) == ("checked_in", "Maria G.")
    assert outcome["appointment_at"] == at.replace(" ", "T") + ":00Z"
    assert [(p["exercise"], p["sets"], p["instructions"]) for p in outcome["plan"]] == [
        ("Bridges", 3, "Lift your hips.")
    ]
    assert set(outcome["plan"][0]) >= PLAN_LINE_KEYS
    code, out, _ = run(cli, "checkin", card["token"])
    assert code == 0
    assert out.startswith(f"Welcome back, Maria G. You're already checked in for {at[-5:]} with Alex (since ")
    assert "Bridges" in out and "Gonzalez" not in out


def test_checkin_with_an_invalid_card_exits_1(cli: CliRunner) -> None:
    code, out, _ = run(cli, "checkin", f"{KIOSK}/?t=not-a-real-token-at-all-000", "--json")
    assert code == 1
    assert json.loads(out) == {"result": "invalid", "display_name": None, "appointment_at": None, "plan": []}
    code, out, _ = run(cli, "checkin", "garbage")
    assert (code, out) == (1, "Sorry, we couldn't read that card. Please try again, or see the front desk.\n")


def test_seed_demo_prints_cards_once_and_writes_pngs(cli: CliRunner, tmp_path: Path) -> None:
    code, out, _ = run(cli, "seed", "--demo")
    assert code == 0 and "demo stations ready at site 'main' (12)" in out
    urls = re.findall(rf"{re.escape(KIOSK)}/\?t=[A-Za-z0-9_-]+", out)
    assert len(urls) == 4 and "Maria" in out and "1950-04-17" in out
    maria_row = next(line for line in out.splitlines() if line.startswith("Maria"))
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", maria_row) and "Gonzalez" not in out
    cards = tmp_path / "data" / "cards"
    assert sorted(p.name for p in cards.iterdir()) == ["James.png", "Maria.png", "Ruth.png", "Sam.png", "cards.pdf"]
    assert read_qr((cards / "Maria.png").read_bytes()) in urls
    [sheet] = pdf_pages((cards / "cards.pdf").read_bytes())  # the four on one A4 page, to print and cut
    assert (round(sheet.width_mm), round(sheet.height_mm)) == (210, 297)
    assert sorted(r.text for r in read_qr_codes(sheet.image)) == sorted(urls)
    code, again, _ = run(cli, "seed", "--demo")
    assert code == 0 and "demo data already exists: Maria (patient 1)" in again
    assert "?t=" not in again and "clinic patient card <id>" in again
    assert json.loads(run(cli, "checkin", urls[0], "--json")[1])["result"] == "checked_in"  # first cards still work


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["patient", "add", "--first", " ", "--last", "G", "--dob", "1950-04-17"], "first name must not be empty"),
        (["patient", "add", "--first", "M", "--last", "G", "--dob", "17/04/1950"],
         "date of birth '17/04/1950' is not a date like 1950-04-17"),
        (["patient", "card", "99", "--out", "{tmp}/x.png"], "no patient with id 99"),
        (["patient", "revoke", "99"], "no patient with id 99"),
        (["appointment", "add", "99", "--at", "10:30"], "no patient with id 99"),
        (["appointment", "add", "{pid}", "--at", "23/11/2026 10:30"], "time '23/11/2026 10:30' is not like"),
        (["appointment", "add", "{pid}", "--at", "10:30", "--minutes", "1"], "length 1 min must be between 5 and 480"),
        (["appointment", "import", "{tmp}/missing.csv"], "cannot read {tmp}/missing.csv: No such file or directory"),
        (["exercise", "add", " "], "exercise name must be 1 to 120 characters"),
        (["plan", "add", "99", "--exercise", "Bridges"], "no patient with id 99"),
        (["plan", "add", "{pid}", "--exercise", "Yoga"], "no exercise named 'Yoga' in the library"),
        (["plan", "add", "{pid}", "--exercise", "Bridges", "--from", "17/04/1950"],
         "--from '17/04/1950' is not a date like 1950-04-17"),
        (["plan", "add", "{pid}", "--exercise", "Bridges", "--sets", "0"], "sets must be between 1 and 1000"),
        (["plan", "show", "99"], "no patient with id 99"),
        (["seed"], "nothing to seed: add --demo"),
    ],
)  # fmt: skip
def test_user_mistakes_get_one_error_line_and_exit_2(
    cli: CliRunner, maria: int, tmp_path: Path, args: list[str], message: str
) -> None:
    run(cli, "exercise", "add", "Bridges")
    filled = [arg.format(pid=maria, tmp=tmp_path) for arg in args]
    code, out, err = run(cli, *filled)
    assert code == 2
    assert err.startswith("error: " + message.format(tmp=tmp_path)) and err.count("\n") == 1
    assert "Traceback" not in out + err
    assert not (tmp_path / "x.png").exists()
