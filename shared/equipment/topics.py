"""Topic layout of the device contract: `<prefix>/<site>/equipment/<equipment_id>/<channel>`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from shared.equipment.events import Channel
from shared.store.settings import ID_PATTERN

CHANNELS: tuple[Channel, ...] = ("usage", "cleaning", "fault", "status")


class TopicError(ValueError):
    """A topic outside the device contract; the message says what is wrong with it."""


@dataclass(frozen=True, slots=True)
class TopicParts:
    """The parts of a valid equipment topic."""

    site: str
    equipment_id: str
    channel: Channel


@lru_cache(maxsize=8192)  # a site's few thousand topics, parsed once each while draining a backlog
def parse_topic(topic: str, prefix: str) -> TopicParts:
    """Split a topic into site, equipment id and channel, or raise `TopicError` naming the bad part (a bad topic is
    checked each time: exceptions are not cached)."""
    head = prefix + "/"
    if not topic.startswith(head):
        raise TopicError(f"topic {topic!r} does not start with {head!r}")
    parts = topic[len(head) :].split("/")
    if len(parts) != 4 or parts[1] != "equipment":
        raise TopicError(f"topic {topic!r} does not match {prefix}/<site>/equipment/<equipment_id>/<channel>")
    site, _, equipment_id, channel = parts
    if not ID_PATTERN.match(site):
        raise TopicError(f"site {site!r} in topic must match {ID_PATTERN.pattern}")
    if not ID_PATTERN.match(equipment_id):
        raise TopicError(f"equipment id {equipment_id!r} in topic must match {ID_PATTERN.pattern}")
    if channel not in CHANNELS:
        raise TopicError(f"channel {channel!r} is not one of {', '.join(CHANNELS)}")
    return TopicParts(site=site, equipment_id=equipment_id, channel=channel)


def equipment_topic(prefix: str, site: str, equipment_id: str, channel: Channel) -> str:
    """The topic a device publishes `channel` messages on."""
    return f"{prefix}/{site}/equipment/{equipment_id}/{channel}"


def subscription(prefix: str, shared_group: str | None = None) -> str:
    """What the listener subscribes to: every channel of every device at every site under the prefix."""
    topic = f"{prefix}/+/equipment/+/+"
    return f"$share/{shared_group}/{topic}" if shared_group else topic
