"""Starting thresholds per equipment kind: what a bind uses when none are given (docs/devices.md explains each).

Power figures are for a plug between the wall and the equipment: a treadmill's motor draws hundreds of watts
while its console idles at 5-20 W; an ultrasound or traction unit draws tens of watts while treating. The holds
keep a one-off spike (switching on, a belt test) or a short pause (a patient stepping off) from counting as a
use boundary. Unpowered stations (bars, plinths, stairs) use a vibration or occupancy sensor and the idle time.
Calibrating from live readings (the staff app's Devices page) replaces them with what a station really draws.
"""

from __future__ import annotations

from dataclasses import replace

from shared.equipment.native.inference import Role, Thresholds

DEFAULT = Thresholds(role="usage", on_watts=10.0, off_watts=3.0, on_hold_s=60.0, off_hold_s=120.0, idle_s=120.0)

BY_KIND: dict[str, Thresholds] = {
    "treadmill": replace(DEFAULT, on_watts=60.0, off_watts=25.0, on_hold_s=30.0, off_hold_s=120.0),
    "recumbent_bike": replace(DEFAULT, on_watts=15.0, off_watts=6.0, on_hold_s=30.0, off_hold_s=120.0),
    "bike": replace(DEFAULT, on_watts=15.0, off_watts=6.0, on_hold_s=30.0, off_hold_s=120.0),
    "nustep": replace(DEFAULT, on_watts=15.0, off_watts=6.0, on_hold_s=30.0, off_hold_s=120.0),
    "ultrasound": replace(DEFAULT, on_watts=12.0, off_watts=5.0, on_hold_s=20.0, off_hold_s=60.0),
    "traction_table": replace(DEFAULT, on_watts=20.0, off_watts=8.0, on_hold_s=30.0, off_hold_s=90.0),
    "hot_pack": replace(DEFAULT, idle_s=300.0),
    "parallel_bars": replace(DEFAULT, idle_s=180.0),
    "plinth": replace(DEFAULT, idle_s=300.0),
    "stairs": replace(DEFAULT, idle_s=120.0),
}


def defaults_for(kind: str, role: Role = "usage") -> Thresholds:
    """The starting thresholds for a station of `kind` (unknown kinds get `DEFAULT`), for `role`."""
    return replace(BY_KIND.get(kind.strip().lower(), DEFAULT), role=role)
