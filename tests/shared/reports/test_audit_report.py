"""`clinic report audit` (#26): the inspector's log for a range of local days: cleanings with their disinfectant,
out of / back in service, a correction and the record it voids (both shown), maintenance done with its notes, a
fault that took no station out; who and when in CLINIC_TIMEZONE; the chain's check; as CSV and as an A4 PDF."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from matplotlib.text import Text
from pypdf import PdfReader
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from shared.equipment import undo
from shared.equipment.disinfectants import add_disinfectant
from shared.equipment.events import Decoded
from shared.equipment.ingest import record_batch
from shared.equipment.maintenance import add_task, mark_done
from shared.equipment.payloads import decode
from shared.reports.audit_log import audit_log
from shared.reports.audit_pdf import audit_pages
from shared.store.db import make_engine, read_session, unit_of_work
from tests import factories as make
from tests.cli_support import run

A4_POINTS = (595.3, 841.9)
NY = "America/New_York"


def sent(channel: str, at: datetime, **body: object) -> Decoded:
    payload = json.dumps({**body, "ts": at.isoformat()}).encode()
    return decode(f"clinic/main/equipment/tm-1/{channel}", payload, prefix="clinic", received_at=at)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def build(engine: Engine) -> None:
    """Monday 2 November 2026 (New York on EST since the day before), and one record on the 4th."""
    make.station(engine, "tm-1", "Treadmill 1")
    with unit_of_work(engine) as session:
        add_disinfectant(session=session, name="Quat wipes", contact_min=2, by="cli:admin", default=True)
        add_task(session=session, site="main", equipment_id="tm-1", task="Belt tension", every_days=30, by="ana",
                 now=utc(1, 12))  # fmt: skip
    record_batch(engine=engine, items=[sent("cleaning", utc(2, 14), event_id="c1", event="cleaned", by="ben"),
                                       sent("fault", utc(2, 15), event_id="f1", event="fault", code="E7",
                                            severity="critical", message="belt slipping")], tz=UTC)  # fmt: skip
    record_batch(engine=engine, items=[sent("fault", utc(2, 16), event_id="f2", event="cleared")], tz=UTC)
    with unit_of_work(engine) as session:
        done = undo.act(session=session, action="cleaned", site="main", equipment_id="tm-1", by="ana", tz=UTC,
                        now=utc(2, 17))  # fmt: skip
    with unit_of_work(engine) as session:
        undo.undo(session=session, done=done, by="ana", tz=UTC, now=utc(2, 17, 1))
    with unit_of_work(engine) as session:
        mark_done(session=session, site="main", equipment_id="tm-1", task="Belt tension", by="tom",
                  notes="tightened 2 turns", now=utc(2, 18))  # fmt: skip
    record_batch(engine=engine, items=[sent("fault", utc(2, 19), event_id="f3", event="fault", code="T2",
                                            severity="warning", message="motor warm")], tz=UTC)  # fmt: skip
    record_batch(engine=engine, items=[sent("cleaning", utc(4, 14), event_id="c9", event="cleaned", by="ben")], tz=UTC)


@pytest.fixture
def ny_cli(cli: CliRunner, monkeypatch: pytest.MonkeyPatch, db_url: str) -> CliRunner:
    from shared.store.settings import get_settings

    monkeypatch.setenv("CLINIC_TIMEZONE", NY)
    get_settings.cache_clear()
    engine = make_engine(db_url)
    try:
        build(engine)
    finally:
        engine.dispose()
    return cli


EXPECTED = [
    ["1", "2026-11-02 09:00", "tm-1", "Treadmill 1", "Cleaning", "ben", "Quat wipes (2 min contact)", "", ""],
    ["2", "2026-11-02 10:00", "tm-1", "Treadmill 1", "Out of service", "device", "E7 belt slipping", "", ""],
    ["3", "2026-11-02 11:00", "tm-1", "Treadmill 1", "Back in service", "device", "", "", ""],
    ["4", "2026-11-02 12:00", "tm-1", "Treadmill 1", "Cleaning", "ana", "Quat wipes (2 min contact), wipe", "", "5"],
    [
        "5",
        "2026-11-02 12:01",
        "tm-1",
        "Treadmill 1",
        "Correction",
        "ana",
        "voids record 4: undone: cleaning recorded by ana at 2026-11-02T17:00:00+00:00 should not stand",
        "4",
        "",
    ],
    [
        "6",
        "2026-11-02 13:00",
        "tm-1",
        "Treadmill 1",
        "Maintenance done",
        "tom",
        "Belt tension: tightened 2 turns",
        "",
        "",
    ],
    ["", "2026-11-02 14:00", "tm-1", "Treadmill 1", "Fault", "device", "warning: T2 motor warm", "", ""],
]


def test_the_csv_lists_every_record_and_fault_with_who_and_local_time(ny_cli: CliRunner, tmp_path: Path) -> None:
    out_file = tmp_path / "audit.csv"
    code, out, err = run(ny_cli, "report", "audit", "--from", "2026-11-02", "--to", "2026-11-03", "--csv",
                         str(out_file))  # fmt: skip
    assert code == 0, err
    assert out.splitlines()[:2] == ["Records audit log 2026-11-02 to 2026-11-03, all sites (America/New_York): 7 lines",
                                    out.splitlines()[1]]  # fmt: skip
    assert out.splitlines()[1].startswith("Records chain intact: 7 records, head hash ")
    with out_file.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["record", "when_local", "station", "station_name", "what", "who", "details", "corrects",
                       "corrected_by", "at_utc", "hash"]  # fmt: skip
    assert [row[:9] for row in rows[1:]] == EXPECTED
    assert rows[1][9] == "2026-11-02T14:00:00Z" and len(rows[1][10]) == 64


def test_the_pdf_is_a4_and_reads_as_the_log(ny_cli: CliRunner, tmp_path: Path) -> None:
    out_file = tmp_path / "audit.pdf"
    code, out, err = run(ny_cli, "report", "audit", "--from", "2026-11-02", "--to", "2026-11-02", "--pdf",
                         str(out_file))  # fmt: skip
    assert code == 0, err
    assert out.splitlines()[-1] == "PDF written to " + str(out_file) + " (1 pages, A4)"
    reader = PdfReader(out_file)
    (page,) = reader.pages
    assert (round(float(page.mediabox.width), 1), round(float(page.mediabox.height), 1)) == A4_POINTS
    words = " ".join(page.extract_text().split())
    assert "Records audit log 2026-11-02 to 2026-11-02, all sites" in words
    assert "Records chain intact: 7 records" in words and "Times in America/New_York" in words
    assert "2026-11-02 09:00" in words and "Quat wipes (2 min contact)" in words
    assert "[corrected by record 5]" in words and "voids record 4" in words
    assert "Belt tension: tightened 2 turns" in words and "page 1 of 1" in words


def test_a_broken_chain_is_said_on_every_page(ny_cli: CliRunner, db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE equipment_record SET by = 'nobody' WHERE seq = 4"))
        with read_session(engine) as session:
            from zoneinfo import ZoneInfo

            log = audit_log(session=session, first=utc(2, 0).date(), last=utc(4, 0).date(), tz=ZoneInfo(NY))
    finally:
        engine.dispose()
    assert log.chain_words == "Records chain BROKEN at record 4: its fields do not match its hash (it was edited)"
    pages = audit_pages(log)
    for figure in pages:
        shown = [t.get_text() for t in figure.findobj(Text) if isinstance(t, Text)]
        assert log.chain_words in shown
        assert min(float(t.get_fontsize()) for t in figure.findobj(Text) if isinstance(t, Text) and t.get_text()) >= 9


def test_a_long_range_goes_on_over_pages_with_the_headings_repeated(engine: Engine) -> None:
    make.station(engine, "tm-1", "Treadmill 1")
    record_batch(engine=engine, items=[sent("cleaning", utc(2, 10, n), event_id=f"c{n}", event="cleaned", by="ben")
                                       for n in range(59)] + [sent("cleaning", utc(2, 11, n), event_id=f"d{n}",
                                                                   event="cleaned", by="ben") for n in range(41)],
                 tz=UTC)  # fmt: skip
    with read_session(engine) as session:
        log = audit_log(session=session, first=utc(2, 0).date(), last=utc(2, 0).date(), tz=UTC)
    pages = audit_pages(log)
    assert len(log.lines) == 100 and len(pages) >= 2
    for number, figure in enumerate(pages, 1):
        shown = [t.get_text() for t in figure.findobj(Text) if isinstance(t, Text)]
        assert "When" in shown and "Details" in shown and f"page {number} of {len(pages)}" in shown
    drawn = sum(1 for figure in pages for t in figure.findobj(Text) if isinstance(t, Text)
                and t.get_text() == "Cleaning")  # fmt: skip
    assert drawn == 100


def test_the_range_is_checked(ny_cli: CliRunner) -> None:
    code, _, err = run(ny_cli, "report", "audit", "--from", "2026-11-05", "--to", "2026-11-02")
    assert (code, err.strip()) == (2, "error: --to 2026-11-02 is before --from 2026-11-05")
    code, _, err = run(ny_cli, "report", "audit", "--from", "yesterday", "--to", "2026-11-02")
    assert (code, err.strip()) == (2, "error: --from 'yesterday' is not a date like 2026-12-01")


def test_a_correction_later_is_a_new_record_and_both_are_shown(ny_cli: CliRunner, tmp_path: Path) -> None:
    assert run(ny_cli, "disinfectant", "add", "Bleach 1:10", "--contact-min", "10")[0] == 0
    code, out, err = run(ny_cli, "records", "correct", "1", "--reason", "the label says bleach", "--disinfectant",
                         "Bleach 1:10")  # fmt: skip
    assert (code, out.strip()) == (0, "record 8 corrects record 1"), err
    code, _, err = run(ny_cli, "records", "correct", "8", "--reason", "x", "--void")
    assert (code, err.strip()) == (2, "error: record 8 is a correction: correct the record it corrects (1)")
    code, _, err = run(ny_cli, "records", "correct", "6", "--reason", "x")
    assert (code, err.strip()) == (2, "error: say what is wrong: --void, or --disinfectant for a cleaning")
    out_file = tmp_path / "audit.csv"
    run(ny_cli, "report", "audit", "--from", "2026-11-02", "--to", "2026-12-31", "--csv", str(out_file))
    with out_file.open(newline="") as handle:
        rows = {row["record"]: row for row in csv.DictReader(handle)}
    assert rows["1"]["corrected_by"] == "8"
    assert (rows["8"]["what"], rows["8"]["corrects"], rows["8"]["details"]) == (
        "Correction", "1", "corrects record 1; disinfectant Bleach 1:10: the label says bleach")  # fmt: skip
    assert run(ny_cli, "db", "verify")[0] == 0
