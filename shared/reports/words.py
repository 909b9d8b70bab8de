"""The report's figures in a manager's words: "Cleaning compliance (%)" for the CSV column
`cleaning_compliance_pct`. The page and the PDF show both, so a reader can find a figure in the CSV files."""

from __future__ import annotations

FIGURE_WORDS = {
    "week": "Week",
    "site": "Site",
    "first_day": "First day",
    "last_day": "Last day",
    "week_hours": "Hours in the week",
    "stations": "Stations",
    "uses": "Uses",
    "in_use_hours": "Hours in use",
    "uses_ended": "Uses that ended",
    "cleaned_in_time": "Cleaned in time",
    "late": "Cleaned late",
    "not_cleaned": "Not cleaned before the next use",
    "used_before_contact_time": "Used again before the disinfectant's contact time",
    "cleaning_compliance_pct": "Cleaning compliance (%)",
    "time_to_clean_p50_min": "Time to clean, median (min)",
    "time_to_clean_p90_min": "Time to clean, 90th percentile (min)",
    "out_of_service_hours": "Hours out of service",
    "offline_hours": "Hours offline",
    "maintenance_done": "Maintenance tasks done",
    "maintenance_due_soon": "Maintenance due soon",
    "maintenance_overdue": "Maintenance overdue",
    "maintenance_missed": "Maintenance missed",
    "appointments": "Appointments",
    "arrivals": "Arrivals",
    "no_shows": "No-shows",
    "wait_p50_min": "Wait, median (min)",
    "wait_p90_min": "Wait, 90th percentile (min)",
}


def figure_words(column: str) -> str:
    """A CSV column's figure in words (a column without its own words: the name with spaces, capitalised)."""
    words = FIGURE_WORDS.get(column)
    if words is not None:
        return words
    plain = column.replace("_pct", " (%)").replace("_min", " (min)").replace("_", " ")
    return plain[:1].upper() + plain[1:]
