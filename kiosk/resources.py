"""Process-wide resources for the Streamlit apps: settings, the engine and the scan throttle."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from shared.care.scan_throttle import ScanThrottle
from shared.staff.sign_in_guard import SourceGuard
from shared.store.db import init_db, make_engine
from shared.store.settings import Settings, get_settings


@st.cache_resource
def settings() -> Settings:
    """Settings, read once per server process."""
    return get_settings()


@st.cache_resource
def engine() -> Engine:
    """One engine (a connection pool) shared by every session; sessions never share a `Session`."""
    engine = make_engine(settings().resolved_database_url)
    init_db(engine)
    return engine


@st.cache_resource
def sign_in_guard() -> SourceGuard:
    """Failed sign-ins per browser address, across sessions (a new session must not start afresh)."""
    return SourceGuard()


def client_address() -> str:
    """The browser's address as the server sees it ("" when unknown)."""
    address = st.context.ip_address
    return address if isinstance(address, str) else ""


@st.cache_resource
def scan_throttle() -> ScanThrottle:
    """Invalid-scan counts per kiosk, across sessions (a reload must not reset them)."""
    return ScanThrottle()
