"""Questionnaire answers as FHIR R4 (pure): a QuestionnaireResponse per completed questionnaire, and its score as
an Observation derived from it (the pain rating coded with LOINC 72514-3, as the lobby's feedback is)."""

from __future__ import annotations

import uuid

from shared.fhir import codes
from shared.fhir.build import Entry, Resource, instant, own_identifier, reference
from shared.outcomes.instruments import Instrument
from shared.outcomes.responses import ScoredResponse

SCORE_CODES = {"nprs": codes.PAIN_SCORE}  # shipped instruments with a LOINC code for their score


def canonical(instrument: Instrument) -> str:
    """The Questionnaire's canonical URL (its `url`, or a URN of its code when a clinic's file has none)."""
    url = instrument.resource.get("url")
    return url if isinstance(url, str) and url else f"urn:clinic-checkin:questionnaire:{instrument.code}"


def questionnaire_response(
    response: ScoredResponse, instrument: Instrument, *, site: str, subject: Entry, visit: Entry | None
) -> Entry:
    """The answers, item by item, with the question as asked (a PSFS item: the activity the patient named)."""
    identifier = own_identifier(site, "questionnaire-response", response.id)
    items = []
    for item in instrument.items:
        if item.link_id not in response.answers:
            continue
        value = response.answers[item.link_id]
        chosen = next((o for o in item.options if o.points == value), None)
        answer: Resource = ({"valueCoding": {"code": str(value), "display": chosen.label["en"]}} if chosen
                            else {"valueInteger": value})  # fmt: skip
        text = response.asked.get(item.link_id) or item.words("en")
        items.append({"linkId": item.link_id, "text": text, "answer": [answer]})
    resource: Resource = {
        "resourceType": "QuestionnaireResponse",
        "identifier": identifier,  # one Identifier in R4 (not a list)
        "questionnaire": canonical(instrument),
        "status": "completed",
        "subject": reference(subject),
        "authored": instant(response.authored_at),
        "item": items,
    }
    if visit is not None:
        resource["encounter"] = reference(visit)
    return Entry(_full_url(identifier), resource)


def score_observation(
    response: ScoredResponse, instrument: Instrument, *, site: str, subject: Entry, visit: Entry | None,
    answers: Entry,
) -> Entry | None:
    """The score as an Observation derived from its QuestionnaireResponse (None when it has no score)."""
    if response.score is None:
        return None
    code: Resource = {"text": f"{instrument.name('en')} score"}
    if instrument.code in SCORE_CODES:
        code["coding"] = [SCORE_CODES[instrument.code]]
    resource: Resource = {
        "resourceType": "Observation",
        "identifier": [own_identifier(site, "questionnaire-score", response.id)],
        "status": "final",
        "category": [{"coding": [codes.SURVEY]}],
        "code": code,
        "subject": reference(subject),
        "effectiveDateTime": instant(response.authored_at),
        "valueQuantity": {"value": response.score, "unit": "score", "system": codes.UCUM, "code": "{score}"},
        "derivedFrom": [reference(answers)],
    }
    if visit is not None:
        resource["encounter"] = reference(visit)
    first = resource["identifier"][0]
    return Entry(_full_url(first), resource)


def _full_url(identifier: Resource) -> str:
    """The same UUID scheme as `shared.fhir.build.entry`, for a resource whose identifier is not a list."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, identifier['system'] + '|' + identifier['value'])}"
