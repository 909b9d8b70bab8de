"""A site's Mosquitto bridge to the chain's central broker: the lines `write_config` appends when
CLINIC_BRIDGE_TO is set.

Mosquitto does the forwarding (no replication of our own): the bridge subscribes on the site's broker to
`<prefix>/<site>/#` at QoS 1 with a persistent session on both sides (`cleansession false`), so while the WAN is
down the site's broker queues for it (up to `max_queued_messages`, saved to disk every second), and on
reconnect it sends the queue; a message in flight at the cut is sent again and the central listener's event key
turns it into nothing. The site's own listener, store, lobby and board never wait for the link.
"""

from __future__ import annotations

from pathlib import Path

from shared.store.settings import Settings

BRIDGE_PREFIX = "bridge."  # a `.` no equipment id may contain: a bridge account is never a device's
PROTOCOL = "mqttv311"  # Mosquitto 2.0.11's default for bridges; its MQTT v5 bridge is newer and less travelled
RESTART_TIMEOUT = "1 10"  # reconnect after 1 s, backing off (with jitter) to 10 s while the center is down
KEEPALIVE_S = 30  # a dead WAN link is noticed within ~45 s, not the default ~90 s


def bridge_user(site: str) -> str:
    """The central broker's account (and client id) for the bridge of `site`."""
    return f"{BRIDGE_PREFIX}{site}"


def state_topic(prefix: str, site: str) -> str:
    """Where the bridge publishes (retained) 1 when its link is up and 0 when it is lost, on both brokers."""
    return f"{prefix}/{site}/bridge/state"


def bridge_lines(settings: Settings) -> list[str]:
    """The `connection` section for this site's bridge, or nothing when CLINIC_BRIDGE_TO is not set."""
    if not settings.bridge_to:
        return []
    user = settings.resolved_bridge_username
    if not settings.bridge_password:
        raise ValueError("CLINIC_BRIDGE_PASSWORD is needed with CLINIC_BRIDGE_TO (`clinic chain add-site` prints it)")
    prefix, site = settings.topic_prefix, settings.site
    lines = [
        "",
        f"# Bridge to the chain's center (CLINIC_BRIDGE_TO): {prefix}/{site}/# goes out at QoS 1; the persistent",
        "# session makes this broker queue while the link is down. Mosquitto reads it at start only (restart it).",
        f"connection {user}",
        f"address {settings.bridge_to}",
        f"remote_clientid {user}",  # the central broker ties client ids to usernames anyway
        f"local_clientid local.{user}",
        f"remote_username {user}",
        f"remote_password {settings.bridge_password}",
        f"topic {prefix}/{site}/# out 1",
        "cleansession false",
        "local_cleansession false",
        f"bridge_protocol_version {PROTOCOL}",
        "try_private true",
        "start_type automatic",
        f"restart_timeout {RESTART_TIMEOUT}",
        f"keepalive_interval {KEEPALIVE_S}",
        "notifications true",
        f"notification_topic {state_topic(prefix, site)}",
    ]
    if settings.bridge_cafile is not None:
        lines += _tls_lines(settings.bridge_cafile)
    return lines


def _tls_lines(cafile: Path) -> list[str]:
    """Verify the central broker's certificate (and host name) against `cafile`, as devices verify a site's."""
    if not cafile.exists():
        raise FileNotFoundError(f"CLINIC_BRIDGE_CAFILE: no CA certificate at {cafile}")
    return [f"bridge_cafile {cafile.resolve()}", "bridge_tls_version tlsv1.2", "bridge_insecure false"]
