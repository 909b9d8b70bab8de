"""`clinic simulate-native`: the demo's off-the-shelf devices (Shelly, Tasmota, Zigbee2MQTT, ESPHome), each
speaking its own MQTT dialect, for the native adapter (`clinic native`) to translate. `clinic up --simulate` runs it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from clinic.common import fail, settings, setup_logging, stop_on_signals, store, user_errors


@user_errors
def simulate_native(
    duration: Annotated[float, typer.Option(min=0, help="Seconds to run; 0 runs until Ctrl-C.")] = 0,
    site: Annotated[str | None, typer.Option(help="Site of the stations it feeds; default CLINIC_SITE.")] = None,
) -> None:
    """Play the demo's Shelly and Tasmota plugs, Zigbee sensor and button, and ESPHome node on the broker."""
    from shared.equipment.native.bindings import list_bindings
    from shared.store.db import read_session
    from telemetry.native_sim import NativeSimulator, demo_devices
    from telemetry.simulator import SimulatorError, simulator_credentials

    cfg = settings()
    setup_logging(cfg)
    site = site or cfg.site
    devices = demo_devices()
    with store() as (_, engine), read_session(engine) as session:
        bindings = list_bindings(session=session, site=site)
    for device in devices:
        feeds = sorted({b.equipment_id for b in bindings if b.via == device.via and b.source == device.name})
        where = f"feeds {', '.join(feeds)}" if feeds else "feeds no station yet (bind it: `clinic device bind`)"
        typer.echo(f"{device.via:<11} {device.name:<22} {where}")
    user, password = simulator_credentials(cfg)
    try:
        sim = NativeSimulator(cfg, devices, username=user, password=password, duration_s=duration or None)
    except ValueError as exc:
        fail(str(exc))
    stop_on_signals(sim.stop)
    started = datetime.now(UTC)
    try:
        counts = sim.run()
    except SimulatorError as exc:
        fail(str(exc))
    seconds = (datetime.now(UTC) - started).total_seconds()
    detail = ", ".join(f"{via} {n}" for via, n in sorted(counts.items()))
    typer.echo(f"published {sum(counts.values())} native messages from {len(devices)} devices in {seconds:.1f}s "
               f"({detail})")  # fmt: skip
