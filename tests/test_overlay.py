"""The patient's overlay and simple face: right sides on screen, readable at any size, never crashing."""

from __future__ import annotations

import numpy as np
import pytest

from coach.engine.landmarks import MOUTH_CORNER
from coach.engine.measurer import NO_FACE, OK, FrameMeasures
from coach.engine.measures.sides import PerSide
from coach.engine.tracking import FaceTracker
from coach.live.coach import LiveSnapshot
from coach.sessions.cues import Cue, LiveFeedback, SessionUpdate
from coach.sessions.plan import HOLD
from coach.virtual.phantom import PhantomRenderer, PhantomSpec
from exercises import get_exercise
from ui.overlay import (
    NO_FACE_TEXT,
    SIDE_COLOUR,
    TOO_DARK_TEXT,
    ascii_text,
    draw_overlay,
    draw_simple_face,
    overlay_messages,
)

SMILE = get_exercise("smile")


def update(
    left: float = 0.0,
    right: float = 0.0,
    phase: str = HOLD,
    status: str = OK,
    messages: tuple[str, ...] = (),
    exercise_id: str = "smile",
) -> SessionUpdate:
    """A frame's update with movement ``left``/``right`` in mm toward a 4 mm target."""
    cue = Cue(3.0, 0, exercise_id, "Gentle smile", 2, 5, phase, "Hold\u2026 3" if phase == HOLD else "Rest.", 2.5)
    value = PerSide(left, right) if status == OK else None
    progress = PerSide(left / 4.0, right / 4.0) if status == OK else None
    return SessionUpdate(3.0, cue, LiveFeedback(value, progress, messages), FrameMeasures(3.0, status))


def snapshot(upd: SessionUpdate | None, observation=None) -> LiveSnapshot:
    if upd is None:
        return LiveSnapshot(exercise=SMILE, last_observation=observation)
    return LiveSnapshot(
        cue=upd.cue,
        feedback=upd.feedback,
        status=upd.measures.status,
        exercise=SMILE,
        last_update=upd,
        last_observation=observation,
    )


@pytest.fixture(scope="module")
def face(model):
    """A real phantom frame (640 × 480) and the face the tracker found in it."""
    frame = PhantomRenderer(PhantomSpec(noise_sigma=0.0)).frame(0)
    with FaceTracker(model) as tracker:
        obs = tracker.update(frame, 0.0)
    assert obs is not None
    return frame, obs


def side_pixels(img: np.ndarray, side: str) -> np.ndarray:
    """Columns holding pixels of exactly ``side``'s colour."""
    hit = np.all(img == np.array(SIDE_COLOUR[side], np.uint8), axis=-1)
    return np.nonzero(hit)[1]


@pytest.mark.parametrize("size_wh", [(640, 480), (1280, 720), (160, 120)], ids=["vga", "hd", "tiny"])
@pytest.mark.parametrize(
    "state",
    [
        None,
        update(3.5, 1.5),
        snapshot(update(3.5, 1.5, messages=("Keep your eye open", "Slow down"))),
        snapshot(update(status=NO_FACE, messages=(NO_FACE_TEXT,))),
        snapshot(None),
    ],
    ids=["nothing-yet", "update", "snapshot", "no-face", "empty-snapshot"],
)
@pytest.mark.parametrize("mirror", [True, False], ids=["mirror", "camera"])
def test_overlay_keeps_the_frame_shape(size_wh, state, mirror):
    w, h = size_wh
    frame = np.full((h, w, 3), 120, np.uint8)
    out = draw_overlay(frame, state, mirror)
    assert out.shape == (h, w, 3) and out.dtype == np.uint8
    assert (frame == 120).all()  # the caller's frame is not drawn on
    face = draw_simple_face(state, size_wh, mirror)
    assert face.shape == (h, w, 3) and face.dtype == np.uint8


@pytest.mark.parametrize(("mirror", "left_on_screen_left"), [(True, True), (False, False)], ids=["mirror", "camera"])
def test_the_patients_left_bar_is_on_the_correct_screen_side(mirror, left_on_screen_left):
    w, h = 640, 480
    out = draw_overlay(np.zeros((h, w, 3), np.uint8), update(4.0, 0.0), mirror)
    cols = side_pixels(out, "left")
    assert cols.size > 500  # the left bar is filled
    assert (cols.mean() < w / 2) == left_on_screen_left
    assert cols.max() < w * 0.15 or cols.min() > w * 0.85  # within one edge's bar


@pytest.mark.parametrize("mirror", [True, False], ids=["mirror", "camera"])
def test_mouth_corners_are_marked_where_they_are_on_screen(face, mirror):
    frame, obs = face
    w = frame.shape[1]
    out = draw_overlay(frame, snapshot(update(), obs), mirror)
    for side in ("left", "right"):
        x, y = obs.xy[MOUTH_CORNER[side]]
        sx = w - 1 - x if mirror else x
        assert np.abs(out[int(round(y)), int(round(sx))].astype(int) - SIDE_COLOUR[side]).max() <= 10
    # The patient's left corner (landmark 291) is on the image's right; a mirror shows it on the left.
    assert obs.xy[MOUTH_CORNER["left"], 0] > obs.xy[MOUTH_CORNER["right"], 0]


def test_landmarks_follow_a_resized_frame(face):
    frame, obs = face
    big = np.repeat(np.repeat(frame, 2, axis=0), 2, axis=1)  # 1280 × 960
    out = draw_overlay(big, snapshot(update(), obs), mirror=False)
    x, y = obs.xy[MOUTH_CORNER["left"]] * 2
    assert np.abs(out[int(round(y)), int(round(x))].astype(int) - SIDE_COLOUR["left"]).max() <= 10


def test_warnings_are_gentle_and_not_repeated():
    frame = np.full((480, 640, 3), 140, np.uint8)
    lost = snapshot(update(status=NO_FACE, messages=(NO_FACE_TEXT,)))
    assert overlay_messages(lost, frame) == [NO_FACE_TEXT]
    paused = Cue(3.0, 0, "smile", "Gentle smile", 2, 5, "paused", "We can't see your face. Face the camera.", 0.0)
    said = LiveSnapshot(cue=paused, feedback=lost.feedback, status=NO_FACE)
    assert overlay_messages(said, frame) == []  # the cue already says it
    dark = overlay_messages(update(2.0, 2.0, messages=("Slow down",)), np.full((480, 640, 3), 20, np.uint8))
    assert dark == ["Slow down", TOO_DARK_TEXT]
    assert overlay_messages(None) == []


def test_simple_face_draws_the_face_and_follows_the_mirror(face):
    _, obs = face
    w, h = 640, 480
    plain = draw_simple_face(None, (w, h))
    drawn = draw_simple_face(snapshot(update(), obs), (w, h), mirror=True)
    assert (drawn != plain).any(axis=-1).sum() > 20_000  # a whole face, not a few marks
    for mirror in (True, False):
        img = draw_simple_face(snapshot(update(0.0, 0.0), obs), (w, h), mirror=mirror)
        x0 = int(w * 0.2)  # between the bars: the left eye and mouth corner
        marks = side_pixels(img[int(h * 0.25) : int(h * 0.75), x0 : w - x0], "left") + x0
        assert marks.size > 20
        assert (marks.mean() < w / 2) == mirror


def test_simple_face_without_a_face_says_so():
    img = draw_simple_face(snapshot(update(status=NO_FACE, messages=(NO_FACE_TEXT,))), (640, 480))
    assert img.shape == (480, 640, 3)
    with pytest.raises(ValueError, match="size_wh"):
        draw_simple_face(None, (10, 10))


def test_an_update_of_an_unknown_exercise_still_draws(face):
    frame, obs = face
    out = draw_overlay(frame, update(1.0, 1.0, exercise_id="not_in_the_library"), observation=obs)
    assert out.shape == frame.shape


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match=r"expected \(H, W, 3\) uint8"):
        draw_overlay(np.zeros((48, 64), np.uint8), None)
    with pytest.raises(TypeError, match="LiveSnapshot"):
        draw_overlay(np.zeros((48, 64, 3), np.uint8), "hold")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("Hold\u2026 3", "Hold... 3"),
        ("\u201cEe\u201d \u2013 \u201coo\u201d", '"Ee" - "oo"'),
        ("Caf\u00e9 \u2764", "Cafe "),
    ],
    ids=["empty", "ellipsis", "quotes-dash", "accent-emoji"],
)
def test_cv2_text_is_ascii(text, expected):
    assert ascii_text(text) == expected
