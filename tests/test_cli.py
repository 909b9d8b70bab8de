"""The `clinic` command as people and scripts use it: output shapes, exit codes, errors without tracebacks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clinic.cli import app
from shared.equipment.ingest import record_batch
from shared.equipment.payloads import decode
from shared.store.db import make_engine
from shared.store.settings import get_settings

REQUIRED_EQUIPMENT_KEYS = {
    "site", "id", "name", "kind", "zone", "status", "online", "last_seen", "in_use_since", "last_cleaned_at",
    "last_cleaned_by", "uses_today", "uses_total", "in_use_seconds_total", "fault_code",
}  # fmt: skip


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Iterator[CliRunner]:
    """A runner whose settings point at a fresh data folder and the test store."""
    monkeypatch.setenv("CLINIC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CLINIC_DATABASE_URL", db_url)
    monkeypatch.setenv("CLINIC_TIMEZONE", "UTC")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def run(cli: CliRunner, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_init_twice_succeeds_and_creates_broker_files(cli: CliRunner, tmp_path: Path) -> None:
    assert run(cli, "init")[0] == 0
    code, out, _ = run(cli, "init")
    assert code == 0 and "database ready" in out
    passwd = (tmp_path / "data" / "mosquitto" / "passwd").read_text()
    assert "svc.listener:$7$" in passwd
    assert oct((tmp_path / "data" / "mosquitto" / "passwd").stat().st_mode & 0o777) == "0o600"


def test_device_add_registers_and_prints_credentials_once(cli: CliRunner, tmp_path: Path) -> None:
    code, out, _ = run(cli, "device", "add", "tm-1", "--name", "Treadmill 1", "--zone", "Gym A", "--json")
    info = json.loads(out)
    assert code == 0
    assert (info["id"], info["username"], info["topic"]) == ("tm-1", "tm-1", "clinic/main/equipment/tm-1/<channel>")
    passwd = (tmp_path / "data" / "mosquitto" / "passwd").read_text()
    assert "tm-1:$7$" in passwd and info["password"] not in passwd


def test_device_add_says_how_to_record_what_the_device_sent_before(cli: CliRunner, db_url: str) -> None:
    engine = make_engine(db_url)
    start = b'{"event_id": "s1", "event": "start", "session_id": "a"}'
    record_batch(engine=engine, items=[decode("clinic/main/equipment/tm-9/usage", start, prefix="clinic",
                                              received_at=datetime.now(UTC))], tz=UTC)  # fmt: skip
    code, out, err = run(cli, "device", "add", "tm-9", "--name", "Treadmill 9", "--json")
    assert code == 0 and json.loads(out)["id"] == "tm-9", "the JSON for scripts stays as it was"
    assert err == (
        "note: 1 message(s) from tm-9 were kept while it was not registered; "
        "`clinic deadletters replay --equipment tm-9` records them\n"
    )
    assert run(cli, "deadletters", "replay", "--equipment", "tm-9")[1] == "recorded 1, still kept 0\n"
    assert run(cli, "device", "add", "tm-9")[2] == "", "nothing kept any more: no note"
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["device", "add", "Bad Id"], "error: equipment id 'Bad Id' must match"),
        (["device", "add", "tm-1", "--name", ""], "error: name must be 1 to 200 characters"),
        (["device", "add", "tm-1", "--maintenance-hours", "-3"], "error: maintenance interval must be a positive"),
    ],
)
def test_user_mistakes_get_one_line_on_stderr_and_exit_2(cli: CliRunner, args: list[str], message: str) -> None:
    code, out, err = run(cli, *args)
    assert code == 2
    assert err.startswith(message)
    assert "Traceback" not in err + out


def test_equipment_list_json_has_the_documented_keys_and_live_state(cli: CliRunner, db_url: str) -> None:
    run(cli, "device", "add", "tm-1", "--name", "Treadmill 1")
    run(cli, "device", "add", "bars-1", "--name", "Parallel bars", "--kind", "parallel_bars")
    engine = make_engine(db_url)
    start = decode("clinic/main/equipment/tm-1/usage", b'{"event_id": "e1", "event": "start"}',
                   prefix="clinic", received_at=datetime.now(UTC))  # fmt: skip
    record_batch(engine=engine, items=[start], tz=UTC)
    engine.dispose()
    code, out, _ = run(cli, "equipment", "list", "--json")
    rows = {row["id"]: row for row in json.loads(out)}
    assert code == 0
    assert set(rows["tm-1"]) >= REQUIRED_EQUIPMENT_KEYS
    assert (rows["tm-1"]["status"], rows["tm-1"]["uses_today"], rows["bars-1"]["status"]) == ("in_use", 1, "available")
    assert rows["tm-1"]["in_use_since"].endswith("Z")
    code, table, _ = run(cli, "equipment", "list")
    assert "in use for 0 min" in table and "Parallel bars" in table


def test_deadletters_json_and_replay(cli: CliRunner, db_url: str) -> None:
    engine = make_engine(db_url)
    ghost = decode("clinic/main/equipment/bike-2/usage", b'{"event_id": "b", "event": "start"}',
                   prefix="clinic", received_at=datetime.now(UTC))  # fmt: skip
    record_batch(engine=engine, items=[ghost], tz=UTC)
    engine.dispose()
    code, out, _ = run(cli, "deadletters", "--json")
    letters = json.loads(out)
    assert code == 0
    assert {"received_at", "topic", "reason", "payload"} <= set(letters[0])
    assert letters[0]["reason"] == "equipment 'bike-2' is not registered at site 'main'"
    run(cli, "device", "add", "bike-2")
    assert run(cli, "deadletters", "replay")[1].strip() == "recorded 1, still kept 0"
    assert run(cli, "deadletters")[1].strip() == "no dead letters"


def test_an_unreachable_database_is_a_clear_error(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINIC_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    code, _, err = run(cli, "equipment", "list")
    assert code == 2 and err.startswith("error: cannot use the database")


def test_device_add_again_rotates_the_password_and_keeps_the_details(cli: CliRunner) -> None:
    first = json.loads(run(cli, "device", "add", "tm-1", "--name", "Treadmill 1", "--zone", "Gym A", "--json")[1])
    second = json.loads(run(cli, "device", "add", "tm-1", "--json")[1])
    rows = json.loads(run(cli, "equipment", "list", "--json")[1])
    assert first["password"] != second["password"]
    assert (rows[0]["name"], rows[0]["zone"]) == ("Treadmill 1", "Gym A")


def test_the_same_id_at_another_site_is_refused(cli: CliRunner) -> None:
    run(cli, "device", "add", "tm-1")
    code, _, err = run(cli, "device", "add", "tm-1", "--site", "east")
    assert code == 2 and "already has a broker account at site 'main'" in err
