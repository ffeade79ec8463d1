"""Robust similarity fit: exact on clean points, unmoved by a minority of outliers, deterministic."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coach.engine.motion.rigid import Similarity, fit_similarity

# A 10 × 10 grid of points 10 px apart, like the rigid patches of a face crop.
GRID_PX = np.array([[200.0 + 10 * i, 150.0 + 10 * j] for j in range(10) for i in range(10)])
# Every point whose index ends in 0, 3 or 6 moves on its own: 30 %.
OUTLIER = np.array([k % 10 in (0, 3, 6) for k in range(len(GRID_PX))])
# Gross, varied, deterministic offsets for the outliers, pixels.
OUTLIER_OFFSET_PX = np.array([[15.0 + (7 * k) % 40, -20.0 - (11 * k) % 35] for k in range(len(GRID_PX))])
# Sub-pixel tracking noise on every point, pixels.
NOISE_PX = np.array([[0.01 * math.sin(k), 0.01 * math.cos(3 * k)] for k in range(len(GRID_PX))])


def similarity(angle_deg: float, scale: float, shift: list[float]) -> Similarity:
    r = math.radians(angle_deg)
    return Similarity(scale * math.cos(r), scale * math.sin(r), np.array(shift))


SIMILARITIES = [
    (0.0, 1.0, [0.0, 0.0]),
    (0.0, 1.0, [12.5, -3.0]),
    (0.0, 1.1, [0.0, 0.0]),
    (4.0, 1.0, [0.0, 0.0]),
    (-8.0, 0.92, [6.0, 9.0]),
    (10.0, 1.08, [-15.0, 4.0]),
]


@pytest.mark.parametrize(
    ("angle_deg", "scale", "shift"),
    [*SIMILARITIES, (45.0, 2.0, [100.0, -50.0]), (170.0, 0.5, [-30.0, 20.0])],
)
def test_recovers_a_known_similarity_exactly_on_clean_points(angle_deg, scale, shift):
    truth = similarity(angle_deg, scale, shift)
    fit = fit_similarity(GRID_PX, truth.apply(GRID_PX))
    assert (fit.a, fit.b) == pytest.approx((truth.a, truth.b), abs=1e-12)
    np.testing.assert_allclose(fit.t, truth.t, atol=1e-9)
    assert fit.inlier_fraction == 1.0
    assert fit.residual_px <= 0.15


@pytest.mark.parametrize(("angle_deg", "scale", "shift"), SIMILARITIES)
def test_recovers_it_despite_30_percent_gross_outliers(angle_deg, scale, shift):
    truth = similarity(angle_deg, scale, shift)
    q = truth.apply(GRID_PX) + NOISE_PX
    q[OUTLIER] += OUTLIER_OFFSET_PX[OUTLIER]
    fit = fit_similarity(GRID_PX, q)
    inliers = GRID_PX[~OUTLIER]
    error_px = np.linalg.norm(fit.apply(inliers) - truth.apply(inliers), axis=1)
    assert error_px.max() < 0.05
    assert fit.inlier_fraction == pytest.approx(0.7)


def test_the_same_input_gives_the_same_fit():
    q = similarity(-8.0, 0.92, [6.0, 9.0]).apply(GRID_PX) + NOISE_PX
    q[OUTLIER] += OUTLIER_OFFSET_PX[OUTLIER]
    p_before, q_before = GRID_PX.copy(), q.copy()
    first, second = fit_similarity(GRID_PX, q), fit_similarity(GRID_PX, q)
    assert (first.a, first.b, first.inlier_fraction, first.residual_px) == (
        second.a,
        second.b,
        second.inlier_fraction,
        second.residual_px,
    )
    np.testing.assert_array_equal(first.t, second.t)
    np.testing.assert_array_equal(GRID_PX, p_before)  # inputs are not modified
    np.testing.assert_array_equal(q, q_before)


@pytest.mark.parametrize(
    ("p", "q"),
    [
        ([], []),
        ([[1.0, 2.0]], [[3.0, 4.0]]),
        ([[0.0, 0.0], [1.0, 0.0]], [[5.0, 5.0], [6.0, 5.0]]),
        (  # five points, but only two finite pairs
            [[0.0, 0.0], [1.0, 0.0], [math.nan, 0.0], [0.0, 1.0], [2.0, 2.0]],
            [[5.0, 5.0], [6.0, 5.0], [7.0, 7.0], [math.inf, 6.0], [7.0, math.nan]],
        ),
    ],
    ids=["empty", "one", "two", "two-finite"],
)
def test_fewer_than_three_points_give_the_identity_with_no_inliers(p, q):
    fit = fit_similarity(np.array(p), np.array(q))
    assert (fit.a, fit.b, fit.inlier_fraction) == (1.0, 0.0, 0.0)
    np.testing.assert_array_equal(fit.t, [0.0, 0.0])


@pytest.mark.parametrize(
    "p",
    [
        [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]],
        [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]],
        [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0], [5.0, 5.0]],
    ],
    ids=["three", "four", "five"],
)
def test_a_handful_of_points_is_enough(p):
    p = np.array(p)
    truth = similarity(30.0, 1.5, [2.0, -1.0])
    fit = fit_similarity(p, truth.apply(p))
    np.testing.assert_allclose(fit.apply(p), truth.apply(p), atol=1e-9)
    assert fit.inlier_fraction == 1.0


def test_non_finite_pairs_are_skipped():
    truth = similarity(5.0, 1.02, [3.0, -2.0])
    q = truth.apply(GRID_PX)
    q[[4, 40, 77]] = math.nan
    fit = fit_similarity(GRID_PX, q)
    np.testing.assert_allclose(fit.apply(GRID_PX), truth.apply(GRID_PX), atol=1e-9)


@pytest.mark.parametrize(
    ("angle_deg", "scale", "shift"),
    [(0.0, 1.0, [0.0, 0.0]), (30.0, 2.0, [5.0, -7.0]), (-135.0, 0.25, [-100.0, 40.0])],
)
def test_apply_and_invert_round_trip(angle_deg, scale, shift):
    s = similarity(angle_deg, scale, shift)
    pts = np.array([[0.0, 0.0], [1.0, 2.0], [-30.5, 400.25]])
    np.testing.assert_allclose(s.invert(s.apply(pts)), pts, atol=1e-9)
    np.testing.assert_allclose(s.apply(s.invert(pts)), pts, atol=1e-9)
    np.testing.assert_allclose(s.invert(s.apply(np.array([3.0, 4.0]))), [3.0, 4.0], atol=1e-9)


def test_apply_follows_the_documented_matrix():
    s = Similarity(2.0, 1.0, np.array([10.0, 20.0]))  # [[a, -b], [b, a]] @ p + t
    np.testing.assert_allclose(s.apply(np.array([[1.0, 0.0], [0.0, 1.0]])), [[12.0, 21.0], [9.0, 22.0]])


def test_identity_maps_points_to_themselves():
    np.testing.assert_array_equal(Similarity.identity().apply(GRID_PX), GRID_PX)


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(4, 2\) and \(3, 2\)"):
        fit_similarity(np.zeros((4, 2)), np.zeros((3, 2)))


def test_points_given_as_rows_of_coordinates_are_rejected():
    p_2xn = GRID_PX[:4].T  # (2, 4): x row and y row, a common mix-up
    with pytest.raises(ValueError, match=r"\(2, 4\)"):
        fit_similarity(p_2xn, GRID_PX[:4])


@pytest.mark.parametrize("iterations", [0, -1, 51])
def test_iterations_out_of_range_are_named(iterations):
    with pytest.raises(ValueError, match=rf"iterations must be 1 to 50, got {iterations}"):
        fit_similarity(GRID_PX, GRID_PX, iterations=iterations)
