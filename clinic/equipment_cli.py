"""`clinic device`, `clinic equipment` and `clinic deadletters`: stations, their labels, live state and kept messages.

Thin adapters over `shared.equipment` (and `telemetry.broker` for the devices' broker accounts).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from clinic.common import JsonTableFlag, engine_for, settings, store, user_errors
from clinic.output import clip, local_time, rfc3339, table, write_bytes
from shared.equipment.board import unknown_devices
from shared.equipment.dead_letters import list_dead_letters
from shared.equipment.payloads import REASON_CODES
from shared.equipment.recording import recording_status
from shared.equipment.stations import describe_status, list_stations
from shared.store.db import read_session, unit_of_work
from shared.store.errors import ValidationFailed

device_app = typer.Typer(help="Register equipment devices and their broker accounts.", no_args_is_help=True)
equipment_app = typer.Typer(help="See equipment and its live state.", no_args_is_help=True)
dead_app = typer.Typer(help="Messages kept because they could not be recorded.", invoke_without_command=True)
SiteOption = Annotated[str | None, typer.Option(help="Site id; default CLINIC_SITE.")]


@device_app.command("add")
@user_errors
def device_add(
    equipment_id: Annotated[str, typer.Argument(help="Lower case id, also the device's MQTT username.")],
    name: Annotated[str | None, typer.Option(help="Name shown on the board.")] = None,
    name_es: Annotated[
        str | None, typer.Option(help="Name Spanish-speaking patients read (default: the kind in Spanish); '' clears.")
    ] = None,
    kind: Annotated[str | None, typer.Option(help="treadmill, bike, parallel_bars, hot_pack, ...")] = None,
    zone: Annotated[str | None, typer.Option(help="Where in the gym.")] = None,
    site: SiteOption = None,
    clean_after_use: Annotated[
        bool | None, typer.Option("--clean-after-use/--no-clean-after-use", help="Needs cleaning after each use.")
    ] = None,
    maintenance_hours: Annotated[float | None, typer.Option(help="Service every N in-use hours.")] = None,
    as_json: JsonTableFlag = False,
) -> None:
    """Register equipment (or update the details given) and create a new broker password, printed once."""
    from shared.equipment.provisioning import provision_device
    from shared.equipment.station_names import set_station_name
    from telemetry.broker import FileBrokerAccounts

    cfg = settings()
    with engine_for(cfg) as engine, unit_of_work(engine) as session:
        equipment, device = provision_device(
            session=session,
            accounts=FileBrokerAccounts(cfg),
            site=site or cfg.site,
            equipment_id=equipment_id,
            topic_prefix=cfg.topic_prefix,
            name=name,
            kind=kind,
            zone=zone,
            clean_after_use=clean_after_use,
            maintenance_interval_hours=maintenance_hours,
        )
        if name_es is not None:
            set_station_name(session=session, site=equipment.site, equipment_id=equipment.id, lang="es", name=name_es)
        info = {"site": equipment.site, "id": equipment.id, "name": equipment.name, "username": device.username,
                "password": device.password, "topic": device.topic}  # fmt: skip
        kept = sum(d.messages for d in unknown_devices(session=session)
                   if (d.site, d.equipment_id) == (equipment.site, equipment.id))  # fmt: skip
    if kept:
        typer.echo(f"note: {kept} message(s) from {equipment.id} were kept while it was not registered; "
                   f"`clinic deadletters replay --equipment {equipment.id}` records them", err=True)  # fmt: skip
    if as_json:
        typer.echo(json.dumps(info))
        return
    typer.echo(f"registered {info['name']!r} as {info['site']}/{info['id']}")
    typer.echo(f"broker username: {device.username}")
    typer.echo(f"broker password: {device.password}   (shown once; run `clinic device add` again to replace it)")
    typer.echo(f"publishes on:    {device.topic}")


@device_app.command("label")
@user_errors
def device_label(
    equipment_id: Annotated[str, typer.Argument(help="The station's id.")],
    out: Annotated[str, typer.Option("--out", help="Where to write the printable label (PNG, 50 x 30 mm at 300 dpi).")],
    site: SiteOption = None,
    as_json: JsonTableFlag = False,
) -> None:
    """Write a station's QR label: scanning it opens the staff app's scan page for the station (sign-in needed)."""
    from shared.equipment.labels import station_label

    with store() as (cfg, engine), read_session(engine) as session:
        label = station_label(session=session, site=site or cfg.site, equipment_id=equipment_id,
                              staff_url=cfg.resolved_staff_url, tz=cfg.tz)  # fmt: skip
    png = io.BytesIO()
    label.image.save(png, format="PNG", dpi=(300, 300))
    write_bytes(Path(out), png.getvalue())
    _warn_if_only_this_computer(cfg.resolved_staff_url)
    station = label.station
    if as_json:
        typer.echo(json.dumps({"site": station.site, "id": station.id, "name": station.name, "url": label.url}))
        return
    typer.echo(f"label for {station.name!r} ({station.site}/{station.id}) written to {out}")
    typer.echo(label.url)


@device_app.command("labels")
@user_errors
def device_labels(
    zone: Annotated[str, typer.Option("--zone", help="Every station of this zone (as on the board).")],
    out: Annotated[str, typer.Option("--out", help="Where to write the sheet (PDF, A4, 24 labels a page).")],
    site: SiteOption = None,
    as_json: JsonTableFlag = False,
) -> None:
    """Write a printable sheet of QR labels for every station of a zone (print at 100 %)."""
    from shared.equipment.labels import zone_sheet

    with store() as (cfg, engine):
        site = site or cfg.site
        with read_session(engine) as session:
            sheet = zone_sheet(session=session, site=site, zone=zone, staff_url=cfg.resolved_staff_url, tz=cfg.tz)
    write_bytes(Path(out), sheet.pdf)
    _warn_if_only_this_computer(cfg.resolved_staff_url)
    if as_json:
        typer.echo(json.dumps({"site": site, "zone": zone.strip(), "labels": sheet.labels, "pages": sheet.pages}))
        return
    labels = f"{sheet.labels} label" + ("" if sheet.labels == 1 else "s")
    pages = f"{sheet.pages} page" + ("" if sheet.pages == 1 else "s")
    typer.echo(f"{labels} for zone {zone.strip()!r} on {pages} written to {out}")


def _warn_if_only_this_computer(staff_url: str) -> None:
    """Labels that link to localhost open nothing on a phone: say so, and what to set (CLINIC_STAFF_URL)."""
    from shared.equipment.label_address import only_this_computer

    if only_this_computer(staff_url):
        typer.echo(f"warning: the labels link to {staff_url}, which only this computer opens; set CLINIC_STAFF_URL "
                   "to the staff app's address on the clinic's network and print them again", err=True)  # fmt: skip


@equipment_app.command("list")
@user_errors
def equipment_list(
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    as_json: JsonTableFlag = False,
) -> None:
    """Every station with its live state (from the current-state table, never the whole log); first, when no listener
    records device messages, since when (the list may be out of date)."""
    now = datetime.now(UTC)
    with store() as (cfg, engine), read_session(engine) as session:
        views = list_stations(session=session, tz=cfg.tz, site=site)
        recording = recording_status(session=session, now=now, keepalive_s=cfg.mqtt_keepalive_s)
    stopped = (f"recording stopped since {recording.since_text(cfg.tz, now)}: device messages are not being recorded; "
               "this list may be out of date") if recording.stopped else None  # fmt: skip
    if as_json:  # still the list of stations scripts rely on: each row gains the recording state
        seen = recording.recording or recording.stopped  # null: no listener ever ran on this store
        state = {"recording": recording.recording if seen else None,
                 "recording_stopped_since": rfc3339(recording.stopped_since)}  # fmt: skip
        typer.echo(json.dumps([{**v.as_json(), **state} for v in views], indent=2))
        if stopped:
            typer.echo(f"warning: {stopped}", err=True)
        return
    if stopped:
        typer.echo(stopped)
    if not views:
        typer.echo("no equipment registered yet (see `clinic device add`)")
        return
    rows = [
        [
            v.site,
            v.id,
            v.name,
            v.zone,
            describe_status(v, now),
            "?" if v.online is None else ("yes" if v.online else "no"),
            str(v.uses_today),
            local_time(v.last_cleaned_at, cfg.tz) + (f" by {v.last_cleaned_by}" if v.last_cleaned_by else ""),
        ]
        for v in views
    ]
    table(["SITE", "ID", "NAME", "ZONE", "STATUS", "ONLINE", "USES TODAY", "LAST CLEANED"], rows)


@dead_app.callback()
@user_errors
def deadletters(
    ctx: typer.Context,
    include_replayed: Annotated[bool, typer.Option("--all", help="Include messages already replayed.")] = False,
    code: Annotated[
        str | None, typer.Option(help=f"Only those kept for this reason: {', '.join(REASON_CODES)}.")
    ] = None,
    as_json: JsonTableFlag = False,
) -> None:
    """List kept messages with the reason each could not be recorded (and its stable code, for scripts)."""
    if ctx.invoked_subcommand is not None:
        return
    if code is not None and code not in REASON_CODES:
        raise ValidationFailed(f"--code {code!r} is not one of {', '.join(REASON_CODES)}")
    with store() as (cfg, engine), read_session(engine) as session:
        letters = list_dead_letters(session=session, include_replayed=include_replayed, code=code)
    if as_json:
        typer.echo(json.dumps([letter.as_json() for letter in letters], indent=2))
        return
    if not letters:
        typer.echo("no dead letters")
        return
    rows = [[local_time(d.received_at, cfg.tz), d.topic, d.code, d.reason, clip(d.payload, 40)] for d in letters]
    table(["RECEIVED", "TOPIC", "CODE", "REASON", "PAYLOAD"], rows)


@dead_app.command("replay")
@user_errors
def deadletters_replay(
    equipment_id: Annotated[str | None, typer.Option("--equipment", help="Only this device's messages.")] = None,
    site: Annotated[str | None, typer.Option(help="Only this site's messages.")] = None,
    as_json: JsonTableFlag = False,
) -> None:
    """Re-process kept messages, e.g. after registering the equipment that sent them."""
    from shared.equipment.replay import replay_dead_letters

    with store() as (cfg, engine):
        outcome = replay_dead_letters(engine=engine, settings=cfg, site=site, equipment_id=equipment_id)
    if as_json:
        typer.echo(json.dumps({"recorded": outcome.recorded, "still_kept": outcome.still_kept}))
    else:
        typer.echo(f"recorded {outcome.recorded}, still kept {outcome.still_kept}")
