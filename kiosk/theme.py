"""Kiosk presentation: big type, big targets, high contrast, Streamlit's chrome hidden; Markdown-literal text."""

from __future__ import annotations

from html import escape

import streamlit as st

CLEANING_COLOUR = "#1f4e8c"  # one colour per status everywhere: waiting for a wipe and the contact time alike
STATUS_STYLE = {  # colour is never the only signal: every badge also says the status in words
    "available": ("#0b6b2f", "Available"),
    "in_use": ("#8a4b00", "In use"),
    "needs_cleaning": (CLEANING_COLOUR, "Being cleaned"),
    "cleaning": (CLEANING_COLOUR, "Being cleaned"),  # cleaned, the disinfectant's contact time still running
    "out_of_service": ("#a4161a", "Out of service"),
}

STAFF_CSS = """
<style>
#MainMenu, [data-testid="stMainMenu"], [data-testid="stAppDeployButton"], footer { display: none !important; }
.kiosk-badge { display: inline-block; color: #ffffff; font-weight: 700; border-radius: 0.4rem;
  padding: 0.1rem 0.55rem; }
/* The sidebar (pages, sign-out) opens from the toolbar's button: keep it, make it a labelled 48 px target. */
[data-testid="stExpandSidebarButton"] { min-width: 48px; min-height: 48px; padding: 0 0.5rem; }
[data-testid="stExpandSidebarButton"]::after { content: "Menu"; font-size: 1rem; font-weight: 600; color: #111111;
  margin-left: 0.25rem; }
[data-testid="stSidebarCollapseButton"] button { min-width: 48px; min-height: 48px; }
/* Every target at least 48 x 48 px (issue #28: a technician's thumb on a phone), text at least 16 px. */
.stButton button, .stFormSubmitButton button, .stDownloadButton button, .stLinkButton a, .stPopover button,
[data-testid="stButtonGroup"] button, [data-testid="stSidebarNavLink"], [data-testid="stExpander"] summary,
[data-testid="stCameraInputButton"], [data-testid="stPageLink-NavLink"] {
  min-height: 48px; min-width: 48px; }
.stButton button p, .stFormSubmitButton button p, .stDownloadButton button p, .stPopover button p,
[data-testid="stSidebarNavLink"] span, [data-testid="stPageLink-NavLink"] p { font-size: 1rem; }
.stTextInput input, .stNumberInput input, .stDateInput input, .stTimeInput input, .stTextArea textarea {
  min-height: 48px; font-size: 1rem; }
/* The password's show/hide eye and a number's steppers are targets too. */
[data-testid="stTextInputRootElement"] button, [data-testid="stNumberInputContainer"] button {
  min-width: 48px; min-height: 48px; }
div[data-baseweb="select"] > div { min-height: 48px; }
[data-testid="stSelectbox"] input, [data-testid="stSelectbox"] button, [data-testid="stMultiSelect"] input {
  min-height: 48px; font-size: 1rem; }
[data-testid="stSelectbox"] button, [data-testid="stTooltipHoverTarget"] button { min-width: 48px; }
[data-testid="stTooltipHoverTarget"] button { min-height: 48px; justify-content: center; }  /* a field's "?" */
[data-testid="stDateInputField"] { min-height: 48px; }
[data-testid="stDateInputField"] [data-type] { font-size: 1rem; }  /* the year, month and day */
[data-testid="stDateInputCalendarButton"] { min-width: 48px; min-height: 48px; }
[data-testid="stFileUploaderDropzone"] button { min-height: 48px; min-width: 48px; font-size: 1rem; }
[data-testid="stFileUploaderDropzone"] button *:not([data-testid="stIconMaterial"]),
[data-testid="stFileUploaderDropzoneInstructions"] * { font-size: 1rem; }
[data-testid="stRadio"] label, [data-testid="stCheckbox"] label { min-height: 48px; align-items: center; }
/* Option labels, folded sections' titles and captions are read on a phone too: 16 px, like the rest. */
[data-testid="stRadio"] label p, [data-testid="stCheckbox"] label p, [data-testid="stExpander"] summary p,
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p, [data-testid="stWidgetLabel"] p {
  font-size: 1rem; }
/* A field's "2/200" character count, shown while typing, is read too. */
[data-testid="InputInstructions"], [data-testid="InputInstructions"] * { font-size: 1rem; }
/* kit.plain_table: 16 px text, a box that scrolls sideways on a phone (focusable, named), lines between rows. */
.staff-table { overflow-x: auto; max-width: 100%; }
.staff-table table { border-collapse: collapse; font-size: 1rem; }
.staff-table th, .staff-table td { text-align: left; padding: 0.5rem 0.75rem; border-bottom: 1px solid #d0d4da;
  vertical-align: top; }
.staff-table th { font-weight: 600; background: #f0f2f6; }
.staff-table:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
/* The role's main pages along the bottom of a phone (kiosk/staff/nav.py); wider screens keep the sidebar. */
.st-key-staff-bar { display: none !important; }
@media (max-width: 700px) {
  .st-key-staff-bar { display: flex !important; position: fixed; left: 0; right: 0; bottom: 0; z-index: 999990;
    flex-wrap: nowrap; gap: 0; background: #ffffff; border-top: 2px solid #111111;
    padding: 0 0.25rem env(safe-area-inset-bottom, 0); }
  .st-key-staff-bar > div { flex: 1 1 auto; min-width: 0; width: auto; }  /* one cell a page, sharing the width */
  .st-key-staff-bar [data-testid="stElementContainer"] { width: 100%; }
  .st-key-staff-bar [data-testid="stPageLink-NavLink"] { min-height: 56px; justify-content: center; margin: 0;
    padding: 0 0.3rem; border-radius: 0; border-top: 4px solid transparent; }
  .st-key-staff-bar [data-testid="stPageLink-NavLink"] p { font-size: 1rem; color: #111111; }
  [class*="st-key-staff-bar-now-"] [data-testid="stPageLink-NavLink"] { border-top-color: #0b3d91;
    background: #e6edf9; }
  [class*="st-key-staff-bar-now-"] [data-testid="stPageLink-NavLink"] p { font-weight: 700; }
  .block-container { padding-bottom: 6rem; }  /* the page's end scrolls clear of the bar */
  [data-testid="stToastContainer"] { bottom: 4.5rem; }
}
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
.stButton > button, .stFormSubmitButton > button, .stDownloadButton > button {
  min-height: 4.2rem; font-size: 1.6rem !important; padding: 0.6rem 1.6rem; border-radius: 0.8rem;
  border: 3px solid #111111;
}
.stTimeInput input { min-height: 3.6rem; }
.stTimeInput [role="group"], .stTimeInput [role="group"] * { font-size: 1.45rem !important; }
iframe[title="st.iframe"] { position: absolute; width: 1px; height: 1px; border: 0; }
.stTextInput input { min-height: 3.6rem; font-size: 1.6rem !important; }
[data-testid="InputInstructions"], [data-testid="stHeaderActionElements"] { display: none !important; }
[class*="st-key-lang_"] button, .st-key-large_text_toggle button { min-height: 3.2rem; font-size: 1.3rem !important;
  padding: 0.3rem 0.8rem; border-width: 2px; }
[class*="st-key-lang_"] button p, .st-key-large_text_toggle button p { font-size: 1.3rem !important; }
[class*="st-key-dob_"] input { font-size: 2rem !important; letter-spacing: 0.1em; text-align: center; }
[data-testid="stExpander"] summary { min-height: 3.5rem; align-items: center; }
[data-testid="stExpander"] summary p { font-size: 1.45rem !important; }
[data-testid="stCameraInput"] button { min-height: 3.5rem; font-size: 1.45rem !important; }
[data-testid="stCameraInput"] button * { font-size: 1.45rem !important; }
.kiosk-card-start { border: 6px solid #0b6b2f; }
.kiosk-start { display: inline-block; background: #0b6b2f; color: #ffffff !important; font-weight: 700;
  border-radius: 0.5rem; padding: 0.1rem 0.8rem; margin: 0 0 0.4rem 0; }
.kiosk-instead { background: #fff4d6; border-left: 6px solid #8a4b00; padding: 0.3rem 0.7rem; }
.kiosk-has-picture { display: flex; gap: 1.2rem; align-items: flex-start; flex-wrap: wrap; }
.kiosk-picture { width: 12rem; max-width: 100%; height: auto; border-radius: 0.6rem; border: 2px solid #666666;
  background: #ffffff; }
.kiosk-card-text { flex: 1 1 16rem; min-width: 0; }
.kiosk-qr { display: flex; gap: 1.2rem; align-items: center; flex-wrap: wrap; border: 3px solid #222222;
  border-radius: 1rem; padding: 1rem; margin: 1rem 0; }
.kiosk-qr img { width: 11rem; height: 11rem; image-rendering: pixelated; }
[class*="st-key-pain_scale"] [data-testid="stHorizontalBlock"] { flex-wrap: wrap !important;
  flex-direction: row !important;
  gap: 0.5rem; }
[class*="st-key-pain_scale"] [data-testid="stColumn"] { flex: 1 1 4.2rem !important; min-width: 4.2rem !important;
  width: auto !important; }
#kiosk-idle-warning { position: fixed; inset: 0; background: rgba(0, 0, 0, 0.6); z-index: 100000; display: flex;
  align-items: center; justify-content: center; }
#kiosk-idle-warning > div { background: #ffffff; color: #111111; border-radius: 1rem; padding: 2rem; max-width: 36rem;
  margin: 1rem; text-align: center; border: 4px solid #111111; }
#kiosk-idle-warning p { font-size: 1.8rem; font-weight: 700; margin: 0 0 1.2rem 0; }
#kiosk-idle-warning button { font-size: 2rem; font-weight: 700; min-height: 5rem; width: 100%; border-radius: 0.8rem;
  background: #0b3d91; color: #ffffff; border: 3px solid #111111; cursor: pointer; }
.kiosk-message { font-size: 2rem; font-weight: 700; margin: 0.5rem 0 1rem 0; }
.kiosk-card { border: 3px solid #222222; border-radius: 1rem; padding: 1rem 1.3rem; margin: 0 0 1rem 0; }
.kiosk-card h3 { margin: 0 0 0.4rem 0; }
.kiosk-dose { font-size: 1.7rem; font-weight: 700; margin: 0.2rem 0 0.4rem 0; }
.kiosk-badge { display: inline-block; color: #ffffff; font-weight: 700; border-radius: 0.5rem;
  padding: 0.15rem 0.7rem; font-size: 1.3rem; }
[class*="st-key-fb_pain_"] button { min-height: 5rem; padding: 0.4rem 0 !important; }
[class*="st-key-fb_pain_"] button p { font-size: 2rem !important; font-weight: 700; }
[class*="st-key-fb_diff_"] button { min-height: 6rem; }
.st-key-pain_scale_questionnaire button { min-height: 5rem; padding: 0.4rem 0 !important; }
.st-key-pain_scale_questionnaire button p { font-size: 2rem !important; font-weight: 700; }
[data-testid="stButtonGroup"] button { min-height: 3.4rem; }
[data-testid="stButtonGroup"] button p { font-size: 1.4rem !important; }
@media (max-width: 700px) {
  [class*="st-key-dob_"] input { font-size: 1.6rem !important; } }
@media (max-width: 700px) { p, li, label { font-size: 1.3rem !important; } h1 { font-size: 2.1rem !important; } }
</style>
"""

_MARKDOWN_SPECIAL = set("\\`*_{}[]()#+-.!|~<>$:")


def literal(text: str) -> str:
    """Text for a Streamlit element that renders Markdown, with every Markdown character escaped, so a name
    like "*Maria*" or "[x](y)" shows exactly as typed."""
    return "".join(f"\\{ch}" if ch in _MARKDOWN_SPECIAL else ch for ch in text)


LARGE_TEXT_CSS = """
<style>
html { font-size: 150% !important; }
.block-container { max-width: 1400px; }
</style>
"""


def apply_kiosk_theme(*, large: bool = False) -> None:
    """Inject the kiosk stylesheet (once per run; Streamlit de-duplicates identical markup); `large` scales
    every size (they are in rem) by 1.5."""
    st.markdown(KIOSK_CSS, unsafe_allow_html=True)
    if large:
        st.markdown(LARGE_TEXT_CSS, unsafe_allow_html=True)


def status_badge(status: str | None, words: str | None = None) -> str:
    """HTML for a station status badge; `words` (escaped here) replace the patient wording on staff pages."""
    if status not in STATUS_STYLE:
        return ""
    colour, default_words = STATUS_STYLE[status]
    return f'<span class="kiosk-badge" style="background:{colour}">{escape(words or default_words)}</span>'


def apply_staff_theme() -> None:
    """The staff app's stylesheet: status badges, 48 px targets, the menu button kept and its main menu hidden."""
    st.markdown(STAFF_CSS, unsafe_allow_html=True)
