"""Kiosk presentation: big type, big targets, high contrast, Streamlit's chrome hidden; plus page scripts."""

from __future__ import annotations

import json
from html import escape

import streamlit as st

STATUS_STYLE = {  # colour is never the only signal: every badge also says the status in words
    "available": ("#0b6b2f", "Available"),
    "in_use": ("#8a4b00", "In use"),
    "needs_cleaning": ("#1f4e8c", "Being cleaned"),
    "cleaning": ("#0d5c63", "Being cleaned"),  # cleaned, the disinfectant's contact time still running
    "out_of_service": ("#a4161a", "Out of service"),
}

STAFF_CSS = """
<style>
#MainMenu, [data-testid="stMainMenu"], [data-testid="stAppDeployButton"], footer { display: none !important; }
.kiosk-badge { display: inline-block; color: #ffffff; font-weight: 700; border-radius: 0.4rem;
  padding: 0.1rem 0.55rem; }
/* The sidebar (pages, sign-out) opens from the toolbar's button: keep it, make it a labelled 44 px target. */
[data-testid="stExpandSidebarButton"] { min-width: 44px; min-height: 44px; padding: 0 0.5rem; }
[data-testid="stExpandSidebarButton"]::after { content: "Menu"; font-size: 1rem; font-weight: 600; color: #111111;
  margin-left: 0.25rem; }
[data-testid="stSidebarCollapseButton"] button { min-width: 44px; min-height: 44px; }
/* Every target at least 44 px (WCAG 2.5.5), text at least 16 px. */
.stButton button, .stFormSubmitButton button, .stDownloadButton button, .stLinkButton a,
[data-testid="stButtonGroup"] button, [data-testid="stSidebarNavLink"], [data-testid="stExpander"] summary,
[data-testid="stCameraInputButton"] {
  min-height: 44px; }
.stButton button p, .stFormSubmitButton button p, .stDownloadButton button p { font-size: 1rem; }
.stTextInput input, .stNumberInput input, .stDateInput input, .stTimeInput input, .stTextArea textarea {
  min-height: 44px; font-size: 1rem; }
div[data-baseweb="select"] > div { min-height: 44px; }
[data-testid="stRadio"] label, [data-testid="stCheckbox"] label { min-height: 44px; align-items: center; }
iframe[title="st.iframe"] { position: absolute; width: 1px; height: 1px; border: 0; }
/* ...and so does its element's box: a script that comes and goes (the sign-in cookie's claim) moves nothing. */
[data-testid="stElementContainer"]:has(iframe[title="st.iframe"]) { position: absolute; width: 1px; height: 1px;
  overflow: hidden; }
[data-testid="stHeaderActionElements"] { display: none; }
.block-container { padding-top: 3rem; }
/* Sections are h2 under the page's one h1 (axe: heading order), at the size subheaders had. */
[data-testid="stMain"] h2 { font-size: 1.6rem; padding-top: 0.75rem; }
/* A disabled control stays readable (4.5:1 on white); it looks disabled by its faded border and cursor. */
button:disabled, button:disabled p, [aria-disabled="true"], [aria-disabled="true"] p, input:disabled,
[data-baseweb="select"] [aria-disabled="true"] * { color: #595959 !important; -webkit-text-fill-color: #595959; }
[data-testid="stWidgetLabel"] p { color: #262730 !important; }
</style>
"""

KIOSK_CSS = """
<style>
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"], #MainMenu, footer { display: none !important; }
html, body, [data-testid="stAppViewContainer"] { background: #ffffff; color: #111111; }
.block-container { padding-top: 1.5rem; max-width: 980px; }
p, li, label, .stMarkdown, input, select { font-size: 1.45rem !important; line-height: 1.5; }
h1 { font-size: 2.6rem !important; } h2 { font-size: 2.1rem !important; } h3 { font-size: 1.8rem !important; }
.stButton > button, .stFormSubmitButton > button {
  min-height: 4.2rem; font-size: 1.6rem !important; padding: 0.6rem 1.6rem; border-radius: 0.8rem;
  border: 3px solid #111111;
}
iframe[title="st.iframe"] { position: absolute; width: 1px; height: 1px; border: 0; }
.stTextInput input { min-height: 3.6rem; font-size: 1.6rem !important; }
div[data-baseweb="select"] > div { min-height: 3.6rem; font-size: 1.5rem !important; }
[data-testid="stSelectboxVirtualDropdown"] [role="option"] * { font-size: 1.45rem !important; }
.kiosk-message { font-size: 2rem; font-weight: 700; margin: 0.5rem 0 1rem 0; }
.kiosk-card { border: 3px solid #222222; border-radius: 1rem; padding: 1rem 1.3rem; margin: 0 0 1rem 0; }
.kiosk-card h3 { margin: 0 0 0.4rem 0; }
.kiosk-dose { font-size: 1.7rem; font-weight: 700; margin: 0.2rem 0 0.4rem 0; }
.kiosk-badge { display: inline-block; color: #ffffff; font-weight: 700; border-radius: 0.5rem;
  padding: 0.15rem 0.7rem; font-size: 1.3rem; }
[class*="st-key-fb_pain_"] button { min-height: 5rem; padding: 0.4rem 0 !important; }
[class*="st-key-fb_pain_"] button p { font-size: 2rem !important; font-weight: 700; }
[class*="st-key-fb_diff_"] button { min-height: 6rem; }
[data-testid="stButtonGroup"] button { min-height: 3.4rem; }
[data-testid="stButtonGroup"] button p { font-size: 1.4rem !important; }
@media (max-width: 700px) { p, li, label { font-size: 1.3rem !important; } h1 { font-size: 2.1rem !important; } }
</style>
"""


def _run_script(script: str) -> None:
    """Run a fixed script of ours in a same-origin iframe (never anything built from user data)."""
    st.iframe(f"<html><body>{script}</body></html>", height=1)


def run_in_page(code: str) -> None:
    """Run a fixed line of ours in the page itself (not the iframe), e.g. a same-origin `fetch` that must carry
    the page's origin; never anything built from user data."""
    _run_script(f"""<script>
    const doc = window.parent.document;
    const run = doc.createElement("script");
    run.textContent = {json.dumps(code)};
    doc.head.appendChild(run);
    </script>""")


_MARKDOWN_SPECIAL = set("\\`*_{}[]()#+-.!|~<>$:")


def literal(text: str) -> str:
    """Text for a Streamlit element that renders Markdown, with every Markdown character escaped, so a name
    like "*Maria*" or "[x](y)" shows exactly as typed."""
    return "".join(f"\\{ch}" if ch in _MARKDOWN_SPECIAL else ch for ch in text)


def apply_kiosk_theme() -> None:
    """Inject the kiosk stylesheet (once per run; Streamlit de-duplicates identical markup)."""
    st.markdown(KIOSK_CSS, unsafe_allow_html=True)


def status_badge(status: str | None, words: str | None = None) -> str:
    """HTML for a station status badge; `words` (escaped here) replace the patient wording on staff pages."""
    if status not in STATUS_STYLE:
        return ""
    colour, default_words = STATUS_STYLE[status]
    return f'<span class="kiosk-badge" style="background:{colour}">{escape(words or default_words)}</span>'


def apply_staff_theme() -> None:
    """The staff app's stylesheet: status badges, 44 px targets, the menu button kept and its main menu hidden."""
    st.markdown(STAFF_CSS, unsafe_allow_html=True)


def idle_reset(seconds: int) -> None:
    """Reload the lobby at its welcome screen after `seconds` without a tap, key, scroll or touch.

    Runs in the browser because taps and scrolls that change no widget never reach the server. The reload
    replaces the history entry and starts a fresh session, so neither Back nor Reload shows the last patient.
    """
    script = f"""
    <script>
    const doc = window.parent.document;
    let last = Date.now();
    const touch = () => {{ last = Date.now(); }};
    ["pointerdown", "keydown", "scroll", "touchstart", "wheel", "input"].forEach(
      (name) => doc.addEventListener(name, touch, {{capture: true, passive: true}}));
    const timer = setInterval(() => {{
      if (Date.now() - last > {json.dumps(seconds * 1000)}) {{
        clearInterval(timer);
        // Streamlit's iframe sandbox forbids navigating the top page from here, so the page navigates itself.
        const reload = doc.createElement("script");
        reload.textContent = "window.location.replace(window.location.pathname);";
        doc.head.appendChild(reload);
      }}
    }}, 1000);
    </script>
    """
    _run_script(script)


def keep_scan_field_focused(label: str) -> None:
    """Keep the scanner's field focused, so a USB scanner that 'types' always types into it.

    Whenever no control has the focus (a tap on empty space focuses Streamlit's <main>, a reconnect disables
    the field) a timer puts it back, and so does the first keystroke, which then lands in the field.
    """
    script = f"""
    <script>
    const doc = window.parent.document;
    const controls = "input, textarea, select, button, summary, a[href], [contenteditable]";
    const refocus = () => {{
      const field = doc.querySelector('input[aria-label={json.dumps(label)}]');
      const active = doc.activeElement;
      const free = !active || active.tagName === "IFRAME" || !active.matches(controls);
      if (field && !field.disabled && free) field.focus();
    }};
    doc.addEventListener("keydown", refocus, {{capture: true}});
    window.addEventListener("pagehide", () => doc.removeEventListener("keydown", refocus, {{capture: true}}));
    setInterval(refocus, 400);
    </script>
    """
    _run_script(script)
