"""The questionnaires a clinic can assign: the shipped ones and those it loaded (`clinic questionnaire add`)."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, select

from shared.outcomes.instruments import Instrument, parse_instrument, shipped_instruments
from shared.outcomes.questionnaire_models import QuestionnaireDef
from shared.staff.audit import audit
from shared.store.errors import NotFound, ValidationFailed
from shared.store.types import utcnow


def catalogue(*, session: Session) -> list[Instrument]:
    """Every questionnaire, the shipped ones first, then the added ones by code."""
    added = session.exec(select(QuestionnaireDef).order_by(col(QuestionnaireDef.code))).all()
    return [*shipped_instruments(), *(parse_instrument(json.loads(row.resource)) for row in added)]


def get_instrument(*, session: Session, code: str) -> Instrument:
    """One questionnaire by its code (the Questionnaire's id), shipped or added."""
    for instrument in shipped_instruments():
        if instrument.code == code:
            return instrument
    row = session.get(QuestionnaireDef, code)
    if row is None:
        known = ", ".join(i.code for i in catalogue(session=session))
        raise NotFound(f"no questionnaire {code!r} (known: {known})")
    return parse_instrument(json.loads(row.resource))


def add_questionnaire(*, session: Session, resource: Any, actor: str) -> Instrument:
    """Load a Questionnaire the clinic holds a licence for; a second add of the same id replaces it (audited)."""
    instrument = parse_instrument(resource)
    if any(shipped.code == instrument.code for shipped in shipped_instruments()):
        raise ValidationFailed(f"{instrument.code!r} is a shipped questionnaire: give yours another 'id'")
    row = session.get(QuestionnaireDef, instrument.code)
    replaced = row is not None
    if row is None:
        row = QuestionnaireDef(code=instrument.code, resource="", added_by=actor[:100])
    row.resource = json.dumps(resource, ensure_ascii=False)
    row.added_at = utcnow()
    session.add(row)
    audit(session, actor=actor, action="questionnaire.replace" if replaced else "questionnaire.add",
          target=instrument.code, detail={"items": len(instrument.items)})  # fmt: skip
    return instrument
