"""Chimeric faces: mirror geometry, side naming, the one-sided construction, smiles, files."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coach.engine.landmarks import EYE_INNER, MOUTH_CORNER, N_LANDMARKS
from coach.engine.observation import FaceObservation
from coach.engine.tracking import FaceTracker
from coach.engine.video import VideoReader
from coach.virtual import chimera as C
from coach.virtual.phantom import source_image


@pytest.fixture(scope="module")
def astronaut(model) -> tuple[np.ndarray, FaceObservation]:
    """The scikit-image astronaut portrait (512 × 512 RGB) and its tracked face."""
    img = np.clip(source_image() + 0.5, 0, 255).astype(np.uint8)
    with FaceTracker(model) as tracker:
        obs = tracker.update(img, 0.0)
    assert obs is not None
    return img, obs


def smooth_noise(h: int = 64, w: int = 80, seed: int = 0) -> np.ndarray:
    """(h, w, 3) uint8 random image, blurred so bilinear resampling is nearly exact."""
    import cv2

    rng = np.random.default_rng(seed)
    img = rng.uniform(0, 255, (h, w, 3)).astype(np.float32)
    return np.clip(cv2.GaussianBlur(img, (0, 0), 3.0) * 3 - 255, 0, 255).astype(np.uint8)


# --- Mirror geometry -----------------------------------------------------------------------------


@pytest.mark.parametrize("angle_deg", [0.0, 7.0, -20.0, 90.0])
def test_the_reflection_matrix_is_its_own_inverse(angle_deg):
    a = math.radians(angle_deg)
    m = np.vstack([C.reflection_matrix(np.array([31.5, 20.25]), np.array([math.sin(a), -math.cos(a)])), [0, 0, 1]])
    np.testing.assert_allclose(m @ m, np.eye(3), atol=1e-12)


def test_reflecting_about_the_centre_column_is_a_flip_and_twice_is_identity():
    img = smooth_noise()
    h, w = img.shape[:2]
    centre, up = np.array([(w - 1) / 2.0, 10.0]), np.array([0.0, -1.0])
    once = C.reflect(img, centre, up)
    np.testing.assert_array_equal(once, img[:, ::-1])
    np.testing.assert_array_equal(C.reflect(once, centre, up), img)


def test_reflecting_twice_about_a_tilted_line_gives_the_image_back():
    img = smooth_noise(96, 96)
    point, direction = np.array([47.3, 50.1]), np.array([math.sin(0.2), -math.cos(0.2)])
    twice = C.reflect(C.reflect(img, point, direction), point, direction)
    inner = (slice(24, 72), slice(24, 72))  # away from the replicated border
    assert np.abs(twice[inner].astype(int) - img[inner]).mean() < 1.0


@pytest.mark.parametrize("feather_px", [0.0, 2.5])
def test_the_two_half_masks_add_up_to_one_and_mirror_each_other(feather_px):
    point, up = np.array([19.5, 5.0]), np.array([0.0, -1.0])
    left = C.half_mask((12, 40), point, up, "left", feather_px)
    right = C.half_mask((12, 40), point, up, "right", feather_px)
    np.testing.assert_allclose(left + right, 1.0, atol=1e-6)
    np.testing.assert_allclose(left, right[:, ::-1], atol=1e-6)
    # Upright and unmirrored, the patient's left is the image's right.
    assert left[:, -1].min() == 1.0 and left[:, 0].max() == 0.0


def test_the_seam_ramp_is_as_wide_as_the_feather():
    mask = C.half_mask((1, 41), np.array([20.0, 0.0]), np.array([0.0, -1.0]), "left", 2.5)[0]
    ramp = np.flatnonzero((mask > 0) & (mask < 1))
    assert list(ramp) == [19, 20, 21]
    assert mask[20] == pytest.approx(0.5)


def test_a_symmetric_frame_is_exactly_mirror_symmetric_about_a_vertical_midline():
    img = smooth_noise()
    w = img.shape[1]
    out = C.symmetric_frame(img, np.array([(w - 1) / 2.0, 0.0]), np.array([0.0, -1.0]), "left")
    assert np.abs(out.astype(int) - out[:, ::-1]).max() <= 1
    np.testing.assert_array_equal(out[:, w // 2 + 2 :], img[:, w // 2 + 2 :])


# --- The astronaut's midline and sides --------------------------------------------------------------


def test_the_midline_of_the_astronaut_is_near_vertical_and_between_the_eyes(astronaut):
    _, obs = astronaut
    point, direction = C.midline(obs.landmarks_px)
    assert np.linalg.norm(direction) == pytest.approx(1.0)
    assert direction[1] < 0  # chin → forehead points up the picture
    assert math.degrees(math.atan2(abs(direction[0]), -direction[1])) < 8.0
    right, left = obs.xy[EYE_INNER["right"]], obs.xy[EYE_INNER["left"]]
    eyes_mid = (right + left) / 2.0
    on_line = point + direction * ((eyes_mid - point) @ direction)
    assert right[0] < on_line[0] < left[0]
    assert np.linalg.norm(on_line - eyes_mid) < 0.1 * np.linalg.norm(left - right)


def test_a_symmetric_chimera_of_the_astronaut_is_mirror_symmetric_in_the_face(astronaut):
    img, obs = astronaut
    out = C.symmetric_chimera([img], [obs], "left")[0]
    point, direction = C.midline(obs.landmarks_px)
    mirrored = C.reflect(out, point, direction)
    x0, y0 = obs.xy.min(axis=0).astype(int)
    x1, y1 = obs.xy.max(axis=0).astype(int)
    face = (slice(y0, y1), slice(x0, x1))
    diff = np.abs(out[face].astype(int) - mirrored[face])
    assert diff.mean() < 2.0  # bilinear resampling, twice
    assert np.abs(img[face].astype(int) - C.reflect(img, point, direction)[face]).mean() > 3 * diff.mean()


@pytest.mark.parametrize(("side", "kept", "mirrored"), [("left", "left", "right"), ("right", "right", "left")])
def test_side_names_the_patients_live_half(astronaut, side, kept, mirrored):
    img, obs = astronaut
    out = C.symmetric_chimera([img], [obs], side)[0]

    def patch(image: np.ndarray, landmark: int) -> np.ndarray:
        x, y = np.round(obs.xy[landmark]).astype(int)
        return image[y - 4 : y + 5, x - 4 : x + 5].astype(int)

    # The kept mouth corner is the original; the other is replaced by its mirror.
    np.testing.assert_array_equal(patch(out, MOUTH_CORNER[kept]), patch(img, MOUTH_CORNER[kept]))
    assert np.abs(patch(out, MOUTH_CORNER[mirrored]) - patch(img, MOUTH_CORNER[mirrored])).mean() > 2.0
    if side == "left":  # the patient's left is the image's right in an unmirrored picture
        assert obs.xy[MOUTH_CORNER["left"], 0] > C.midline(obs.landmarks_px)[0][0]


def test_a_one_sided_chimera_at_its_resting_frame_is_the_symmetric_chimera(astronaut):
    img, obs = astronaut
    frames, observations = [img, img, img], [obs, obs, obs]
    symmetric = C.symmetric_chimera(frames, observations, "left")
    for rest in (0, 2):
        one_sided = C.one_sided_chimera(frames, observations, "left", rest)
        for a, b in zip(one_sided, symmetric, strict=True):
            assert np.abs(a.astype(int) - b).max() <= 1


def test_the_still_half_follows_the_head(astronaut):
    """The head shifts by a few pixels: the still half shifts with it, the seam too."""
    img, obs = astronaut
    shift = np.array([6.0, -3.0])
    moved_img = np.roll(img, (int(shift[1]), int(shift[0])), axis=(0, 1))
    moved = FaceObservation(0.04, obs.landmarks_px + np.array([*shift, 0.0]), obs.blendshapes)
    out = C.one_sided_chimera([img, moved_img], [obs, moved], "left", 0, sigma_frames=0.0)
    expected = np.roll(out[0], (int(shift[1]), int(shift[0])), axis=(0, 1))
    x0, y0 = obs.xy.min(axis=0).astype(int)
    x1, y1 = obs.xy.max(axis=0).astype(int)
    face = (slice(y0, y1), slice(x0, x1))
    assert np.abs(out[1][face].astype(int) - expected[face]).max() <= 1


def test_mirror_clip_swaps_the_sides_and_twice_is_identity():
    frames = [smooth_noise(seed=s) for s in range(2)]
    once = C.mirror_clip(frames)
    np.testing.assert_array_equal(once[0], frames[0][:, ::-1])
    for a, b in zip(C.mirror_clip(once), frames, strict=True):
        np.testing.assert_array_equal(a, b)


# --- Tracks and head motion ----------------------------------------------------------------------


def test_smoothing_fills_missing_frames_and_keeps_a_steady_track():
    tracks = np.tile(np.array([[[10.0, 20.0]]]), (9, 1, 1))
    tracks[3] = np.nan
    np.testing.assert_allclose(C.smooth_tracks(tracks, 2.0), np.broadcast_to([[[10.0, 20.0]]], tracks.shape))


def test_smoothing_keeps_a_straight_motion_inside_the_clip_and_removes_jitter():
    t = np.arange(40, dtype=float)
    rng = np.random.default_rng(1)
    tracks = np.stack([t, 2 * t], axis=-1)[:, None, :] + rng.normal(0, 0.5, (40, 1, 2))
    smooth = C.smooth_tracks(tracks, 2.0)
    inner = slice(8, 32)
    truth = np.stack([t, 2 * t], axis=-1)[:, None, :]
    assert np.abs(smooth[inner] - truth[inner]).std() < 0.5 * np.abs(tracks[inner] - truth[inner]).std()


@pytest.mark.parametrize(
    ("bad", "message"), [(np.full((3, 2, 2), np.nan), "no frame"), (np.zeros((3, 2)), "expected shape")]
)
def test_smoothing_refuses_what_it_cannot_smooth(bad, message):
    with pytest.raises(ValueError, match=message):
        C.smooth_tracks(bad)


@pytest.mark.parametrize("model", C.MOTION_MODELS)
def test_fit_head_motion_recovers_a_known_motion(model):
    rng = np.random.default_rng(2)
    src = rng.uniform(100, 300, (12, 3))
    src[:, 2] -= 200.0
    if model == "3d":
        yaw, roll = math.radians(8.0), math.radians(3.0)
        ry = np.array([[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0], [-math.sin(yaw), 0, math.cos(yaw)]])
        rz = np.array([[math.cos(roll), -math.sin(roll), 0], [math.sin(roll), math.cos(roll), 0], [0, 0, 1]])
        sr = 1.05 * rz @ ry
    else:
        sr = np.eye(3)
        a = math.radians(4.0)
        sr[:2, :2] = 1.05 * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        if model == "affine":
            sr[0, 1] += 0.02
    dst = src @ sr.T + np.array([7.0, -3.0, 11.0])
    motion = C.fit_head_motion(src, dst, model)
    np.testing.assert_allclose(motion.apply(src[:, :2], src[:, 2]), dst[:, :2], atol=1e-6)
    np.testing.assert_allclose(motion.m2, sr[:2, :2], atol=1e-9)
    assert (np.abs(motion.mz).max() > 0.1) == (model == "3d")


def test_carrying_with_no_motion_or_a_whole_pixel_shift_is_exact():
    img = smooth_noise()
    np.testing.assert_array_equal(C.carry(img, C.HeadMotion.identity()), img)
    shift = C.HeadMotion(np.eye(2), np.zeros(2), np.array([3.0, -2.0]))
    moved = C.carry(img, shift)
    np.testing.assert_array_equal(moved[:-2, 3:], img[2:, :-3])  # 3 px right, 2 px up


def test_a_turning_head_moves_near_and_far_points_apart():
    """Depth parallax: with a yaw, the carried picture moves more where the depth map is nearer."""
    h, w = 40, 60
    img = smooth_noise(h, w)
    depth = np.zeros((h, w), np.float32)
    depth[:, :30] = -20.0  # the left half is 20 px nearer the camera
    turn = C.HeadMotion(np.eye(2), np.array([0.1, 0.0]), np.zeros(2))  # 0.1 px per px of depth
    moved = C.carry(img, turn, depth)
    np.testing.assert_array_equal(moved[:, 35:], img[:, 35:])  # depth 0: still
    np.testing.assert_array_equal(moved[:, 4:25], img[:, 6:27])  # depth -20: 2 px to the image's left


def test_the_depth_map_puts_the_nose_in_front_of_the_mouth_corners(astronaut):
    img, obs = astronaut
    depth = C.depth_map(obs.landmarks_px, img.shape[:2])
    assert depth.shape == img.shape[:2] and np.isfinite(depth).all()

    def at(landmark: int) -> float:
        x, y = np.round(obs.xy[landmark]).astype(int)
        return float(depth[y, x])

    assert at(1) < at(MOUTH_CORNER["left"]) and at(1) < at(MOUTH_CORNER["right"])  # smaller z = nearer
    assert abs(at(1) - obs.landmarks_px[1, 2]) < 3.0


# --- Finding smiles ------------------------------------------------------------------------------


def smiling_clip(obs: FaceObservation, scores: list[float], corner_px: float) -> list[FaceObservation | None]:
    """The astronaut's landmarks over time: both mouth corners move outward with the smile score."""
    out: list[FaceObservation | None] = []
    for i, s in enumerate(scores):
        lm = np.array(obs.landmarks_px)
        lm[MOUTH_CORNER["left"], 0] += corner_px * s
        lm[MOUTH_CORNER["right"], 0] -= corner_px * s
        blend = {"mouthSmileLeft": s, "mouthSmileRight": s, "jawOpen": 0.0}
        out.append(FaceObservation(i / 10.0, lm, blend))
    return out


def test_no_smile_no_segment(astronaut):
    assert C.find_smiles(smiling_clip(astronaut[1], [0.0] * 40, 5.0), 10.0) == []
    assert C.find_smiles([], 10.0) == []


def test_a_smile_without_a_rest_before_it_is_left_out(astronaut):
    scores = [0.8] * 10 + [0.0] * 30
    assert C.find_smiles(smiling_clip(astronaut[1], scores, 5.0), 10.0) == []


def test_find_smiles_finds_rest_start_peak_end_and_size(astronaut):
    _, obs = astronaut
    scores = [0.0] * 20 + [0.2, 0.5, 0.8, 0.9, 1.0, 1.0, 0.9, 0.8, 0.5, 0.2] + [0.0] * 10
    clip = smiling_clip(obs, scores, 5.0)
    clip[5] = None  # a frame with no face does not break the search
    (seg,) = C.find_smiles(clip, 10.0)
    assert (seg.start, seg.end) == (20, 29)
    assert seg.peak in (24, 25)
    assert 8 <= seg.rest_index <= 17
    px_per_mm = seg.px_per_mm
    assert px_per_mm > 0
    for side in ("left", "right"):
        assert seg.excursion_mm[side] == pytest.approx(5.0 / px_per_mm, rel=0.05)


def test_clip_segment_cuts_from_rest_minus_lead_to_end_plus_tail():
    seg = C.SmileSegment(rest_index=10, start=14, peak=18, end=22)
    items = list(range(40))
    cut, moved = C.clip_segment(items, seg, lead=3, tail=4)
    assert cut == list(range(7, 27))
    assert (moved.rest_index, moved.start, moved.peak, moved.end) == (3, 7, 11, 15)
    assert seg.clip_range(20, 30, 30) == (0, 20)


# --- Cases and files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "side", "truth", "weaker"),
    [("symmetric", "left", 100.0, None), ("one_sided", "left", 0.0, "right"), ("one_sided", "right", 0.0, "left")],
)
def test_a_case_carries_its_truth(kind, side, truth, weaker):
    case = C.ChimeraCase("franck", C.SmileSegment(1, 2, 3, 4, excursion_mm={"left": 5.0, "right": 6.0}), side, kind)
    assert case.truth_symmetry_pct == truth
    assert case.weaker_side == weaker
    flipped = case.mirrored()
    assert flipped.side != side and flipped.truth_symmetry_pct == truth
    assert flipped.segment.excursion_mm == {"left": 6.0, "right": 5.0}


@pytest.mark.parametrize(("field", "value"), [("side", "up"), ("kind", "wobbly")])
def test_a_case_refuses_unknown_names(field, value):
    args = {"source": "x", "segment": C.SmileSegment(0, 1, 2, 3), "side": "left", "kind": "symmetric", field: value}
    with pytest.raises(ValueError, match=field):
        C.ChimeraCase(**args)


def test_write_clip_is_lossless_for_the_video_reader(tmp_path):
    frames = [smooth_noise(48, 64, seed=s) for s in range(3)]
    path = C.write_clip(frames, tmp_path / "c.avi", 24.0)
    with VideoReader(path) as reader:
        assert reader.info.fps == pytest.approx(24.0)
        back = [f for _, f in reader]
    assert len(back) == 3
    for a, b in zip(back, frames, strict=True):
        np.testing.assert_array_equal(a, b)


def test_write_clip_refuses_a_lossy_container(tmp_path):
    with pytest.raises(ValueError, match=".avi or .mkv"):
        C.write_clip([smooth_noise()] * 2, tmp_path / "c.mp4", 24.0)


def test_the_clip_checks_name_the_problem(astronaut):
    img, obs = astronaut
    with pytest.raises(ValueError, match="as many"):
        C.symmetric_chimera([img, img], [obs], "left")
    with pytest.raises(ValueError, match="side"):
        C.symmetric_chimera([img], [obs], "middle")
    with pytest.raises(ValueError, match="rest_index"):
        C.one_sided_chimera([img], [obs], "left", 3)
    assert obs.landmarks_px.shape[0] >= N_LANDMARKS


def test_the_resting_frame_is_a_neutral_mouth_not_pressed_lips(astronaut):
    _, obs = astronaut
    scores = [0.0] * 20 + [0.5, 0.9, 1.0, 0.9, 0.5] + [0.0] * 5
    clip = smiling_clip(obs, scores, 5.0)
    for i in range(8, 20):  # lips pressed just before the smile: not a rest
        o = clip[i]
        assert o is not None
        clip[i] = FaceObservation(o.t_s, o.landmarks_px, {**o.blendshapes, "mouthPressLeft": 0.6})
    (seg,) = C.find_smiles(clip, 10.0)
    assert seg.rest_index < 8 - 2  # and its ±0.25 s window stays before the pressed lips
    assert seg.max_jaw_open == 0.0


def test_build_case_cuts_the_smile_and_labels_the_truth(astronaut):
    img, obs = astronaut
    scores = [0.0] * 12 + [0.5, 0.9, 1.0, 0.9, 0.5] + [0.0] * 4
    clip = smiling_clip(obs, scores, 0.0)
    (seg,) = C.find_smiles(clip, 10.0)
    frames = [img] * len(clip)
    case, out = C.build_case(frames, clip, seg, "one_sided", "right", "astronaut", 10.0, lead=2, tail=1)
    assert len(out) == seg.end + 1 + 1 - (seg.rest_index - 2)
    assert case.first_frame == seg.rest_index - 2 and case.segment.rest_index == 2
    assert (case.truth_symmetry_pct, case.weaker_side) == (0.0, "left")
    assert case.registration_residual_mm < 0.01  # the head never moved
    assert case.name == f"astronaut_f{seg.start:06d}_one_sided_right"
