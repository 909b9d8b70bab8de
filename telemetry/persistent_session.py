"""The MQTT client of a process that must not lose what it reads: a persistent v5 session with manual acks.

The listener and the native adapter both read at QoS 1 and acknowledge only what they have committed, so the
broker keeps queueing for them while they are down (session expiry) and redelivers what they had not acknowledged.
"""

from __future__ import annotations

import logging

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from shared.store.settings import Settings
from telemetry.broker_tls import use_tls

log = logging.getLogger(__name__)

FATAL_CONNACK = {134, 135, 138}  # bad credentials, not authorised, banned: retrying will not help


class BrokerRefused(RuntimeError):
    """The broker refused our credentials; the message says why."""


def persistent_client(settings: Settings, client_id: str) -> mqtt.Client:
    """A v5 client with manual acks, the configured account and, when set, TLS (callbacks are the caller's)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=True)
    if settings.mqtt_username:
        client.username_pw_set(settings.mqtt_username, settings.mqtt_password)
    if settings.mqtt_tls_ca:
        use_tls(client, settings.mqtt_tls_ca)
    return client


def connect_persistent(client: mqtt.Client, settings: Settings) -> bool:
    """Start connecting without a clean start, asking the broker to queue for us; False if it cannot be reached."""
    s = settings
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = s.mqtt_session_expiry_s  # the broker queues for us while we are down
    props.ReceiveMaximum = s.mqtt_receive_maximum  # unacked messages in flight: must exceed a batch
    try:
        client.connect(s.mqtt_host, s.mqtt_port, keepalive=s.mqtt_keepalive_s, clean_start=False, properties=props)
    except OSError as exc:
        log.warning("cannot reach the broker at %s:%s (%s); retrying", s.mqtt_host, s.mqtt_port, exc)
        return False
    return True


def refusal(reason: ReasonCode, who: str, hint: str) -> str | None:
    """For a CONNACK refusal: the message that ends the process when retrying cannot help, else None (logged)."""
    log.warning("broker refused the connection: %s", reason)
    return f"the broker refused {who}: {reason} ({hint})" if reason.value in FATAL_CONNACK else None
