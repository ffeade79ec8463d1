"""benchmarks/browser.py's summary of the live test's records (the runs themselves need Chromium)."""

from __future__ import annotations

import math
import statistics

import pytest

from benchmarks.browser import ci_failure_chance, parse_args, summarise


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
    assert f["reps_within_3_of_analyze_pct"] == 60.0  # -1, 1, 0 of -1, 6, 1, -6, 0
    t = f["live_minus_truth_pts"]
    assert t["mean"] == pytest.approx((-2 + 6 + 0 - 6 - 3) / 5)
    assert t["largest"] in (6.0, -6.0)
    assert t["sd"] == pytest.approx(4.0)


def test_the_documented_options_parse():
    assert parse_args([]).browser_defaults is False and parse_args([]).runs == 6
    args = parse_args(["--runs", "2", "--browser-defaults"])
    assert args.runs == 2 and args.browser_defaults is True
    with pytest.raises(SystemExit):
        parse_args(["--runs", "0"])


def test_ci_failure_chance_follows_the_spread():
    # A spread of about 1 point (sample SD 1.03): a rep 5 points off is a 4.9-sigma event, a CI
    # run of 6 reps fails about 6 x 1.1e-6 of the time; at an SD of 2.5 (2 sigma) a quarter fail.
    tight = ci_failure_chance([-1.0, 1.0] * 10)
    sd = statistics.stdev([-1.0, 1.0] * 10)
    assert tight["estimate"] == pytest.approx(6 * math.erfc(5 / sd / math.sqrt(2)), rel=0.01)
    assert tight["upper"] > tight["estimate"]  # 20 reps only bound the SD so far
    wide = ci_failure_chance([-2.5, 2.5] * 10)
    assert 0.2 < wide["estimate"] < 0.3
    # a bias counts: the same spread 2 points off centre fails far more often
    assert ci_failure_chance([1.0, 3.0] * 10)["estimate"] > 1000 * tight["estimate"]
    assert ci_failure_chance([1.0])["estimate"] is None
