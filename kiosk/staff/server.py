"""The staff app's server: Streamlit's own (st.App, on uvicorn) plus the sign-in cookie's endpoints.

`streamlit run kiosk/staff/server.py` finds `app` and serves kiosk/staff/app.py with every Streamlit option as usual.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from kiosk.staff.session_routes import ROUTES

app = st.App(Path(__file__).resolve().parent / "app.py", routes=ROUTES)
