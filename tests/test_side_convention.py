"""Sides are anatomical: the patient's left is the patient's left, whatever the camera does."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from coach.engine.analysis import analyze_video
from coach.engine.landmarks import EYE_OUTER, MOUTH_CORNER
from coach.engine.tracking import FaceTracker
from coach.virtual.phantom import Schedule, smile_phantom

SHORT = Schedule(lead_in_s=1.2, rise_s=0.8, hold_s=1.2, release_s=0.8, rest_s=1.0, reps=1)


def test_landmark_61_is_the_patients_right_in_an_unmirrored_image(model):
    img = np.ascontiguousarray(data.astronaut())
    with FaceTracker(model) as tracker:
        obs = tracker.update(img, 0.0)
    assert obs is not None
    # Facing the camera, the patient's right is on the image's left.
    assert obs.xy[MOUTH_CORNER["right"], 0] < obs.xy[MOUTH_CORNER["left"], 0]
    assert MOUTH_CORNER["right"] == 61 and MOUTH_CORNER["left"] == 291
    assert obs.xy[EYE_OUTER["right"], 0] < obs.xy[EYE_OUTER["left"], 0]


def test_tracker_measures_the_largest_face_and_counts_faces(model):
    face = np.ascontiguousarray(data.astronaut()[30:230, 125:325])  # 200 × 200 around the face
    big = cv2.resize(face, (300, 300), interpolation=cv2.INTER_CUBIC)
    small = cv2.resize(face, (200, 200), interpolation=cv2.INTER_AREA)
    canvas = np.full((480, 640, 3), 200, np.uint8)
    canvas[90:290, 10:210] = small
    canvas[100:400, 320:620] = big
    with FaceTracker(model) as tracker:
        obs = tracker.update(canvas, 0.0)
    assert obs is not None
    assert obs.faces_seen == 2
    assert obs.xy[:, 0].min() > 320  # the big face, on the right


def test_only_the_patients_left_corner_moves(model, phantom_video):
    spec = smile_phantom(5.0, 0.0, schedule=SHORT, face_width_px=220)
    res = analyze_video(phantom_video(spec, "left-only"), model=model)
    s = res.summary
    assert len(res.reps) == 1
    assert s.excursion_mm.left > 4.0
    assert s.excursion_mm.right < 0.5
    assert s.weaker_side == "right"


@pytest.mark.parametrize("flag, expected_weaker", [(True, "right"), (False, "left")])
def test_a_mirrored_video_needs_the_mirrored_flag(model, phantom_video, flag, expected_weaker):
    """A selfie view swaps the sides; --mirrored flips it back, so sides stay anatomical."""
    spec = smile_phantom(5.0, 0.0, schedule=SHORT, face_width_px=220, mirrored=True)
    res = analyze_video(phantom_video(spec, "left-only-mirrored"), model=model, mirrored=flag)
    assert res.summary.weaker_side == expected_weaker
