"""The broker's service account names and the ACL: which topics each account may read or write."""

from __future__ import annotations

from shared.equipment.native.dialects import NATIVE_SUBSCRIPTIONS, device_topics_read, native_topics
from shared.equipment.recording import status_topic

LISTENER_USER = "svc.listener"
SIMULATOR_USER = "svc.simulator"
NATIVE_USER = "svc.native"  # the native-device adapter: reads the vendors' topics, publishes derived contract events
REGISTRY_USER = "svc.registry"  # publishes a site's registrations (retained); at the center, reads them all
SIMULATOR_POOL = 64  # `svc.simulator-<n>`: one account per simulated station (client id = username)


def listener_user(n: int = 1) -> str:
    """The broker account (and so the client id) of the n-th listener of a shared group: svc.listener, -2, ..."""
    return LISTENER_USER if n == 1 else f"{LISTENER_USER}-{n}"


def simulator_user(n: int) -> str:
    """The account the simulator's n-th station connects as (0 to SIMULATOR_POOL - 1)."""
    return f"{SIMULATOR_USER}-{n}"


def acl_text(
    prefix: str,
    devices: dict[str, str] | None = None,
    listeners: list[str] | None = None,
    bridges: dict[str, str] | None = None,
    natives: dict[str, str] | None = None,
) -> str:
    """The ACL: the listener reads everything under the prefix and writes its own retained status (online, and its
    last will offline) at any site; each device writes only its own topics.

    `devices` maps each device account (its equipment id) to its site, so a device can publish neither as
    another station nor as a station of the same id at another site. `bridges` (at a chain's center) maps each
    site to its bridge account, which may write that site's topics only. `natives` maps each native device's
    account to its dialect: it may publish its own native topics only (a plug cannot publish as another plug, nor
    on the contract's topics), and the adapter `svc.native` reads them all and publishes the derived events.
    """
    device_rules: list[str] = []
    for equipment_id, site in sorted((devices or {}).items()):
        device_rules += [f"user {equipment_id}", f"topic write {prefix}/{site}/equipment/{equipment_id}/+", ""]
    listener_rules: list[str] = []
    for user in listeners or [LISTENER_USER]:
        status = status_topic(prefix, "+", user)
        listener_rules += [f"user {user}", f"topic read {prefix}/#", *([f"topic write {status}"] if status else []), ""]
    simulator_rules: list[str] = []
    native_writes = [f"topic write {topic}" for topic in NATIVE_SUBSCRIPTIONS]
    for user in [SIMULATOR_USER, *(simulator_user(n) for n in range(SIMULATOR_POOL))]:
        simulator_rules += [f"user {user}", f"topic write {prefix}/+/equipment/+/+", *native_writes, ""]
    bridge_rules: list[str] = []
    for site, user in sorted((bridges or {}).items()):
        bridge_rules += [f"user {user}", f"topic write {prefix}/{site}/#", ""]
    return "\n".join(
        [
            "# Written by `clinic init`; edit the generator (telemetry/broker_acl.py), not this file.",
            "# The listeners (one account each: the broker makes the username the client id). Each publishes its own",
            "# status (retained, and its last will) on <prefix>/<site>/system/listener/<account>, which the listener",
            "# accounts read like everything under the prefix; a monitoring account needs a read line for it.",
            *listener_rules,
            "# A chain: equipment registrations (retained) and staff actions, published at each site for the",
            "# center (`clinic chain publish`); at the center the same account reads the registrations.",
            f"user {REGISTRY_USER}",
            f"topic readwrite {prefix}/+/registry/+",
            f"topic write {prefix}/+/equipment/+/+",
            "",
            "# Bridges of the chain's sites (`clinic chain add-site`): each forwards its own site's topics only.",
            *bridge_rules,
            "# Demo and test traffic generator (`clinic simulate`): svc.simulator and one account per simulated",
            "# station; remove their lines from passwd in production.",
            *simulator_rules,
            "# Every device: its username is its equipment id, and it may only publish its own channels.",
            *device_rules,
            *_native_rules(prefix, natives or {}),
        ]
    )


def _native_rules(prefix: str, natives: dict[str, str]) -> list[str]:
    """The adapter's rights, then each native device's: write its own topics, read its own commands."""
    rules = ["# The native adapter (`clinic native`): reads the vendors' topics, writes derived contract events.",
             f"user {NATIVE_USER}", *(f"topic read {topic}" for topic in NATIVE_SUBSCRIPTIONS),
             f"topic write {prefix}/+/equipment/+/+", "",
             "# Native devices (`clinic device bind`): each writes its own vendor topics only."]  # fmt: skip
    for username, via in sorted(natives.items()):
        name = "" if via == "zigbee2mqtt" else username
        writes = ["zigbee2mqtt/#"] if via == "zigbee2mqtt" else list(native_topics(via, name))  # type: ignore[arg-type]
        reads = device_topics_read(via, name)  # type: ignore[arg-type]
        rules += [f"user {username}", *(f"topic write {t}" for t in writes), *(f"topic read {t}" for t in reads), ""]
    return rules
