"""Outcome and adherence figures of the week, where the data exists (shared/outcomes): the home programme's
adherence over the week's seven days, and the outcome questionnaires completed at the site's visits.

Aggregates only: which patient did what is for the staff app's Patients page, not a file passed around.
"""

from __future__ import annotations

from sqlmodel import Session, col, or_, select

from shared.care.models import Appointment, PlanShare
from shared.outcomes.adherence import adherence
from shared.outcomes.responses import completed
from shared.reports.figures import pct, percentile
from shared.reports.table import Cell, Table
from shared.reports.weeks import Week


def adherence_table(*, session: Session, site: str, week: Week) -> Table:
    """Patients with a take-home link of the site in force during the week: exercises prescribed and done over
    its seven days (`shared.outcomes.adherence`, with the week's Sunday as "today"), and who did under half."""
    query = (
        select(PlanShare.patient_id)
        .where(PlanShare.site == site, col(PlanShare.lasting), col(PlanShare.created_at) < week.end,
               col(PlanShare.expires_at) > week.start,
               or_(col(PlanShare.revoked_at).is_(None), col(PlanShare.revoked_at) > week.start))
        .distinct()
    )  # fmt: skip
    figures = [adherence(session=session, patient_id=p, today=week.days[-1]) for p in session.exec(query).all()]
    prescribed, done = sum(f.prescribed_7 for f in figures), sum(f.done_7 for f in figures)
    row: tuple[Cell, ...] = (len(figures), prescribed, done, pct(done, prescribed), sum(f.needs_nudge for f in figures))
    columns = ("patients_on_home_programme", "exercises_prescribed", "exercises_done", "adherence_pct",
               "patients_under_half")  # fmt: skip
    return Table("adherence", "Home-exercise adherence over the week", columns, [row])


def outcomes_table(*, session: Session, site: str, week: Week) -> Table:
    """Per questionnaire: responses completed during the week at visits to the site, patients, and scores."""
    responses = completed(session=session, since=week.start, until=week.end)
    visits = {r.appointment_id for r in responses if r.appointment_id is not None}
    here = set(session.exec(select(Appointment.id).where(col(Appointment.id).in_(visits), Appointment.site == site)))
    scores: dict[str, list[float]] = {}
    patients: dict[str, set[int]] = {}
    counts: dict[str, int] = {}
    for r in responses:
        if r.appointment_id not in here:
            continue
        counts[r.questionnaire] = counts.get(r.questionnaire, 0) + 1
        patients.setdefault(r.questionnaire, set()).add(r.patient_id)
        if r.score is not None:
            scores.setdefault(r.questionnaire, []).append(float(r.score))
    rows: list[tuple[Cell, ...]] = []
    for code in sorted(counts):
        found = scores.get(code, [])
        mean = round(sum(found) / len(found), 1) if found else None
        median = percentile(found, 50)
        rows.append((code, counts[code], len(patients[code]), mean, None if median is None else round(median, 1)))
    columns = ("questionnaire", "responses", "patients", "score_mean", "score_p50")
    return Table("outcomes", "Outcome questionnaires completed during the week", columns, rows)
