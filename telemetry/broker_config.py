"""The mosquitto.conf to run, rendered from the repo's for one data folder, and reloading a running broker."""

from __future__ import annotations

import getpass
import os
import signal
from pathlib import Path

from shared.store.private_files import private_dir, write_private
from shared.store.settings import Settings
from telemetry.bridge import bridge_lines
from telemetry.broker_files import BrokerFiles


def _repo_config() -> Path:
    """The repo's root mosquitto.conf: the copy the wheel ships beside this module (pyproject.toml force-includes
    it as telemetry/mosquitto.conf), else, in a checkout or an editable install, the file at the repo's root."""
    here = Path(__file__).resolve().parent
    packaged = here / "mosquitto.conf"
    return packaged if packaged.is_file() else here.parent / "mosquitto.conf"


REPO_CONFIG = _repo_config()


def reload_broker(settings: Settings) -> bool:
    """Ask a broker started by `clinic up` to re-read its password file and ACL (SIGHUP)."""
    pid_file = BrokerFiles(settings.broker_dir).pid
    try:
        os.kill(int(pid_file.read_text().strip()), signal.SIGHUP)
    except (OSError, ValueError):
        return False
    return True


def render_config(
    files: BrokerFiles,
    *,
    port: int,
    host: str = "127.0.0.1",
    template: Path = REPO_CONFIG,
    tls_listener: tuple[int, str] | None = None,
) -> str:
    """The repo's mosquitto.conf with its listener moved to `host:port` and its paths made absolute.

    With `tls_listener` (port, address) and the certificate from `clinic init --tls`, a second listener
    serves MQTT over TLS there (same accounts and ACL): devices on the Wi-Fi use it.
    """
    root = files.root.resolve()
    replacements = {
        "listener": f"listener {port} {host}",
        "password_file": f"password_file {root / 'passwd'}",
        "acl_file": f"acl_file {root / 'acl'}",
        "persistence_location": f"persistence_location {root}/",
    }
    lines = []
    for line in template.read_text().splitlines():
        key = line.split(" ", 1)[0]
        lines.append(replacements.get(key, line))
    lines += [
        # Stay the user who started it (Mosquitto would otherwise switch to `mosquitto`, who cannot read
        # the owner-only password file).
        f"user {getpass.getuser()}",
        f"pid_file {root / 'mosquitto.pid'}",
        f"log_dest file {root / 'mosquitto.log'}",
    ]
    tls = files.tls
    if tls_listener is not None and tls.exists():
        lines += [
            "# MQTT over TLS (clinic init --tls): devices verify the broker with ca.pem.",
            f"listener {tls_listener[0]} {tls_listener[1]}",
            f"cafile {tls.ca.resolve()}",
            f"certfile {tls.cert.resolve()}",
            f"keyfile {tls.key.resolve()}",
            "tls_version tlsv1.2",
        ]
    return "\n".join(lines) + "\n"


def write_config(settings: Settings, *, port: int, host: str = "127.0.0.1") -> Path:
    """Render the repo's config for this data folder and port; returns the file to pass to `mosquitto -c`.

    With CLINIC_BRIDGE_TO (a site of a chain) it ends with the bridge to the center, whose password makes the
    file readable by its owner only.
    """
    files = BrokerFiles(settings.broker_dir)
    private_dir(files.root)
    tls_listener = (settings.mqtt_tls_port, settings.mqtt_tls_address)
    text = render_config(files, port=port, host=host, tls_listener=tls_listener)
    bridge = bridge_lines(settings)
    write_private(files.config, text + ("\n".join(bridge) + "\n" if bridge else ""))
    return files.config
