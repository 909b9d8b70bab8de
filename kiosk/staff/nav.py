"""The staff app's bottom bar on a phone: the role's main pages one tap away, the current one marked.

Every page stays in the sidebar ("Menu"); on a phone that is two taps and a hunt, so the few pages a role lives
in also sit in a bar along the bottom of the screen (CSS in kiosk/theme.py shows it under 700 px only). The bar is
`st.page_link`s, so a tap switches pages inside the running session (no page load, no sign-in round trip); a
small fixed script of ours makes their box a labelled navigation landmark and marks the current link with
`aria-current="page"`, which Streamlit's page links do not do themselves.
"""

from __future__ import annotations

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from kiosk.page_scripts import run_in_page

BAR_KEY = "staff-bar"  # the bar's container: its CSS class is st-key-staff-bar
BAR_LABEL = "Main pages"
CURRENT_KEY = "staff-bar-now"  # the current page's link sits in a container keyed with this prefix
# The pages each role works in all day, in the bar's order (left to right); at most four, so each keeps a
# label a thumb can hit and read on a 360 px screen. Everything else stays behind "Menu".
MAIN_PAGES: dict[str, tuple[str, ...]] = {
    "technician": ("board", "scan", "arrivals", "devices"),
    "front_desk": ("arrivals", "patients", "appointments", "board"),
    "manager": ("reports", "board", "arrivals", "charts"),
    "admin": ("board", "arrivals", "patients", "equipment"),
}
SHORT_TITLES = {"board": "Board", "scan": "Scan", "charts": "Usage"}  # where a page's title is too long for the bar

_MARK = f"""
if (!window.clinicStaffBar) {{
  window.clinicStaffBar = true;
  const mark = () => {{
    const bar = document.querySelector('.st-key-{BAR_KEY}');
    if (!bar) return;
    if (bar.getAttribute('role') !== 'navigation') {{
      bar.setAttribute('role', 'navigation');
      bar.setAttribute('aria-label', {BAR_LABEL!r});
    }}
    for (const link of bar.querySelectorAll('a')) {{
      const now = link.closest('[class*="st-key-{CURRENT_KEY}-"]') !== null;
      if (now && link.getAttribute('aria-current') !== 'page') link.setAttribute('aria-current', 'page');
      if (!now && link.hasAttribute('aria-current')) link.removeAttribute('aria-current');
    }}
  }};
  new MutationObserver(mark).observe(document.body, {{childList: true, subtree: true}});
  mark();
}}
"""


def main_pages(role: str) -> tuple[str, ...]:
    """The url paths of the role's bar (none for a role without one: it keeps the sidebar alone)."""
    return MAIN_PAGES.get(role, ())


def bottom_bar(role: str, pages: list[StreamlitPage], current: StreamlitPage) -> None:
    """Draw the role's bar: a page link per main page the role may open, the current one marked."""
    by_path = {page.url_path: page for page in pages}
    shown = [by_path[path] for path in main_pages(role) if path in by_path]
    if not shown:
        return
    with st.container(key=BAR_KEY, horizontal=True, gap=None):
        for page in shown:
            here = page.url_path == current.url_path
            with st.container(key=f"{CURRENT_KEY if here else BAR_KEY}-{page.url_path}"):
                st.page_link(page, label=SHORT_TITLES.get(page.url_path, page.title))
    run_in_page(_MARK)
