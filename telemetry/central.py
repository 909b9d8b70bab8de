"""The center's listeners partitioned by site: each takes a fixed set of sites on plain (not shared) subscriptions.

Why not only a shared group: Mosquitto 2.0.11 keeps a persistent session's plain subscriptions across its own
restart, but not its shared ones (checked here: after a restart, a message published before the group's members
re-subscribe finds "no matching subscribers" and is dropped). At the center that window is real: the sites'
bridges reconnect 1 to 10 s after the central broker returns and deliver their whole backlog at once, before a
listener backing off has re-subscribed. A listener that owns its sites' topics has its subscription (and queue)
waiting for it from the first second. Each site's events go to exactly one listener, so nothing is done twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy import Engine

from shared.store.settings import ID_PATTERN, Settings
from telemetry.listener import Listener

log = logging.getLogger(__name__)


def site_subscriptions(prefix: str, sites: Sequence[str]) -> list[str]:
    """One plain subscription per site: every channel of every device of that site."""
    return [f"{prefix}/{site}/equipment/+/+" for site in sites]


def partition(sites: Sequence[str], *, listeners: int) -> list[list[str]]:
    """Sites dealt to `listeners` listeners in turn (sorted first, so every machine deals them alike)."""
    ordered = sorted(set(sites))
    return [ordered[n::listeners] for n in range(listeners)]


class SiteListener(Listener):
    """The project's listener (batches, ack after commit, exactly once), subscribed to the given sites only."""

    def __init__(self, settings: Settings, engine: Engine, *, sites: Sequence[str]) -> None:
        bad = [site for site in sites if not ID_PATTERN.match(site)]
        if not sites or bad:
            raise ValueError(f"sites must be one or more ids matching {ID_PATTERN.pattern} (got {bad or 'none'})")
        if settings.mqtt_shared_group:
            raise ValueError("a listener of given sites takes them alone: leave CLINIC_MQTT_SHARED_GROUP unset")
        super().__init__(settings, engine)
        self.sites = sorted(set(sites))

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any) -> None:
        if reason.is_failure:
            super()._on_connect(client, userdata, flags, reason, props)
            return
        self._connected = True
        self._net_backoff.reset()
        self.stats.connects += 1
        options = SubscribeOptions(qos=1, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)
        topics = site_subscriptions(self.settings.topic_prefix, self.sites)
        client.subscribe([(topic, options) for topic in topics])  # on every connect, as the base class does
        log.info("connected (session present: %s), subscribing to %s", getattr(flags, "session_present", "?"),
                 ", ".join(topics))  # fmt: skip
