"""The 3-D virtual patient: a real photo that turns its head, with known per-side movement."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from coach.engine import landmarks as L
from coach.engine.face_frame import pose_angles_deg
from coach.engine.observation import FaceObservation
from coach.engine.tracking import FaceTracker
from coach.virtual.phantom import Action, Schedule, source_image
from coach.virtual.phantom3d import FaceModel3D, HeadMotion3D, Phantom3DSpec, smile_phantom_3d

SCHEDULE = Schedule(lead_in_s=0.5, rise_s=0.5, hold_s=1.0, release_s=0.5, rest_s=0.5, reps=1)
HOLD_S = 1.5
SMALL = {"size_wh": (320, 240), "face_width_px": 110.0, "noise_sigma": 0.0, "schedule": SCHEDULE}


@pytest.fixture(scope="module")
def face(model) -> FaceModel3D:
    return FaceModel3D.from_image(np.clip(source_image() + 0.5, 0, 255).astype(np.uint8), model)


def test_a_photo_without_a_face_is_refused(model):
    with pytest.raises(ValueError, match="no face found"):
        FaceModel3D.from_image(np.full((240, 320, 3), 128, np.uint8), model)
    with pytest.raises(ValueError, match=r"expected \(H, W, 3\) uint8"):
        FaceModel3D.from_image(np.zeros((240, 320, 3), np.float32), model)


def test_the_model_keeps_the_photo_the_mesh_and_the_scale(face):
    assert face.landmarks_px.shape == (478, 3)
    assert face.px_per_mm == pytest.approx(8.67 / 11.7, rel=0.05)  # the iris, as coach.virtual.phantom measured it
    n = len(face.points_px)
    assert n > L.N_LANDMARKS and face.turns.shape == (n,) and not face.turns.all()
    assert face.triangles.min() >= 0 and face.triangles.max() < n
    used = np.unique(face.triangles)
    assert not np.isin(np.arange(468, 478), used).any()  # iris points are not skin
    assert np.isin(np.arange(468), used).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"face_width_px": 60.0}, "face_width_px must be 80 to 400"),
        ({"blink": 1.5}, "blink must be 0 to 1"),
        ({"teeth_mm": 20.0}, "teeth_mm must be 0 to 12"),
        ({"light_gain": 0.9}, "light_gain must be -0.5 to 0.5"),
        ({"camera_distance_mm": 50.0}, "camera_distance_mm must be 150 to 5000"),
        ({"blink_sides": ("both",)}, "blink_sides"),
    ],
)
def test_bad_settings_name_the_argument(face, kwargs, match):
    with pytest.raises(ValueError, match=match):
        Phantom3DSpec(face=face, **kwargs)


def test_head_motion_settings_are_checked():
    with pytest.raises(ValueError, match="yaw_deg must be -60 to 60"):
        HeadMotion3D(yaw_deg=90.0)
    with pytest.raises(ValueError, match="natural must be 0 to 5"):
        HeadMotion3D(natural=-1.0)


def test_natural_head_motion_follows_the_model():
    head = HeadMotion3D(natural=1.0)
    f, t = 200.0, 1.7
    p = head.pose_at(t, f)
    tau = 2 * math.pi
    assert p.shift_px[0] == pytest.approx(0.03 * f * (math.sin(tau * 0.31 * t) + 0.5 * math.sin(tau * 0.83 * t + 1)))
    assert p.shift_px[1] == pytest.approx(0.02 * f * (math.sin(tau * 0.23 * t + 2) + 0.5 * math.sin(tau * 0.67 * t)))
    assert p.roll_deg == pytest.approx(4.0 * math.sin(tau * 0.19 * t + 0.5))
    assert p.scale == pytest.approx(1 + 0.03 * math.sin(tau * 0.41 * t + 1.5))
    assert p.yaw_deg == 0.0 and p.pitch_deg == 0.0
    seeded = HeadMotion3D(natural=1.0, phase_seed=3)
    assert seeded.pose_at(t, f) == HeadMotion3D(natural=1.0, phase_seed=3).pose_at(t, f)
    assert seeded.pose_at(t, f) != p
    swing = HeadMotion3D(yaw_deg=5.0, yaw_swing_deg=10.0, yaw_period_s=8.0).pose_at(2.0, f)
    assert swing.yaw_deg == pytest.approx(15.0)


def test_truth_is_zero_at_rest_and_the_amplitude_at_the_hold(face):
    spec = smile_phantom_3d(face, 4.0, 1.0, **SMALL)
    rest = spec.truth_mm(0.1)
    assert all(np.allclose(v, 0.0) for v in rest.values())
    hold = spec.truth_mm(HOLD_S)
    assert np.hypot(*hold["left"]) == pytest.approx(4.0, abs=1e-6)
    assert np.hypot(*hold["right"]) == pytest.approx(1.0, abs=1e-6)
    assert hold["left"][0] > 0 and hold["right"][0] < 0  # outward, in face axes
    assert hold["left"][1] > 0 and hold["right"][1] > 0  # and up
    assert spec.truth_symmetry_pct() == pytest.approx(25.0)
    assert spec.truth_symmetry_pct(affected="left") == pytest.approx(400.0)
    inward = Phantom3DSpec(face=face, actions=(Action("mouth_corner", "right", 3.0, direction_deg=180.0),), **SMALL)
    assert inward.truth_mm(HOLD_S)["right"] == pytest.approx([3.0, 0.0], abs=1e-9)  # toward the midline
    # The teeth and the blink do not move the mouth corners.
    extras = dataclasses.replace(spec, teeth_mm=6.0, blink=1.0)
    assert extras.truth_mm(HOLD_S)["left"] == pytest.approx(hold["left"])


def test_same_spec_same_frames_and_seed_changes_noise(face):
    spec = smile_phantom_3d(
        face,
        3.0,
        1.0,
        **{**SMALL, "noise_sigma": 2.0},
        head=HeadMotion3D(natural=1.0, yaw_swing_deg=8.0, natural_turn_deg=2.0),
        teeth_mm=4.0,
        light_gain=0.1,
        light_gradient=0.1,
        blur_sigma_px=0.8,
    )
    first, second = spec.renderer(), spec.renderer()
    a = [first.frame(i) for i in (0, 36, 45)]  # rest, rising, hold
    b = [second.frame(i) for i in (0, 36, 45)]
    c = dataclasses.replace(spec, seed=1).renderer().frame(36)
    assert a[0].shape == (240, 320, 3) and a[0].dtype == np.uint8
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[1], c)
    times, frames = zip(*list(dataclasses.replace(spec, duration_s=0.1).frames()), strict=True)
    assert times == pytest.approx([0.0, 1 / 30, 2 / 30])
    assert np.array_equal(frames[0], a[0])


@pytest.mark.parametrize("face_width_px", [88.0, 150.0], ids=["photo_scale", "upsampled"])
def test_at_rest_the_render_is_the_photo_resampled(face, face_width_px):
    import cv2

    spec = Phantom3DSpec(
        face=face,
        **{**SMALL, "face_width_px": face_width_px},
        head=HeadMotion3D(roll_deg=5.0, scale=1.1, shift_px=(7.0, -3.0)),
    )
    r = spec.renderer()
    img = r.render(0.0)
    ref = cv2.warpAffine(
        face.image, r.similarity_px(0.0), spec.size_wh, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )
    if face_width_px < 90:  # the photo is used as it is: the same pixels, up to rounding
        diff = np.abs(img.astype(int) - ref.astype(int))
        assert diff.max() <= 3 and np.percentile(diff, 99.5) <= 1
    else:  # the photo is first enlarged (bicubic) to the output's scale: compare what is seen
        blur = [cv2.GaussianBlur(a.astype(np.float32), (0, 0), 1.5) for a in (img, ref)]
        diff = np.abs(blur[0] - blur[1])
        assert diff.mean() < 1.0 and np.percentile(diff, 99) <= 4.0


def _observe(model, frame: np.ndarray) -> FaceObservation:
    # A fresh tracker per still: VIDEO mode's tracking state lags behind jumps between stills.
    with FaceTracker(model, max_faces=1) as tracker:
        obs = tracker.update(frame, 0.0)
    assert obs is not None
    return obs


def _yaw_pitch(model, frame: np.ndarray) -> tuple[float, float]:
    yaw, pitch, _ = pose_angles_deg(_observe(model, frame).pose)
    return yaw, pitch


def test_yaw_and_pitch_turn_the_head_in_depth(face, model):
    kw = {**SMALL, "size_wh": (400, 300), "face_width_px": 150.0}
    angles = {}
    for yaw, pitch in [(0, 0), (10, 0), (-10, 0), (0, 10), (0, -10)]:
        spec = Phantom3DSpec(face=face, head=HeadMotion3D(yaw_deg=yaw, pitch_deg=pitch), **kw)
        angles[yaw, pitch] = _yaw_pitch(model, spec.renderer().render(0.0))
    y0, p0 = angles[0, 0]
    assert angles[10, 0][0] - y0 == pytest.approx(10.0, abs=5.0)
    assert angles[-10, 0][0] - y0 == pytest.approx(-10.0, abs=5.0)
    assert angles[0, 10][1] - p0 == pytest.approx(10.0, abs=5.0)
    assert angles[0, -10][1] - p0 == pytest.approx(-10.0, abs=5.0)
    # A yaw is not a pitch, and the other way round.
    assert abs(angles[10, 0][1] - p0) < 3.0 and abs(angles[0, 10][0] - y0) < 3.0


def test_the_true_landmarks_land_where_mediapipe_sees_them(face, model):
    spec = smile_phantom_3d(face, 5.0, 0.0, **SMALL, head=HeadMotion3D(yaw_deg=15.0, roll_deg=4.0))
    r = spec.renderer()
    obs = _observe(model, r.render(HOLD_S))
    err = np.linalg.norm(obs.xy[:468] - r.landmarks_px(HOLD_S)[:468], axis=1)
    assert np.median(err) < 0.03 * spec.face_width_px


def test_a_left_smile_moves_landmark_291_not_61(face, model):
    """Side convention: the patient's left mouth corner is image-right landmark 291."""
    spec = smile_phantom_3d(face, 6.0, 0.0, **{**SMALL, "face_width_px": 150.0, "size_wh": (400, 300)})
    r = spec.renderer()
    rest, hold = (_observe(model, r.render(t)) for t in (0.0, HOLD_S))
    moved = {side: np.linalg.norm(hold.xy[i] - rest.xy[i]) for side, i in L.MOUTH_CORNER.items()}
    assert moved["left"] > 2.0 * moved["right"]
    assert hold.xy[L.MOUTH_CORNER["left"], 0] > rest.xy[L.MOUTH_CORNER["left"], 0]  # outward is image-right
    true_move = r.landmarks_px(HOLD_S) - r.landmarks_px(0.0)
    ppm_out = spec.face_width_px / (face.face_width_px / face.px_per_mm)
    assert np.linalg.norm(true_move[L.MOUTH_CORNER["left"]]) == pytest.approx(6.0 * ppm_out, rel=1e-6)
    assert np.linalg.norm(true_move[L.MOUTH_CORNER["right"]]) < 0.01 * ppm_out


def test_a_blink_closes_the_eye_and_the_teeth_stay_in_the_mouth(face, model):
    spec = Phantom3DSpec(face=face, blink=1.0, blink_sides=("left",), **{**SMALL, "size_wh": (400, 300)})
    r = spec.renderer()
    rest, shut = (_observe(model, r.render(t)) for t in (0.0, HOLD_S))

    def aperture(obs, side):
        return np.linalg.norm(obs.xy[L.EYE_UPPER_LID[side]] - obs.xy[L.EYE_LOWER_LID[side]])

    assert aperture(shut, "left") < 0.5 * aperture(rest, "left")  # one eye: the shape prior holds it open a bit
    assert aperture(shut, "right") > 0.8 * aperture(rest, "right")
    # Parting the lips changes pixels around the mouth only.
    teeth = Phantom3DSpec(face=face, teeth_mm=6.0, **SMALL).renderer()
    changed = np.abs(teeth.render(HOLD_S).astype(int) - teeth.render(0.0).astype(int)).max(axis=2) > 20
    ys, xs = np.nonzero(changed)
    assert len(ys) > 20
    lm = teeth.landmarks_px(0.0)
    mouth = lm[list(L.LIPS_OUTER)]
    assert ys.min() > lm[L.NOSE_TIP, 1] and xs.min() > mouth[:, 0].min() - 5 and xs.max() < mouth[:, 0].max() + 5
