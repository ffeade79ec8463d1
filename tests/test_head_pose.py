"""The head's 3-D motion from firm points: exact on clean points, robust, and honest about its error."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coach.engine.motion.rigid import HeadPose3D, _project, _unproject, fit_head_motion, fit_head_pose3d
from coach.engine.motion.tissue import PointQuality
from coach.engine.motion.trust import EDGE, HIDDEN, LIGHT, MOVING, judge

CENTRE = np.array([120.0, 130.0])
DISTANCE_PX = 600.0
# Firm points of a face in crop pixels with depths (larger is farther): a nose that
# stands out, a forehead, temples set back; a 5 × 5 patch around each.
_LANDMARKS = [
    (120, 100, -20),
    (120, 118, -30),
    (120, 80, -10),
    (100, 70, -5),
    (140, 70, -5),
    (80, 90, 20),
    (160, 92, 20),
]
P = np.array([(x + dx, y + dy) for x, y, _ in _LANDMARKS for dx in (-4, 0, 4) for dy in (-4, 0, 4)], dtype=float)
Z = np.array([z for *_, z in _LANDMARKS for _ in range(9)], dtype=float)
# Mouth corners: below the firm points, 10 px behind the eyes.
CORNERS = np.array([[95.0, 190.0], [145.0, 190.0]])
CORNERS_Z = np.array([10.0, 10.0])


def motion(pitch_deg: float = 0.0, yaw_deg: float = 0.0, roll_deg: float = 0.0, shift=(0.0, 0.0, 0.0)) -> np.ndarray:
    return np.array([math.radians(pitch_deg), math.radians(yaw_deg), math.radians(roll_deg), *shift])


def seen(theta: np.ndarray, p: np.ndarray, z: np.ndarray) -> np.ndarray:
    return _project(theta, _unproject(p, z, CENTRE, DISTANCE_PX), CENTRE, DISTANCE_PX)


MOTIONS = [
    motion(),
    motion(shift=(3.0, -2.0, 0.0)),
    motion(pitch_deg=8.0),
    motion(yaw_deg=-12.0),
    motion(roll_deg=5.0, shift=(0.0, 0.0, -20.0)),
    motion(pitch_deg=-6.0, yaw_deg=9.0, roll_deg=-3.0, shift=(4.0, 1.0, 10.0)),
]


@pytest.mark.parametrize("theta", MOTIONS, ids=["still", "shift", "nod", "turn", "tilt-closer", "mixed"])
def test_recovers_a_turning_head_and_predicts_the_still_mouth_corners(theta):
    fit = fit_head_pose3d(P, Z, seen(theta, P, Z), CENTRE, DISTANCE_PX)
    np.testing.assert_allclose(fit.omega, theta[:3], atol=1e-6)
    np.testing.assert_allclose(fit.apply(CORNERS, CORNERS_Z), seen(theta, CORNERS, CORNERS_Z), atol=1e-3)
    assert fit.inlier_fraction == 1.0


def test_a_2d_similarity_cannot_follow_a_nod_but_the_3d_fit_can():
    theta = motion(pitch_deg=8.0)
    truth = seen(theta, CORNERS, CORNERS_Z)
    flat = fit_head_motion(P, Z, seen(theta, P, Z), similarity_only=True)
    head = fit_head_pose3d(P, Z, seen(theta, P, Z), CENTRE, DISTANCE_PX)
    assert np.abs(flat.apply(CORNERS, CORNERS_Z) - truth).max() > 2.0
    assert np.abs(head.apply(CORNERS, CORNERS_Z) - truth).max() < 1e-3


def test_tissue_that_moved_is_found_where_it_was():
    theta = motion(pitch_deg=-5.0, yaw_deg=7.0, shift=(2.0, 1.0, 5.0))
    fit = fit_head_pose3d(P, Z, seen(theta, P, Z), CENTRE, DISTANCE_PX)
    moved = CORNERS + [[-3.0, -2.0], [0.0, 0.0]]  # the right-hand corner stays, the other moves
    back = fit.invert(seen(theta, moved, CORNERS_Z), CORNERS_Z)
    np.testing.assert_allclose(back, moved, atol=1e-3)


def test_a_minority_of_points_that_moved_on_their_own_are_ignored():
    theta = motion(pitch_deg=4.0, yaw_deg=-6.0)
    q = seen(theta, P, Z)
    q[:9] += [6.0, -4.0]  # the nose's shine slid by
    fit = fit_head_pose3d(P, Z, q, CENTRE, DISTANCE_PX)
    np.testing.assert_allclose(fit.apply(CORNERS, CORNERS_Z), seen(theta, CORNERS, CORNERS_Z), atol=0.05)
    assert fit.inlier_fraction == pytest.approx(1 - 9 / len(P))


def test_the_standard_error_grows_with_noise_and_with_distance_from_the_firm_points():
    rng = np.random.default_rng(3)
    q = seen(motion(yaw_deg=3.0), P, Z) + rng.normal(0, 0.5, P.shape)
    fit = fit_head_pose3d(P, Z, q, CENTRE, DISTANCE_PX)
    near, far = fit.prediction_se_px(np.array([[120.0, 95.0], [120.0, 260.0]]), np.array([0.0, 10.0]))
    assert 0 < near < far
    quiet = fit_head_pose3d(P, Z, seen(motion(yaw_deg=3.0), P, Z), CENTRE, DISTANCE_PX)
    assert quiet.prediction_se_px(CORNERS, CORNERS_Z).max() < fit.prediction_se_px(CORNERS, CORNERS_Z).min()


def test_the_same_points_give_the_same_fit_and_bad_input_is_refused():
    q = seen(MOTIONS[-1], P, Z)
    a, b = fit_head_pose3d(P, Z, q, CENTRE, DISTANCE_PX), fit_head_pose3d(P, Z, q, CENTRE, DISTANCE_PX)
    assert a.omega.tolist() == b.omega.tolist() and a.shift.tolist() == b.shift.tolist()
    with pytest.raises(ValueError, match="distance_px"):
        fit_head_pose3d(P, Z, q, CENTRE, 0.0)
    with pytest.raises(ValueError, match="shape"):
        fit_head_pose3d(P, Z[:-1], q, CENTRE, DISTANCE_PX)
    few = fit_head_pose3d(P[:3], Z[:3], q[:3], CENTRE, DISTANCE_PX)
    assert isinstance(few, HeadPose3D) and few.inlier_fraction == 0.0


def quality(seen=1.0, spread=0.02, mismatch=2.0, se=0.05, resid=0.1) -> PointQuality:
    return PointQuality(seen, spread, mismatch, se, resid)


@pytest.mark.parametrize(
    ("q", "brightness", "trusted", "reason"),
    [
        (quality(), 1.0, True, None),
        (quality(se=0.8, resid=1.2), 1.0, False, MOVING),
        (quality(mismatch=40.0), 1.0, False, HIDDEN),
        (quality(spread=2.0), 1.0, False, HIDDEN),
        (quality(mismatch=40.0), 1.6, False, LIGHT),
        (quality(seen=0.5), 1.0, False, EDGE),
    ],
    ids=["clean", "head-moved", "covered", "torn", "light", "edge"],
)
def test_the_verdict_says_why(q, brightness, trusted, reason):
    verdict = judge({("mouth_corner", "left"): quality(), ("mouth_corner", "right"): q}, brightness)
    assert (verdict.confidence >= 0.3) == trusted
    if not trusted:
        assert verdict.reason == reason


def test_no_points_is_no_trust():
    assert judge({}).confidence == 0.0
