"""A patient's preferred lobby language: the front desk sets it, the lobby switches to it after the scan."""

from __future__ import annotations

from sqlmodel import Session

from shared.care.models import Patient
from shared.i18n import DEFAULT, language_name, languages
from shared.staff.audit import audit
from shared.store.errors import NotFound, ValidationFailed


def language_choices() -> dict[str, str]:
    """Every language the lobby speaks, code -> its own name ("es" -> "Español")."""
    return {code: language_name(code) for code in languages()}


def checked_language(code: str | None) -> str | None:
    """A language code the lobby has a catalogue for (None or empty: the default language), or a clear refusal."""
    cleaned = (code or "").strip().lower()
    if not cleaned or cleaned == DEFAULT:
        return None
    if cleaned not in languages():
        raise ValidationFailed(f"language {cleaned!r} is not one of {', '.join(languages())}")
    return cleaned


def set_language(*, session: Session, patient_id: int, code: str | None, actor: str | None = None) -> bool:
    """Store the patient's language (None: the default); returns whether it changed (audited when it did)."""
    value = checked_language(code)
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient with id {patient_id}")
    if patient.language == value:
        return False
    patient.language = value
    session.add(patient)
    if actor is not None:
        audit(session, actor=actor, action="patient.language", target=f"patient {patient_id}",
              detail={"language": value or DEFAULT})  # fmt: skip
    return True
