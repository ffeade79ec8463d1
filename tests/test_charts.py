"""What the charts say on their axes (issue 14: "lo, hi, Symmetry (%)", a date axis of ".925", bars 0/1)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from coach.store.info import HistoryPoint
from ui import charts


def point(day: int, unit: str = "mm", hour: int = 9) -> HistoryPoint:
    return HistoryPoint(day, datetime(2026, 11, day, hour), "smile", unit, 3, 2.0, 4.0, 50.0, 0)


def y_titles(spec: dict) -> set:
    layers = spec.get("layer", [spec])
    return {layer["encoding"]["y"].get("title") for layer in layers}


def x_domain_days(spec: dict) -> float:
    layers = spec.get("layer", [spec])
    x = next(layer["encoding"]["x"] for layer in layers if "x" in layer["encoding"])
    lo, hi = (pd.Timestamp(d) for d in x["scale"]["domain"])
    assert x["axis"]["format"] == "%d %b"
    return (hi - lo) / timedelta(days=1)


def test_the_symmetry_chart_has_one_axis_title():
    spec = charts.symmetry_trend([point(1), point(8)]).to_dict()
    assert y_titles(spec) == {"Symmetry (%)"}  # not "lo, hi, Symmetry (%)"


def test_one_session_shows_a_week_of_dates_not_milliseconds():
    for chart in (charts.symmetry_trend, charts.sides_trend):
        assert x_domain_days(chart([point(3)]).to_dict()) >= 6
        assert x_domain_days(chart([point(3, hour=9), point(3, hour=18)]).to_dict()) >= 6
    spec = charts.sides_trend([point(1), point(20)]).to_dict()
    x = spec["encoding"]["x"]
    lo, hi = (pd.Timestamp(d) for d in x["scale"]["domain"])
    assert (lo, hi) == (pd.Timestamp(2026, 11, 1, 9), pd.Timestamp(2026, 11, 20, 9))  # weeks apart: as they are


def test_axes_name_what_is_measured():
    assert y_titles(charts.sides_trend([point(1)]).to_dict()) == {"Movement (mm)"}
    assert y_titles(charts.sides_trend([point(1, unit="%")]).to_dict()) == {"Eye closed (% of its opening)"}
    t = np.linspace(0, 2, 5)
    eyes = charts.rep_curves(t, t, t, "%", title="Eye narrowing (%)").to_dict()
    assert y_titles(eyes) == {"Eye narrowing (%)"}  # not "Movement (%)"


def test_the_bars_are_numbered_like_the_table():
    spec = charts.rep_bars([1, 2], [3.0, 3.5], [1.0, 1.2], "mm").to_dict()
    assert spec["encoding"]["x"]["field"] == "Smile" and spec["encoding"]["x"]["type"] == "ordinal"
    values = next(iter(spec["datasets"].values()))
    assert sorted({v["Smile"] for v in values}) == [1, 2]  # not 0 and 1
    assert {v["Side"] for v in values} == {"Left", "Right"}
