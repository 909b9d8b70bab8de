"""`clinic device bind | unbind | unbound | bindings`: off-the-shelf devices feeding stations, and `clinic native`,
the adapter that translates their messages. Thin adapters over `shared.equipment.native`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from clinic.common import JsonFlag, JsonTableFlag, engine_for, run_until_stopped, settings, store, user_errors
from clinic.equipment_cli import SiteOption, device_app
from clinic.output import local_time, table
from shared.equipment.native.bindings import ThresholdChanges, bind_source, list_bindings, unbind_source
from shared.equipment.native.readings import VIAS
from shared.equipment.native.sources import unbound_sources
from shared.store.db import read_session, unit_of_work

CLI_ACTOR = "cli"
RemoveAccount = Annotated[
    bool, typer.Option("--remove-account", help="Also delete its broker account (the broker refuses it from then on).")
]
Via = Annotated[str, typer.Option("--via", help=f"The device's dialect: {', '.join(VIAS)}.")]
Source = Annotated[str, typer.Option("--source", help="The device's own MQTT name (Shelly topic prefix, Tasmota "
                                     "topic, Zigbee2MQTT friendly name, ESPHome node name).")]  # fmt: skip
ReportInterval = Annotated[
    float | None, typer.Option(help="How often the device reports (s), checked against --on-hold (TelePeriod).")
]


@device_app.command("bind")
@user_errors
def device_bind(
    station: Annotated[str, typer.Argument(help="The station's id.")],
    via: Via,
    source: Source,
    role: Annotated[str, typer.Option(help="usage (a plug or sensor), cleaned (a button), or fault.")] = "usage",
    channel: Annotated[str | None, typer.Option(help="Switch or meter number of a multi-channel plug (0).")] = None,
    entity: Annotated[str | None, typer.Option(help="ESPHome: the object id of the sensor or binary_sensor.")] = None,
    on_watts: Annotated[float | None, typer.Option(help="In use once power stays above this (W).")] = None,
    off_watts: Annotated[float | None, typer.Option(help="Done once power stays below this (W).")] = None,
    on_hold: Annotated[float | None, typer.Option(help="For this many seconds above on-watts.")] = None,
    off_hold: Annotated[float | None, typer.Option(help="For this many seconds below off-watts.")] = None,
    idle: Annotated[float | None, typer.Option(help="Sensors: done after this many seconds without activity.")] = None,
    report_interval: ReportInterval = None,
    site: SiteOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Bind a Shelly, Tasmota, Zigbee2MQTT or ESPHome device to a station; makes its broker account if needed."""
    from telemetry.broker import FileBrokerAccounts

    cfg = settings()
    changes = ThresholdChanges(on_watts, off_watts, on_hold, off_hold, idle)
    with engine_for(cfg) as engine, unit_of_work(engine) as session:
        outcome = bind_source(session=session, accounts=FileBrokerAccounts(cfg), site=site or cfg.site,
                              equipment_id=station, via=via, source=source, role=role, channel=channel, entity=entity,
                              thresholds=changes, report_interval_s=report_interval, actor=CLI_ACTOR,
                              topic_prefix=cfg.topic_prefix)  # fmt: skip
    for warning in outcome.warnings:
        typer.echo(f"warning: {warning}", err=True)
    binding = outcome.binding
    if as_json:
        info = {**binding.as_json(), "username": outcome.username, "topics": list(outcome.topics),
                "updated": outcome.updated}  # fmt: skip
        if outcome.password is not None:
            info["password"] = outcome.password
        typer.echo(json.dumps(info))
        return
    t = binding.thresholds
    verb = "changed the binding of" if outcome.updated else "bound"
    typer.echo(f"{verb} {binding.via} device {binding.source!r} to station {binding.site}/{binding.equipment_id} "
               f"({binding.role})")  # fmt: skip
    if binding.role == "usage":
        typer.echo(f"in use above {t.on_watts:g} W for {t.on_hold_s:g} s, done below {t.off_watts:g} W for "
                   f"{t.off_hold_s:g} s; sensors: done after {t.idle_s:g} s without activity")  # fmt: skip
    typer.echo(f"broker username: {outcome.username}")
    if outcome.password is not None:
        typer.echo(f"broker password: {outcome.password}   (shown once; type it into the device's MQTT settings)")
    else:
        typer.echo("broker password: unchanged (the device already has its account)")
    typer.echo(f"publishes on:    {', '.join(outcome.topics)}")


@device_app.command("unbind")
@user_errors
def device_unbind(
    station: Annotated[str, typer.Argument(help="The station's id.")],
    source: Source,
    remove_account: RemoveAccount = False,
    site: SiteOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Stop a device feeding a station (it then shows as unbound while it keeps reporting)."""
    from telemetry.broker import FileBrokerAccounts

    cfg = settings()
    with engine_for(cfg) as engine, unit_of_work(engine) as session:
        removed = unbind_source(session=session, accounts=FileBrokerAccounts(cfg), site=site or cfg.site,
                                equipment_id=station, source=source, remove_account=remove_account,
                                actor=CLI_ACTOR)  # fmt: skip
    if as_json:
        typer.echo(json.dumps([b.as_json() for b in removed]))
        return
    typer.echo(f"unbound {source!r} from station {station} ({len(removed)} binding(s))")


@device_app.command("unbound")
@user_errors
def device_unbound(as_json: JsonTableFlag = False) -> None:
    """Native devices that report but feed no station yet (bind them with `clinic device bind`)."""
    with store() as (cfg, engine), read_session(engine) as session:
        sources = unbound_sources(session=session)
    if as_json:
        typer.echo(json.dumps([s.as_json() for s in sources], indent=2))
        return
    if not sources:
        typer.echo("no unbound devices: every device heard from feeds a station")
        return
    rows = [[s.via, s.source, s.now_text(), local_time(s.last_seen, cfg.tz), str(s.messages)] for s in sources]
    table(["VIA", "SOURCE", "NOW", "LAST HEARD", "MESSAGES"], rows)


@device_app.command("bindings")
@user_errors
def device_bindings(
    site: Annotated[str | None, typer.Option(help="Only this site (default: every site).")] = None,
    as_json: JsonTableFlag = False,
) -> None:
    """Every device bound to a station, with its thresholds."""
    with store() as (_cfg, engine), read_session(engine) as session:
        bindings = list_bindings(session=session, site=site)
    if as_json:
        typer.echo(json.dumps([b.as_json() for b in bindings], indent=2))
        return
    if not bindings:
        typer.echo("no devices bound yet (see `clinic device bind`)")
        return
    rows = [[b.equipment_id, b.via, b.source, b.channel or b.entity or "-", b.role,
             f"{b.thresholds.on_watts:g}/{b.thresholds.off_watts:g} W", f"{b.thresholds.on_hold_s:g}/"
             f"{b.thresholds.off_hold_s:g} s", f"{b.thresholds.idle_s:g} s"] for b in bindings]  # fmt: skip
    table(["STATION", "VIA", "SOURCE", "PART", "ROLE", "ON/OFF", "HOLDS", "IDLE"], rows)


@user_errors
def native() -> None:
    """Translate native devices' messages into the stations' events until stopped (`clinic up` runs it)."""
    from telemetry.native_adapter import NativeAdapter

    run_until_stopped(NativeAdapter, single="native")
