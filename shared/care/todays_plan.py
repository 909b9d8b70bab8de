"""Today's plan as the patient sees it, each station with its live status and a free alternative."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, tzinfo

from sqlmodel import Session

from shared.care.models import Exercise, PlanItem
from shared.care.plans import PlannedExercise, active_on, line_fields, plan_lines
from shared.equipment.station_names import given_names, station_words
from shared.equipment.stations import ShownStatus, StationView, list_stations

PATIENT_STATUS_WORDS = {
    "available": "available",
    "in_use": "in use",
    "needs_cleaning": "being cleaned",
    "cleaning": "being cleaned",
    "out_of_service": "out of service",
}


@dataclass(frozen=True, slots=True)
class PlanLine(PlannedExercise):
    """One exercise of today's plan as the patient sees it."""

    equipment_name: str | None
    equipment_zone: str | None
    equipment_status: str | None
    instructions: str
    image_url: str | None
    equipment_ready_at: datetime | None = None  # while the station's disinfectant contact time runs, its end
    exercise_es: str | None = None  # the library's Spanish texts, when it has them
    instructions_es: str | None = None
    image_file: str | None = None  # the exercise's picture under <data dir>/exercise-images
    alternative_id: str | None = None  # a free station of the same kind, when this one is not free
    alternative_name: str | None = None
    alternative_zone: str | None = None
    equipment_name_es: str | None = None  # the stations as a Spanish-speaking patient calls them (station_names.py)
    alternative_name_es: str | None = None

    def texts(self, lang: str | None) -> tuple[str, str]:
        """The exercise's name and instructions in a language, falling back to the default texts."""
        if lang == "es":
            return self.exercise_es or self.exercise, self.instructions_es or self.instructions
        return self.exercise, self.instructions

    def station_name(self, lang: str | None) -> str | None:
        """The station's name in a language (its id when it has no name)."""
        name = self.equipment_name_es if lang == "es" else None
        return name or self.equipment_name or self.equipment_id

    def alternative_name_in(self, lang: str | None) -> str | None:
        """The free alternative's name in a language (its id when it has no name)."""
        name = self.alternative_name_es if lang == "es" else None
        return name or self.alternative_name or self.alternative_id

    @property
    def free(self) -> bool:
        """The patient can start this one now: no station, an unknown one, or an available one."""
        return self.station_status in (None, "available")

    def as_json(self) -> dict[str, object]:
        """The documented JSON shape (`clinic checkin --json`); times as RFC 3339 in UTC."""
        out = asdict(self)
        for name, value in out.items():
            if isinstance(value, datetime):
                out[name] = value.isoformat().replace("+00:00", "Z")
        return out

    @property
    def station_status(self) -> ShownStatus | None:
        """The station's status as the patient's badge shows it: "cleaning" during the contact time."""
        if self.equipment_ready_at is not None:
            return "cleaning"
        return self.equipment_status  # type: ignore[return-value]


def todays_plan(
    *,
    session: Session,
    patient_id: int,
    day: date,
    site: str,
    tz: tzinfo,
    now: datetime | None = None,
    contact_time_min: Mapping[str, float] | None = None,
) -> list[PlanLine]:
    """The patient's active plan for `day`, in order, each station with its live status (and, during a
    disinfectant's contact time, when it is ready; see `list_stations`); a station that is not free comes with
    a free one of the same kind, when there is one (same zone first). Check-in reads it in its own transaction.
    """
    rows = plan_lines(session=session, patient_id=patient_id, where=active_on(day))
    views = list_stations(session=session, tz=tz, site=site, now=now, contact_time_min=contact_time_min) if rows else []
    stations = {(v.site, v.id): v for v in views}
    given = given_names(session=session, site=site, lang="es") if rows else {}
    spanish = {(site, station_id): name for station_id, name in given.items()}
    lines = []
    for item, exercise in rows:
        station = stations.get((item.equipment_site or site, item.equipment_id or ""))
        lines.append(_plan_line(item, exercise, station, _free_alternative(station, views), spanish))
    return lines


def _plan_line(
    item: PlanItem,
    exercise: Exercise,
    station: StationView | None,
    other: StationView | None,
    spanish: Mapping[tuple[str, str], str],
) -> PlanLine:
    """One line as the lobby shows it: the dose, the exercise's words and picture, the station and an alternative."""

    def in_spanish(view: StationView | None) -> str | None:
        if view is None:
            return None
        return station_words(name=view.name, kind=view.kind, lang="es", given=spanish.get((view.site, view.id)))

    return PlanLine(
        **line_fields(item, exercise),
        equipment_name=station.name if station else None,
        equipment_zone=station.zone if station else None,
        equipment_status=station.status if station else None,
        instructions=exercise.instructions,
        image_url=exercise.image_url,
        equipment_ready_at=station.ready_at if station else None,
        exercise_es=exercise.name_es,
        instructions_es=exercise.instructions_es,
        image_file=exercise.image_file,
        alternative_id=other.id if other else None,
        alternative_name=other.name if other else None,
        alternative_zone=other.zone if other else None,
        equipment_name_es=in_spanish(station),
        alternative_name_es=in_spanish(other),
    )


def start_here(lines: list[PlanLine]) -> int | None:
    """Which line to start with: the first whose station is free, else the first with a free alternative."""
    first = next((n for n, line in enumerate(lines) if line.free), None)
    if first is None:
        first = next((n for n, line in enumerate(lines) if line.alternative_id), None)
    return first


def _free_alternative(station: StationView | None, views: list[StationView]) -> StationView | None:
    """A free station of the same kind as a busy, cleaning or out-of-service one (same zone first)."""
    if station is None or station.effective_status == "available" or station.kind in ("", "other"):
        return None
    free = [v for v in views if v.kind == station.kind and v.site == station.site and v.id != station.id
            and v.effective_status == "available" and v.online is not False]  # fmt: skip
    free.sort(key=lambda v: (v.zone != station.zone, v.name))
    return free[0] if free else None
