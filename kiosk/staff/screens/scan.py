"""Scan a station: the page a station's QR label opens (`/scan?s=<site>/<id>`).

The station's live status and one-tap actions (start use, end use, cleaned with a method, report a problem),
recorded as the signed-in user through the board's services, so they become the same events as a device's.
A scanner (it types the label's link), pasted text and the camera also choose a station. Staff who manage
equipment print a zone's labels here too.
"""

from __future__ import annotations

import re
from html import escape
from typing import Literal

import streamlit as st

from kiosk import resources
from kiosk.failsafe import safe_callback, staff_guarded
from kiosk.lobby.camera import read_qr
from kiosk.staff.actions import run_action
from kiosk.staff.auth import current_user, require
from kiosk.staff.kit import (
    NoticeKind,
    StationAction,
    clear_notice,
    notify,
    sentence,
    show_error,
    show_notice,
    station_action,
)
from kiosk.theme import literal, status_badge
from shared.equipment.disinfectants import list_disinfectants, usual_names
from shared.equipment.fault_photos import MAX_BYTES
from shared.equipment.faults import CATEGORIES, MAX_NOTES, problem_words, report_fault
from shared.equipment.label_address import label_base_url, only_this_computer
from shared.equipment.labels import SCAN_PARAM, StationRef, label_zones, parse_station, zone_sheet
from shared.equipment.offers import offered
from shared.equipment.stations import StationView, describe_status, get_station
from shared.pictures import FILE_TYPES
from shared.store.db import read_session
from shared.store.errors import NotFound, ValidationFailed
from shared.store.types import utcnow

Disinfectants = tuple[list[str], str | None]  # the clinic's, and this station's usual one
NOTICE_SHOWN_S = 20  # the outcome of the last tap (or scan) stays shown for this long
SCAN_FIELD = "scan_code"
CAMERA_DONE = "scan_camera_done"
METHOD_WORDS = {"wipe": "Wipe", "spray": "Spray", "uv": "UV", "other": "Other"}
SEVERITY_WORDS = {"warning": "Warning: still usable", "critical": "Critical: take it out of service"}
NO_CODE = "No code in that picture: hold the label closer."
NOT_A_LABEL = "That is not a station label. Scan the QR label on the station, or type its id (e.g. tm-1)."
SCAN_CSS = """
<style>
.st-key-scan-actions button { min-height: 4rem; }
.st-key-scan-actions button p { font-size: 1.35rem; font-weight: 600; }
.scan-station h2 { margin: 0 0 0.2rem 0; }
@media (max-width: 700px) { .block-container { padding-top: 3.5rem; } }
.scan-station .kiosk-badge { font-size: 1.3rem; padding: 0.2rem 0.7rem; }
</style>
"""

user = require("board")
cfg = resources.settings()
st.markdown(SCAN_CSS, unsafe_allow_html=True)
st.title("Scan a station")


def _choose(text: str) -> None:
    """Make the station a scan names the page's station (kept in the address, so a reload keeps it)."""
    ref = parse_station(text, default_site=cfg.site)
    if ref is None:
        _tell(None, "error", NOT_A_LABEL)
        return
    clear_notice(_about(None))
    st.query_params[SCAN_PARAM] = str(ref)


@safe_callback("station scan")
def _on_scan_field() -> None:
    text = st.session_state.get(SCAN_FIELD, "")
    st.session_state[SCAN_FIELD] = ""  # ready for the next scan
    if text.strip():
        _choose(text)


def _about(equipment_id: str | None) -> str:
    return f"scan:{equipment_id or ''}"


def _tell(equipment_id: str | None, kind: NoticeKind, text: str) -> None:
    notify(sentence(text), kind, about=_about(equipment_id), linger_s=NOTICE_SHOWN_S)


@safe_callback("station action")
def _act(action: StationAction, site: str, equipment_id: str, name: str) -> None:
    """One tap, as the signed-in user (checked again: a button's callback runs before the page's `require`)."""
    current = current_user()
    if current is None or not current.can("board"):
        return  # the run that follows shows the sign-in page or the refusal
    method = st.session_state.get(f"scan-method-{equipment_id}") or "wipe"
    disinfectant = st.session_state.get(f"scan-disinfectant-{equipment_id}")  # None: the station's usual one
    severity = st.session_state.get(_report_key("severity", equipment_id)) or "warning"
    problem = ""
    if action == "report" and severity == "critical":  # the board's fault report: out of service, with the photo
        if not _report_fault(site, equipment_id, name, by=current.username):
            return
        _close_report(equipment_id)
        _tell(equipment_id, "success", f"{name}: taken out of service")
        return
    if action == "report":  # in the fault report's words: a category from the one list, then the notes
        try:
            problem = problem_words(st.session_state.get(_report_key("category", equipment_id)),
                                    st.session_state.get(_report_key("problem", equipment_id), ""))  # fmt: skip
        except ValidationFailed as exc:
            _tell(equipment_id, "error", str(exc))
            return
    done = station_action(action, site=site, equipment_id=equipment_id, by=current.username, method=method,
                          disinfectant=disinfectant, severity=severity, reason=problem,
                          refused=lambda exc: _tell(equipment_id, "error", str(exc)))  # fmt: skip
    if done is None:
        return
    if action == "cleaned":
        done = f"cleaned ({METHOD_WORDS.get(method, method)}{f', {disinfectant}' if disinfectant else ''})"
    elif action == "report":
        _close_report(equipment_id)
    _tell(equipment_id, "success", f"{name}: {done}")


def _report_fault(site: str, equipment_id: str, name: str, *, by: str) -> bool:
    """A critical problem is the board's fault report (category, notes, photo; shown in the station's card and
    the audit log), in one unit of work; False when it was refused (said where the station is)."""
    photo = st.session_state.get(_report_key("photo", equipment_id))
    done = run_action(lambda session: report_fault(
        session=session, site=site, equipment_id=equipment_id, by=by,
        category=st.session_state.get(_report_key("category", equipment_id)),
        notes=st.session_state.get(_report_key("problem", equipment_id), ""),
        photo=photo.getvalue() if photo is not None else None, data_dir=cfg.data_dir, tz=cfg.tz,
    ), refused=lambda exc: _tell(equipment_id, "error", str(exc)))  # fmt: skip
    return done is not None


def _report_key(field: str, equipment_id: str) -> str:
    """The key of one of the report form's widgets, in the form's current generation (see `_close_report`)."""
    generation = st.session_state.get(f"scan-report-generation-{equipment_id}", 0)
    return f"scan-{field}-{equipment_id}" + (f"-{generation}" if generation else "")


def _close_report(equipment_id: str) -> None:
    """Reported: the next report starts from a new, closed and empty form. New widget keys rather than emptied
    values: a panel refresh the browser sent before it heard of the report carries the old values (the notes, the
    form open) and would put them back into the old keys, inviting the same report twice."""
    generation = f"scan-report-generation-{equipment_id}"
    st.session_state[generation] = st.session_state.get(generation, 0) + 1


def _when(view: StationView) -> str:
    if view.last_cleaned_at is None:
        return "Never cleaned here"
    by = f" by {view.last_cleaned_by}" if view.last_cleaned_by else ""
    return f"Last cleaned {view.last_cleaned_at.astimezone(cfg.tz).strftime('%H:%M')}{by}"


def _header(view: StationView) -> None:
    shown = getattr(view, "effective_status", view.status)  # "cleaning" during a contact time, where views have it
    st.markdown(
        f"<div class='scan-station'><h2>{escape(view.name)}</h2>"
        f"<div>{escape(view.zone or 'No zone')} · {escape(view.site)}/{escape(view.id)}</div>"
        f"<div style='margin:0.5rem 0' class='scan-status' id='scan-status'>"
        f"{status_badge(shown, describe_status(view, utcnow()))}</div></div>",
        unsafe_allow_html=True,
    )
    if view.fault_message or view.fault_code:
        severity = view.fault_severity or "warning"
        st.text(f"Problem ({severity}): {view.fault_message or view.fault_code}")
    st.text(f"{_when(view)} · uses today {view.uses_today}")
    if view.status == "needs_cleaning":
        st.warning("Not cleaned since its last use: clean it before the next patient.")


def main_action(status: str) -> str:
    """The one action the station needs now, shown as the primary (blue) button."""
    return {"needs_cleaning": "cleaned", "in_use": "end", "out_of_service": "back"}.get(status, "start")


def _cleaning(view: StationView, kind: Literal["primary", "secondary"], disinfectants: Disinfectants) -> None:
    """The cleaning method, the disinfectant when the clinic keeps several (the station's usual one chosen), and
    the "Cleaned" button: the inspector's record says which disinfectant, as the board's "Mark cleaned" does."""
    st.segmented_control("Cleaning method", list(METHOD_WORDS), format_func=METHOD_WORDS.__getitem__,
                         default="wipe", required=True, key=f"scan-method-{view.id}")  # fmt: skip
    listed, usual = disinfectants
    if len(listed) > 1:
        st.segmented_control("Disinfectant", listed, default=usual if usual in listed else listed[0], required=True,
                             key=f"scan-disinfectant-{view.id}")  # fmt: skip
    clean = offered(view, role=user.role)["cleaned"]  # the board's rule (shared/equipment/offers.py)
    st.button("Cleaned", key="scan-clean", type=kind, width="stretch", on_click=_act,
              args=("cleaned", view.site, view.id, view.name), disabled=not clean.enabled, help=clean.why)  # fmt: skip


def _actions(view: StationView, disinfectants: Disinfectants) -> None:
    args = (view.site, view.id, view.name)
    status = view.status
    main = main_action(status)
    offers = offered(view, role=user.role)  # the board's rule (shared/equipment/offers.py)

    def kind(action: str) -> Literal["primary", "secondary"]:
        return "primary" if action == main else "secondary"

    # The same elements in the same places whatever the status (only which one is blue changes): a layout that
    # moves elements between runs left stale copies of the buttons on screen after a fragment rerun.
    with st.container(key="scan-actions"):
        # first: after a use, what the station needs, within a thumb's reach
        _cleaning(view, kind("cleaned"), disinfectants)
        left, right = st.columns(2)
        left.button("Start use", key="scan-start", type=kind("start"), width="stretch", on_click=_act,
                    args=("start", *args), disabled=not offers["start"].enabled)  # fmt: skip
        right.button("End use", key="scan-end", type=kind("end"), width="stretch", on_click=_act,
                     args=("end", *args), disabled=not offers["end"].enabled)  # fmt: skip
        if status == "out_of_service":  # last, so that nothing above it moves when it comes or goes
            st.button("Back in service", key="scan-back", type="primary", width="stretch", on_click=_act,
                      args=("back", *args))  # fmt: skip
    # Keyed and state-tracked, so a refresh that redraws the panel (a status change) leaves an open report open.
    with st.expander("Report a problem", key=_report_key("report-open", view.id), on_change="rerun"):
        # The board's fault categories, as radio buttons (a list the panel's refresh never closes under a finger).
        st.radio("What is wrong?", list(CATEGORIES), format_func=CATEGORIES.__getitem__, index=None,
                 key=_report_key("category", view.id))  # fmt: skip
        st.text_input("Notes (optional)", key=_report_key("problem", view.id), max_chars=MAX_NOTES,
                      placeholder="e.g. the left rail is loose")  # fmt: skip
        severity = st.radio("How bad is it?", list(SEVERITY_WORDS), format_func=SEVERITY_WORDS.__getitem__,
                            key=_report_key("severity", view.id))  # fmt: skip
        if severity == "critical":  # a report that takes the station out of service keeps a photo, as the board's
            photo = st.file_uploader("Photo (optional)", type=FILE_TYPES, key=_report_key("photo", view.id),
                                     max_upload_size=MAX_BYTES // 1048576)  # fmt: skip
            if photo is not None:  # the upload reached the app (the file's name shows before it has)
                st.caption(literal(f"Photo ready to send: {photo.name}"))
        st.button("Report the problem", key="scan-report", width="stretch", on_click=_act,
                  args=("report", *args))  # fmt: skip


@st.fragment(run_every=cfg.board_refresh_s)
@staff_guarded("station panel")
def station_panel(ref: StationRef) -> None:
    """The station and its actions; refreshes by itself, so a device's events show here too."""
    current = current_user(touch=False)
    if current is None or not current.can("board"):
        st.rerun(scope="app")  # timed out, disabled or another role: the app shows why
    try:
        with read_session(resources.engine()) as session:
            view = get_station(session=session, site=ref.site, equipment_id=ref.equipment_id, tz=cfg.tz)
            listed = [d.name for d in list_disinfectants(session=session)]
            usual = usual_names(session=session, site=ref.site, equipment_ids=[ref.equipment_id]) \
                if len(listed) > 1 else {}  # fmt: skip
    except NotFound:
        show_error(f"No station {ref} is registered. Scan another label, or ask an administrator.")
        return
    show_notice(_about(view.id))
    _header(view)
    _actions(view, (listed, usual.get(view.id)))


def _scan_inputs(station_chosen: bool) -> None:
    label = "Scan another station" if station_chosen else "Station code"
    st.text_input(label, key=SCAN_FIELD, on_change=_on_scan_field, max_chars=2048,
                  placeholder="Scan a station's label, or type its id")  # fmt: skip
    show_notice(_about(None))
    with st.expander("No scanner? Use the camera"):
        picture = st.camera_input("Show the station's label to the camera", key="scan_camera")
    if picture is not None and picture.file_id != st.session_state.get(CAMERA_DONE):
        st.session_state[CAMERA_DONE] = picture.file_id  # each picture is read once, even across reruns
        text = read_qr(picture.getvalue())
        if text is None:
            _tell(None, "error", NO_CODE)
        else:
            _choose(text)
        st.rerun()


def _print_labels() -> None:
    """A zone's label sheet (PDF), for users who manage equipment."""
    st.header("Print labels")
    staff_url = label_base_url(configured=cfg.staff_url, browser_url=st.context.url, default=cfg.resolved_staff_url)
    engine, site, tz = resources.engine(), cfg.site, cfg.tz
    with read_session(engine) as session:
        zones = label_zones(session=session, site=site, tz=tz)
    if not zones:
        st.info("No stations are registered yet.")
        return
    zone: str = st.selectbox("Zone", zones, format_func=lambda z: z or "No zone", key="labels_zone") or ""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", zone).strip("-").lower() or "no-zone"

    def sheet_pdf() -> bytes:
        with read_session(engine) as session:
            return zone_sheet(session=session, site=site, zone=zone, staff_url=staff_url, tz=tz).pdf

    st.download_button(
        "Download the zone's label sheet (PDF)",
        data=sheet_pdf,
        file_name=f"station-labels-{slug}.pdf",
        mime="application/pdf",
        key="labels_download",
        on_click="ignore",
    )
    st.caption("A4, 24 labels of 50 x 30 mm a page: print at 100 % (not 'fit to page'), then cut along the lines.")
    if only_this_computer(staff_url):
        st.warning(f"These labels open {staff_url}, which only this computer can open: phones cannot. Open the "
                   "staff app at its address on the clinic's network before printing, or ask your administrator "
                   "to set the staff app's public address.")  # fmt: skip


scanned = st.query_params.get(SCAN_PARAM)
chosen = parse_station(scanned, default_site=cfg.site) if scanned else None
if scanned and chosen is None:
    show_error(NOT_A_LABEL)
if chosen is not None:
    station_panel(chosen)
    st.divider()
_scan_inputs(chosen is not None)
if user.can("equipment"):
    st.divider()
    _print_labels()
