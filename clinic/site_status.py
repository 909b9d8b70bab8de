"""Everything an operator needs at a glance, gathered for `clinic status`: the processes, the broker, the listener,
each site's last message, kept messages, the data disk and the last backup; and what needs a person.

Composed here because it reads every part: `clinic up`'s state file (or the systemd units), the broker (one
anonymous CONNECT), the listener's status file, the store, and `shared.upkeep`.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from clinic.up_state import alive, read_state, uptime_s
from shared.chain.overview import chain_overview
from shared.equipment.dead_letters import dead_letter_counts
from shared.equipment.recording import recording_status
from shared.store.db import make_engine, read_session
from shared.store.settings import Settings
from shared.upkeep.warnings import upkeep
from telemetry.broker_probe import probe_broker
from telemetry.listener_status import RUN_DIR, STALE_AFTER_S, read_status

SYSTEMD_UNITS = ("clinic-broker", "clinic-listener", "clinic-native", "clinic-lobby", "clinic-staff")
NEW_DEAD_LETTERS = timedelta(hours=24)  # kept messages this recent need a look (a device sends something wrong)


@dataclass(slots=True)
class Report:
    """What `clinic status` prints; `needs` lists what a person must act on (the exit code is 1 when any)."""

    at: datetime
    supervisor: dict[str, object] | None = None
    processes: list[dict[str, object]] = field(default_factory=list)
    broker: dict[str, object] = field(default_factory=dict)
    listeners: list[dict[str, object]] = field(default_factory=list)
    sites: list[dict[str, object]] = field(default_factory=list)
    dead_letters: dict[str, object] = field(default_factory=dict)
    disk: dict[str, object] = field(default_factory=dict)
    backup: dict[str, object] | None = None
    store: str = "ok"
    recording: dict[str, object] | None = None  # from the store's listener heartbeats (any machine's listener)
    needs: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """The documented shape of `clinic status --json`."""
        return {"at": self.at.isoformat(), "ok": not self.needs, "needs_attention": self.needs,
                "supervisor": self.supervisor, "processes": self.processes, "broker": self.broker,
                "listeners": self.listeners, "store": self.store, "recording": self.recording, "sites": self.sites,
                "dead_letters": self.dead_letters, "disk": self.disk, "backup": self.backup}  # fmt: skip


def gather(cfg: Settings, *, now: datetime) -> Report:
    """Look at everything; never raises for a part that is down (that is what it reports)."""
    report = Report(at=now)
    _processes(cfg, report, now)
    probe = probe_broker(cfg)
    report.broker = {"address": probe.where, "answering": probe.answering, "detail": probe.detail}
    if not probe.answering:
        report.needs.append(f"The broker at {probe.where} {probe.detail}: devices cannot report.")
    _store(cfg, report, now)
    _listeners(cfg, report, now)
    kept = upkeep(settings=cfg, now=now)
    report.disk = kept.disk.as_dict()
    report.backup = kept.backup.as_dict(now) if kept.backup else None
    report.needs += kept.warnings
    return report


def _processes(cfg: Settings, report: Report, now: datetime) -> None:
    state = read_state(cfg.data_dir)
    if state is not None and alive(state.pid):
        report.supervisor = {"by": "clinic up", "pid": state.pid, "uptime_s": round(uptime_s(state.started_at, now))}
        for child in state.children:
            running = child.running and alive(child.pid)
            report.processes.append({"name": child.name, "pid": child.pid, "running": running,
                                     "uptime_s": round(uptime_s(child.started_at, now)) if running else None,
                                     "restarts": child.restarts})  # fmt: skip
            if not running:
                report.needs.append(f"{child.name} is not running (`clinic up` restarts it; see data/logs/).")
        return
    units = _systemd_units()
    if units:
        report.supervisor = {"by": "systemd"}
        report.processes = units
        report.needs += [f"{u['name']} is {u['state']} (`systemctl status {u['name']}`)." for u in units
                         if not u["running"]]  # fmt: skip
        return
    report.needs.append("Nothing runs here: neither `clinic up` nor the clinic's systemd units.")


def _systemd_units() -> list[dict[str, object]]:
    """The clinic's systemd units that are installed, with state and restarts; [] without systemd."""
    systemctl = shutil.which("systemctl")
    if systemctl is None:
        return []
    props = "Id,LoadState,ActiveState,SubState,NRestarts,MainPID"
    try:
        done = subprocess.run([systemctl, "show", f"--property={props}", *[f"{u}.service" for u in SYSTEMD_UNITS]],
                              capture_output=True, text=True, timeout=10, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return []
    units: list[dict[str, object]] = []
    for block in done.stdout.strip().split("\n\n"):
        values = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if values.get("LoadState") != "loaded":
            continue
        units.append({"name": values.get("Id", "?"), "pid": int(values.get("MainPID") or 0) or None,
                      "running": values.get("ActiveState") == "active",
                      "state": f"{values.get('ActiveState')} ({values.get('SubState')})",
                      "restarts": int(values.get("NRestarts") or 0), "uptime_s": None})  # fmt: skip
    return units


def _listeners(cfg: Settings, report: Report, now: datetime) -> None:
    run = cfg.data_dir / RUN_DIR
    paths = sorted(run.glob("listener-*.json")) if run.is_dir() else []
    for path in paths:
        status = read_status(path)
        if status is None:
            continue
        answering = status.answering(now) and alive(status.pid)
        last_commit = status.last_commit_at
        report.listeners.append({"account": status.account, "pid": status.pid, "answering": answering,
                                 "connected": status.connected, "holding": status.holding, "held": status.held,
                                 "recorded": status.recorded, "last_commit_at": last_commit,
                                 "updated_at": status.updated_at})  # fmt: skip
        if not answering:
            report.needs.append(f"The listener {status.account} (pid {status.pid}) has not answered for "
                                f"{status.age_s(now):.0f} s: recording has stopped.")  # fmt: skip
        elif status.holding:
            report.needs.append(f"The listener {status.account} cannot write to the store: {status.held} messages "
                                "held unacknowledged (nothing is lost; see its log).")  # fmt: skip
        elif not status.connected:
            report.needs.append(f"The listener {status.account} is not connected to the broker.")
    elsewhere = bool(report.recording and report.recording["recording"])
    if not report.listeners and not elsewhere:
        report.needs.append(f"No listener runs on this machine for this data folder ({cfg.data_dir}): device "
                            f"messages are not being recorded (a status older than {STALE_AFTER_S:g} s counts "
                            "as stopped).")  # fmt: skip


def _store(cfg: Settings, report: Report, now: datetime) -> None:
    engine = make_engine(cfg.resolved_database_url)
    try:
        with read_session(engine) as session:
            for site in chain_overview(session=session, tz=cfg.tz, now=now, days=1):
                heard = site.last_heard
                age = round((now - heard).total_seconds()) if heard else None
                report.sites.append({"site": site.site, "stations": site.stations, "offline": site.offline,
                                     "last_message_at": heard.isoformat() if heard else None,
                                     "last_message_age_s": age})  # fmt: skip
            counts = dead_letter_counts(session=session, since=now - NEW_DEAD_LETTERS)
            recording = recording_status(session=session, now=now, keepalive_s=cfg.mqtt_keepalive_s)
        stopped = recording.stopped_since.isoformat() if recording.stopped_since else None
        report.recording = {"recording": recording.recording, "stopped_since": stopped}
        if recording.stopped:
            report.needs.append(f"Recording stopped since {recording.since_text(cfg.tz, now)}: no listener has "
                                "written to the store since (on any machine).")  # fmt: skip
        report.dead_letters = {"kept": counts.kept, "new_24h": counts.new}
        if counts.new:
            report.needs.append(f"{counts.new} message(s) could not be recorded in the last 24 h: review them with "
                                "`clinic deadletters` (or the staff app's Devices page).")  # fmt: skip
    except Exception as exc:
        report.store = f"not answering: {type(exc).__name__}"
        report.needs.append(f"The store does not answer ({type(exc).__name__}); see the listener's log.")
    finally:
        engine.dispose()
