"""`clinic chain`: sites bridged to a center (docs/deployment.md#a-chain-of-sites).

At the center: `add-site` (a bridge account and a registry row), `sync` (equipment registrations from the
sites), `sites` (every site at a glance). At a site: `publish` (its registrations, retained, for the center).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from clinic.common import (
    JsonFlag,
    engine_for,
    run_until_stopped,
    settings,
    setup_logging,
    stop_on_signals,
    store,
    user_errors,
)
from clinic.output import local_time

chain_app = typer.Typer(help="A chain of sites bridged to a center.", no_args_is_help=True)


@chain_app.command("add-site")
@user_errors
def add_site(
    site: Annotated[str, typer.Argument(help="The site's id (its CLINIC_SITE).")],
    name: Annotated[str | None, typer.Option(help="Shown in the chain view; default the id.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """At the center: register a site and (re)make its bridge account; the password is printed once."""
    from shared.chain.sites import add_site as register_site
    from shared.store.db import unit_of_work
    from telemetry.bridge import bridge_user
    from telemetry.broker import set_bridge_password

    with store() as (cfg, engine), unit_of_work(engine) as session:
        record = register_site(session=session, site=site, name=name)
    password = set_bridge_password(cfg, record.site)
    info = {"site": record.site, "name": record.name, "username": bridge_user(record.site), "password": password}
    if as_json:
        typer.echo(json.dumps(info))
        return
    typer.echo(f"site {record.site!r} ({record.name}) added to the chain")
    typer.echo(f"bridge username: {info['username']}")
    typer.echo(f"bridge password: {password}   (shown once; run `clinic chain add-site` again to replace it)")
    typer.echo("at the site, set:")
    typer.echo(f"  CLINIC_SITE={record.site}")
    typer.echo(f"  CLINIC_BRIDGE_TO=<this broker's address>:{cfg.mqtt_port}")
    typer.echo(f"  CLINIC_BRIDGE_PASSWORD={password}")
    typer.echo("then restart the site's broker (Mosquitto reads bridges at start only)")


@chain_app.command("sites")
@user_errors
def sites(
    days: Annotated[int, typer.Option(min=1, max=366, help="Cleaning compliance over this many days.")] = 7,
    as_json: JsonFlag = False,
) -> None:
    """At the center: every site at a glance (stations by status, offline, last heard, cleaning compliance)."""
    from shared.chain.overview import chain_overview
    from shared.store.db import read_session

    with store() as (cfg, engine), read_session(engine) as session:
        summaries = chain_overview(session=session, tz=cfg.tz, now=datetime.now(UTC), days=days)
    if as_json:
        typer.echo(json.dumps([s.as_json() for s in summaries], indent=2))
        return
    if not summaries:
        typer.echo("no sites yet (see `clinic chain add-site`)")
        return
    for s in summaries:
        heard = local_time(s.last_heard, cfg.tz, missing="never")
        compliance = "-" if s.compliance is None else f"{s.compliance:.0%}"
        counts = ", ".join(f"{status.replace('_', ' ')} {n}" for status, n in sorted(s.by_status.items()))
        typer.echo(f"{s.site} ({s.name}): {s.stations} stations ({counts or 'none'}), {s.offline} offline, "
                   f"last heard {heard}, cleaning compliance {compliance}")  # fmt: skip


@chain_app.command("publish")
@user_errors
def publish(
    every: Annotated[
        float, typer.Option(min=0, help="Keep running, publishing changes every S seconds; 0 publishes once.")
    ] = 0,
) -> None:
    """At a site: publish its stations' registrations (retained) through its broker, for the center."""
    from telemetry.registry import RegistryPublisher

    cfg = settings()
    setup_logging(cfg)
    with engine_for(cfg) as engine:
        publisher = RegistryPublisher(cfg, engine)
        if not every:
            try:
                count = publisher.publish_changed()
            except (OSError, TimeoutError) as exc:
                raise ValueError(f"cannot publish to the broker at {cfg.mqtt_host}:{cfg.mqtt_port}: {exc}") from None
            typer.echo(f"published {count} registration(s) of site {cfg.site}")
            return
        stop_on_signals(publisher.stop)
        publisher.watch(every)


@chain_app.command("listen")
@user_errors
def listen(
    sites: Annotated[str, typer.Option(help="Comma-separated site ids this listener records (it alone).")],
) -> None:
    """At the center: record the given sites' events exactly once on plain subscriptions (kept by the broker
    across its restarts, where Mosquitto 2.0 drops a shared group's); give each listener its own sites."""
    from telemetry.central import SiteListener

    chosen = [s.strip() for s in sites.split(",") if s.strip()]
    run_until_stopped(lambda cfg, engine: SiteListener(cfg, engine, sites=chosen), records_events=True)


@chain_app.command("sync")
@user_errors
def sync() -> None:
    """At the center: apply every site's equipment registrations until stopped (SIGTERM or Ctrl-C)."""
    from telemetry.registry_sync import RegistrySync

    run_until_stopped(RegistrySync)
