"""Frames that should not be measured, or should be measured despite being poor.

Broken landmarks are given straight to :class:`FaceMeasurer`; poor pictures (dark,
overexposed, blurred, the face partly or half out of the picture) go through the
whole engine on a virtual patient whose truth is known: each either measures
close to the truth or scores nothing and says why; none raises.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from coach.engine import landmarks as L
from coach.engine.analysis import Analyzer
from coach.engine.measurer import BAD_LANDMARKS, CALIBRATING, NO_FACE, OK, UNSURE, FaceMeasurer
from coach.engine.observation import FaceObservation
from coach.virtual.phantom import PhantomRenderer, Schedule, smile_phantom
from tests.test_face_frame import FRONTAL_PX, landmarks_px

ONE_REP = Schedule(lead_in_s=1.2, rise_s=0.8, hold_s=1.2, release_s=0.8, rest_s=1.0, reps=1)
FRAME = np.full((480, 640, 3), 120, np.uint8)
FPS = 30.0
# Measured after calibration. The synthetic face has only eyes and irises (every other
# landmark at the origin), so its firm points are off the picture: its movement is
# measured but rightly not trusted. These tests are about the landmarks.
MEASURED = (OK, UNSURE)


def _with(points: dict[int, list[float]]) -> np.ndarray:
    return landmarks_px({**FRONTAL_PX, **points})


def _one_nan() -> np.ndarray:
    lm = landmarks_px()
    lm[L.MOUTH_CORNER["left"], 0] = math.nan
    return lm


def _one_inf() -> np.ndarray:
    lm = landmarks_px()
    lm[L.MOUTH_CORNER["right"], 1] = math.inf
    return lm


BROKEN = {
    "all-nan": lambda: np.full((L.N_LANDMARKS, 3), math.nan),
    "one-nan": _one_nan,
    "one-inf": _one_inf,
    "all-equal": lambda: np.full((L.N_LANDMARKS, 3), 5.0),
    "all-zero": lambda: np.zeros((L.N_LANDMARKS, 3)),
    "eyes-coincide": lambda: _with(dict.fromkeys([33, 133, 263, 362], [320.0, 200.0])),
    "shrunk-to-a-point": lambda: landmarks_px() * 1e-300,
}


def _feed(measurer: FaceMeasurer, frames: int, start: int = 0) -> list[str]:
    return [
        measurer.update(FRAME, FaceObservation((start + i) / FPS, landmarks_px()), (start + i) / FPS).status
        for i in range(frames)
    ]


@pytest.mark.parametrize("calibrated", [False, True], ids=["while-calibrating", "after-calibration"])
@pytest.mark.parametrize("kind", list(BROKEN))
def test_broken_landmarks_give_a_status_not_an_exception(kind, calibrated):
    m = FaceMeasurer()
    before = _feed(m, 30) if calibrated else []
    if calibrated:
        assert before[-1] in MEASURED
    t = len(before) / FPS
    fm = m.update(FRAME, FaceObservation(t, BROKEN[kind]()), t)
    assert fm.status == BAD_LANDMARKS
    assert not fm.ok and fm.movement_mm == {} and fm.confidence == 0.0
    # The next good frame is measured again (or goes on calibrating).
    after = _feed(m, 1, start=len(before) + 1)
    assert after[0] in (MEASURED if calibrated else (CALIBRATING,))


def test_broken_landmarks_never_become_the_baseline():
    m = FaceMeasurer()
    statuses = []
    for i in range(60):
        lm = BROKEN["all-nan"]() if i % 2 else landmarks_px()
        statuses.append(m.update(FRAME, FaceObservation(i / FPS, lm), i / FPS).status)
    # Every broken frame restarts calibration, so alternating frames never calibrate on garbage.
    assert set(statuses) == {CALIBRATING, BAD_LANDMARKS}
    assert m.baseline_mm is None


OUTSIDE = {
    "far-away": lambda: landmarks_px() + [1e12, 1e12, 0.0],
    "enormous": lambda: landmarks_px() * 1e300,  # finite, but any geometry on it overflows
    "mouth-corner-outside": lambda: _with({L.MOUTH_CORNER["left"]: [700.0, 300.0]}),
    "mouth-below-the-bottom": lambda: landmarks_px() + [0.0, 200.0, 0.0],
}


@pytest.mark.parametrize("calibrated", [False, True], ids=["while-calibrating", "after-calibration"])
@pytest.mark.parametrize("kind", list(OUTSIDE))
def test_a_face_outside_the_picture_is_not_scored(kind, calibrated):
    m = FaceMeasurer()
    before = _feed(m, 30) if calibrated else []
    statuses = []
    for i in range(20):  # long enough to finish a calibration on it
        t = (len(before) + i) / FPS
        statuses.append(m.update(FRAME, FaceObservation(t, OUTSIDE[kind]()), t).status)
    assert set(statuses) == {NO_FACE}
    after = _feed(m, 1, start=len(before) + 20)
    assert after[0] in (MEASURED if calibrated else (CALIBRATING,))


# --- poor pictures through the whole engine (needs the face model) -------------------------------


def _shift_left(frame: np.ndarray, px: int) -> np.ndarray:
    out = np.zeros_like(frame)
    out[:, : frame.shape[1] - px] = frame[:, px:]
    return out


def dim(frame: np.ndarray, index: int, light: float = 0.15) -> np.ndarray:
    """The frame in a dim room: a fraction of the light, and the noise a camera's gain adds."""
    noise = np.random.default_rng(index).normal(0.0, 2.0, frame.shape)
    return np.clip(frame * light + noise, 0, 255).astype(np.uint8)


POOR = {
    "dark": dim,  # mean grey about 22 of 255
    "overexposed": lambda f, i: np.clip(f.astype(np.int32) * 3 + 60, 0, 255).astype(np.uint8),
    "blurred": lambda f, i: cv2.GaussianBlur(f, (0, 0), 4),
    "partly-out-of-picture": lambda f, i: _shift_left(f, 260),  # one cheek outside, the mouth inside
    "half-out-of-picture": lambda f, i: _shift_left(f, 320),
}


@pytest.fixture(scope="module")
def smile_frames() -> list[tuple[float, np.ndarray]]:
    """A virtual patient smiling once, her left side 4 mm, her right 2 mm (truth: 50 %, right weaker)."""
    return list(PhantomRenderer(smile_phantom(4.0, 2.0, schedule=ONE_REP)).frames())


@pytest.mark.parametrize(
    ("kind", "measured", "says"),
    [
        ("dark", True, None),
        ("blurred", True, None),
        ("partly-out-of-picture", True, None),
        ("overexposed", False, "out of view"),
        ("half-out-of-picture", False, "No face was found"),
    ],
)
def test_poor_pictures_are_measured_near_the_truth_or_not_at_all(model, smile_frames, kind, measured, says):
    with Analyzer(model=model) as an:
        for i, (t, frame) in enumerate(smile_frames):
            an.update(POOR[kind](frame, i), t)
        res = an.result(kind, FPS, ONE_REP.duration_s)
    if measured:
        assert len(res.reps) == 1
        assert res.summary.symmetry_pct == pytest.approx(50.0, abs=10.0)
        assert res.summary.weaker_side == "right"
    else:
        assert res.reps == () and res.summary.symmetry_pct is None
        assert any(says in w for w in res.warnings), res.warnings
