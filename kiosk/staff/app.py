"""The staff app (Streamlit entry point): sign-in, then the pages the user's role allows."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from kiosk.failsafe import staff_guard
from kiosk.staff.auth import current_user, keep_signed_in_on_this_device, sign_in_form, sign_out
from kiosk.staff.chart_theme import use_staff_chart_theme
from kiosk.staff.nav import bottom_bar
from kiosk.theme import apply_staff_theme
from shared.staff.permissions import Area

PAGES_DIR = Path(__file__).resolve().parent / "screens"
PAGES: tuple[tuple[str, str, Area], ...] = (
    ("board.py", "Equipment board", "board"),
    ("scan.py", "Scan a station", "board"),
    ("arrivals.py", "Arrivals", "arrivals"),
    ("charts.py", "Usage and cleaning", "board"),
    ("patients.py", "Patients", "patients"),
    ("appointments.py", "Appointments", "appointments"),
    ("plans.py", "Exercises and plans", "plans"),
    ("equipment.py", "Equipment", "equipment"),
    ("maintenance.py", "Maintenance", "maintenance"),
    ("devices.py", "Devices", "devices"),
    ("accounts.py", "Staff accounts", "staff"),
    ("audit.py", "Audit log", "audit"),
    ("chain.py", "Chain", "chain"),
    ("reports.py", "Reports", "reports"),
)


def main() -> None:
    """Sign in first; then navigation lists only the pages the role may use.

    The other pages stay registered but hidden, so opening one by its address shows the page's own refusal
    (every page calls `require`) rather than silently landing somewhere else.
    """
    st.set_page_config(page_title="Clinic staff", layout="wide")
    apply_staff_theme()
    use_staff_chart_theme()
    with staff_guard("staff app"):
        _route()


def _route() -> None:
    user = current_user()
    if user is None:
        # Every page's address shows the sign-in form, so signing in goes on to the page asked for (a station
        # label's link keeps its station) rather than a "page not found".
        paths = ("sign-in", *(file.removesuffix(".py") for file, _, _ in PAGES))
        sign_in_pages = [st.Page(sign_in_form, title="Sign in", url_path=path) for path in paths]
        with staff_guard("sign-in"):
            st.navigation(sign_in_pages, position="hidden").run()
        return
    keep_signed_in_on_this_device()
    pages = [
        st.Page(
            PAGES_DIR / file,
            title=title,
            url_path=file.removesuffix(".py"),
            visibility="visible" if user.can(area) else "hidden",
        )
        for file, title, area in PAGES
    ]
    first = next(page for page, (_, _, area) in zip(pages, PAGES, strict=True) if user.can(area))
    # The default page is always served at "/" whatever its url_path, so no real page may be the default (its
    # own address, /board, would say "Page not found"): "/" is a hidden page that moves on to the first one.
    home = st.Page(lambda: st.switch_page(first), title=first.title, url_path="home", default=True,
                   visibility="hidden")  # fmt: skip
    pages.insert(0, home)
    with st.sidebar:
        st.text(f"Signed in as {user.display_name} ({user.role.replace('_', ' ')})")
        if st.button("Sign out", key="sign_out"):
            sign_out(message="You have signed out.")
            st.rerun()
    page = st.navigation(pages, expanded=True)  # every page a role has, never behind "View N more"
    allowed = [shown for shown, (_, _, area) in zip(pages[1:], PAGES, strict=True) if user.can(area)]
    bottom_bar(user.role, allowed, page)  # on a phone, the role's main pages one tap away
    with staff_guard(page.url_path or "page"):
        page.run()


main()
