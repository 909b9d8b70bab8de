"""Today's plan on the lobby (and on the patient's phone): which exercise to start with, where to go instead of
a busy station, pictures, and the QR code that takes the plan home.

While no listener records device messages (shared/equipment/recording.py), the stations' live status is not
live: each station's badge then says a neutral "Status unknown" (patients never read alarming words), and the
plan neither steers to nor away from a station by its status."""

from __future__ import annotations

import base64
import io
from dataclasses import replace
from datetime import datetime
from html import escape

import streamlit as st

from kiosk import resources
from kiosk.lobby.language import _, lang
from kiosk.lobby.text import ask_therapist_html, needs_therapist, plan_card_html, station_words
from kiosk.theme import status_badge
from shared.care.exercise_images import image_data_uri
from shared.care.home_links import current_link, link_key
from shared.care.qr import qr_image
from shared.care.todays_plan import PlanLine, start_here
from shared.equipment.recording import recording_status
from shared.i18n import N_, gettext_for
from shared.store.db import read_session, unit_of_work

SHARE_KEY = "share_url"  # this visit's link to the plan (made once, cleared with the session)
STATUS_UNKNOWN = N_("Status unknown")  # the badge while recording has stopped
UNKNOWN_BADGE_COLOUR = "#4a4a4a"  # neutral grey, white text (contrast 8.9:1)


def picture_html(line: PlanLine) -> str:
    """The exercise's picture as a safe `<img>` with alt text, or nothing."""
    name = line.texts(lang())[0]
    alt = escape(_("Picture: how to do {exercise}").format(exercise=name), quote=True)
    inline = image_data_uri(resources.settings().data_dir, line.image_file)
    if inline:
        return f'<img class="kiosk-picture" src="{inline}" alt="{alt}">'
    if line.image_url and line.image_url.startswith(("https://", "http://", "/")):
        return f'<img class="kiosk-picture" src="{escape(line.image_url, quote=True)}" alt="{alt}">'
    return ""


def plan_cards(lines: list[PlanLine], now: datetime, *, guide: bool = True) -> str:
    """Every exercise as a card, doses in the clinic's units (CLINIC_UNITS); with `guide`, "Start here" on the one
    to begin with, free alternatives and one note above the cards naming the exercises to ask the therapist about
    (or, while recording has stopped, "Status unknown" on each station and no guidance by status)."""
    live = guide and _recording(now)
    shown = lines if live else [plain_line(line) for line in lines]
    first = start_here(shown) if guide else None
    units = resources.settings().resolved_units
    cards = [ask_therapist_html([n for n, line in enumerate(shown, 1) if needs_therapist(line)], lang())]
    for number, (line, card_line) in enumerate(zip(lines, shown, strict=True), 1):
        badge = _station_badge(line, now, live=live) if guide else ""
        cards.append(plan_card_html(number, card_line, badge, units=units, lang=lang(), start=number - 1 == first,
                                    picture=picture_html(line)))  # fmt: skip
    return "".join(cards)


def _station_badge(line: PlanLine, now: datetime, *, live: bool) -> str:
    """The station's live status in the patient's words, or a neutral "Status unknown" while it is not live."""
    if live:
        return status_badge(line.station_status, station_words(line, now, lang()))
    if not line.equipment_id:
        return ""
    words = escape(gettext_for(lang()).gettext(STATUS_UNKNOWN))
    return f'<span class="kiosk-badge kiosk-badge-unknown" style="background:{UNKNOWN_BADGE_COLOUR}">{words}</span>'


def _recording(now: datetime) -> bool:
    """Whether the stations' status is live: some listener records device messages, or none ever ran here."""
    cfg = resources.settings()
    with read_session(resources.engine()) as session:
        status = recording_status(session=session, now=now, keepalive_s=cfg.mqtt_keepalive_s)
    return not status.stopped


def plain_line(line: PlanLine) -> PlanLine:
    """The phone's copy shows no live status (it would go stale) and offers no alternatives."""
    return replace(line, equipment_status=None, equipment_ready_at=None, alternative_id=None)


def take_home(patient_id: int, site: str) -> None:
    """A QR code that opens the plan on the patient's phone: the patient's lasting take-home link (the same one
    each visit, CLINIC_PLAN_LINK_DAYS), where they tick their exercises done at home."""
    cfg = resources.settings()
    url = st.session_state.get(SHARE_KEY)
    if url is None:
        with unit_of_work(resources.engine()) as session:
            link = current_link(session=session, patient_id=patient_id, site=site, tz=cfg.tz,
                                key=link_key(cfg.data_dir), days=cfg.plan_link_days, language=lang())  # fmt: skip
        url = st.session_state[SHARE_KEY] = link.url(cfg.resolved_kiosk_url)
    png = io.BytesIO()
    qr_image(url, box_size=6).save(png, format="PNG")
    source = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii")
    alt = escape(_("QR code that opens your plan on your phone"), quote=True)
    text = escape(_("Take your plan home: scan this code with your phone's camera, and tick each exercise when you "
                    "have done it."))
    st.markdown(f'<div class="kiosk-qr"><img src="{source}" alt="{alt}"><p>{text}</p></div>', unsafe_allow_html=True)
