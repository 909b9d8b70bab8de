"""MQTT v5 connections to the bench's broker, and the listener's persistent sessions primed and dropped.

A backlog benchmark needs the broker to queue for a listener that is not connected yet: these helpers create
that session (and remove it afterwards) with the same client settings the publisher uses.
"""

from __future__ import annotations

import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bench.common.broker import Broker
from bench.common.payloads import PREFIX
from bench.common.processes import wait_until
from shared.equipment.topics import subscription

SESSION_EXPIRY_S = 3600


def listener_topic() -> str:
    return subscription(PREFIX)


def v5_client(client_id: str, username: str, password: str) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.username_pw_set(username, password)
    return client


def connect_blocking(client: mqtt.Client, port: int, *, clean_start: bool, expiry: int) -> None:
    connected = threading.Event()
    failure: list[str] = []

    def on_connect(_c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            failure.append(str(reason))
        connected.set()

    client.on_connect = on_connect
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = expiry
    client.connect("127.0.0.1", port, keepalive=30, clean_start=clean_start, properties=props)
    client.loop_start()
    wait_until(connected.is_set, timeout=15, what="CONNACK")
    if failure:
        client.loop_stop()
        raise RuntimeError(f"broker refused {client._client_id!r}: {failure[0]}")


def disconnect(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


def prime_session(broker: Broker, client_id: str, username: str, password: str, *, topic: str | None = None) -> None:
    """Create a persistent session subscribed (QoS 1) to the listener's topic (or `topic`), then leave: the broker
    queues. The clean start discards whatever an earlier session of this account held.

    The repo's broker makes every client's id its username (use_username_as_clientid), so the session is the
    account's whatever `client_id` says: two consumers get separate sessions only with separate accounts.
    """
    client = v5_client(client_id, username, password)
    subscribed = threading.Event()
    client.on_subscribe = lambda *_a: subscribed.set()
    connect_blocking(client, broker.port, clean_start=True, expiry=SESSION_EXPIRY_S)
    client.subscribe(topic or listener_topic(), qos=1)
    wait_until(subscribed.is_set, timeout=15, what="SUBACK")
    disconnect(client)


def drop_session(broker: Broker, client_id: str, username: str, password: str) -> None:
    """Remove a session (and anything still queued for it) from the broker."""
    if broker.process.poll() is not None:
        return
    client = v5_client(client_id, username, password)
    connect_blocking(client, broker.port, clean_start=True, expiry=0)
    disconnect(client)


def session_held(broker: Broker, username: str, password: str) -> bool:
    """Whether the broker holds a session for this account (its client id); ends it if so (expiry 0).

    A benchmark calls this before publishing a backlog meant for another consumer: a session still held would
    queue that backlog too and drain it on top of its own next time, which reads as a slow-down.
    """
    client = v5_client(username, username, password)
    present: list[bool] = []
    connected = threading.Event()

    def on_connect(_c: mqtt.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        present.append(bool(flags.session_present) and not reason.is_failure)
        connected.set()

    client.on_connect = on_connect
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0
    client.connect("127.0.0.1", broker.port, keepalive=30, clean_start=False, properties=props)
    client.loop_start()
    try:
        wait_until(connected.is_set, timeout=15, what="CONNACK")
    finally:
        disconnect(client)
    return present[0]
