"""How full the data disk is, and whether that needs a person (before Mosquitto's autosaves and the store fail)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class DiskStatus:
    """The filesystem holding a folder: sizes in bytes, and the percentage at which we warn."""

    path: Path
    total: int
    free: int
    warn_percent: int

    @property
    def used_percent(self) -> float:
        """How full the disk is, 0 to 100 (what `df` shows as Use%)."""
        return 100.0 * (self.total - self.free) / self.total if self.total else 100.0

    @property
    def nearly_full(self) -> bool:
        """At or over the warning threshold (CLINIC_DISK_WARN_PERCENT)."""
        return self.used_percent >= self.warn_percent

    def describe(self) -> str:
        """One line for a log, a page or `clinic status`."""
        return f"{self.path}: {self.used_percent:.0f}% used, {_size(self.free)} free of {_size(self.total)}"

    def as_dict(self) -> dict[str, object]:
        return {"path": str(self.path), "total_bytes": self.total, "free_bytes": self.free,
                "used_percent": round(self.used_percent, 1), "warn_percent": self.warn_percent,
                "nearly_full": self.nearly_full}  # fmt: skip


def disk_status(path: Path, *, warn_percent: int) -> DiskStatus:
    """The disk holding `path` (its nearest existing parent, for a data folder not made yet)."""
    folder = path.resolve()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    usage = shutil.disk_usage(folder)
    return DiskStatus(path=path, total=usage.total, free=usage.free, warn_percent=warn_percent)


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"
