"""`clinic device label` and `clinic device labels`: printable station QR labels from the command line."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from typer.testing import CliRunner

from clinic.cli import app
from kiosk.lobby.camera import read_qr
from shared.store.settings import get_settings
from tests.pdf_support import read_qr_codes

STAFF = "https://staff.clinic.example"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Iterator[CliRunner]:
    """A runner on the test store with a known staff app address, and three stations in two zones."""
    monkeypatch.setenv("CLINIC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CLINIC_DATABASE_URL", db_url)
    monkeypatch.setenv("CLINIC_TIMEZONE", "UTC")
    monkeypatch.setenv("CLINIC_STAFF_URL", STAFF)
    get_settings.cache_clear()
    runner = CliRunner()
    for equipment_id, name, zone in [("tm-1", "Treadmill 1", "Gym A"), ("bars-1", "Parallel bars", "Gym A"),
                                     ("mat-1", "Mat <b>1</b>", "Gym B")]:  # fmt: skip
        assert run(runner, "device", "add", equipment_id, "--name", name, "--zone", zone)[0] == 0
    yield runner
    get_settings.cache_clear()


def run(cli: CliRunner, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def pdf_pages(pdf: bytes) -> list[Image.Image]:
    """The page images of a sheet (PIL writes each page as one JPEG stream)."""
    streams = re.findall(rb"/DCTDecode.*?stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
    return [Image.open(io.BytesIO(data)) for data in streams]


def test_label_writes_a_png_whose_code_is_the_station_link(cli: CliRunner, tmp_path: Path) -> None:
    out_file = tmp_path / "labels" / "tm-1.png"
    code, out, err = run(cli, "device", "label", "tm-1", "--out", str(out_file))
    assert (code, err) == (0, "")
    url = f"{STAFF}/scan?s=main/tm-1"
    assert out == f"label for 'Treadmill 1' (main/tm-1) written to {out_file}\n{url}\n"
    assert read_qr(out_file.read_bytes()) == url
    with Image.open(out_file) as image:
        assert image.size == (591, 354)
        assert [round(v) for v in image.info["dpi"]] == [300, 300], "prints at 50 x 30 mm"


def test_label_json_for_scripts(cli: CliRunner, tmp_path: Path) -> None:
    code, out, _ = run(cli, "device", "label", "mat-1", "--site", "main", "--out", str(tmp_path / "m.png"), "--json")
    assert code == 0
    url = f"{STAFF}/scan?s=main/mat-1"
    assert json.loads(out) == {"site": "main", "id": "mat-1", "name": "Mat <b>1</b>", "url": url}
    assert read_qr((tmp_path / "m.png").read_bytes()) == url


def test_labels_writes_a_sheet_with_one_label_per_station_of_the_zone(cli: CliRunner, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.pdf"
    code, out, err = run(cli, "device", "labels", "--zone", "Gym A", "--out", str(sheet))
    assert (code, err) == (0, "")
    assert out == f"2 labels for zone 'Gym A' on 1 page written to {sheet}\n"
    pdf = sheet.read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = pdf_pages(pdf)
    assert [page.size for page in pages] == [(2480, 3508)]  # A4 at 300 dpi
    found = sorted(r.text for r in read_qr_codes(pages[0]))
    assert found == [f"{STAFF}/scan?s=main/bars-1", f"{STAFF}/scan?s=main/tm-1"]
    code, out, _ = run(cli, "device", "labels", "--zone", "Gym B", "--out", str(sheet), "--json")
    assert json.loads(out) == {"site": "main", "zone": "Gym B", "labels": 1, "pages": 1}
    assert [r.text for r in read_qr_codes(pdf_pages(sheet.read_bytes())[0])] == [f"{STAFF}/scan?s=main/mat-1"]


def test_the_link_defaults_to_this_machines_staff_app(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLINIC_STAFF_URL")
    monkeypatch.setenv("CLINIC_STAFF_PORT", "9502")
    get_settings.cache_clear()
    assert run(cli, "device", "label", "tm-1", "--out", str(tmp_path / "t.png"))[0] == 0
    assert read_qr((tmp_path / "t.png").read_bytes()) == "http://localhost:9502/scan?s=main/tm-1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["device", "label", "x", "--out", "{tmp}/x.png"], "no equipment 'x' at site 'main'"),
        (["device", "label", "tm-1", "--site", "north", "--out", "{tmp}/x.png"], "no equipment 'tm-1' at site 'north'"),
        (
            ["device", "labels", "--zone", "Gym Z", "--out", "{tmp}/x.pdf"],
            "no equipment in zone 'Gym Z' at site 'main'",
        ),
        (["device", "label", "tm-1", "--out", "{tmp}/file/x.png"], "cannot write {tmp}/file/x.png: "),
    ],
)
def test_errors_are_one_line_and_exit_2(cli: CliRunner, tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "file").write_text("a file, not a folder")
    code, out, err = run(cli, *[a.format(tmp=tmp_path) for a in args])
    assert code == 2 and out == ""
    assert err.startswith(f"error: {message.format(tmp=tmp_path)}") and err.count("\n") == 1
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "x.pdf").exists()


def test_a_label_printed_with_only_the_public_address_set_points_there(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CLINIC_STAFF_URL alone (no CLINIC_STAFF_PORT): the label opens that address, whatever port this computer's
    staff app would use, and the link names the station and nothing else."""
    public = "https://desk.clinic.example:9443/staff/"
    monkeypatch.setenv("CLINIC_STAFF_URL", public)
    monkeypatch.delenv("CLINIC_STAFF_PORT", raising=False)
    get_settings.cache_clear()
    code, out, err = run(cli, "device", "label", "tm-1", "--out", str(tmp_path / "t.png"))
    assert (code, err) == (0, ""), "a public address is not warned about"
    url = "https://desk.clinic.example:9443/staff/scan?s=main/tm-1"
    assert read_qr((tmp_path / "t.png").read_bytes()) == url and out.endswith(f"\n{url}\n")
    assert parse_qs(urlsplit(url).query) == {"s": ["main/tm-1"]}, "only the station's id"
    code, _, err = run(cli, "device", "labels", "--zone", "Gym B", "--out", str(tmp_path / "b.pdf"))
    assert (code, err) == (0, "")
    assert [r.text for r in read_qr_codes(pdf_pages((tmp_path / "b.pdf").read_bytes())[0])] == [
        "https://desk.clinic.example:9443/staff/scan?s=main/mat-1"
    ]


def test_labels_for_this_computer_only_say_so(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLINIC_STAFF_URL")
    get_settings.cache_clear()
    code, out, err = run(cli, "device", "labels", "--zone", "Gym A", "--out", str(tmp_path / "a.pdf"), "--json")
    assert code == 0 and json.loads(out)["labels"] == 2, "still written: a test print on this computer works"
    assert err == (
        "warning: the labels link to http://localhost:8502, which only this computer opens; set CLINIC_STAFF_URL "
        "to the staff app's address on the clinic's network and print them again\n"
    )


def test_the_staff_app_served_on_another_port_knows_it(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """`clinic staff --port 9000` without CLINIC_STAFF_PORT: the app it becomes links its labels to 9000."""
    monkeypatch.setenv("CLINIC_STAFF_PORT", "8502")  # put back after the test, whatever the command sets
    monkeypatch.setenv("CLINIC_STAFF_ADDRESS", "127.0.0.1")
    monkeypatch.delenv("CLINIC_STAFF_URL")
    get_settings.cache_clear()
    served: list[list[str]] = []
    monkeypatch.setattr("clinic.apps.os.execv", lambda path, argv: served.append(argv))
    code, _, _ = run(cli, "staff", "--port", "9000")
    assert code == 0 and "--server.port=9000" in served[0]
    get_settings.cache_clear()
    assert get_settings().resolved_staff_url == "http://localhost:9000"
