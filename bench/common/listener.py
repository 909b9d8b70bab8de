"""Settings and environment for the project's listener (`clinic listen`) run by a benchmark.

The listener is benchmarked as the clinic runs it, so it gets its configuration only from these Settings and
the environment they render, never from the caller's CLINIC_* variables or .env.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bench.common.broker import Broker
from shared.store.settings import Settings
from telemetry.broker_acl import listener_user


def listener_settings(broker: Broker, data_dir: Path, db_url: str, *, member: int = 1, **overrides: Any) -> Settings:
    """The listener account `member` (the broker makes it the client id too: one account per group member)."""
    user = listener_user(member)
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": db_url,
        "mqtt_port": broker.port,
        "mqtt_username": user,
        "mqtt_password": broker.accounts[user],
        "timezone": "UTC",
        "log_level": "WARNING",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def child_env(settings: Settings) -> dict[str, str]:
    """This process's environment without any CLINIC_* variable, plus the ones that reproduce `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINIC_")}
    return {**env, **settings.as_env()}
