"""What one scenario on one backend produced, and when that counts as passed (the bench's exit code).

Apart from the running and the printing so both read the same record, and the JSON keeps its field names.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ScenarioFailed(RuntimeError):
    """The scenario could not go on (a listener died by itself, the flood failed, nothing moved)."""


@dataclass
class Result:
    backend: str
    scenario: str
    faults: str = ""
    details: list[str] = field(default_factory=list)
    messages: int = 0  # the flood's size
    published: int = 0  # PUBACKed (success reason code)
    stored: int = 0  # distinct event ids in equipment_event
    rows: int = 0
    duplicated: int = 0
    lost: int = 0  # PUBACKed ids missing from the table
    unacked_stored: int = 0  # stored though never PUBACKed (only if the flood itself failed)
    dead_lettered: int = 0
    starts_stored: int = 0
    uses_total: int = 0
    in_use_seconds: float = 0.0  # informational: out-of-order arrival may add to it (see docs/reliability.md)
    publish_s: float = 0.0
    wall_s: float = 0.0  # from the first publish until the last message is stored
    publisher_connects: int = 0
    listener_connects: int = 0
    db_retries_logged: int = 0
    listener_exit_codes: list[int | None] = field(default_factory=list)
    load_before: float = 0.0
    load_after: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def uses_consistent(self) -> bool:
        return self.uses_total == self.starts_stored

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.uses_consistent
            and not self.errors
            and self.published == self.messages
        )
