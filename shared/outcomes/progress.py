"""The therapist's view of progress: each score over time and whether it improved by more than the MCID since
intake. `verdict` is the rule (pure); `patient_outcomes` reads a patient's scores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from shared.outcomes.catalogue import get_instrument
from shared.outcomes.instruments import Scoring
from shared.outcomes.responses import completed
from shared.outcomes.schedule import assignments

IMPROVED = "Improved by more than the MCID since intake"
NOT_IMPROVED = "Not improved by more than the MCID since intake"
TOO_FEW = "Only one score so far: nothing to compare with intake yet"
NONE_YET = "No scores yet"


@dataclass(frozen=True, slots=True)
class ScorePoint:
    """One completed score."""

    at: datetime
    score: float


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether the latest score is better than the first (intake) by more than the MCID."""

    improved: bool | None  # None: fewer than two scores
    change: float | None  # latest minus intake, in score points (negative: went down)
    words: str


@dataclass(frozen=True, slots=True)
class Progress:
    """One questionnaire's scores for a patient, with its range, MCID and verdict."""

    questionnaire: str
    title: str
    low: float
    high: float
    mcid: float
    better: str
    points: tuple[ScorePoint, ...]
    verdict: Verdict


def verdict(points: list[ScorePoint] | tuple[ScorePoint, ...], scoring: Scoring) -> Verdict:
    """Improved by more than the MCID since intake (the first score), in the direction that is better."""
    if not points:
        return Verdict(None, None, NONE_YET)
    if len(points) == 1:
        return Verdict(None, None, TOO_FEW)
    ordered = sorted(points, key=lambda p: p.at)
    change = round(ordered[-1].score - ordered[0].score, 2)
    gain = change if scoring.better == "higher" else -change
    return Verdict(gain > scoring.mcid, change, IMPROVED if gain > scoring.mcid else NOT_IMPROVED)


def patient_outcomes(*, session: Session, patient_id: int) -> list[Progress]:
    """Every questionnaire the patient is asked or has answered, with its scores over time and the verdict."""
    scores: dict[str, list[ScorePoint]] = {}
    for response in completed(session=session, patient_ids=[patient_id]):
        if response.score is not None:
            scores.setdefault(response.questionnaire, []).append(ScorePoint(response.authored_at, response.score))
    codes = sorted({*scores, *(a.questionnaire for a in assignments(session=session, patient_id=patient_id))})
    out = []
    for code in codes:
        instrument = get_instrument(session=session, code=code)
        rule, points = instrument.scoring, tuple(scores.get(code, []))
        out.append(Progress(code, instrument.name("en"), rule.low, rule.high, rule.mcid, rule.better, points,
                            verdict(points, rule)))  # fmt: skip
    return out
