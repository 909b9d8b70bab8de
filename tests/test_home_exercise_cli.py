"""`clinic plan link` (the patient's lasting take-home link, printable) and `clinic patient adherence`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Engine
from typer.testing import CliRunner

from shared.outcomes.home_log import tick
from shared.store.db import unit_of_work
from shared.store.settings import get_settings
from tests.cli_support import KIOSK, run, run_json
from tests.factories import audit_log
from tests.pdf_support import pdf_pages, read_qr_codes


def plan_of_two(cli: CliRunner, patient: int) -> list[int]:
    """Two exercises on the patient's plan from today; their plan line ids."""
    ids = []
    for name in ("Heel raises", "Wall squat"):
        assert run(cli, "exercise", "add", name)[0] == 0
        added = run_json(cli, "plan", "add", str(patient), "--exercise", name, "--sets", "3", "--reps", "10")
        assert isinstance(added, dict)
        ids.append(int(added["id"]))
    return ids


def test_plan_link_is_the_same_link_until_revoked_and_prints_at_the_desk(
    cli: CliRunner, maria: int, tmp_path: Path, clock: datetime, engine: Engine
) -> None:
    plan_of_two(cli, maria)
    first = run_json(cli, "plan", "link", str(maria), "--out", str(tmp_path / "link.pdf"))
    again = run_json(cli, "plan", "link", str(maria))
    assert isinstance(first, dict) and isinstance(again, dict)
    assert first["url"].startswith(f"{KIOSK}/?p=") and first["created"] is True
    assert (again["url"], again["created"], again["expires_at"]) == (first["url"], False, first["expires_at"])
    assert first["expires_at"].startswith("2027-01-12T12:00")  # CLINIC_PLAN_LINK_DAYS (42) after the clock's time
    [page] = pdf_pages((tmp_path / "link.pdf").read_bytes())
    assert [code.text for code in read_qr_codes(page.image)] == [first["url"]]
    assert (get_settings().data_dir / "plan-links.key").stat().st_mode & 0o077 == 0
    [made] = [entry for entry in audit_log(engine) if entry[1] == "plan.link"]  # showing it again is not a change
    assert made[0].startswith("cli") and made[2] == f"patient {maria}"
    code, _, err = run(cli, "plan", "link", str(maria), "--out", str(tmp_path / "link.txt"))
    assert code == 2
    assert err == "error: --out link.txt: the link is written as .pdf (a card to print) or .png (an image)\n"
    code, out, _ = run(cli, "patient", "revoke", str(maria))
    assert code == 0 and "revoked 1 take-home plan link(s)" in out
    code, out, _ = run(cli, "plan", "link", str(maria))
    assert code == 0 and out.startswith(f"new link for patient {maria}, works until ") and first["url"] not in out


def test_patient_adherence_counts_what_the_phone_ticked(
    cli: CliRunner, maria: int, engine: Engine, clock: datetime
) -> None:
    heel, _ = plan_of_two(cli, maria)
    link = run_json(cli, "plan", "link", str(maria))
    assert isinstance(link, dict)
    token = parse_qs(urlsplit(link["url"]).query)["p"][0]
    with unit_of_work(engine) as session:
        tick(session=session, token=token, plan_item_id=heel, tz=get_settings().tz, limit=30)
    figures = run_json(cli, "patient", "adherence", str(maria))
    assert figures == {"patient_id": maria, "today": clock.date().isoformat(), "done_7": 1, "prescribed_7": 2,
                       "done_30": 1, "prescribed_30": 2, "days_with_data_30": 1, "percent_7": 50,
                       "percent_30": 50, "needs_nudge": False}  # fmt: skip
    code, out, _ = run(cli, "patient", "adherence", str(maria))
    assert (code, out) == (0, f"patient {maria}: This week 1 of 2 done (50%); 30 days 1 of 2 (50%); "
                              "1 of 30 days with data\n")  # fmt: skip
