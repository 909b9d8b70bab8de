"""`clinic fhir` as staff and scripts use it: import a file or a server's search, export a day to a file or push
it to a server (a real http.server on loopback), and the patient's EHR identifier."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clinic.cli import app
from shared.store.settings import get_settings
from tests.clock import MIDDAY
from tests.fhir_support import MRN, appointment, bundle, fhir_server, patient, validate_bundle
from tests.helpers import free_port

SOON = MIDDAY + timedelta(minutes=20)  # within the check-in window of the tests' clock (the `clock` fixture)
DAY = SOON.date().isoformat()  # today, on that clock


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str, clock: datetime) -> Iterator[CliRunner]:
    """A runner on the test store (the clinic in UTC), the commands run in this process at the `clock`'s time."""
    assert clock == MIDDAY
    monkeypatch.setenv("CLINIC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CLINIC_DATABASE_URL", db_url)
    monkeypatch.setenv("CLINIC_TIMEZONE", "UTC")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def schedule() -> dict:
    return bundle(patient("p1", mrn="MRN0001"), appointment("a1", patient_ref="Patient/p1", start=SOON.isoformat()))


def write(tmp_path: Path, data: object) -> str:
    path = tmp_path / "schedule.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_import_says_what_changed_and_a_second_import_changes_nothing(cli: CliRunner, tmp_path: Path) -> None:
    file = write(tmp_path, schedule())
    first = cli.invoke(app, ["fhir", "import", file])
    assert first.exit_code == 0, first.output
    assert first.output == ("patients: 1 created, 0 updated; appointments: 1 created, 0 moved, 0 cancelled, "
                            "0 marked no-show; 0 unchanged, 0 other resources skipped\n")  # fmt: skip
    again = cli.invoke(app, ["fhir", "import", file, "--json"])
    assert json.loads(again.output)["unchanged"] == 2 and json.loads(again.output)["appointments_created"] == 0


def test_a_bad_bundle_is_one_error_line_naming_the_entry(cli: CliRunner, tmp_path: Path) -> None:
    data = schedule()
    del data["entry"][1]["resource"]["start"]
    result = cli.invoke(app, ["fhir", "import", write(tmp_path, data)])
    assert result.exit_code == 2
    assert result.output == ("error: Bundle.entry[1] (http://ehr.example/fhir/Appointment/a1): Appointment.start is "
                             "missing; nothing was imported\n")  # fmt: skip
    exported = json.loads(cli.invoke(app, ["fhir", "export"]).output)
    assert exported["entry"] == []


def test_a_file_that_is_not_json_is_refused(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("MSH|^~\\&|")
    result = cli.invoke(app, ["fhir", "import", str(path)])
    assert result.exit_code == 2 and result.output.startswith(f"error: {path} is not JSON: ")


def test_import_from_a_fhir_servers_search_then_push_the_arrivals_back(cli: CliRunner, tmp_path: Path) -> None:
    with fhir_server() as server:
        server.pages = [schedule() | {"type": "searchset"}]
        imported = cli.invoke(app, ["fhir", "import", "--url", server.base, "--day", DAY])
        assert imported.exit_code == 0, imported.output
        assert imported.output.startswith("patients: 1 created, 0 updated; appointments: 1 created")
        card = cli.invoke(app, ["patient", "card", "1", "--out", str(tmp_path / "card.png"), "--json"])
        assert cli.invoke(app, ["checkin", json.loads(card.output)["token"]]).exit_code == 0
        out = tmp_path / "out" / "day.json"
        pushed = cli.invoke(app, ["fhir", "export", "--day", DAY, "--out", str(out), "--push", server.base])
    assert pushed.exit_code == 0, pushed.output
    assert pushed.output == (f"wrote 3 resources for {DAY} to {out}\n"
                             f"pushed 3 resources for {DAY}: the server answered 3 entries\n")  # fmt: skip
    resources = validate_bundle(json.loads(out.read_text()))
    assert [r["status"] for r in resources if r["resourceType"] == "Appointment"] == ["arrived"]
    [transaction] = server.posted
    assert transaction["type"] == "transaction"
    assert [e["request"]["method"] for e in transaction["entry"]] == ["POST", "PUT", "PUT"]


def test_an_unreachable_server_is_one_clear_error_line(cli: CliRunner) -> None:
    port = free_port()
    result = cli.invoke(app, ["fhir", "import", "--url", f"http://127.0.0.1:{port}/fhir"])
    assert result.exit_code == 2
    assert result.output == (f"error: cannot reach the FHIR server (GET http://127.0.0.1:{port}/fhir/Appointment): "
                             "[Errno 111] Connection refused\n")  # fmt: skip
    pushed = cli.invoke(app, ["fhir", "export", "--push", f"http://127.0.0.1:{port}/fhir"])
    assert pushed.exit_code == 2 and pushed.output.startswith("error: cannot reach the FHIR server (POST ")


def test_import_needs_a_file_or_a_url(cli: CliRunner) -> None:
    result = cli.invoke(app, ["fhir", "import"])
    assert (result.exit_code, result.output) == (2, "error: give a Bundle file or --url (one of them)\n")
    result = cli.invoke(app, ["fhir", "import", "x.json", "--day", DAY])
    assert (result.exit_code, result.output) == (
        2, "error: --day chooses the day read with --url; a file is imported whole\n"
    )


def test_a_patient_added_with_an_ehr_identifier_is_matched_by_the_import(cli: CliRunner, tmp_path: Path) -> None:
    added = cli.invoke(app, ["patient", "add", "--first", "Maria", "--last", "Gonzalez", "--dob", "1950-04-17",
                             "--identifier", f"{MRN}|MRN0001", "--json"])  # fmt: skip
    assert added.exit_code == 0, added.output
    imported = cli.invoke(app, ["fhir", "import", write(tmp_path, schedule()), "--json"])
    assert json.loads(imported.output)["patients_created"] == 0
    exported = json.loads(cli.invoke(app, ["fhir", "export", "--day", DAY]).output)
    [person] = [e["resource"] for e in exported["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert person["identifier"][0]["value"] == "MRN0001" and person["identifier"][1]["value"] == str(
        json.loads(added.output)["id"]
    )


@pytest.mark.parametrize(("identifier", "message"), [
    ("MRN0001", "identifier 'MRN0001' must be SYSTEM|VALUE, like http://ehr.example/mrn|12345"),
    ("mrn|MRN0001", "identifier system 'mrn' must be a URI like http://ehr.example/mrn or urn:oid:1.2"),
    (f"{MRN}|", f"identifier '{MRN}|' must be SYSTEM|VALUE, like http://ehr.example/mrn|12345"),
])  # fmt: skip
def test_a_bad_identifier_adds_no_patient(cli: CliRunner, identifier: str, message: str) -> None:
    result = cli.invoke(app, ["patient", "add", "--first", "M", "--last", "G", "--dob", "1950-04-17",
                              "--identifier", identifier])  # fmt: skip
    assert (result.exit_code, result.output) == (2, f"error: {message}\n")


def test_an_identifier_belongs_to_one_patient(cli: CliRunner) -> None:
    args = ["patient", "add", "--first", "M", "--last", "G", "--dob", "1950-04-17", "--identifier", f"{MRN}|7"]
    assert cli.invoke(app, args).exit_code == 0
    second = cli.invoke(app, args)
    assert (second.exit_code, second.output) == (2, f"error: identifier {MRN}|7 already belongs to patient 1\n")
