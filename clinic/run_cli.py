"""The `clinic` commands that set up and run the system: init, listen, lobby, up and simulate.

`clinic.cli` registers these functions as top-level commands.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from clinic.apps import serve_app
from clinic.common import fail, run_until_stopped, settings, setup_logging, stop_on_signals, store, user_errors
from clinic.output import safe_url


@user_errors
def init(
    tls: Annotated[bool, typer.Option("--tls", help="Also make a local CA and the broker's TLS certificate.")] = False,
    listeners: Annotated[
        int, typer.Option(min=1, help="Listener accounts for a shared group (svc.listener, svc.listener-2, ...).")
    ] = 1,
) -> None:
    """Create the database schema and the broker's accounts, password file and ACL (safe to run twice)."""
    from telemetry.broker import ensure_broker_files
    from telemetry.broker_files import BrokerFiles
    from telemetry.broker_tls import ensure_broker_tls

    with store() as (cfg, _):
        pass
    ensure_broker_files(cfg, listeners=listeners)
    typer.echo(f"database ready: {safe_url(cfg.resolved_database_url)}")
    typer.echo(f"broker files ready in {cfg.broker_dir}/ (passwd, acl, accounts.json)")
    if tls:
        broker_tls = BrokerFiles(cfg.broker_dir).tls
        made = ensure_broker_tls(broker_tls)
        typer.echo(
            f"{'made' if made else 'kept'} the broker's CA and certificate in {broker_tls.root}/; the broker serves "
            f"MQTT over TLS on port {cfg.mqtt_tls_port}; give devices {broker_tls.ca.resolve()}"
        )


@user_errors
def listen() -> None:
    """Record every device message into the store, exactly once, until stopped (SIGTERM or Ctrl-C)."""
    from telemetry.listener import Listener

    run_until_stopped(Listener, records_events=True)


@user_errors
def lobby(
    port: Annotated[int | None, typer.Option(help="Port; default CLINIC_LOBBY_PORT (8501).")] = None,
    address: Annotated[str | None, typer.Option(help="Address; default CLINIC_LOBBY_ADDRESS.")] = None,
) -> None:
    """Serve the lobby kiosk (HTTPS when CLINIC_TLS_CERT and CLINIC_TLS_KEY are set: cameras need it on a LAN)."""
    serve_app("lobby", "lobby kiosk", port=port, address=address)


@user_errors
def up(
    with_simulator: Annotated[
        bool, typer.Option("--simulate/--no-simulate", help="Also run the device simulator (demo traffic).")
    ] = False,
    rate: Annotated[float, typer.Option(min=0.01, help="Simulator messages per second, all stations.")] = 2.0,
    seed: Annotated[
        bool, typer.Option("--seed/--no-seed", help="Add demo stations and patients (and print their cards).")
    ] = True,
    https: Annotated[
        bool, typer.Option("--https", help="Serve the lobby over HTTPS (self-signed unless CLINIC_TLS_* are set).")
    ] = False,
) -> None:
    """Run everything on this machine: broker (or reuse one), listener, lobby, and with --simulate the simulator."""
    from clinic.up import run_up

    raise typer.Exit(run_up(settings(), simulate=with_simulator, rate=rate, seed=seed, https=https))


@user_errors
def simulate(
    devices: Annotated[
        int | None, typer.Option(min=1, help="Stations to simulate; default all registered (10 if none).")
    ] = None,
    rate: Annotated[float, typer.Option(min=0.01, help="Messages per second, all stations together.")] = 2.0,
    duration: Annotated[float, typer.Option(min=0, help="Seconds to run; 0 runs until Ctrl-C.")] = 0,
    site: Annotated[str | None, typer.Option(help="Site id; default CLINIC_SITE.")] = None,
    register: Annotated[bool, typer.Option(help="Register sim-NNN stations when too few exist.")] = True,
) -> None:
    """Publish realistic device traffic (usage, cleaning, faults, online/offline) to the broker."""
    from shared.demo.stations import devices_to_simulate
    from shared.store.db import unit_of_work
    from telemetry.simulator import Simulator, SimulatorError, simulator_credentials

    cfg = settings()
    setup_logging(cfg)
    site = site or cfg.site
    with store() as (_, engine), unit_of_work(engine) as session:
        ids, no_cleaning = devices_to_simulate(session=session, site=site, count=devices, register=register)
    user, password = simulator_credentials(cfg)
    sim = Simulator(
        cfg,
        ids,
        site=site,
        rate=rate,
        duration_s=duration or None,
        username=user,
        password=password,
        no_cleaning=no_cleaning,
    )
    stop_on_signals(sim.stop)
    started = datetime.now(UTC)
    try:
        counts = sim.run()
    except SimulatorError as exc:
        fail(str(exc))
    seconds = (datetime.now(UTC) - started).total_seconds()
    detail = ", ".join(f"{channel} {n}" for channel, n in sorted(counts.items()))
    total = sum(counts.values())
    typer.echo(f"published {total} messages from {len(ids)} stations in {seconds:.1f}s ({detail})")
