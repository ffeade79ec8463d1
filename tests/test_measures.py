"""Per-side measures on synthetic face-frame landmarks (mm, x to the patient's left, y up)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.engine import landmarks as L
from coach.engine.measures.landmark import (
    blendshape_pairs,
    brow_height_mm,
    commissure_mm,
    corner_to_midline_mm,
    excursion_mm,
    eye_aperture_mm,
    mouth_width_mm,
    outward_up,
    resting_asymmetry,
    smile_angle_deg,
)
from coach.engine.measures.sides import PerSide, other_side
from coach.engine.measures.symmetry import WEAKER_MAX_SYMMETRY_PCT, WEAKER_MIN_DIFF_MM, symmetry_pct, weaker_side

# A symmetric resting face in millimetres.
REST_MM: dict[int, list[float]] = {
    61: [-25.0, -50.0],  # right mouth corner
    291: [25.0, -50.0],  # left mouth corner
    159: [-30.0, 5.0],  # right upper / lower lid
    145: [-30.0, -5.0],
    386: [30.0, 5.0],  # left upper / lower lid
    374: [30.0, -5.0],
    468: [-30.0, 0.0],  # right / left iris centre
    473: [30.0, 0.0],
    105: [-30.0, 20.0],  # right / left mid brow
    334: [30.0, 20.0],
}


def face_mm(points: dict[int, list[float]] | None = None) -> np.ndarray:
    """(478, 2) face-frame landmarks: the resting face with some points replaced."""
    lm = np.zeros((L.N_LANDMARKS, 2))
    for i, xy in {**REST_MM, **(points or {})}.items():
        lm[i] = xy
    return lm


# --- symmetry_pct -------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "affected", "expected"),
    [
        (0.0, 0.0, None, None),
        (0.0, 0.0, "left", None),
        (3.0, 0.0, "left", None),  # the unaffected (reference) side did not move
        (0.0, 3.0, "left", 0.0),
        (2.0, 4.0, None, 50.0),
        (4.0, 2.0, None, 50.0),
        (5.0, 5.0, None, 100.0),
        (-1.0, 4.0, None, 0.0),  # backwards movement counts as none
        (2.0, 4.0, "left", 50.0),
        (2.0, 4.0, "right", 200.0),
        (6.0, 4.0, "left", 150.0),  # the affected side may outdo the other
    ],
)
def test_symmetry_pct(left, right, affected, expected):
    got = symmetry_pct(left, right, affected)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


@pytest.mark.parametrize("affected", ["", "Left", "both"])
def test_symmetry_pct_rejects_an_unknown_side(affected):
    with pytest.raises(ValueError, match=repr(affected)):
        symmetry_pct(1.0, 2.0, affected)


finite_mm = st.floats(min_value=-50.0, max_value=1e6, allow_nan=False, allow_infinity=False)
# No example database: the suite leaves nothing behind in the repository.
no_db = settings(database=None)


@no_db
@given(finite_mm, finite_mm)
def test_symmetry_pct_without_affected_side_is_a_bounded_symmetric_percentage(left, right):
    got = symmetry_pct(left, right)
    assert got == symmetry_pct(right, left)
    if got is not None:
        assert 0.0 <= got <= 100.0


def test_symmetry_pct_of_equal_sides_is_exactly_100():
    assert symmetry_pct(0.69, 0.69) == 100.0


@no_db
@given(finite_mm, finite_mm)
def test_symmetry_pct_with_affected_side_is_the_ratio_of_the_sides(left, right):
    as_left, as_right = symmetry_pct(left, right, "left"), symmetry_pct(left, right, "right")
    if as_left is not None and as_right is not None and as_left > 0:
        assert as_left * as_right == pytest.approx(100.0 * 100.0)


# --- weaker_side --------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        (0.0, 0.0, None),
        (-1.0, -2.0, None),  # both clamp to no movement
        (5.0, 4.8, None),  # 0.2 mm apart: noise
        (1.0, 0.8, None),  # 80 % symmetric but only 0.2 mm apart: noise
        (0.2, 0.2 + WEAKER_MIN_DIFF_MM, "left"),  # exactly the noise floor counts
        (20.0, 20.0 * WEAKER_MAX_SYMMETRY_PCT / 100, None),  # exactly 95 %: noise
        (20.0, 18.9, "right"),  # 94.5 %
        (2.0, 5.0, "left"),
        (5.0, 2.0, "right"),
        (0.0, 1.0, "left"),
        (-3.0, 1.0, "left"),
    ],
)
def test_weaker_side(left, right, expected):
    assert weaker_side(left, right) == expected


@no_db
@given(finite_mm, finite_mm)
def test_weaker_side_is_the_smaller_side_or_none(left, right):
    got = weaker_side(left, right)
    assert got in (None, "left", "right")
    if got == "left":
        assert left < right
    if got == "right":
        assert right < left
    if abs(left - right) < WEAKER_MIN_DIFF_MM:
        assert got is None
    assert weaker_side(right, left) == (None if got is None else other_side(got))


# --- landmark measures ----------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "left", "right"),
    [
        ({386: [30.0, 0.0], 374: [30.0, 0.0], 159: [-30.0, 0.0], 145: [-30.0, 0.0]}, 0.0, 0.0),  # both closed
        ({}, 10.0, 10.0),
        ({386: [30.0, 1.0]}, 6.0, 10.0),  # left lid half down
        ({159: [-27.0, -1.0], 145: [-30.0, -5.0]}, 10.0, 5.0),  # oblique: a 3-4-5 triangle
    ],
)
def test_eye_aperture_mm(points, left, right):
    got = eye_aperture_mm(face_mm(points))
    assert (got.left, got.right) == pytest.approx((left, right))


@pytest.mark.parametrize(
    ("points", "left", "right"),
    [
        ({334: [30.0, 0.0], 105: [-30.0, 0.0]}, 0.0, 0.0),
        ({}, 20.0, 20.0),
        ({334: [30.0, 24.5]}, 24.5, 20.0),  # left brow raised
        ({105: [-30.0, 17.0], 468: [-30.0, -1.0]}, 20.0, 18.0),  # measured from the pupil
        ({334: [30.0, -2.0]}, -2.0, 20.0),  # below the pupil: negative
    ],
)
def test_brow_height_mm(points, left, right):
    got = brow_height_mm(face_mm(points))
    assert (got.left, got.right) == pytest.approx((left, right))


@pytest.mark.parametrize(
    ("points", "width"),
    [
        ({61: [0.0, -50.0], 291: [0.0, -50.0]}, 0.0),
        ({}, 50.0),
        ({291: [28.0, -46.0]}, 53.0 * math.hypot(1.0, 4.0 / 53.0)),
    ],
)
def test_mouth_width_mm(points, width):
    assert mouth_width_mm(face_mm(points)) == pytest.approx(width)


@pytest.mark.parametrize(
    ("points", "left", "right"),
    [
        ({61: [0.0, -50.0], 291: [0.0, -50.0]}, 0.0, 0.0),
        ({}, 25.0, 25.0),
        ({291: [28.0, -46.0]}, 28.0, 25.0),
        ({61: [3.0, -50.0]}, 25.0, -3.0),  # pulled across the midline
    ],
)
def test_corner_to_midline_mm(points, left, right):
    got = corner_to_midline_mm(face_mm(points))
    assert (got.left, got.right) == pytest.approx((left, right))


def test_commissure_mm_is_keyed_by_the_patients_side():
    c = commissure_mm(face_mm())
    np.testing.assert_array_equal(c.left, [25.0, -50.0])
    np.testing.assert_array_equal(c.right, [-25.0, -50.0])


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ({}, {"commissure_height_mm": 0.0, "commissure_from_midline_mm": 0.0, "eye_aperture_mm": 0.0}),
        ({291: [25.0, -53.0]}, {"commissure_height_mm": -3.0}),  # drooping left corner
        ({61: [-25.0, -52.0]}, {"commissure_height_mm": 2.0}),  # drooping right corner
        ({291: [22.0, -50.0]}, {"commissure_from_midline_mm": -3.0}),
        ({386: [30.0, 7.0]}, {"eye_aperture_mm": 2.0}),  # left eye wider
        ({105: [-30.0, 16.0]}, {"brow_height_mm": 4.0}),  # right brow lower
    ],
)
def test_resting_asymmetry_is_left_minus_right(points, expected):
    got = resting_asymmetry(face_mm(points))
    assert set(got) == {"commissure_height_mm", "commissure_from_midline_mm", "eye_aperture_mm", "brow_height_mm"}
    for key, value in expected.items():
        assert got[key] == pytest.approx(value)


@pytest.mark.parametrize(
    ("outward", "up", "angle"),
    [
        (0.0, 0.0, 0.0),
        (1.0, 0.0, 0.0),
        (0.0, 1.0, 90.0),
        (2.0, 2.0, 45.0),
        (1.0, -1.0, -45.0),
        (-1.0, 0.0, 180.0),
        (math.sqrt(3.0), 1.0, 30.0),
    ],
)
def test_smile_angle_deg(outward, up, angle):
    assert smile_angle_deg(outward, up) == pytest.approx(angle)


@pytest.mark.parametrize(
    ("side", "d_mm", "expected"),
    [
        ("left", [0.0, 0.0], (0.0, 0.0)),
        ("left", [2.0, 1.0], (2.0, 1.0)),
        ("right", [-2.0, 1.0], (2.0, 1.0)),  # the right corner moves out toward -x
        ("right", [2.0, 1.0], (-2.0, 1.0)),  # ...and +x is inward for it
        ("left", [-2.0, -1.0], (-2.0, -1.0)),
    ],
)
def test_outward_up_sign_per_side(side, d_mm, expected):
    assert outward_up(side, np.array(d_mm)) == pytest.approx(expected)


def test_a_symmetric_smile_moves_both_corners_equally_outward_and_up():
    smile = face_mm({291: [28.0, -46.0], 61: [-28.0, -46.0]})
    d = excursion_mm(smile, face_mm(), L.MOUTH_CORNER)
    np.testing.assert_allclose(d.left, [3.0, 4.0])
    np.testing.assert_allclose(d.right, [-3.0, 4.0])
    assert outward_up("left", d.left) == outward_up("right", d.right) == (3.0, 4.0)
    assert smile_angle_deg(*outward_up("left", d.left)) == pytest.approx(math.degrees(math.atan2(4.0, 3.0)))


@pytest.mark.parametrize("shape", [(0, 2), (10, 2), (478,), (478, 1)])
def test_landmark_measures_name_the_expected_and_actual_shape(shape):
    with pytest.raises(ValueError, match=re.escape(f"expected shape (478, 2), got {shape}")):
        eye_aperture_mm(np.zeros(shape))


def test_landmarks_with_z_are_accepted():
    lm = np.concatenate([face_mm(), np.full((L.N_LANDMARKS, 1), 7.0)], axis=1)
    assert mouth_width_mm(lm) == pytest.approx(50.0)


# --- blendshapes and sides ------------------------------------------------------


@pytest.mark.parametrize(
    ("blendshapes", "expected"),
    [
        ({}, {}),
        ({"mouthSmileLeft": 0.8}, {}),  # half a pair is dropped
        ({"mouthSmileLeft": 0.8, "mouthSmileRight": 0.2}, {"smile": (0.8, 0.2)}),
        (
            {"eyeBlinkLeft": 1, "eyeBlinkRight": 0, "jawOpen": 0.5, "browDownLeft": 0.1},
            {"blink": (1.0, 0.0)},
        ),
    ],
)
def test_blendshape_pairs(blendshapes, expected):
    got = blendshape_pairs(blendshapes)
    assert {k: (v.left, v.right) for k, v in got.items()} == expected
    assert all(isinstance(v.left, float) and isinstance(v.right, float) for v in got.values())


def test_per_side_indexes_by_side_name():
    ps = PerSide(1.5, 2.5)
    assert (ps["left"], ps["right"]) == (1.5, 2.5)
    assert ps.as_dict() == {"left": 1.5, "right": 2.5}


@pytest.mark.parametrize("side", ["", "Left", "l", "centre"])
def test_per_side_rejects_unknown_sides(side):
    with pytest.raises(KeyError, match=repr(side)):
        PerSide(1.0, 2.0)[side]
    with pytest.raises(ValueError, match=repr(side)):
        other_side(side)


def test_other_side():
    assert other_side("left") == "right"
    assert other_side("right") == "left"


def test_the_reference_averages_half_a_second_of_rest_except_for_the_eyelids():
    from coach.engine.measurer import FaceMeasurer, reference_frames_for
    from exercises import load_library

    for ex in load_library().values():
        expected = 5 if ex.measure == "eye_closure" else 15
        assert reference_frames_for(ex.measure) == expected, ex.id
    assert FaceMeasurer()._recent_frames.maxlen == 15
    with pytest.raises(ValueError, match="reference_frames"):
        FaceMeasurer(reference_frames=0)


def test_tissue_motion_survives_a_new_crop_size_and_a_refused_reference():
    # Both flows (the tracked points' and the firm points' wide-patch one) keep buffers sized
    # for the last crop; given an initial flow and then a crop of another size, OpenCV's DIS
    # reads out of bounds (../shared/repro/dis_size_change.py). A new reference at another
    # scale must give each a fresh object, and a refused reference must leave the last one whole.
    import cv2

    from coach.engine.face_frame import face_frame
    from coach.engine.motion.tissue import TissueMotion
    from tests.test_face_frame import landmarks_px

    rng = np.random.default_rng(7)
    gray = cv2.GaussianBlur(rng.integers(0, 255, (480, 640), dtype=np.uint8), (0, 0), 1.5)
    lm = landmarks_px()
    tm = TissueMotion()
    for ppm in (1.6, 2.2, 1.6):
        ff = face_frame(lm, px_per_mm=ppm)
        tm.set_reference([(gray, ff), (gray, ff)], ff.to_mm(lm[:, :2]), np.zeros(len(lm)))
        for _ in range(3):
            sample = tm.measure(gray, ff)
        assert all(np.isfinite(d).all() for d in sample.displacement_mm.values())
    before = tm.geometry.size_wh
    other = face_frame(lm, px_per_mm=2.2)
    with pytest.raises(ValueError):
        tm.set_reference([(gray, other)], other.to_mm(lm[:, :2]), np.full(3, 1.0))
    assert tm.geometry.size_wh == before
    assert all(np.isfinite(d).all() for d in tm.measure(gray, ff).displacement_mm.values())


@pytest.mark.parametrize(
    ("iris", "opening", "chosen"),
    [
        ({"left": 20.1, "right": 19.4}, {"left": 14.6, "right": 14.6}, "both"),  # the portrait: 3.6 % apart
        ({"left": 20.0, "right": 18.2}, {"left": 14.0, "right": 13.0}, "left"),  # 9 % apart
        ({"left": 19.0, "right": 20.0}, {"left": 5.0, "right": 14.0}, "right"),  # the left eye nearly shut
        ({"left": 20.0, "right": 18.2}, {"left": 12.0, "right": 14.0}, "right"),  # the more open eye's
    ],
)
def test_the_scale_comes_from_both_irises_only_when_they_agree(iris, opening, chosen):
    from coach.engine.measurer import scale_eye

    assert scale_eye(iris, opening) == chosen
    # A head turned 15 degrees shows the far eye smaller by perspective: both are kept.
    assert scale_eye(iris, opening, yaw_deg=15.0) == "both"


def test_a_scale_from_one_eye_is_used_and_said(model, monkeypatch):
    # The portrait's irises differ by 3.6 %: with the tolerance made tighter than that,
    # the scale comes from the more open (left) eye's iris alone, and the result says so.
    import coach.engine.measurer as measurer_module
    from coach.engine.analysis import analyze_frames
    from coach.engine.measurer import FaceMeasurer
    from coach.engine.tracking import FaceTracker
    from coach.virtual.phantom import PhantomRenderer, PhantomSpec

    spec = PhantomSpec(duration_s=1.0)

    def calibrated() -> FaceMeasurer:
        measurer = FaceMeasurer()
        with FaceTracker(model) as tracker:
            for t, frame in PhantomRenderer(spec).frames():
                measurer.update(frame, tracker.update(frame, t), t)
        assert measurer.calibrated
        return measurer

    both = calibrated()
    assert both.scale_from == "both"
    result = analyze_frames(PhantomRenderer(spec).frames(), model=model)
    assert result.extra["scale_from"] == "both" and not any("eye alone" in w for w in result.warnings)
    monkeypatch.setattr(measurer_module, "IRIS_AGREEMENT", 0.02)
    one = calibrated()
    assert one.scale_from in ("left", "right")
    # One iris instead of the mean of two: the scale moves by half their difference.
    assert abs(one._eye_dist_mm / both._eye_dist_mm - 1.0) == pytest.approx(0.018, abs=0.006)
    result = analyze_frames(PhantomRenderer(spec).frames(), model=model)
    assert result.extra["scale_from"] == one.scale_from
    assert any(f"taken from your {one.scale_from} eye alone" in w for w in result.warnings)


def test_the_tracker_keeps_following_its_face_when_a_larger_one_comes_into_view(model):
    # The patient (the portrait, its face about 150 px wide, on the left) is followed; then
    # someone closer to the camera (the same portrait, 225 px, on the right) comes into view.
    import cv2

    from coach.engine.tracking import FaceTracker
    from coach.virtual.phantom import PhantomRenderer, PhantomSpec

    _, photo = next(iter(PhantomRenderer(PhantomSpec(duration_s=0.1)).frames()))  # 640 x 480, face about 200 px

    def scene(with_other: bool, with_patient: bool = True) -> np.ndarray:
        frame = np.full((720, 1280, 3), 200, np.uint8)
        if with_patient:
            frame[150:510, 40:520] = cv2.resize(photo, (480, 360))  # the patient: a face about 150 px wide
        if with_other:
            frame[90:630, 560:1280] = cv2.resize(photo, (720, 540))  # closer to the camera: about 225 px
        return frame

    with FaceTracker(model) as tracker:
        first = tracker.update(scene(False), 0.0)
        assert first is not None and first.faces_seen == 1
        both = tracker.update(scene(True), 0.04)
        assert both is not None and both.faces_seen == 2
        # Still the patient on the left, not the larger face on the right.
        assert both.xy[:, 0].mean() < 640
        # The patient missed for a moment while the other person is in view: nobody is
        # measured rather than the other person, and the patient is found again.
        assert tracker.update(scene(True, with_patient=False), 0.08) is None
        back = tracker.update(scene(True), 0.12)
        assert back is not None and back.xy[:, 0].mean() < 640
    with FaceTracker(model) as fresh:  # a tracker that starts with both in view takes the larger
        obs = fresh.update(scene(True), 0.0)
        assert obs is not None and obs.xy[:, 0].mean() > 640
