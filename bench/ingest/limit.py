"""The limit design: a bare paho-mqtt subscriber that receives and discards, so the project's listener is compared
with what this broker can deliver on this machine."""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bench.common import (
    SESSION_EXPIRY_S,
    drop_session,
    prime_session,
    publish_backlog,
    usage_backlog,
    wait_until,
)
from bench.ingest.trial import Context, Meter, Trial, drain_timeout, new_tag
from telemetry.broker_acl import LISTENER_USER


def run_limit(ctx: Context, n: int) -> Trial:
    tag = new_tag()
    client_id = f"bench-limit-{tag}"
    with ExitStack() as stack:
        prime_session(ctx.broker, client_id, LISTENER_USER, ctx.listener_password)
        stack.callback(drop_session, ctx.broker, client_id, LISTENER_USER, ctx.listener_password)
        publish_s = publish_backlog(ctx.broker, usage_backlog(ctx.devices, n, tag))

        received = 0
        done_at = 0.0

        def on_message(_c: mqtt.Client, _u: Any, _msg: mqtt.MQTTMessage) -> None:
            nonlocal received, done_at
            received += 1
            if received == n:
                done_at = time.perf_counter()

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        client.username_pw_set(LISTENER_USER, ctx.listener_password)
        client.on_message = on_message
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = 1000  # the project listener's setting (mqtt_receive_maximum)
        thread = threading.Thread(target=client.loop_forever, name="limit", daemon=True)

        meter = Meter(ctx.broker)
        client.connect("127.0.0.1", ctx.broker.port, keepalive=30, clean_start=False, properties=props)
        thread.start()
        stack.callback(thread.join, 15)
        stack.callback(client.disconnect)
        wait_until(lambda: received >= n, timeout=drain_timeout(n), interval=ctx.poll_s, what="limit subscriber")
        return meter.finish(("limit", n, publish_s), thread, end=done_at)
