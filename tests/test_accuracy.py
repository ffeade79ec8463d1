"""Accuracy on virtual patients with known truth (the quick grid of benchmarks/accuracy.py).

The committed baseline (benchmarks/results/accuracy-quick.json, written by
`python -m benchmarks.accuracy --quick`) guards against regressions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coach.virtual.validation import evaluate, report, standard_cases

BASELINE = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "accuracy-quick.json"
REGRESSION_TOLERANCE_PTS = 1.0


@pytest.fixture(scope="module")
def results(model):
    return evaluate(standard_cases(quick=True), model=model)


@pytest.mark.slow
def test_symmetry_within_a_few_points_of_truth(results):
    rep = report(results)["tissue_motion"]
    worst = max(results, key=lambda r: r.error)
    assert rep["mean_abs_error_pts"] <= 5.0
    assert rep["max_abs_error_pts"] <= 10.0, worst.to_dict()


@pytest.mark.slow
def test_weaker_side_named_in_every_asymmetric_case(results):
    wrong = [r.case.name for r in results if r.case.ratio < 1.0 and r.weaker_side != r.case.truth_weaker]
    assert wrong == []


@pytest.mark.slow
def test_rep_count_exact(results):
    assert [(r.case.name, r.reps_found) for r in results if r.reps_found != r.reps_truth] == []


@pytest.mark.slow
def test_tissue_motion_beats_landmarks_on_the_same_videos(results):
    rep = report(results)
    assert rep["tissue_motion"]["mean_abs_error_pts"] * 3 < rep["landmark_only"]["mean_abs_error_pts"]


@pytest.mark.slow
def test_no_regression_against_committed_baseline(results):
    baseline = json.loads(BASELINE.read_text())["tissue_motion"]["mean_abs_error_pts"]
    now = report(results)["tissue_motion"]["mean_abs_error_pts"]
    assert now <= baseline + REGRESSION_TOLERANCE_PTS, f"mean error {now} vs baseline {baseline}"
