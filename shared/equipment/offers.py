"""Which actions a station offers, and why one is not: the one rule every place that shows a station's buttons
asks (the board's cards, its "Clean next" queue, the scan page), so the same station never has "Mark cleaned"
enabled in one place and disabled in another.

It reads the station's status, whether device messages are being recorded (when they are not, "in use" may be
old news: the reason says so), and what the person's role may do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.equipment.stations import StationView
from shared.staff.permissions import can

Action = Literal["cleaned", "start", "end", "out", "back", "serviced", "report"]
ACTIONS: tuple[Action, ...] = ("cleaned", "start", "end", "out", "back", "serviced", "report")
STALE = " (device messages are not being recorded: it may have ended; end the use on the station's scan page)"


@dataclass(frozen=True, slots=True)
class Offer:
    """One action at one station: whether it can be taken now, and if not, why (a sentence for a tooltip)."""

    action: Action
    enabled: bool
    why: str | None = None


def offered(view: StationView, *, role: str, recording: bool = True) -> dict[Action, Offer]:
    """Every action at `view` for someone of `role`, each enabled or with the reason it is not."""
    return {action: offer(view, action, role=role, recording=recording) for action in ACTIONS}


def offer(view: StationView, action: Action, *, role: str, recording: bool = True) -> Offer:
    """One action at `view` for someone of `role` (see `offered`)."""
    why = _refusal(view, action, role=role, recording=recording)
    return Offer(action, why is None, why)


def _refusal(view: StationView, action: Action, *, role: str, recording: bool) -> str | None:
    if not can(role, "board"):
        return "Your role cannot change stations."
    status = view.status  # the stored status: a station in its contact time is "available" here
    if action == "cleaned":
        if status == "in_use":
            return "The station is in use: end the use first." + ("" if recording else STALE)
        if view.effective_status == "cleaning":
            return "Cleaned already: nothing to do but wait for the disinfectant's contact time."
        return None
    if action == "start":
        if status == "in_use":
            return "The station is already in use."
        return "The station is out of service." if status == "out_of_service" else None
    if action == "end":
        return None if status == "in_use" else "The station is not in use."
    if action == "out":
        return "The station is already out of service." if status == "out_of_service" else None
    if action == "back":
        return None if status == "out_of_service" else "The station is in service."
    if action == "serviced":
        return None if view.maintenance_due else "No maintenance is due."
    return None  # a problem can always be reported
