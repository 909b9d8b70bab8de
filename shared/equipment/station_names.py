"""A station's name in the patient's language: the one staff gave for it, else its kind's word and number.

Staff name stations in the clinic's language ("Treadmill 1"). A Spanish-speaking patient reads "Cinta de correr
1": staff may keep a name per language (`station_name` table, set on the Equipment page or with `clinic device
add --name-es`), and a station without one is called by its kind in that language with the number of its name.
A kind the catalogue does not know (a brand, "other") keeps the name staff gave.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from shared.equipment.models import Equipment
from shared.i18n import DEFAULT, N_, gettext_for, language, languages
from shared.staff.audit import audit
from shared.store.errors import NotFound, ValidationFailed
from shared.store.types import utc_column, utcnow

# The kinds a clinic commonly registers, as words a patient reads (translated in each catalogue).
KIND_WORDS = {
    "treadmill": N_("Treadmill"), "recumbent_bike": N_("Recumbent bike"), "bike": N_("Exercise bike"),
    "parallel_bars": N_("Parallel bars"), "stairs": N_("Training stairs"), "plinth": N_("Treatment table"),
    "hot_pack": N_("Hot-pack unit"), "ultrasound": N_("Ultrasound"), "traction_table": N_("Traction table"),
    "elliptical": N_("Elliptical"), "rowing_machine": N_("Rowing machine"), "cold_pack": N_("Cold-pack unit"),
}  # fmt: skip
_NUMBER = re.compile(r"(\d+)\s*$")
MAX_NAME = 200


class StationName(SQLModel, table=True):
    """What a station is called in a language other than the clinic's own (staff's words for patients)."""

    __tablename__ = "station_name"
    __table_args__ = (
        ForeignKeyConstraint(["site", "equipment_id"], ["equipment.site", "equipment.id"], ondelete="CASCADE"),
    )

    site: str = Field(primary_key=True, max_length=64)
    equipment_id: str = Field(primary_key=True, max_length=64)
    lang: str = Field(primary_key=True, max_length=16)
    name: str = Field(max_length=MAX_NAME)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))


def station_words(*, name: str, kind: str, lang: str | None, given: str | None = None) -> str:
    """What a patient reading `lang` calls a station: staff's name for that language, else the kind's word
    there plus the number ending `name` ("Cinta de correr 1"), else `name` as staff gave it."""
    if language(lang) == DEFAULT:
        return name
    if given:
        return given
    word = KIND_WORDS.get(kind)
    said = gettext_for(lang).gettext(word) if word else None
    if not said or said == word:
        return name
    number = _NUMBER.search(name)
    return f"{said} {number.group(1)}" if number else said


def given_names(*, session: Session, site: str, lang: str) -> dict[str, str]:
    """Staff's names at `site` in `lang`, by station id."""
    query = select(StationName).where(col(StationName.site) == site, col(StationName.lang) == lang)
    return {row.equipment_id: row.name for row in session.exec(query)}


def set_station_name(
    *, session: Session, site: str, equipment_id: str, lang: str, name: str | None, actor: str | None = None
) -> None:
    """Keep staff's name for a station in a language; an empty name removes it (the kind's word is used again)."""
    if lang not in languages() or lang == DEFAULT:
        raise ValidationFailed(f"language {lang!r} must be one the lobby offers besides {DEFAULT}: "
                               f"{', '.join(code for code in languages() if code != DEFAULT)}")  # fmt: skip
    if session.get(Equipment, (site, equipment_id)) is None:
        raise NotFound(f"no equipment {equipment_id!r} at site {site!r}")
    text = " ".join((name or "").split())
    if len(text) > MAX_NAME:
        raise ValidationFailed(f"the {lang} name must be at most {MAX_NAME} characters")
    row = session.get(StationName, (site, equipment_id, lang))
    if (row.name if row else "") == text:
        return
    if not text:
        session.delete(row)
    elif row is None:
        session.add(StationName(site=site, equipment_id=equipment_id, lang=lang, name=text))
    else:
        row.name, row.updated_at = text, utcnow()
        session.add(row)
    if actor is not None:
        audit(session, actor=actor, action="equipment.name", target=f"{site}/{equipment_id}",
              detail={"lang": lang, "name": text})  # fmt: skip
    session.flush()
