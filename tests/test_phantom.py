"""The virtual patient: known truth, exact warp, reproducible frames."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from coach.virtual.phantom import (
    SOURCE_ANCHORS_PX,
    SOURCE_PX_PER_MM,
    Action,
    HeadMotion,
    PhantomRenderer,
    PhantomSpec,
    Schedule,
    Timeline,
    smile_phantom,
)


def test_schedule_activation_shape():
    s = Schedule(lead_in_s=1.0, rise_s=1.0, hold_s=2.0, release_s=1.0, rest_s=1.0, reps=2)
    assert s.duration_s == pytest.approx(1.0 + 2 * 5.0)
    assert s.activation(0.5) == 0.0
    assert s.activation(1.5) == pytest.approx(0.5)
    assert s.activation(2.5) == 1.0
    assert s.activation(4.5) == pytest.approx(0.5)
    assert s.activation(5.5) == 0.0
    assert s.activation(8.0) == 1.0
    assert s.activation(20.0) == 0.0
    assert [round(w[0], 6) for w in s.rep_windows()] == [1.0, 6.0]


def test_truth_per_side_and_symmetry():
    spec = smile_phantom(2.0, 8.0)
    hold = spec.schedule.lead_in_s + spec.schedule.rise_s + 0.5
    truth = spec.truth_mm(hold)
    assert np.hypot(*truth["left"]) == pytest.approx(2.0)
    assert np.hypot(*truth["right"]) == pytest.approx(8.0)
    assert truth["left"][0] > 0 and truth["right"][0] < 0  # both move outward
    assert truth["left"][1] > 0 and truth["right"][1] > 0  # and up
    assert spec.truth_symmetry_pct() == pytest.approx(25.0)
    assert spec.truth_symmetry_pct(affected="right") == pytest.approx(400.0)
    assert smile_phantom(0.0, 0.0).truth_symmetry_pct() is None


def test_inverse_warp_moves_the_anchor_by_exactly_the_amplitude():
    """Solve x + d(x) = y: the tissue at the corner lands amplitude_mm away."""
    spec = smile_phantom(6.0, 0.0, noise_sigma=0.0)
    r = PhantomRenderer(spec)
    a = spec.actions[0]
    anchor = np.array(SOURCE_ANCHORS_PX["mouth_corner"]["left"], np.float32)
    d = a.amplitude_mm * SOURCE_PX_PER_MM * np.array([a.unit_face()[0], -a.unit_face()[1]])
    # Render a source with a bright dot at the anchor and find where it went.
    src = np.zeros((512, 512, 3), np.uint8)
    src[int(anchor[1]) - 1 : int(anchor[1]) + 2, int(anchor[0]) - 1 : int(anchor[0]) + 2] = 255
    r._src_u8 = src
    hold = spec.schedule.lead_in_s + spec.schedule.rise_s + 0.5
    moved = r._moved_source(hold)[..., 0].astype(np.float64)
    ys, xs = np.mgrid[0:512, 0:512]
    w = moved / moved.sum()
    centroid = np.array([(xs * w).sum(), (ys * w).sum()])
    start = np.array([int(anchor[0]), int(anchor[1])], np.float64)
    assert np.linalg.norm(centroid - (start + d)) < 0.35


def test_same_spec_same_frames_and_seed_changes_noise():
    spec = smile_phantom(3.0, 1.0, head=HeadMotion(roll_deg=5, drift_px=4))
    a = PhantomRenderer(spec).frame(40)
    b = PhantomRenderer(spec).frame(40)
    c = PhantomRenderer(dataclasses.replace(spec, seed=1)).frame(40)
    assert a.shape == (480, 640, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_absent_face_and_mirroring():
    spec = smile_phantom(3.0, 0.0, absent=((0.0, 0.5),), noise_sigma=0.0)
    r = PhantomRenderer(spec)
    gone = r.frame(0)
    assert gone.reshape(-1, 3).std(axis=0).max() < 1.0  # plain background
    shown = r.frame(30)
    mirrored = PhantomRenderer(dataclasses.replace(spec, mirrored=True)).frame(30)
    assert np.array_equal(shown[:, ::-1], mirrored)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"face_width_px": 10}, "face_width_px"),
        ({"fps": 0}, "fps"),
        ({"noise_sigma": -1}, "noise_sigma"),
        ({"size_wh": (10, 10)}, "size_wh"),
    ],
)
def test_spec_validation_names_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PhantomSpec(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"anchor": "nose"}, "anchor"),
        ({"side": "up"}, "side"),
        ({"amplitude_mm": 25.0}, "amplitude_mm"),
        ({"amplitude_mm": 15.0, "sigma_mm": 10.0}, "1.2"),
    ],
)
def test_action_validation(kwargs, message):
    base = {"anchor": "mouth_corner", "side": "left", "amplitude_mm": 3.0}
    with pytest.raises(ValueError, match=message):
        Action(**{**base, **kwargs})


def test_timeline_follows_its_ramps_and_drives_a_channel():
    tl = Timeline(((1.0, 2.0, 3.0, 4.0), (6.0, 6.5, 7.0, 7.5)), levels=(1.0, 0.5))
    assert tl.activation(0.5) == 0.0
    assert tl.activation(1.5) == pytest.approx(0.5)
    assert tl.activation(2.5) == 1.0
    assert tl.activation(6.7) == pytest.approx(0.5)
    assert tl.activation(9.0) == 0.0
    spec = PhantomSpec(
        actions=(Action("mid_brow", "left", 4.0, direction_deg=90.0, sigma_mm=8.0, channel="brow"),),
        channels=(("brow", tl),),
        duration_s=8.0,
    )
    assert spec.n_frames == 240
    assert spec.truth_mm(2.5, "mid_brow")["left"] == pytest.approx([0.0, 4.0])
    assert spec.truth_mm(6.7, "mid_brow")["left"] == pytest.approx([0.0, 2.0])
    with pytest.raises(ValueError, match="time order"):
        Timeline(((2.0, 1.0, 3.0, 4.0),))
    assert Timeline.from_schedule(Schedule(lead_in_s=1, rise_s=1, hold_s=2, release_s=1, rest_s=1, reps=1)).ramps == (
        (1.0, 2.0, 4.0, 5.0),
    )
