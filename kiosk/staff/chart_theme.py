"""The staff app's charts readable on a phone: axis, legend and title text at 16 px or more, in dark grey.

Streamlit's own chart theme draws axis labels at 13 px in a light grey; an Altair theme sets the sizes in the
chart's spec instead, so Vega lays the labels out at their real size (pages' `labelOverlap` then drops what no
longer fits rather than drawing labels over each other). A chart's own config still wins over this one.
"""

from __future__ import annotations

import altair as alt
from altair.theme import AxisConfigKwds, HeaderConfigKwds, LegendConfigKwds, ThemeConfig, TitleConfigKwds

THEME = "clinic-staff"
TEXT_PX = 16
TEXT_COLOUR = "#31333f"  # Streamlit's body text: 12:1 on white


def _config() -> ThemeConfig:
    axis: AxisConfigKwds = {"labelFontSize": TEXT_PX, "titleFontSize": TEXT_PX, "labelColor": TEXT_COLOUR,
                            "titleColor": TEXT_COLOUR}  # fmt: skip
    legend: LegendConfigKwds = {"labelFontSize": TEXT_PX, "titleFontSize": TEXT_PX, "labelColor": TEXT_COLOUR,
                                "titleColor": TEXT_COLOUR}  # fmt: skip
    header: HeaderConfigKwds = {"labelFontSize": TEXT_PX, "titleFontSize": TEXT_PX, "labelColor": TEXT_COLOUR,
                                "titleColor": TEXT_COLOUR}  # fmt: skip
    title: TitleConfigKwds = {"fontSize": TEXT_PX + 2, "color": TEXT_COLOUR, "subtitleFontSize": TEXT_PX}
    return {"config": {"axis": axis, "legend": legend, "header": header, "title": title, "text": {"fontSize": TEXT_PX}}}


def use_staff_chart_theme() -> None:
    """Make the theme Altair's active one in this process (the staff app's; the lobby draws no charts)."""
    if alt.theme.active != THEME:
        alt.theme.register(THEME, enable=True)(_config)
