"""Charts for people: progress over weeks, the practice calendar, and one rep's two sides.

Colours are the same everywhere: the patient's left in blue, right in orange.
"""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import numpy as np
import pandas as pd

from coach.store.export import HEALTHY_SYMMETRY_PCT
from coach.store.info import HistoryPoint

LEFT = "#1f77d0"
RIGHT = "#ef8a17"
SIDE_SCALE = alt.Scale(domain=["Left", "Right"], range=[LEFT, RIGHT])


def _local(points: list[HistoryPoint]) -> list:
    return [pd.Timestamp(p.started_at, tz="UTC").tz_convert(None) for p in points]


MIN_SPAN = pd.Timedelta(days=6)  # a date axis shows at least a week, so one session reads as a date


def _dates(when: list) -> alt.X:
    """The date axis of a progress chart: dates as "03 Dec", over at least a week.

    With one session (or a few on one day) Vega-Lite would zoom into milliseconds and
    label the axis ".925"; the domain is widened around them instead.
    """
    axis = alt.Axis(format="%d %b", labelAngle=0, tickCount={"interval": "day", "step": 1}, labelOverlap=True)
    if not when:
        return alt.X("When:T", title=None, axis=axis)
    lo, hi = min(when), max(when)
    if hi - lo < MIN_SPAN:
        pad = (MIN_SPAN - (hi - lo)) / 2
        lo, hi = lo - pad, hi + pad
    else:
        axis = alt.Axis(format="%d %b", labelAngle=0, labelOverlap=True)
    return alt.X("When:T", title=None, axis=axis, scale=alt.Scale(domain=[lo.isoformat(), hi.isoformat()]))


def movement_title(unit: str) -> str:
    """What a side's movement is called on an axis: millimetres moved, or how much an eye closed."""
    return "Eye closed (% of its opening)" if unit == "%" else f"Movement ({unit})"


def symmetry_trend(points: list[HistoryPoint], height: int = 260) -> alt.Chart:
    """Symmetry per session with the healthy range shaded."""
    df = pd.DataFrame(
        {
            "When": _local(points),
            "Symmetry (%)": [np.nan if p.symmetry_pct is None else round(p.symmetry_pct, 1) for p in points],
        }
    )
    lo, hi = HEALTHY_SYMMETRY_PCT
    # One axis title for both layers (else Vega-Lite joins them: "lo, hi, Symmetry (%)").
    band = (
        alt.Chart(pd.DataFrame({"lo": [lo], "hi": [hi]}))
        .mark_rect(color="#2e7d32", opacity=0.15)
        .encode(y=alt.Y("lo:Q", title="Symmetry (%)"), y2="hi:Q")
    )
    top = max(110.0, float(np.nanmax(df["Symmetry (%)"])) + 5 if df["Symmetry (%)"].notna().any() else 110.0)
    line = (
        alt.Chart(df)
        .mark_line(point=True, color="#444")
        .encode(
            x=_dates(list(df["When"])),
            y=alt.Y("Symmetry (%):Q", title="Symmetry (%)", scale=alt.Scale(domain=[0, top])),
            tooltip=[alt.Tooltip("When:T", format="%d %b %Y"), "Symmetry (%):Q"],
        )
    )
    return (band + line).properties(height=height)


def sides_trend(points: list[HistoryPoint], height: int = 260) -> alt.Chart:
    """Each side's mean movement per session."""
    unit = points[0].unit if points else "mm"
    when = _local(points)
    title = movement_title(unit)
    df = pd.DataFrame(
        {
            "When": when * 2,
            "Side": ["Left"] * len(points) + ["Right"] * len(points),
            "Movement": [round(p.mean_left, 2) for p in points] + [round(p.mean_right, 2) for p in points],
        }
    )
    return (
        alt.Chart(df)
        .mark_line(point=True)
        .encode(
            x=_dates(when),
            y=alt.Y("Movement:Q", title=title),
            color=alt.Color("Side:N", scale=SIDE_SCALE),
            tooltip=[
                alt.Tooltip("When:T", format="%d %b %Y"),
                "Side:N",
                alt.Tooltip("Movement:Q", title=title),
            ],
        )
        .properties(height=height)
    )


def calendar(days: dict[date, int], today: date, weeks: int = 12) -> alt.Chart:
    """A GitHub-style grid of the last ``weeks`` weeks: a filled square for each day practised."""
    start = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    rows = []
    d = start
    while d <= today:
        rows.append(
            {
                "Week of": (d - timedelta(days=d.weekday())).strftime("%d %b"),
                "week": (d - start).days // 7,
                "Day": d.strftime("%a"),
                "dow": d.weekday(),
                "Date": d.strftime("%a %d %b"),
                "Practised": "Yes" if days.get(d) else "No",
            }
        )
        d += timedelta(days=1)
    df = pd.DataFrame(rows)
    return (
        alt.Chart(df)
        .mark_rect(cornerRadius=3, stroke="white", strokeWidth=2)
        .encode(
            x=alt.X("Week of:O", sort=alt.SortField("week"), title=None, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("Day:O", sort=["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], title=None),
            color=alt.Color(
                "Practised:N", scale=alt.Scale(domain=["Yes", "No"], range=["#2e9d55", "#e4e7eb"]), legend=None
            ),
            tooltip=["Date:N", "Practised:N"],
        )
        .properties(width=max(240, 26 * weeks), height=200)
    )


def rep_curves(
    t_s: np.ndarray, left: np.ndarray, right: np.ndarray, unit: str, height: int = 220, title: str | None = None
) -> alt.Chart:
    """One rep: each side's movement over time (``title`` names the y axis; by default the unit's)."""
    keep = np.isfinite(left) | np.isfinite(right)
    t = np.round(t_s[keep].astype(float), 3)
    df = pd.DataFrame(
        {
            "Time (s)": np.concatenate([t, t]),
            "Side": ["Left"] * len(t) + ["Right"] * len(t),
            "Movement": np.concatenate([left[keep], right[keep]]).astype(float),
        }
    )
    return (
        alt.Chart(df)
        .mark_line()
        .encode(
            x="Time (s):Q",
            y=alt.Y("Movement:Q", title=title or movement_title(unit)),
            color=alt.Color("Side:N", scale=SIDE_SCALE),
        )
        .properties(height=height)
    )


def rep_bars(index: list[int], left: list[float], right: list[float], unit: str, noun: str = "Smile") -> alt.Chart:
    """Each repetition's two sides side by side, labelled as the table beside it (1, 2, …)."""
    df = pd.DataFrame(
        {
            noun: [*index, *index],
            "Side": ["Left"] * len(index) + ["Right"] * len(index),
            "Movement": [*left, *right],
        }
    )
    title = movement_title(unit)
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X(f"{noun}:O", axis=alt.Axis(labelAngle=0)),
            xOffset="Side:N",
            y=alt.Y("Movement:Q", title=title),
            color=alt.Color("Side:N", scale=SIDE_SCALE),
            tooltip=[f"{noun}:O", "Side:N", alt.Tooltip("Movement:Q", title=title)],
        )
        .properties(height=240)
    )
