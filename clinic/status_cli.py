"""`clinic status [--json]`: is everything running, how old are the last message and the last backup, how much disk
is left; exit code 1 when something needs a person (for a monitor or a cron mail), 0 when all is well."""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from typing import Annotated

import typer

from clinic.common import settings, user_errors
from clinic.site_status import Report, gather
from shared.store.types import utcnow


@user_errors
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts and monitors.")] = False,
) -> None:
    """Say whether the processes, broker and listener run, each site's last message, kept messages, disk and
    backups; exit 1 when something needs a person."""
    cfg = settings()
    report = gather(cfg, now=utcnow())
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        typer.echo("\n".join(describe(report, cfg.tz)))
    raise typer.Exit(1 if report.needs else 0)


def describe(report: Report, tz: tzinfo) -> list[str]:
    """The report for a person, a line per part, what needs a person last."""
    local = report.at.astimezone(tz)
    lines = [f"clinic status at {local:%Y-%m-%d %H:%M:%S %Z}"]
    sup = report.supervisor
    if sup is None:
        lines.append("processes   none found (neither `clinic up` nor the clinic's systemd units)")
    elif sup["by"] == "clinic up":
        lines.append(f"processes   clinic up, pid {sup['pid']}, up {span(sup['uptime_s'])}")
    else:
        lines.append("processes   systemd units")
    for proc in report.processes:
        state = f"up {span(proc['uptime_s'])}" if proc["running"] and proc["uptime_s"] is not None else (
            "running" if proc["running"] else str(proc.get("state", "NOT RUNNING")))  # fmt: skip
        lines.append(f"  {proc['name']:<22} pid {proc['pid'] or '-':<8} {state:<14} restarts {proc['restarts']}")
    broker = report.broker
    lines.append(f"broker      {broker['address']} {broker['detail']}")
    recording = report.recording
    if not report.listeners:
        elsewhere = bool(recording and recording["recording"])
        lines.append("listener    none here; a listener on another machine records into the store" if elsewhere
                     else "listener    none running here: device messages are not being recorded")  # fmt: skip
    for item in report.listeners:
        if not item["answering"]:
            words = "NOT ANSWERING: recording stopped"
        elif item["holding"]:
            words = f"holding {item['held']} messages: the store is unavailable"
        else:
            words = f"recording, {item['recorded']:,} messages since start, {item['held']} in hand"
        commit = item["last_commit_at"]
        since = f", last commit {ago(commit, report.at)}" if isinstance(commit, str) else ""
        lines.append(f"listener    {item['account']} pid {item['pid']}: {words}{since}")
    if report.store != "ok":
        lines.append(f"store       {report.store}")
    for site in report.sites:
        heard = site["last_message_at"]
        when = f"last message {ago(heard, report.at)}" if isinstance(heard, str) else "no message yet"
        lines.append(f"site        {site['site']}: {when}; {site['stations']} stations, {site['offline']} offline")
    if report.dead_letters:
        kept = report.dead_letters
        lines.append(f"kept msgs   {kept['kept']} waiting for review ({kept['new_24h']} in the last 24 h)")
    disk = report.disk
    lines.append(f"disk        {disk['used_percent']}% used, {_gb(disk['free_bytes'])} free "
                 f"(warning at {disk['warn_percent']}%)")  # fmt: skip
    backup = report.backup
    if backup is None:
        lines.append("backup      none yet")
    else:
        lines.append(f"backup      {ago(str(backup['at']), report.at)}: {backup['path']}")
    if report.needs:
        lines.append("NEEDS ATTENTION:")
        lines += [f"  - {need}" for need in report.needs]
    else:
        lines.append("all well")
    return lines


def ago(iso: str, now: datetime) -> str:
    """'12 s ago', '5 min ago', '3 h 20 min ago', '2 d 4 h ago'."""
    return f"{span((now - datetime.fromisoformat(iso)).total_seconds())} ago"


def span(seconds: object) -> str:
    """A duration in the largest two units that matter."""
    total = int(float(seconds)) if isinstance(seconds, int | float) else 0
    days, rest = divmod(max(total, 0), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def _gb(count: object) -> str:
    return f"{float(count) / 1024**3:.1f} GB" if isinstance(count, int | float) else "?"
