"""The staff app's server: Streamlit's own (st.App, on uvicorn) plus the sign-in cookie's endpoints and `/healthz`,
composed here.

`clinic staff` and `clinic up` run `streamlit run clinic/staff_app.py`, which finds `app`: the adapters the pages
use are registered first (`compose_staff`), then kiosk/staff/app.py is served with every Streamlit option as usual.
"""

from __future__ import annotations

import streamlit as st

from clinic.apps import STAFF_SCRIPT, compose_staff
from kiosk.health_routes import health_routes
from kiosk.staff.session_routes import ROUTES

compose_staff()
app = st.App(STAFF_SCRIPT, routes=[*ROUTES, *health_routes("staff")])
