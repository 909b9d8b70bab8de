"""The native devices heard from: which are bound to no station yet (offered to staff, never lost), and what each
said last, in words people read ("a Shelly plug `shellyplusplugs-a8032ab1` is reporting (0 W now)")."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from shared.equipment.native.models import NativeBinding, NativeSource
from shared.equipment.native.readings import VENDOR_NAMES, Via
from shared.store.errors import NotFound


@dataclass(frozen=True, slots=True)
class SourceView:
    """A native device as the Devices page and `clinic device unbound` show it."""

    via: Via
    source: str
    first_seen: datetime
    last_seen: datetime
    online: bool | None
    messages: int
    summary: dict[str, object]
    recent: list[tuple[float, str, float, str]]  # (epoch s, channel or entity, watts or 0/1, "W" or "")
    bound: bool

    @property
    def parts(self) -> list[str]:
        """The channels or entities it reported on (what a bind may choose), in the order first seen."""
        return list(dict.fromkeys(part for _, part, _, _ in self.recent))

    def now_text(self) -> str:
        """What it says now, for people: "0 W now", "active now", or "reporting"."""
        if self.online is False:
            return "offline"
        if self.recent:
            _, _, value, unit = self.recent[-1]
            return f"{_number(value)} W now" if unit == "W" else ("active now" if value else "quiet now")
        return "reporting"

    def describe(self) -> str:
        """One line: "a Shelly plug `shellyplusplugs-a8032ab1` is reporting (0 W now)"."""
        now = self.now_text()
        state = "is offline" if now == "offline" else ("is reporting" + ("" if now == "reporting" else f" ({now})"))
        return f"a {VENDOR_NAMES[self.via]} `{self.source}` {state}"

    def as_json(self) -> dict[str, object]:
        """For `clinic device unbound --json`."""
        return {"via": self.via, "source": self.source, "vendor": VENDOR_NAMES[self.via], "online": self.online,
                "first_seen": _utc(self.first_seen), "last_seen": _utc(self.last_seen), "messages": self.messages,
                "now": self.now_text(), "summary": self.summary, "parts": self.parts}  # fmt: skip


def unbound_sources(*, session: Session) -> list[SourceView]:
    """Devices heard from and bound to no station, the most recently heard first."""
    bound = set(session.exec(select(NativeBinding.via, NativeBinding.source)).all())
    rows = session.exec(select(NativeSource).order_by(col(NativeSource.last_seen).desc())).all()
    # A Zigbee2MQTT bridge's own availability (source "") is the bridge, not a device anyone binds.
    return [_view(row, bound=False) for row in rows if (row.via, row.source) not in bound and row.source]


def source_view(*, session: Session, via: str, source: str) -> SourceView:
    """One device as last heard (for calibration); `NotFound` when it never reported."""
    row = session.get(NativeSource, (via, source))
    if row is None:
        raise NotFound(f"no message from the {via} device {source} yet: check its MQTT settings")
    query = select(NativeBinding.id).where(col(NativeBinding.via) == via, col(NativeBinding.source) == source)
    return _view(row, bound=session.exec(query).first() is not None)


def _view(row: NativeSource, *, bound: bool) -> SourceView:
    stored = json.loads(row.recent or "[]")
    recent = [(float(at), str(part), float(value), str(unit)) for at, part, value, unit in stored]
    return SourceView(row.via, row.source, row.first_seen, row.last_seen, row.online,  # type: ignore[arg-type]
                      row.messages, json.loads(row.summary or "{}"), recent, bound)  # fmt: skip


def _number(value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    return f"{number:.0f}" if abs(number) >= 10 or number == int(number) else f"{number:.1f}"


def _utc(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
