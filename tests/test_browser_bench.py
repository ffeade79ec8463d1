"""benchmarks/browser.py's summary of the live test's records (the runs themselves need Chromium)."""

from __future__ import annotations

import pytest

from benchmarks.browser import parse_args, summarise


def _session(live, analyzed, head="still"):
    return {"backend": "sqlite", "head": head, "live_symmetry_pct": live, "analyze_symmetry_pct": analyzed}


def test_no_sessions_give_no_figures():
    f = summarise([])
    assert f["sessions"] == 0 and f["reps"] == 0 and f["reps_over_5_from_analyze"] == 0
    assert f["live_minus_analyze_pts"] == {"mean": None, "sd": None, "largest": None}


def test_reps_compare_with_analyze_and_with_the_truth():
    f = summarise(
        [_session([48.0, 56.0, None], [49.0, 50.0, 47.0]), _session([50.0, 44.0, 47.0], [49.0, 50.0, 47.0])],
        truth_pct=50.0,
    )
    # the unscored rep (None) is left out, not counted as a zero
    assert f["sessions"] == 2 and f["reps"] == 5
    a = f["live_minus_analyze_pts"]
    assert a["mean"] == pytest.approx((-1 + 6 + 1 - 6 + 0) / 5)
    assert a["largest"] in (6.0, -6.0)
    assert f["reps_over_5_from_analyze"] == 2
    t = f["live_minus_truth_pts"]
    assert t["mean"] == pytest.approx((-2 + 6 + 0 - 6 - 3) / 5)
    assert t["largest"] in (6.0, -6.0)
    assert t["sd"] == pytest.approx(4.0)


def test_the_documented_options_parse():
    assert parse_args([]).camera_tuning is False and parse_args([]).runs == 5
    args = parse_args(["--runs", "2", "--camera-tuning"])
    assert args.runs == 2 and args.camera_tuning is True
    with pytest.raises(SystemExit):
        parse_args(["--runs", "0"])
