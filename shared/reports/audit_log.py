"""The inspector's audit log for a range of days: every cleaning, maintenance done, out of / back in service and
correction record (the append-only records of shared/equipment/record_chain.py), and every fault raised, with
who and when, times in the clinic's time zone; and whether the records' chain is intact.

A correction and the record it corrects are both listed: the correction says which record it corrects, the
corrected record which later records correct it (`corrected_by`), even when the correction falls after the range.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import and_, select
from sqlmodel import Session

from shared.equipment.ingest_rows import EQUIPMENT, EVENTS
from shared.equipment.models import FaultReport
from shared.equipment.record_chain import RECORDS, ChainReport, verify_chain
from shared.reports.weeks import local_midnight
from shared.store.errors import ValidationFailed

FAULTS = FaultReport.__table__  # type: ignore[attr-defined]
WHAT: dict[str, str] = {"cleaning": "Cleaning", "maintenance": "Maintenance done", "out_of_service": "Out of service",
                        "back_in_service": "Back in service", "correction": "Correction", "fault": "Fault"}  # fmt: skip
CSV_COLUMNS = ("record", "when_local", "station", "station_name", "what", "who", "details", "corrects",
               "corrected_by", "at_utc", "hash")  # fmt: skip


@dataclass(frozen=True, slots=True)
class AuditLine:
    """One line of the log. `record` is the record's place in the chain (None for a fault, which is an event)."""

    record: int | None
    at: datetime
    when_local: str
    site: str
    station: str
    station_name: str
    what: str
    who: str
    details: str
    corrects: int | None
    corrected_by: tuple[int, ...]
    hash: str

    def csv_row(self) -> list[str]:
        """The line under `CSV_COLUMNS`."""
        return [_text(self.record), self.when_local, self.station, self.station_name, self.what, self.who,
                self.details, _text(self.corrects), " ".join(str(s) for s in self.corrected_by),
                self.at.astimezone(UTC).isoformat().replace("+00:00", "Z"), self.hash]  # fmt: skip


@dataclass(frozen=True, slots=True)
class AuditLog:
    """The log of local days `first` to `last` (inclusive) at `site` (None: every site), with the chain's check."""

    first: date
    last: date
    site: str | None
    zone_name: str
    lines: list[AuditLine]
    chain: ChainReport
    made_at: datetime

    @property
    def title(self) -> str:
        """ "Records audit log 2026-11-30 to 2026-12-06, site main"."""
        where = f", site {self.site}" if self.site else ", all sites"
        return f"Records audit log {self.first} to {self.last}{where}"

    @property
    def chain_words(self) -> str:
        """The chain's check in a sentence an inspector reads."""
        report = self.chain
        if report.intact:
            return f"Records chain intact: {report.records} records, head hash {report.head_hash}"
        where = f"record {report.broken_seq}" if report.broken_seq is not None else "its head"
        return f"Records chain BROKEN at {where}: {report.problem}"


def audit_log(*, session: Session, first: date, last: date, tz: tzinfo, tz_name: str = "",
              site: str | None = None, now: datetime | None = None) -> AuditLog:  # fmt: skip
    """The log of local days `first` to `last` in `tz`, oldest first."""
    if last < first:
        raise ValidationFailed(f"--to {last} is before --from {first}")
    start, end = local_midnight(first, tz), local_midnight(date.fromordinal(last.toordinal() + 1), tz)
    conn = session.connection()
    names = {(str(s), str(i)): str(n) for s, i, n in conn.execute(select(EQUIPMENT.c.site, EQUIPMENT.c.id,
                                                                           EQUIPMENT.c.name))}  # fmt: skip
    lines = _record_lines(session, start, end, site, names, tz) + _fault_lines(session, start, end, site, names, tz)
    lines.sort(key=lambda line: (line.at, line.record or 0))
    return AuditLog(first, last, site, tz_name, lines, verify_chain(conn), now or datetime.now(UTC))


def write_csv(log: AuditLog, path: Path) -> None:
    """The log as one CSV file (`CSV_COLUMNS`)."""
    try:
        path.write_text(csv_text(log), encoding="utf-8", newline="")
    except OSError as exc:
        raise ValidationFailed(f"cannot write {path}: {exc.strerror or exc}") from None


def csv_text(log: AuditLog) -> str:
    """The log as CSV text."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(line.csv_row() for line in log.lines)
    return out.getvalue()


def _record_lines(session: Session, start: datetime, end: datetime, site: str | None, names: dict[tuple[str, str], str],
                  tz: tzinfo) -> list[AuditLine]:  # fmt: skip
    conn = session.connection()
    query = select(RECORDS).where((RECORDS.c.at >= start) & (RECORDS.c.at < end))
    if site is not None:
        query = query.where(RECORDS.c.site == site)
    rows = conn.execute(query.order_by(RECORDS.c.seq)).mappings().all()
    fixes = _corrections(conn, start, {int(r["seq"]) for r in rows})
    reports = _fault_reports(session, [str(r["event_id"]) for r in rows if r["kind"] == "out_of_service"
                                       and r["event_id"]])  # fmt: skip
    return [
        AuditLine(
            int(r["seq"]),
            r["at"],
            _local(r["at"], tz),
            str(r["site"]),
            str(r["equipment_id"]),
            names.get((str(r["site"]), str(r["equipment_id"])), ""),
            WHAT[str(r["kind"])],
            str(r["by"]),
            _details(r, reports),
            r["corrects"],
            tuple(fixes.get(int(r["seq"]), ())),
            str(r["hash"]),
        )
        for r in rows
    ]


def _corrections(conn: Any, start: datetime, seqs: set[int]) -> dict[int, list[int]]:
    """The corrections of records in `seqs` (made since `start`, as every correction follows its record), by the
    record they correct: one read, whatever the range's size."""
    query = select(RECORDS.c.corrects, RECORDS.c.seq).where((RECORDS.c.kind == "correction") & (RECORDS.c.at >= start))
    found: dict[int, list[int]] = {}
    for corrects, seq in conn.execute(query.order_by(RECORDS.c.seq)):
        if corrects is not None and int(corrects) in seqs:
            found.setdefault(int(corrects), []).append(int(seq))
    return found


def _details(r: Any, reports: dict[str, tuple[str, str]]) -> str:
    kind = r["kind"]
    if kind == "cleaning":
        contact = f" ({r['contact_min']:g} min contact)" if r["contact_min"] is not None else ""
        what = f"{r['disinfectant']}{contact}" if r["disinfectant"] else "disinfectant not named"
        return f"{what}, {r['notes']}" if r["notes"] else what
    if kind == "maintenance":
        return f"{r['task']}: {r['notes']}" if r["notes"] else str(r["task"])
    if kind == "correction":
        verb = "voids" if r["void"] else "corrects"
        changed = f"; disinfectant {r['disinfectant']}" if r["disinfectant"] else ""
        return f"{verb} record {r['corrects']}{changed}: {r['notes']}"
    report = reports.get(str(r["event_id"]))
    return "; ".join(part for part in (str(r["notes"]), *(report or ())) if part)


def _fault_reports(session: Session, event_ids: list[str]) -> dict[str, tuple[str, str]]:
    """A person's fault report (category, notes) for each of these fault events that has one."""
    found: dict[str, tuple[str, str]] = {}
    for at in range(0, len(event_ids), 400):
        query = select(FAULTS.c.event_id, FAULTS.c.category, FAULTS.c.notes).where(
            FAULTS.c.event_id.in_(event_ids[at : at + 400]))  # fmt: skip
        for event_id, category, notes in session.connection().execute(query):
            found[str(event_id)] = (str(category).replace("_", " "), str(notes))
    return found


def _fault_lines(session: Session, start: datetime, end: datetime, site: str | None,
                 names: dict[tuple[str, str], str], tz: tzinfo) -> list[AuditLine]:  # fmt: skip
    """Faults raised that took no station out of service (those are their out-of-service records)."""
    recorded = select(RECORDS.c.event_id).where((RECORDS.c.kind == "out_of_service") & RECORDS.c.event_id.is_not(None)
                                                & (RECORDS.c.at >= start) & (RECORDS.c.at < end))  # fmt: skip
    query = (
        select(EVENTS.c.site, EVENTS.c.equipment_id, EVENTS.c.event_at, EVENTS.c.by, EVENTS.c.source, EVENTS.c.code,
               EVENTS.c.severity, EVENTS.c.message)
        .select_from(EQUIPMENT.join(EVENTS, and_(EVENTS.c.site == EQUIPMENT.c.site,
                                                 EVENTS.c.equipment_id == EQUIPMENT.c.id)))
        .where(EVENTS.c.event_at >= start, EVENTS.c.event_at < end, EVENTS.c.channel == "fault",
               EVENTS.c.event == "fault", EVENTS.c.event_id.not_in(recorded))
    )  # fmt: skip
    if site is not None:
        query = query.where(EQUIPMENT.c.site == site)
    return [
        AuditLine(
            None,
            at,
            _local(at, tz),
            str(s),
            str(e),
            names.get((str(s), str(e)), ""),
            WHAT["fault"],
            str(by or source),
            " ".join(p for p in (f"{severity or 'warning'}:", code or "", message or "") if p),
            None,
            (),
            "",
        )
        for s, e, at, by, source, code, severity, message in session.connection().execute(query)
    ]


def _local(at: datetime, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _text(value: object) -> str:
    return "" if value is None else str(value)
