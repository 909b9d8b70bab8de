"""What an operator must act on before it hurts: a nearly full disk, a backup too old or never made.

One list for the staff app's admin page and `clinic status`, so both say the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.store.settings import Settings
from shared.upkeep.backups import LastBackup, last_backup
from shared.upkeep.disk import DiskStatus, disk_status


@dataclass(frozen=True, slots=True)
class Upkeep:
    """The data disk and the last backup, with the warnings they call for."""

    disk: DiskStatus
    backup: LastBackup | None
    warnings: list[str]


def upkeep(*, settings: Settings, now: datetime) -> Upkeep:
    """Check the data disk and the last backup against CLINIC_DISK_WARN_PERCENT and CLINIC_BACKUP_MAX_AGE_H."""
    disk = disk_status(settings.data_dir, warn_percent=settings.disk_warn_percent)
    backup = last_backup(settings.data_dir)
    warnings = []
    if disk.nearly_full:
        warnings.append(f"The data disk is nearly full ({disk.describe()}); free space before recording stops.")
    if backup is None:
        warnings.append("No backup has been made yet: run `clinic db backup` (or enable the nightly backup timer).")
    elif backup.age(now).total_seconds() > settings.backup_max_age_h * 3600:
        hours = backup.age(now).total_seconds() / 3600
        warnings.append(
            f"The last backup is {hours:.0f} hours old (over {settings.backup_max_age_h} h): check the nightly "
            "backup timer, or run `clinic db backup`."
        )
    return Upkeep(disk=disk, backup=backup, warnings=warnings)
