"""The equipment state machine: pure functions from (state, event) to the next state.

Counters (uses, in-use seconds) commute, so every newly stored event counts once whatever order it arrives
in. The status fields are last-writer-wins by event time: an event older than the newest one applied is
recorded but does not roll the state back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from typing import Literal

from shared.equipment.events import DeviceEvent, StatusReport

Status = Literal["available", "in_use", "needs_cleaning", "out_of_service"]
STATUSES: tuple[Status, ...] = ("available", "in_use", "needs_cleaning", "out_of_service")


@dataclass(slots=True)
class StationState:
    """Mutable working copy of one `equipment_state` row (same field names)."""

    site: str
    equipment_id: str
    usage_status: str = "available"
    out_of_service: bool = False
    online: bool | None = None
    online_changed_at: datetime | None = None
    last_seen: datetime | None = None
    last_event_at: datetime | None = None
    in_use_since: datetime | None = None
    current_session_id: str | None = None
    needs_cleaning_since: datetime | None = None
    last_cleaned_at: datetime | None = None
    last_cleaned_by: str | None = None
    used_without_cleaning: int = 0
    fault_code: str | None = None
    fault_severity: str | None = None
    fault_message: str | None = None
    fault_since: datetime | None = None
    uses_total: int = 0
    uses_today: int = 0
    uses_today_date: date | None = None
    in_use_seconds_total: float = 0.0
    # The last session a start closed before its stop arrived (from, to, id): its late stop replaces the
    # seconds credited then, so in-use time is counted once.
    closed_by_start_from: datetime | None = None
    closed_by_start_at: datetime | None = None
    closed_by_start_session: str | None = None

    @property
    def status(self) -> Status:
        """What the board shows: out of service wins over what usage and cleaning imply."""
        if self.out_of_service:
            return "out_of_service"
        return self.usage_status  # type: ignore[return-value]


def uses_today(state: StationState, today: date) -> int:
    """Uses counted on `today` (the stored count belongs to an earlier day once the date has moved on)."""
    return state.uses_today if state.uses_today_date == today else 0


def apply_event(state: StationState, event: DeviceEvent, *, clean_after_use: bool, tz: tzinfo) -> StationState:
    """The state after a newly stored `event` (never called twice for one event)."""
    new = replace(state)
    apply_event_in_place(new, event, clean_after_use=clean_after_use, tz=tz)
    return new


def apply_event_in_place(new: StationState, event: DeviceEvent, *, clean_after_use: bool, tz: tzinfo) -> None:
    """`apply_event` on a working copy the caller owns (ingest copies each station once per batch)."""
    at = event.event_at
    new.last_seen = _latest(new.last_seen, event.received_at)
    _count(new, event, tz)
    if new.last_event_at is not None and at < new.last_event_at:
        if _ends_open_session(new, event):
            _late_stop(new, event, at, clean_after_use)
        return  # late: recorded and counted, but the state does not go back in time
    new.last_event_at = at
    if event.channel == "usage":
        _apply_usage(new, event, at, clean_after_use)
    elif event.channel == "cleaning":
        if new.usage_status != "in_use":  # a wipe-down mid-session is recorded but does not end the session
            new.usage_status = "available"
            new.needs_cleaning_since = None
        new.last_cleaned_at = at
        new.last_cleaned_by = event.by
        new.used_without_cleaning = 0
    elif event.channel == "fault":
        _apply_fault(new, event, at)


def apply_status(state: StationState, report: StatusReport) -> StationState:
    """The state after an `online`/`offline` report; a repeat of the current value only updates last seen."""
    new = replace(state)
    new.last_seen = _latest(new.last_seen, report.received_at)
    if new.online != report.online and (new.online_changed_at is None or report.event_at >= new.online_changed_at):
        new.online = report.online
        new.online_changed_at = report.event_at
    return new


def _apply_usage(new: StationState, event: DeviceEvent, at: datetime, clean_after_use: bool) -> None:
    if event.event == "start":
        if new.usage_status == "in_use" and new.in_use_since is not None:
            # A start while in use closes the open session (its stop was lost or never sent, or is late: then
            # _count swaps these seconds for the stop's duration).
            new.in_use_seconds_total += max(0.0, (at - new.in_use_since).total_seconds())
            new.closed_by_start_from, new.closed_by_start_at = new.in_use_since, at
            new.closed_by_start_session = new.current_session_id
        if new.usage_status == "needs_cleaning":
            new.used_without_cleaning += 1
        new.usage_status = "in_use"
        new.in_use_since = at
        new.current_session_id = event.session_id
        new.needs_cleaning_since = None
        return
    # stop
    if event.duration_s is None and new.usage_status == "in_use" and new.in_use_since is not None:
        new.in_use_seconds_total += max(0.0, (at - new.in_use_since).total_seconds())
    new.in_use_since = None
    new.current_session_id = None
    if clean_after_use:
        if new.usage_status != "needs_cleaning":
            new.needs_cleaning_since = at
        new.usage_status = "needs_cleaning"
    else:
        new.usage_status = "available"
        new.needs_cleaning_since = None


def _ends_open_session(state: StationState, event: DeviceEvent) -> bool:
    """A late stop of the session still open: a plug's use is confirmed after its off-hold and dated when the power
    fell, so a cleaning or fault recorded meanwhile is newer; the session must still end."""
    if event.channel != "usage" or event.event != "stop" or state.usage_status != "in_use":
        return False
    if state.in_use_since is None or event.event_at < state.in_use_since:
        return False
    return event.session_id is None or event.session_id == state.current_session_id


def _late_stop(new: StationState, event: DeviceEvent, at: datetime, clean_after_use: bool) -> None:
    """End the open session at `at`; a cleaning already recorded after it leaves the station available."""
    if event.duration_s is None and new.in_use_since is not None:
        new.in_use_seconds_total += max(0.0, (at - new.in_use_since).total_seconds())
    new.in_use_since, new.current_session_id = None, None
    cleaned_since = new.last_cleaned_at is not None and new.last_cleaned_at >= at
    if clean_after_use and not cleaned_since:
        new.usage_status, new.needs_cleaning_since = "needs_cleaning", at
    else:
        new.usage_status, new.needs_cleaning_since = "available", None


def _apply_fault(new: StationState, event: DeviceEvent, at: datetime) -> None:
    if event.event == "cleared":
        if event.code is None or event.code == new.fault_code or not new.out_of_service:
            new.out_of_service = False
            new.fault_code = new.fault_severity = new.fault_message = None
            new.fault_since = None
        return
    if event.severity == "critical":
        new.out_of_service = True
    elif new.out_of_service:
        return  # a lesser fault does not hide the critical one that took the station out of service
    new.fault_code = event.code
    new.fault_severity = event.severity or "warning"
    new.fault_message = event.message
    new.fault_since = at


def _count(new: StationState, event: DeviceEvent, tz: tzinfo) -> None:
    """Counters commute: every new event adds its share once, whatever order it arrives in."""
    if event.channel != "usage":
        return
    if event.event == "start":
        new.uses_total += 1
        day = event.event_at.astimezone(tz).date()
        if new.uses_today_date is None or day > new.uses_today_date:
            new.uses_today_date, new.uses_today = day, 1
        elif day == new.uses_today_date:
            new.uses_today += 1
    elif event.duration_s is not None:
        seconds = max(0.0, float(event.duration_s))
        if _closed_by_start(new, event):
            assert new.closed_by_start_from is not None and new.closed_by_start_at is not None
            seconds -= (new.closed_by_start_at - new.closed_by_start_from).total_seconds()
            new.closed_by_start_from = new.closed_by_start_at = new.closed_by_start_session = None
        new.in_use_seconds_total = max(0.0, new.in_use_seconds_total + seconds)


def _closed_by_start(state: StationState, stop: DeviceEvent) -> bool:
    """Whether `stop` ends the session a later start already closed (same session id, else within its time)."""
    if state.closed_by_start_from is None or state.closed_by_start_at is None:
        return False
    if stop.session_id is not None and state.closed_by_start_session is not None:
        return stop.session_id == state.closed_by_start_session
    return state.closed_by_start_from < stop.event_at <= state.closed_by_start_at


def _latest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current
