"""The face frame: x to the patient's left, y up, origin between the inner eye corners, mm from the iris."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coach.engine import landmarks as L
from coach.engine.face_frame import MAX_PITCH_CHANGE_DEG, MAX_YAW_DEG, FaceFrame, face_frame, pose_angles_deg

PX_PER_MM = 2.0
IRIS_PX = L.IRIS_DIAMETER_MM * PX_PER_MM  # 23.4 px

# An upright, unmirrored face in image pixels (x right, y down). The patient's
# right eye is on the image's left. At 2 px/mm the origin (320, 200) is 20 mm
# from each eye centre and the mouth corners sit 15 mm out and 50 mm down.
FRONTAL_PX: dict[int, list[float]] = {
    133: [300.0, 200.0],  # right inner corner
    33: [260.0, 200.0],  # right outer corner
    362: [340.0, 200.0],  # left inner corner
    263: [380.0, 200.0],  # left outer corner
    468: [280.0, 200.0],  # right iris ring: centre, then 4 points
    469: [280.0 - IRIS_PX / 2, 200.0],
    470: [280.0, 200.0 - IRIS_PX / 2],
    471: [280.0 + IRIS_PX / 2, 200.0],
    472: [280.0, 200.0 + IRIS_PX / 2],
    473: [360.0, 200.0],  # left iris ring
    474: [360.0 - IRIS_PX / 2, 200.0],
    475: [360.0, 200.0 - IRIS_PX / 2],
    476: [360.0 + IRIS_PX / 2, 200.0],
    477: [360.0, 200.0 + IRIS_PX / 2],
    61: [290.0, 300.0],  # right mouth corner
    291: [350.0, 300.0],  # left mouth corner
    159: [280.0, 195.0],  # right upper / lower lid
    145: [280.0, 205.0],
    386: [360.0, 195.0],  # left upper / lower lid
    374: [360.0, 205.0],
    105: [280.0, 170.0],  # right / left mid brow
    334: [360.0, 170.0],
}


def landmarks_px(points: dict[int, list[float]] | None = None, z: float = 0.0) -> np.ndarray:
    """(478, 3) landmarks: zeros except the given indices (default: the frontal face)."""
    lm = np.zeros((L.N_LANDMARKS, 3))
    for i, xy in (FRONTAL_PX if points is None else points).items():
        lm[i, :2] = xy
    lm[:, 2] = z
    return lm


def similarity(lm: np.ndarray, angle_deg: float, scale: float, shift: list[float]) -> np.ndarray:
    """Rotate (image coordinates, so positive turns clockwise on screen), scale and shift every landmark."""
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    rot = np.array([[c, -s], [s, c]])
    out = lm.copy()
    out[:, :2] = scale * lm[:, :2] @ rot.T + np.asarray(shift)
    return out


def pose_matrix(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """4×4 pose with rotation Rz(roll) · Ry(yaw) · Rx(pitch)."""
    y, p, r = (math.radians(a) for a in (yaw_deg, pitch_deg, roll_deg))
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    m = np.eye(4)
    m[:3, :3] = rz @ ry @ rx
    m[:3, 3] = [1.0, -2.0, -40.0]
    return m


def test_x_axis_points_to_the_patients_left_in_an_unmirrored_face():
    ff = face_frame(landmarks_px())
    np.testing.assert_allclose(ff.x_axis, [1.0, 0.0], atol=1e-12)
    mm = ff.to_mm(landmarks_px()[:, :2])
    assert mm[L.EYE_OUTER["left"], 0] > 0 > mm[L.EYE_OUTER["right"], 0]
    assert mm[L.MOUTH_CORNER["left"], 0] == pytest.approx(15.0)
    assert mm[L.MOUTH_CORNER["right"], 0] == pytest.approx(-15.0)


def test_y_axis_points_up_the_face():
    ff = face_frame(landmarks_px())
    np.testing.assert_allclose(ff.y_axis, [0.0, -1.0], atol=1e-12)  # image y grows downward
    mm = ff.to_mm(landmarks_px()[:, :2])
    brow, eye, mouth = mm[L.MID_BROW["left"], 1], mm[L.IRIS_CENTER["left"], 1], mm[L.MOUTH_CORNER["left"], 1]
    assert brow == pytest.approx(15.0)
    assert eye == pytest.approx(0.0)
    assert mouth == pytest.approx(-50.0)


def test_origin_is_midway_between_the_inner_eye_corners():
    points = {**FRONTAL_PX, 133: [302.0, 198.0], 362: [338.0, 204.0]}
    ff = face_frame(landmarks_px(points))
    np.testing.assert_allclose(ff.origin_px, [320.0, 201.0])
    np.testing.assert_allclose(ff.to_mm(np.array([[320.0, 201.0]])), [[0.0, 0.0]], atol=1e-12)


@pytest.mark.parametrize(
    ("right_iris_px", "left_iris_px", "px_per_mm"),
    [
        (L.IRIS_DIAMETER_MM, L.IRIS_DIAMETER_MM, 1.0),
        (23.4, 23.4, 2.0),
        (35.1, 35.1, 3.0),
        (20.0, 26.8, 2.0),  # the mean of both eyes
    ],
)
def test_px_per_mm_comes_from_the_iris_diameter(right_iris_px, left_iris_px, px_per_mm):
    points = {
        **FRONTAL_PX,
        469: [280.0 - right_iris_px / 2, 200.0],
        471: [280.0 + right_iris_px / 2, 200.0],
        474: [360.0 - left_iris_px / 2, 200.0],
        476: [360.0 + left_iris_px / 2, 200.0],
    }
    assert face_frame(landmarks_px(points)).px_per_mm == pytest.approx(px_per_mm)


def test_an_explicit_scale_overrides_the_iris():
    ff = face_frame(landmarks_px(), px_per_mm=4.0)
    assert ff.px_per_mm == 4.0
    assert ff.to_mm(np.array([[360.0, 200.0]]))[0, 0] == pytest.approx(10.0)


@pytest.mark.parametrize("angle_deg", [0.0, 7.5, -12.0, 45.0, 90.0, -135.0])
def test_roll_deg_is_the_image_rotation_of_the_face(angle_deg):
    lm = similarity(landmarks_px(), angle_deg, 1.0, [0.0, 0.0])
    assert face_frame(lm).roll_deg == pytest.approx(angle_deg, abs=1e-9)


def test_roll_is_positive_when_the_patients_left_eye_is_lower():
    lm = similarity(landmarks_px(), 10.0, 1.0, [0.0, 0.0])
    left_y, right_y = lm[L.EYE_OUTER["left"], 1], lm[L.EYE_OUTER["right"], 1]
    assert left_y > right_y  # lower on screen
    assert face_frame(lm).roll_deg > 0


@pytest.mark.parametrize(
    ("angle_deg", "scale", "shift"),
    [
        (0.0, 1.0, [0.0, 0.0]),
        (0.0, 1.0, [-150.0, 75.5]),
        (0.0, 0.5, [0.0, 0.0]),
        (0.0, 3.25, [10.0, -20.0]),
        (30.0, 1.0, [0.0, 0.0]),
        (-20.0, 1.7, [-100.0, 55.0]),
        (120.0, 0.8, [400.0, 300.0]),
    ],
)
def test_to_mm_is_invariant_to_roll_scale_and_translation(angle_deg, scale, shift):
    lm = landmarks_px()
    moved = similarity(lm, angle_deg, scale, shift)
    expected = face_frame(lm).to_mm(lm[:, :2])
    got = face_frame(moved).to_mm(moved[:, :2])
    np.testing.assert_allclose(got, expected, atol=1e-9)


@pytest.mark.parametrize(
    ("angle_deg", "scale", "shift"),
    [
        (0.0, 1.0, [0.0, 0.0]),
        (33.0, 1.4, [12.0, -7.0]),
        (-95.0, 0.6, [250.0, 80.0]),
    ],
)
def test_to_px_inverts_to_mm(angle_deg, scale, shift):
    ff = face_frame(similarity(landmarks_px(), angle_deg, scale, shift))
    px = np.array([[0.0, 0.0], [320.0, 200.0], [-40.5, 612.25], [1000.0, -3.0]])
    mm = np.array([[0.0, 0.0], [15.0, -50.0], [-7.25, 3.5]])
    np.testing.assert_allclose(ff.to_px(ff.to_mm(px)), px, atol=1e-9)
    np.testing.assert_allclose(ff.to_mm(ff.to_px(mm)), mm, atol=1e-9)


def test_single_points_and_displacements_convert_too():
    ff = face_frame(similarity(landmarks_px(), 90.0, 1.0, [0.0, 0.0]))
    # Rolled 90°: the patient's left now points down the image.
    np.testing.assert_allclose(ff.vector_to_mm(np.array([0.0, 4.0])), [2.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(ff.to_px(ff.to_mm(np.array([5.0, 6.0]))), [5.0, 6.0], atol=1e-12)


def test_z_coordinates_are_ignored():
    flat, deep = face_frame(landmarks_px()), face_frame(landmarks_px(z=-30.0))
    np.testing.assert_allclose(deep.origin_px, flat.origin_px)
    assert deep.px_per_mm == flat.px_per_mm


def frontal_with(points: dict[int, list[float]]) -> np.ndarray:
    """The frontal face with some landmarks moved."""
    return landmarks_px({**FRONTAL_PX, **points})


@pytest.mark.parametrize(
    ("lm", "px_per_mm", "message"),
    [
        (np.zeros((L.N_LANDMARKS, 3)), None, "collapsed"),
        (frontal_with({1: [math.nan, 10.0]}), None, "finite"),
        (frontal_with({61: [math.inf, 300.0]}), None, "finite"),
        (frontal_with(dict.fromkeys([33, 133, 263, 362], [320.0, 200.0])), None, "collapsed"),
        (
            frontal_with({469: [280.0, 200.0], 471: [280.0, 200.0], 474: [360.0, 200.0], 476: [360.0, 200.0]}),
            None,
            "px_per_mm",
        ),
        (landmarks_px(), 0.0, "px_per_mm"),
        (landmarks_px(), -2.0, "px_per_mm"),
        (landmarks_px(), math.nan, "px_per_mm"),
    ],
    ids=["all-zero", "nan", "inf", "eyes-coincide", "iris-collapsed", "scale-0", "scale-negative", "scale-nan"],
)
def test_unusable_landmarks_raise_value_error(lm, px_per_mm, message):
    with pytest.raises(ValueError, match=message):
        face_frame(lm, px_per_mm=px_per_mm)


@pytest.mark.parametrize(
    ("yaw", "pitch", "roll"),
    [
        (0.0, 0.0, 0.0),
        (15.0, 0.0, 0.0),
        (-15.0, 0.0, 0.0),
        (0.0, -10.0, 0.0),
        (0.0, 0.0, 25.0),
        (12.0, -8.0, 5.0),
        (-30.0, 20.0, -40.0),
    ],
)
def test_pose_angles_deg_recovers_known_rotations(yaw, pitch, roll):
    assert pose_angles_deg(pose_matrix(yaw, pitch, roll)) == pytest.approx((yaw, pitch, roll), abs=1e-9)


@pytest.mark.parametrize("pose", [None, np.full((4, 4), np.nan)], ids=["none", "nan"])
def test_pose_angles_deg_is_zero_without_a_usable_pose(pose):
    assert pose_angles_deg(pose) == (0.0, 0.0, 0.0)


def test_face_frame_takes_yaw_and_pitch_from_the_pose():
    ff = face_frame(landmarks_px(), pose=pose_matrix(12.0, -8.0, 5.0))
    assert ff.yaw_deg == pytest.approx(12.0)
    assert ff.pitch_deg == pytest.approx(-8.0)
    assert ff.roll_deg == pytest.approx(0.0)  # roll comes from the landmarks, not the pose


@pytest.mark.parametrize(
    ("yaw", "pitch", "reference_pitch", "turned"),
    [
        (0.0, 0.0, 0.0, False),
        (MAX_YAW_DEG, 0.0, 0.0, False),
        (-MAX_YAW_DEG, 0.0, 0.0, False),
        (MAX_YAW_DEG + 0.5, 0.0, 0.0, True),
        (-MAX_YAW_DEG - 0.5, 0.0, 0.0, True),
        (0.0, MAX_PITCH_CHANGE_DEG, 0.0, False),
        (0.0, MAX_PITCH_CHANGE_DEG + 0.5, 0.0, True),
        (0.0, -MAX_PITCH_CHANGE_DEG - 0.5, 0.0, True),
        (0.0, 30.0, 15.0, False),  # pitch counts from the reference
        (0.0, -10.0, 15.0, True),
    ],
)
def test_turned_away_thresholds(yaw, pitch, reference_pitch, turned):
    ff = FaceFrame(np.zeros(2), np.array([1.0, 0.0]), 1.0, yaw, pitch)
    assert ff.turned_away(reference_pitch) is turned
