"""How the Streamlit apps are started: one command line for `clinic lobby`, `clinic staff` and `clinic up`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

import kiosk
from clinic.common import store
from shared.store.settings import Settings

KIOSK_DIR = Path(kiosk.__file__).resolve().parent
STAFF_SCRIPT = KIOSK_DIR / "staff" / "app.py"
# Streamlit options shared by every app: no telemetry, no file watching, no error details or toolbar for
# patients, and the high-contrast theme.
STREAMLIT_OPTIONS = {
    "server.headless": "true",
    "server.fileWatcherType": "none",
    "server.runOnSave": "false",
    "browser.gatherUsageStats": "false",
    "client.toolbarMode": "minimal",
    "client.showErrorDetails": "none",
    "theme.base": "light",
    "theme.primaryColor": "#0b4f9c",
    "theme.backgroundColor": "#ffffff",
    "theme.secondaryBackgroundColor": "#eef2f7",
    "theme.textColor": "#111111",
}


# Both apps run as an st.App: Streamlit plus `/healthz` (kiosk/health_routes.py) for a monitor. The staff app
# (clinic/staff_app.py) also serves the endpoints that set its HttpOnly sign-in cookie, with the adapters its
# pages use registered first; the lobby (clinic/lobby_app.py) serves kiosk/lobby/app.py as it is.
SCRIPTS = {
    "lobby": Path(__file__).resolve().parent / "lobby_app.py",
    "staff": Path(__file__).resolve().parent / "staff_app.py",
}


def compose_staff() -> None:
    """Register the adapters the staff app's pages reach through the domain: the broker's device accounts
    (the app's own settings, read at each call). The server does it before serving; AppTest runs do it too."""
    from shared.equipment.provisioning import use_broker_accounts
    from telemetry.broker import FileBrokerAccounts

    use_broker_accounts(FileBrokerAccounts())


def streamlit_argv(app: str, cfg: Settings, *, port: int, address: str) -> list[str]:
    """The command that serves the `app` ("lobby", "staff") on address:port (HTTPS when a certificate is set)."""
    argv = [sys.executable, "-m", "streamlit", "run", str(SCRIPTS[app])]
    options = {**STREAMLIT_OPTIONS, "server.port": str(port), "server.address": address}
    if cfg.tls_cert and cfg.tls_key:
        options["server.sslCertFile"] = str(cfg.tls_cert)
        options["server.sslKeyFile"] = str(cfg.tls_key)
    for key, value in options.items():
        argv.append(f"--{key}={value}")
    return argv


def app_url(cfg: Settings, *, port: int, address: str) -> str:
    """Where a person opens the app."""
    scheme = "https" if cfg.tls_cert and cfg.tls_key else "http"
    host = "localhost" if address in ("127.0.0.1", "0.0.0.0", "::") else address
    return f"{scheme}://{host}:{port}/"


def serve_app(app: str, what: str, *, port: int | None, address: str | None) -> None:
    """`clinic lobby` and `clinic staff`: create the schema (before the first scan), then become the `app`."""
    with store() as (cfg, _):
        pass
    port = port or (cfg.lobby_port if app == "lobby" else cfg.staff_port)
    address = address or (cfg.lobby_address if app == "lobby" else cfg.staff_address)
    typer.echo(f"{what} on {app_url(cfg, port=port, address=address)}", err=True)
    # The app's own settings learn where it really serves (`--port` included): its labels and links follow it.
    os.environ[f"CLINIC_{app.upper()}_PORT"], os.environ[f"CLINIC_{app.upper()}_ADDRESS"] = str(port), address
    argv = streamlit_argv(app, cfg, port=port, address=address)
    os.execv(argv[0], argv)
