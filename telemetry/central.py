"""The center's listeners partitioned by site: each takes a fixed set of sites on plain (not shared) subscriptions.

Why not only a shared group: Mosquitto 2.0.11 keeps a persistent session's plain subscriptions across its own
restart, but not its shared ones (checked here: after a restart, a message published before the group's members
re-subscribe finds "no matching subscribers" and is dropped). At the center that window is real: the sites'
bridges reconnect 1 to 10 s after the central broker returns and deliver their whole backlog at once, before a
listener backing off has re-subscribed. A listener that owns its sites' topics has its subscription (and queue)
waiting for it from the first second. Each site's events go to exactly one listener, so nothing is done twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine

from shared.store.settings import ID_PATTERN, Settings
from telemetry.listener import Listener


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
        self.sites = sorted(set(sites))
        super().__init__(settings, engine)

    def subscriptions(self) -> list[str]:
        """One plain subscription per site of this listener."""
        return site_subscriptions(self.settings.topic_prefix, self.sites)
