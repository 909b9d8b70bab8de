"""The staff app's one UI kit: the notice that survives a rerun (every page's messages), the error box, stored
times in the clinic's zone, the clinic's today, a patient picker, the board's station actions, and registering
unknown devices (with the replay of their kept messages).

Messages go through `kiosk.theme.literal`, so a name like `![x](https://evil/pixel)` shows as typed; names put
into a line of our own words go through `bidi_safe`, so a right-to-left name cannot reorder the rest of it.
"""

from __future__ import annotations

import base64
import html
import time
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any, Literal

import pandas as pd
import streamlit as st
from sqlmodel import Session

from kiosk import resources
from kiosk.staff.actions import Refused, run_action, sentence
from kiosk.staff.actions import show_error as show_error  # pages that import it from their UI kit keep working
from kiosk.staff.auth import current_user
from kiosk.theme import literal
from shared.care.patients import search_patients
from shared.equipment import board
from shared.equipment.dead_letters import ReplayOutcome
from shared.equipment.maintenance_blocks import apply_blocks, pending_blocks
from shared.equipment.provisioning import broker_accounts
from shared.equipment.replay import register_and_replay, replay_kept
from shared.staff.accounts import StaffUser
from shared.staff.permissions import Area
from shared.store.clock import local_today
from shared.store.db import read_session
from shared.store.types import utcnow

NOTICE_KEY = "staff_notice"
PICK_LIMIT = 50
NoticeKind = Literal["success", "error", "info"]
BIDI_CONTROLS = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}
RIGHT_TO_LEFT = {"R", "AL"}


def bidi_safe(text: str) -> str:
    """User text to embed in a line of our own: explicit direction controls (such as the right-to-left override
    U+202E) are dropped, and right-to-left text is isolated (U+2068 ... U+2069), so the words around it keep
    their order. Plain left-to-right text is returned as it is."""
    kinds = [unicodedata.bidirectional(ch) for ch in text]
    if not any(kind in BIDI_CONTROLS or kind in RIGHT_TO_LEFT for kind in kinds):
        return text
    kept = "".join(ch for ch, kind in zip(text, kinds, strict=True) if kind not in BIDI_CONTROLS)
    return f"\u2068{kept}\u2069"


@dataclass(frozen=True, slots=True)
class Notice:
    """A message kept for the page's next runs: about one thing (e.g. a station) or the page, for one run or
    for `linger_s` seconds."""

    kind: NoticeKind
    text: str
    about: str | None
    at: float
    linger_s: float | None


def notify(text: str, kind: NoticeKind = "success", *, about: str | None = None, linger_s: float | None = None) -> None:
    """Keep a message to show on the page's next run (after a callback or `st.rerun`): once where `show_notice`
    is called with the same `about`, or on every run for `linger_s` seconds (a fragment's refreshes too). An
    error reads as a sentence, as in `show_error`."""
    st.session_state[NOTICE_KEY] = Notice(kind, sentence(text) if kind == "error" else text, about, time.time(),
                                          linger_s)  # fmt: skip


def clear_notice(about: str | None = None) -> None:
    """Forget the kept message about `about` (an action that now succeeded)."""
    notice: Notice | None = st.session_state.get(NOTICE_KEY)
    if notice is not None and notice.about == about:
        st.session_state.pop(NOTICE_KEY, None)


def show_notice(about: str | None = None) -> None:
    """Show the message kept by `notify` about `about` (as typed: it often quotes input)."""
    notice: Notice | None = st.session_state.get(NOTICE_KEY)
    if notice is None or notice.about != about:
        return
    if notice.linger_s is None or time.time() - notice.at >= notice.linger_s:
        st.session_state.pop(NOTICE_KEY, None)
        if notice.linger_s is not None:
            return
    {"success": st.success, "error": st.error, "info": st.info}[notice.kind](literal(notice.text))


def rerun_with_notice(message: str) -> None:
    """Show `message` as a success after the rerun that redraws the page with the change."""
    notify(message)
    st.rerun()


def local(value: datetime | None, tz: tzinfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (UTC) time in the clinic's zone; 'never' for none."""
    return value.astimezone(tz).strftime(fmt) if value is not None else "never"


def acting_user(area: Area) -> StaffUser | None:
    """The user a button callback acts for, checked again: callbacks run before the page's `require`, so a
    session that timed out, or an account disabled or given another role, must not act."""
    user = current_user()
    return user if user is not None and user.can(area) else None


def clinic_today() -> date:
    """The clinic's calendar day now."""
    return local_today(utcnow(), resources.settings().tz)


def card_preview(png: bytes, *, alt: str, width: int = 420) -> None:
    """A PNG shown with a text alternative (st.image has none): an <img> with the picture as a data URI."""
    data = base64.b64encode(png).decode("ascii")
    st.markdown(f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}" width="{width}" '
                'style="max-width: 100%; height: auto;">', unsafe_allow_html=True)  # fmt: skip


def pick_patient(key: str, label: str = "Patient", *, table: bool = False) -> int | None:
    """A name search and a choice among the matches (also listed in a table if `table`); returns the chosen
    patient's id, or None."""
    text = st.text_input(
        "Find a patient",
        key=f"{key}_search",
        placeholder="Part of a first or last name, or a patient number",
        max_chars=200,
    )
    if not text.strip():
        st.caption("Type part of a name, or a patient number, to find a patient.")
        return None
    with read_session(resources.engine()) as session:
        found = search_patients(session=session, text=text, limit=PICK_LIMIT)
    if not found:
        st.info("No patient matches that search.")
        return None
    if len(found) == PICK_LIMIT:
        st.caption(f"Showing the first {PICK_LIMIT} matches; type more of the name to narrow them.")
    if table:
        rows = [{"Patient number": p.id, "First name": p.first_name, "Last name": p.last_name,
                 "Born": p.dob.isoformat(), "Phone": p.phone or ""} for p in found]  # fmt: skip
        st.dataframe(pd.DataFrame(rows), hide_index=True, key=f"{key}_matches")
    labels = {p.id: f"{bidi_safe(f'{p.first_name} {p.last_name}')} (born {p.dob.isoformat()}, #{p.id})" for p in found}
    chosen: int | None = st.selectbox(label, list(labels), format_func=lambda pid: labels[pid], key=f"{key}_pick")
    return chosen


StationAction = Literal["start", "end", "cleaned", "out", "back", "serviced", "report"]


def station_action(action: StationAction, *, site: str, equipment_id: str, by: str, refused: Refused,
                   reason: str = "", method: str = "wipe", severity: str = "warning",
                   disinfectant: str | None = None) -> str | None:  # fmt: skip
    """Run one board action on a station as `by`, in one unit of work; returns what was done in words ("use
    started"), or None when the service refused it (given to `refused`, for the page to show where it was)."""
    where: dict[str, Any] = {"site": site, "equipment_id": equipment_id, "by": by, "tz": resources.settings().tz}

    def act(session: Session) -> str:
        if action == "start":
            board.start_use(session=session, **where)
            return "use started"
        if action == "end":
            board.end_use(session=session, **where)
            return "use ended"
        if action == "cleaned":
            board.mark_cleaned(session=session, method=method, disinfectant=disinfectant, **where)
            return "cleaned"
        if action == "out":
            board.take_out_of_service(session=session, reason=reason, **where)
            return "out of service"
        if action == "back":
            board.back_in_service(session=session, reason=reason, **where)
            return "back in service"
        if action == "serviced":
            board.mark_serviced(session=session, **where)
            return "serviced"
        board.report_problem(session=session, severity=severity, message=reason, **where)
        return f"problem reported ({severity})"

    done = run_action(act, refused=refused)
    return None if done is None else done.value


def unknown_devices(user: StaffUser, *, kind_help: str = "", say_none: bool = False) -> None:
    """Devices that send messages but are not registered, each with a form (for users who may register devices)
    that registers its station and replays its kept messages; when there are none, nothing (or, with
    `say_none`, a line saying so)."""
    cfg = resources.settings()
    with read_session(resources.engine()) as session:
        devices = board.unknown_devices(session=session)
    if not devices and not say_none:
        return
    st.header("Devices sending messages but not registered")
    if not devices:
        st.text("None: every device that sent a message is registered.")
        return
    allowed = user.can("register_devices")
    st.caption("Their messages are kept. Registering a device records its kept messages as if they had just come in."
               if allowed else "Their messages are kept until an administrator registers them.")  # fmt: skip
    for device in devices:
        ident = f"{device.site}-{device.equipment_id}"
        since = "; registered since then" if device.registered else ""
        st.text(f"{device.site}/{device.equipment_id}: {device.messages} message(s) kept, "
                f"last {local(device.last_seen, cfg.tz)}{since}")  # fmt: skip
        if not allowed:
            continue
        if device.registered:  # e.g. by `clinic device add`, which leaves its kept messages as they are
            if st.button(f"{device.equipment_id} is registered now: record its kept messages", key=f"replay-{ident}"):
                _replay(device.site, device.equipment_id, done=f"{device.equipment_id} is registered")
                return
            continue
        with st.form(f"unknown-{ident}"):
            left, mid, right = st.columns(3)
            name = left.text_input("Name", value=device.equipment_id, key=f"unknown-name-{ident}")
            zone = mid.text_input("Zone", key=f"unknown-zone-{ident}")
            kind = right.text_input("Kind", value="other", key=f"unknown-kind-{ident}", help=kind_help or None)
            submitted = st.form_submit_button(f"Register {device.equipment_id} and replay its messages")
        if submitted and _register_unknown(user, device.site, device.equipment_id, name=name, zone=zone, kind=kind):
            return


def _register_unknown(user: StaffUser, site: str, equipment_id: str, *, name: str, zone: str, kind: str) -> bool:
    """Register one unknown device's station and record its kept messages, one user action in one unit of work;
    False (and the error shown) if refused."""
    done = run_action(lambda session: register_and_replay(
        session=session, accounts=broker_accounts(), settings=resources.settings(), site=site,
        equipment_id=equipment_id, name=name, zone=zone, kind=kind, actor=user.username))  # fmt: skip
    if done is None:
        return False
    _say_replayed(done.value, f"Registered {name.strip()} ({equipment_id})")
    return True


def _replay(site: str, equipment_id: str, *, done: str) -> None:
    """Record a registered device's kept messages in one unit of work, and say how many."""
    replayed = run_action(lambda session: replay_kept(session=session, settings=resources.settings(), site=site,
                                                      equipment_id=equipment_id))  # fmt: skip
    if replayed is not None:
        _say_replayed(replayed.value, done)


def _say_replayed(outcome: ReplayOutcome, done: str) -> None:
    """The page reruns with how many kept messages were recorded."""
    rerun_with_notice(f"{done}: {outcome.recorded} kept message(s) recorded, {outcome.still_kept} still kept.")


def plain_table(frame: pd.DataFrame, *, label: str, key: str) -> None:
    """A small read-only table as escaped HTML, for pages a technician reads on a phone: its text follows the staff
    app's 16 px (st.dataframe draws on a canvas at 14 px, which no CSS reaches), and its box, which scrolls
    sideways on a narrow screen, takes the keyboard's focus and has a name (axe's scrollable-region-focusable).
    Every value is shown as text; None and NaN as "-"."""
    def cell(value: Any) -> str:
        return "-" if value is None or (not isinstance(value, str) and pd.isna(value)) else html.escape(str(value))

    head = "".join(f'<th scope="col">{html.escape(str(name))}</th>' for name in frame.columns)
    rows = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))  # fmt: skip
    name = html.escape(label, quote=True)
    with st.container(key=key):
        st.markdown(f'<div class="staff-table" tabindex="0" role="region" aria-label="{name}">'
                    f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>",
                    unsafe_allow_html=True)  # fmt: skip


def apply_maintenance_blocks() -> None:
    """Take out of service the stations whose overdue maintenance blocks use (shared/equipment/maintenance_blocks.py):
    a read, and a unit of work only when a station needs it. The board and the Maintenance page run it."""
    now, cfg = utcnow(), resources.settings()
    with read_session(resources.engine()) as session:
        needed = pending_blocks(session=session, now=now, site=cfg.site)
    if needed:
        run_action(lambda session: apply_blocks(session=session, now=now, tz=cfg.tz, site=cfg.site))
