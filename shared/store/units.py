"""Which units a clinic's patients read (`CLINIC_UNITS`): US customary or metric, by default from its time zone.

A clinic in the United States (or Liberia or Myanmar) reads pounds and miles per hour; anywhere else, kilograms
and km/h. The time zone is the only place a clinic says where it is, so an unset `CLINIC_UNITS` follows the
country of `CLINIC_TIMEZONE` (from the tz database's zone.tab); a zone of no country (UTC, unset) means "us", the
lobby's default language being US English.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

Units = Literal["us", "metric"]
US_CUSTOMARY_COUNTRIES = frozenset({"US", "LR", "MM"})
SYSTEM_ZONE_TAB = Path("/usr/share/zoneinfo/zone.tab")


def units_for_zone(zone: str | None) -> Units:
    """The units of the country an IANA zone is in: "us" for the US (and zones of no known country)."""
    country = zone_countries().get(zone or "")
    if zone and zone.startswith("US/"):
        country = "US"
    return "metric" if country is not None and country not in US_CUSTOMARY_COUNTRIES else "us"


@cache
def zone_countries() -> dict[str, str]:
    """IANA zone -> ISO country code, from the tzdata package's zone.tab or the system's (empty if neither)."""
    try:
        text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        text = SYSTEM_ZONE_TAB.read_text(encoding="utf-8") if SYSTEM_ZONE_TAB.exists() else ""
    countries = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and not line.startswith("#"):
            countries[fields[2]] = fields[0]
    return countries
