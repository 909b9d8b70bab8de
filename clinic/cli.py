"""The `clinic` command: the composition root that wires settings, the store and the adapters together."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from shared.equipment.dead_letters import list_dead_letters
from shared.equipment.stations import describe_status, list_stations
from shared.store.db import init_db, make_engine, unit_of_work
from shared.store.errors import ClinicError
from shared.store.settings import Settings, get_settings

app = typer.Typer(help="Clinic check-in and equipment telemetry.", no_args_is_help=True, add_completion=False)
device_app = typer.Typer(help="Register equipment devices and their broker accounts.", no_args_is_help=True)
equipment_app = typer.Typer(help="See equipment and its live state.", no_args_is_help=True)
dead_app = typer.Typer(help="Messages kept because they could not be recorded.", invoke_without_command=True)
app.add_typer(device_app, name="device")
app.add_typer(equipment_app, name="equipment")
app.add_typer(dead_app, name="deadletters")
from clinic import care_cli  # noqa: E402  (care commands: patients, appointments, plans, check-in, demo data)

app.add_typer(care_cli.patient_app, name="patient")
app.add_typer(care_cli.appointment_app, name="appointment")
app.add_typer(care_cli.exercise_app, name="exercise")
app.add_typer(care_cli.plan_app, name="plan")
app.command("checkin")(care_cli.checkin)
app.command("seed")(care_cli.seed)
from clinic.staff_cli import staff_app  # noqa: E402

app.add_typer(staff_app, name="staff")
from clinic.fhir_cli import fhir_app  # noqa: E402  (FHIR R4 exchange with the EHR)

app.add_typer(fhir_app, name="fhir")
from clinic.db_cli import db_app  # noqa: E402  (schema upgrades, backups, restore)

app.add_typer(db_app, name="db")
from clinic.chain_cli import chain_app  # noqa: E402  (sites bridged to a center)

app.add_typer(chain_app, name="chain")

F = TypeVar("F", bound=Callable[..., Any])
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]
log = logging.getLogger("clinic")


def user_errors(func: F) -> F:
    """Turn user mistakes into one line on stderr and exit code 2, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ClinicError as exc:
            fail(str(exc))
        except OperationalError as exc:
            fail(f"cannot use the database ({exc.orig}); check CLINIC_DATABASE_URL")
        except ValueError as exc:  # settings validation and the like
            fail(str(exc))

    return wrapper  # type: ignore[return-value]


def fail(message: str, code: int = 2) -> None:
    """Print an error for a person and exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def settings() -> Settings:
    """Settings, with a readable message when an environment variable is wrong."""
    try:
        return get_settings()
    except ValueError as exc:
        fail(f"bad configuration: {exc}")
        raise  # unreachable, for type checkers


@contextmanager
def engine_for(cfg: Settings) -> Iterator[Engine]:
    """The engine, with the schema created when missing (cheap, and saves a forgotten `clinic init`)."""
    engine = make_engine(cfg.resolved_database_url)
    try:
        init_db(engine)
        yield engine
    finally:
        engine.dispose()


def setup_logging(cfg: Settings) -> None:
    """One format for every process; level from CLINIC_LOG_LEVEL."""
    logging.basicConfig(
        level=cfg.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


@app.command()
@user_errors
def init(
    tls: Annotated[bool, typer.Option("--tls", help="Also make a local CA and the broker's TLS certificate.")] = False,
    listeners: Annotated[
        int, typer.Option(min=1, help="Listener accounts for a shared group (svc.listener, svc.listener-2, ...).")
    ] = 1,
) -> None:
    """Create the database schema and the broker's accounts, password file and ACL (safe to run twice)."""
    from telemetry.broker import BrokerFiles, ensure_broker_files
    from telemetry.broker_tls import ensure_broker_tls

    cfg = settings()
    with engine_for(cfg):
        pass
    ensure_broker_files(cfg, listeners=listeners)
    typer.echo(f"database ready: {_safe_url(cfg.resolved_database_url)}")
    typer.echo(f"broker files ready in {cfg.broker_dir}/ (passwd, acl, accounts.json)")
    if tls:
        broker_tls = BrokerFiles(cfg.broker_dir).tls
        made = ensure_broker_tls(broker_tls)
        typer.echo(
            f"{'made' if made else 'kept'} the broker's CA and certificate in {broker_tls.root}/; the broker serves "
            f"MQTT over TLS on port {cfg.mqtt_tls_port}; give devices {broker_tls.ca.resolve()}"
        )


@app.command()
@user_errors
def listen() -> None:
    """Record every device message into the store, exactly once, until stopped (SIGTERM or Ctrl-C)."""
    from shared.store.lock import listener_lock
    from telemetry.listener import BrokerRefused, Listener

    cfg = settings()
    setup_logging(cfg)
    # The lock makes `clinic db restore` of this store refuse while the listener runs.
    with listener_lock(cfg.data_dir, cfg.resolved_database_url), engine_for(cfg) as engine:
        listener = Listener(cfg, engine)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: listener.stop())
        try:
            listener.run()
        except BrokerRefused as exc:
            fail(str(exc))


@app.command()
@user_errors
def lobby(
    port: Annotated[int | None, typer.Option(help="Port; default CLINIC_LOBBY_PORT (8501).")] = None,
    address: Annotated[str | None, typer.Option(help="Address; default CLINIC_LOBBY_ADDRESS.")] = None,
) -> None:
    """Serve the lobby kiosk (HTTPS when CLINIC_TLS_CERT and CLINIC_TLS_KEY are set: cameras need it on a LAN)."""
    from clinic.apps import app_url, streamlit_argv

    cfg = settings()
    port, address = port or cfg.lobby_port, address or cfg.lobby_address
    with engine_for(cfg):
        pass  # create the schema before the first patient scans
    typer.echo(f"lobby kiosk on {app_url(cfg, port=port, address=address)}", err=True)
    argv = streamlit_argv("lobby", cfg, port=port, address=address)
    os.execv(argv[0], argv)


@device_app.command("add")
@user_errors
def device_add(
    equipment_id: Annotated[str, typer.Argument(help="Lower case id, also the device's MQTT username.")],
    name: Annotated[str | None, typer.Option(help="Name shown on the board.")] = None,
    kind: Annotated[str | None, typer.Option(help="treadmill, bike, parallel_bars, hot_pack, ...")] = None,
    zone: Annotated[str | None, typer.Option(help="Where in the gym.")] = None,
    site: Annotated[str | None, typer.Option(help="Site id; default CLINIC_SITE.")] = None,
    clean_after_use: Annotated[
        bool | None, typer.Option("--clean-after-use/--no-clean-after-use", help="Needs cleaning after each use.")
    ] = None,
    maintenance_hours: Annotated[float | None, typer.Option(help="Service every N in-use hours.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Register equipment (or update the details given) and create a new broker password, printed once."""
    from shared.equipment.provisioning import provision_device
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
        info = {"site": equipment.site, "id": equipment.id, "name": equipment.name, "username": device.username,
                "password": device.password, "topic": device.topic}  # fmt: skip
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
    site: Annotated[str | None, typer.Option(help="Site id; default CLINIC_SITE.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write a station's QR label: scanning it opens the staff app's scan page for the station (sign-in needed)."""
    import io

    from shared.equipment.labels import station_label

    cfg = settings()
    with engine_for(cfg) as engine:
        label = station_label(
            engine, site=site or cfg.site, equipment_id=equipment_id, staff_url=cfg.resolved_staff_url, tz=cfg.tz
        )
    png = io.BytesIO()
    label.image.save(png, format="PNG", dpi=(300, 300))
    _write_file(out, png.getvalue())
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
    site: Annotated[str | None, typer.Option(help="Site id; default CLINIC_SITE.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write a printable sheet of QR labels for every station of a zone (print at 100 %)."""
    from shared.equipment.labels import zone_sheet

    cfg = settings()
    site = site or cfg.site
    with engine_for(cfg) as engine:
        sheet = zone_sheet(engine, site=site, zone=zone, staff_url=cfg.resolved_staff_url, tz=cfg.tz)
    _write_file(out, sheet.pdf)
    if as_json:
        typer.echo(json.dumps({"site": site, "zone": zone.strip(), "labels": sheet.labels, "pages": sheet.pages}))
        return
    labels = f"{sheet.labels} label" + ("" if sheet.labels == 1 else "s")
    pages = f"{sheet.pages} page" + ("" if sheet.pages == 1 else "s")
    typer.echo(f"{labels} for zone {zone.strip()!r} on {pages} written to {out}")


def _write_file(out: str, data: bytes) -> None:
    """Write a file, making its folder; a path that cannot be written is a user error."""
    from pathlib import Path

    path = Path(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")


@equipment_app.command("list")
@user_errors
def equipment_list(
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every station with its live state (from the current-state table, never the whole log)."""
    cfg = settings()
    with engine_for(cfg) as engine:
        views = list_stations(engine, tz=cfg.tz, site=site)
    if as_json:
        typer.echo(json.dumps([v.as_json() for v in views], indent=2))
        return
    if not views:
        typer.echo("no equipment registered yet (see `clinic device add`)")
        return
    now = datetime.now(UTC)
    rows = [
        [
            v.site,
            v.id,
            v.name,
            v.zone,
            describe_status(v, now),
            _online(v.online),
            str(v.uses_today),
            _local(v.last_cleaned_at, cfg) + (f" by {v.last_cleaned_by}" if v.last_cleaned_by else ""),
        ]
        for v in views
    ]
    _table(["SITE", "ID", "NAME", "ZONE", "STATUS", "ONLINE", "USES TODAY", "LAST CLEANED"], rows)


@dead_app.callback()
@user_errors
def deadletters(
    ctx: typer.Context,
    include_replayed: Annotated[bool, typer.Option("--all", help="Include messages already replayed.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List kept messages with the reason each could not be recorded."""
    if ctx.invoked_subcommand is not None:
        return
    cfg = settings()
    with engine_for(cfg) as engine:
        letters = list_dead_letters(engine, include_replayed=include_replayed)
    if as_json:
        typer.echo(json.dumps([letter.as_json() for letter in letters], indent=2))
        return
    if not letters:
        typer.echo("no dead letters")
        return
    rows = [[_local(d.received_at, cfg), d.topic, d.reason, _clip(d.payload, 40)] for d in letters]
    _table(["RECEIVED", "TOPIC", "REASON", "PAYLOAD"], rows)


@dead_app.command("replay")
@user_errors
def deadletters_replay(
    equipment_id: Annotated[str | None, typer.Option("--equipment", help="Only this device's messages.")] = None,
    site: Annotated[str | None, typer.Option(help="Only this site's messages.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Re-process kept messages, e.g. after registering the equipment that sent them."""
    from shared.equipment.replay import replay_dead_letters

    cfg = settings()
    with engine_for(cfg) as engine:
        outcome = replay_dead_letters(engine, cfg, site=site, equipment_id=equipment_id)
    if as_json:
        typer.echo(json.dumps({"recorded": outcome.recorded, "still_kept": outcome.still_kept}))
    else:
        typer.echo(f"recorded {outcome.recorded}, still kept {outcome.still_kept}")


@app.command()
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


@app.command()
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
    from telemetry.simulator import Simulator, SimulatorError, simulator_credentials

    cfg = settings()
    setup_logging(cfg)
    site = site or cfg.site
    with engine_for(cfg) as engine:
        ids, no_cleaning = devices_to_simulate(engine, site=site, count=devices, register=register)
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
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sim.stop())
    started = datetime.now(UTC)
    try:
        counts = sim.run()
    except SimulatorError as exc:
        fail(str(exc))
        return
    seconds = (datetime.now(UTC) - started).total_seconds()
    detail = ", ".join(f"{channel} {n}" for channel, n in sorted(counts.items()))
    total = sum(counts.values())
    typer.echo(f"published {total} messages from {len(ids)} stations in {seconds:.1f}s ({detail})")


def _table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    for row in [header, *rows]:
        typer.echo("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip())


def _online(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "no")


def _local(value: datetime | None, cfg: Settings) -> str:
    return value.astimezone(cfg.tz).strftime("%Y-%m-%d %H:%M") if value else "-"


def _clip(text: str, limit: int) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    """Entry point of the console script."""
    app()
