"""Fixtures the kiosk tests share: each app's environment (the test store, a data folder, no cached settings)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st

from clinic.apps import compose_staff
from kiosk import resources
from shared.store.settings import get_settings
from tests.kiosk.staff_app import CLINIC_TZ_NAME


def _app_env(monkeypatch: pytest.MonkeyPatch, *, clear: bool, **env: str) -> Iterator[None]:
    """Set CLINIC_* variables (after removing every other one when `clear`); cached settings and engines from
    other tests must not leak in, and the app's pooled connections are closed after."""
    if clear:
        for name in list(os.environ):
            if name.startswith("CLINIC_"):
                monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(f"CLINIC_{name.upper()}", value)
    get_settings.cache_clear()
    st.cache_resource.clear()
    compose_staff()  # the adapters the server registers (AppTest runs the app's script, not the server)
    yield
    resources.engine().dispose()  # the app's pooled connections, before the cache forgets the engine
    st.cache_resource.clear()
    get_settings.cache_clear()


@pytest.fixture
def staff_env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> Iterator[Path]:
    """Point the staff app at the test store and a data folder of its own; returns that data folder."""
    data = tmp_path / "data"
    env = _app_env(monkeypatch, clear=True, database_url=db_url, data_dir=str(data), timezone="UTC")
    next(env)
    yield data
    next(env, None)


@pytest.fixture
def lobby_env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> Iterator[None]:
    """Point the lobby at the test store, its cards at https://lobby.example."""
    yield from _app_env(monkeypatch, clear=False, database_url=db_url, data_dir=str(tmp_path / "data"),
                        timezone="UTC", kiosk_url="https://lobby.example")  # fmt: skip


@pytest.fixture
def care_env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> Iterator[None]:
    """Point the staff app's care pages at the test store, the clinic in a zone where it is midday now."""
    yield from _app_env(monkeypatch, clear=True, database_url=db_url, data_dir=str(tmp_path / "data"),
                        timezone=CLINIC_TZ_NAME)  # fmt: skip
