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
    PREFIX,
    SESSION_EXPIRY_S,
    drop_session,
    prime_session,
    publish_backlog,
    usage_backlog,
    wait_until,
)
from bench.ingest.trial import LIMIT_SITE, LIMIT_USER, STORE_USER, Context, Meter, Trial, drain_timeout, new_tag
from shared.store.settings import Settings


def run_limit(ctx: Context, n: int) -> Trial:
    """Drain `n` messages of its own site through its own account's session; `extra["received"]` is counted after
    it disconnected, so anything beyond its backlog shows."""
    tag = new_tag()
    user, password = LIMIT_USER, ctx.password(LIMIT_USER)
    received = 0
    done_at = 0.0
    with ExitStack() as stack:
        prime_session(ctx.broker, user, user, password, topic=f"{PREFIX}/{LIMIT_SITE}/equipment/+/+")
        stack.callback(drop_session, ctx.broker, user, user, password)
        ctx.ensure_no_session(STORE_USER)  # else the listener's session would queue this backlog too
        publish_s = publish_backlog(ctx.broker, usage_backlog(ctx.devices, n, tag, ids=ctx.ids, site=LIMIT_SITE))

        def on_message(_c: mqtt.Client, _u: Any, _msg: mqtt.MQTTMessage) -> None:
            nonlocal received, done_at
            received += 1
            if received == n:
                done_at = time.perf_counter()

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=user, protocol=mqtt.MQTTv5)
        client.username_pw_set(user, password)
        client.on_message = on_message
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = Settings.model_fields["mqtt_receive_maximum"].default  # the listener's default
        thread = threading.Thread(target=client.loop_forever, name="limit", daemon=True)

        meter = Meter(ctx.broker)
        client.connect("127.0.0.1", ctx.broker.port, keepalive=30, clean_start=False, properties=props)
        thread.start()
        stack.callback(thread.join, 15)
        stack.callback(client.disconnect)
        wait_until(lambda: received >= n, timeout=drain_timeout(n), interval=ctx.poll_s, what="limit subscriber")
        trial = meter.finish(("limit", n, publish_s), thread, end=done_at)
    trial.extra = {"received": received}
    return trial


def limit_problems(trial: Trial) -> list[str]:
    """What the limit's counts say is wrong: it must have received its backlog, once."""
    received = trial.extra.get("received")
    return [] if received == trial.messages else [f"limit received {received:,} of {trial.messages:,} messages"]
