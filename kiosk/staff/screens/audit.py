"""Audit log (admin): who changed what and when, newest first, times in the clinic's time zone; under it, the
photos of the fault reports among the entries shown (shared/equipment/faults.py)."""

from __future__ import annotations

import json
from html import escape

import pandas as pd
import streamlit as st

from kiosk import resources
from kiosk.staff.auth import require
from kiosk.staff.kit import local
from shared.equipment.fault_photos import photo_data_uri
from shared.staff.audit import recent_audit
from shared.staff.models import AuditEntry
from shared.store.db import read_session

user = require("audit")
cfg = resources.settings()
LIMITS = (50, 200, 1000)
PHOTOS_SHOWN = 10  # the newest fault photos among the entries shown
PHOTO_SIDE = 800

st.title("Audit log")


def _detail(raw: str) -> str:
    """Staff changes keep their details as JSON, board actions as plain words; both shown as one line."""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(data, dict):
        return ", ".join(f"{key}: {value}" for key, value in data.items())
    return raw


def _photo(entry: AuditEntry) -> str | None:
    """The photo's file name a fault report's entry keeps, if any."""
    if entry.action != "equipment.out_of_service":
        return None
    try:
        data = json.loads(entry.detail)
    except ValueError:
        return None
    photo = data.get("photo") if isinstance(data, dict) else None
    return photo if isinstance(photo, str) else None


def _photos(entries: list[AuditEntry]) -> None:
    """The fault photos of the entries shown, each with who reported what, where and when."""
    shown = [(e, name) for e in entries if (name := _photo(e))][:PHOTOS_SHOWN]
    if not shown:
        return
    st.header("Fault photos")
    for entry, name in shown:
        when = local(entry.at, cfg.tz, "%Y-%m-%d %H:%M")
        words = f"{entry.target}, reported by {entry.actor} at {when}: {_detail(entry.detail)}"
        uri = photo_data_uri(cfg.data_dir, name, side=PHOTO_SIDE)
        st.text(words)
        if uri is None:
            st.caption("The photo file is missing from the data folder.")
            continue
        alt = escape(f"Photo of the fault at {entry.target}", quote=True)
        st.markdown(f"<img src='{uri}' alt='{alt}' style='max-width: 100%; width: 480px; height: auto'>",
                    unsafe_allow_html=True)  # fmt: skip


def _matches(entry: AuditEntry, needle: str) -> bool:
    return not needle or any(needle in text.lower() for text in (entry.actor, entry.action, entry.target))


left, right = st.columns([1, 2])
limit = left.selectbox("Show", LIMITS, index=1, format_func=lambda n: f"the newest {n} entries", key="audit_limit")
needle = right.text_input("Filter by person, action or target", key="audit_filter").strip().lower()
with read_session(resources.engine()) as session:
    entries = [e for e in recent_audit(session=session, limit=limit) if _matches(e, needle)]
st.caption(f"Times are in the clinic's time zone ({cfg.tz}). Newest first.")
if not entries:
    st.info("No audit entries match." if needle else "Nothing has been recorded yet.")
else:
    rows = [
        {
            "Time": local(e.at, cfg.tz, "%Y-%m-%d %H:%M:%S"),
            "By": e.actor,
            "Action": e.action,
            "Target": e.target,
            "Detail": _detail(e.detail),
        }
        for e in entries
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    _photos(entries)
