"""The lobby's server: Streamlit's own (st.App, on uvicorn) plus `/healthz` for a monitor, composed here.

`clinic lobby` and `clinic up` run `streamlit run clinic/lobby_app.py`, which finds `app`: kiosk/lobby/app.py is
served with every Streamlit option as usual (HTTPS too), exactly as when it was run on its own.
"""

from __future__ import annotations

import streamlit as st

from clinic.apps import KIOSK_DIR
from kiosk.health_routes import health_routes

LOBBY_SCRIPT = KIOSK_DIR / "lobby" / "app.py"
app = st.App(LOBBY_SCRIPT, routes=health_routes("lobby"))
