"""The validity benchmark: its cases, their truth, its figures, and (slow) two cases through the engine."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from benchmarks import validity as V
from coach.virtual.phantom import source_image

RECORD_KEYS = {
    "case",
    "condition",
    "person",
    "seed",
    "truth_symmetry_pct",
    "truth_weaker",
    "truth_mm",
    "truth_mm_in_phantom",
    "facecoach",
    "landmarks",
    "reps_found",
    "reps_truth",
    "reps_s",
    "frames_scored",
    "frames",
    "warnings",
    "abstained",
    "seconds",
}
METHOD_KEYS = {"symmetry_pct", "rep_symmetry_pct", "weaker_side", "excursion_mm", "error_pts", "rep_errors_pts"}


def _case(condition: str, index: int = 0) -> V.Case:
    return [c for c in V.cases() if c.condition == condition][index]


# --- the case generator --------------------------------------------------------------------------


def test_the_full_set_has_at_least_eight_people_and_every_condition():
    cases = V.cases()
    assert len({c.person for c in cases}) >= 8
    assert {c.condition for c in cases} == set(V.CONDITIONS)
    assert set(V.PEOPLE) <= {c.person for c in cases}


def test_names_and_seeds_are_unique_and_the_same_every_time():
    first, again = V.cases(), V.cases()
    assert [(c.name, c.seed) for c in first] == [(c.name, c.seed) for c in again]
    assert first == again
    assert len({c.name for c in first}) == len(first)
    assert len({c.seed for c in first}) == len(first)


def test_quick_is_a_small_subset_of_the_full_set():
    full = {c.name: c for c in V.cases()}
    quick = V.cases(quick=True)
    assert 8 <= len(quick) <= 12
    assert all(full[c.name] == c for c in quick)
    assert {c.condition for c in quick} == set(V.QUICK_CONDITIONS)


# Case field → the axis it belongs to (light gain and gradient are one axis, like the pulled corner and its ratio).
AXES = {
    "strong_mm": "movement",
    "ratio": "ratio",
    "face_width_px": "size",
    "head": "head",
    "degrade": "image",
    "light_gain": "light",
    "light_gradient": "light",
    "blink": "blink",
    "teeth_mm": "teeth",
    "medial_pull": "midline",
}


def test_each_condition_varies_the_base_along_one_axis():
    base = V.Case("people", "astronaut", 0)
    for c in V.cases():
        if c.condition == "moderate":
            continue
        axes = {axis for f, axis in AXES.items() if getattr(c, f) != getattr(base, f)}
        if c.medial_pull:
            axes.discard("ratio")
        assert len(axes) <= 1, (c.name, axes)


def test_both_sides_are_weak_in_every_condition():
    by: dict[str, set[str]] = {}
    for c in V.cases():
        by.setdefault(c.condition, set()).add(c.weak_side)
    assert {cond for cond, sides in by.items() if sides != {"left", "right"}} == set()


def test_the_moderate_group_stays_moderate():
    mod = [c for c in V.cases() if c.condition == "moderate"]
    assert len(mod) == V.MODERATE_CASES == 24
    for c in mod:
        assert c.face_width_px >= 120
        assert c.head.natural == 1.0 and not c.head.stronger
        assert abs(c.head.yaw_deg) + c.head.natural_turn_deg <= 10.0
        assert c.head.pitch_deg == 0 and c.head.yaw_swing_deg == 0 and c.head.pitch_swing_deg == 0
        assert c.degrade == "none" and c.person in V.MODERATE_PEOPLE
    assert len({c.person for c in mod}) >= 5
    assert {c.ratio for c in mod} >= {0.0, 1.0}


@pytest.mark.parametrize(
    ("case", "truth_pct", "weaker", "truth_mm"),
    [
        (V.Case("people", "obama", 1), 50.0, "left", {"left": 2.0, "right": 4.0}),
        (V.Case("ratio", "obama", 1, ratio=0.0, weak_side="right"), 0.0, "right", {"left": 4.0, "right": 0.0}),
        (V.Case("ratio", "obama", 1, ratio=1.0), 100.0, None, {"left": 4.0, "right": 4.0}),
        (V.Case("move_10mm", "obama", 1, strong_mm=10.0, ratio=0.75), 75.0, "left", {"left": 7.5, "right": 10.0}),
        # A corner pulled to the midline moves none of the way up and out: its pull is not movement.
        (V.Case("midline", "obama", 1, ratio=0.25, medial_pull=True), 0.0, "left", {"left": 0.0, "right": 4.0}),
        (V.Case("midline", "obama", 1, ratio=1.0, medial_pull=True), 0.0, "left", {"left": 0.0, "right": 4.0}),
    ],
)
def test_truth_is_the_ratio_of_the_movements_up_and_out(case, truth_pct, weaker, truth_mm):
    assert case.truth_symmetry_pct == pytest.approx(truth_pct)
    assert case.truth_weaker == weaker
    assert case.truth_mm == pytest.approx(truth_mm)


def test_a_corner_pulled_to_the_midline_has_its_pull_as_opposite_truth():
    case = V.Case("midline", "obama", 1, ratio=0.25, medial_pull=True)
    assert case.truth_opposite_mm == pytest.approx({"left": 1.0, "right": 0.0})
    assert V.Case("people", "obama", 1).truth_opposite_mm == {"left": 0.0, "right": 0.0}


def test_generated_cases_carry_the_truth_of_their_condition():
    mid = _case("midline", 1)
    assert mid.medial_pull and mid.truth_symmetry_pct == pytest.approx(0.0)
    assert {c.truth_symmetry_pct for c in V.cases() if c.condition == "ratio"} == {0.0, 25.0, 75.0, 100.0}
    assert {c.strong_mm for c in V.cases() if c.condition.startswith("move_")} == {2.0, 6.0, 10.0}
    assert _case("face_400px").size_wh == (1280, 720) and _case("face_80px").size_wh == (640, 480)


def test_the_blink_falls_inside_every_hold():
    eye = V.blink_in_hold(V.SCHEDULE)
    t = np.arange(0.0, V.SCHEDULE.duration_s, 1 / 30)
    blinking = [x for x in t if eye.activation(x) > 0]
    assert blinking and all(V.SCHEDULE.activation(x) == 1.0 for x in blinking)
    held = [x for x in t if eye.activation(x) == 1.0]
    assert {int(x // V.SCHEDULE.period_s) for x in held} == {0, 1}  # once in each rep


def test_the_stronger_sway_reaches_its_amplitudes_and_no_more():
    head = V.Head(stronger=True).motion(seed=3)
    f = 200.0
    poses = [head.pose_at(t, f) for t in np.arange(0.0, 60.0, 0.05)]
    roll = np.array([p.roll_deg for p in poses])
    scale = np.array([p.scale for p in poses])
    shift = np.array([p.shift_px for p in poses])
    assert 5.5 < np.abs(roll).max() <= 6.0 + 1e-9
    assert 0.045 < np.abs(scale - 1).max() <= 0.05 + 1e-9
    assert 0.045 * f < np.abs(shift).max() <= 0.05 * f + 1e-9
    assert head.pose_at(1.0, f) == V.Head(stronger=True).motion(seed=3).pose_at(1.0, f)


# --- the degradations ----------------------------------------------------------------------------


def _frames(n: int = 8, wh: tuple[int, int] = (96, 64)) -> list[tuple[float, np.ndarray]]:
    rng = np.random.default_rng(0)
    base = rng.integers(60, 200, (wh[1], wh[0], 3)).astype(np.uint8)
    base = np.repeat(np.repeat(base[::8, ::8], 8, axis=0), 8, axis=1)[: wh[1], : wh[0]]
    return [(i / 30, np.roll(base, i, axis=1).copy()) for i in range(n)]


def test_jpeg_keeps_times_and_sizes_and_changes_pixels_a_little():
    frames = _frames()
    out = list(V.jpeg(frames))
    assert [t for t, _ in out] == [t for t, _ in frames]
    for (_, a), (_, b) in zip(frames, out, strict=True):
        assert a.shape == b.shape and b.dtype == np.uint8
        assert 0 < np.abs(a.astype(int) - b).mean() < 20


def test_dim_and_noisy_dims_adds_noise_and_is_seeded():
    frames = _frames(3)
    out = list(V.dim_and_noisy(frames, seed=5))
    again = list(V.dim_and_noisy(frames, seed=5))
    for (_, a), (_, b), (_, c) in zip(frames, out, again, strict=True):
        np.testing.assert_array_equal(b, c)
        resid = b.astype(float) - V.DIM_GAIN * a
        assert abs(resid.mean()) < 1.0 and 5.0 < resid.std() < 7.0


def test_vp8_returns_every_frame_at_its_time():
    if not V.vp8_available():
        pytest.skip("PyAV has no libvpx encoder")
    frames = _frames(12, (160, 128))
    out = list(V.vp8(frames, (160, 128), 30.0))
    assert [t for t, _ in out] == [t for t, _ in frames]
    assert all(f.shape == (128, 160, 3) for _, f in out)
    again = list(V.vp8(frames, (160, 128), 30.0))
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(out, again, strict=True))  # no clock in it


# --- the photo -----------------------------------------------------------------------------------


def test_padding_keeps_the_face_where_its_landmarks_are(model):
    from coach.virtual.phantom3d import FaceModel3D

    rgb = np.clip(source_image() + 0.5, 0, 255).astype(np.uint8)
    face = FaceModel3D.from_image(rgb, model)
    photo = V.Photo("astronaut", "", face.landmarks_px, face.pose, 0.0, 0.0, 0.0, face.face_width_px)
    padded = V.padded_face(rgb, photo, 80.0, (640, 480))
    h, w = padded.image.shape[:2]
    # An 80 px face in a 640-px frame needs 8 face widths of picture around the eyes.
    assert w >= 8 * face.face_width_px and h > rgb.shape[0]
    shift = padded.landmarks_px[0, :2] - face.landmarks_px[0, :2]
    assert shift == pytest.approx(np.round(shift))
    for i in (1, 61, 291, 133, 362):
        x0, y0 = np.round(face.landmarks_px[i, :2]).astype(int)
        x1, y1 = np.round(padded.landmarks_px[i, :2]).astype(int)
        np.testing.assert_array_equal(rgb[y0, x0], padded.image[y1, x1])
    same = V.padded_face(rgb, photo, 200.0, (640, 480))
    assert same.image.shape[1] < w  # a larger face needs less picture


# --- the figures ---------------------------------------------------------------------------------


def _record(condition: str, truth: float, fc: float | None, lm: float | None, reps: int = 2, **kw) -> dict:
    weak = "left" if truth < 100 else None

    def method(sym: float | None, weaker: str | None) -> dict:
        rep = [] if sym is None else [sym - 1.0, sym + 1.0]
        err = None if sym is None else abs(sym - truth)
        return {
            "symmetry_pct": sym,
            "rep_symmetry_pct": rep,
            "weaker_side": weaker,
            "excursion_mm": None,
            "error_pts": err,
            "rep_errors_pts": [abs(v - truth) for v in rep],
        }

    return {
        "case": f"{condition}-{truth}-{fc}",
        "condition": condition,
        "truth_symmetry_pct": truth,
        "truth_weaker": weak,
        "facecoach": method(fc, kw.get("fc_weaker", weak)),
        "landmarks": method(lm, kw.get("lm_weaker", weak)),
        "reps_found": 0 if fc is None else reps,
        "reps_truth": 2,
        "frames_scored": 0 if fc is None else 280,
        "frames": 294,
        "abstained": fc is None,
    }


def test_figures_count_errors_wrong_sides_reps_and_abstentions():
    records = [
        _record("people", 50.0, 52.0, 80.0, lm_weaker="right"),
        _record("people", 0.0, 12.0, 30.0, reps=3),
        _record("people", 100.0, 99.0, 90.0),
        _record("moderate", 50.0, None, None),
    ]
    f = V.figures_of(records)
    fc, lm = f["facecoach"], f["landmarks"]
    assert f["cases"] == 4 and f["abstained"] == 1 and f["abstention_rate"] == 0.25
    assert f["reps_exact"] == 2  # 2 reps, 3 reps, 2 reps, none
    assert fc["cases_with_number"] == 3
    assert fc["mean_abs_error_pts"] == pytest.approx(5.0) and fc["max_abs_error_pts"] == 12.0
    assert lm["mean_abs_error_pts"] == pytest.approx(70.0 / 3, abs=0.01) and lm["max_abs_error_pts"] == 30.0
    assert fc["asymmetric_cases_with_number"] == 2 and fc["weaker_side_wrong"] == 0 and lm["weaker_side_wrong"] == 1
    # FaceCoach: the second case's reps (11 and 13 off); landmarks: all but one rep of the third case.
    assert fc["reps_off_by_more_than_10_pts"] == 2 and fc["reps_scored"] == 6
    assert lm["reps_off_by_more_than_10_pts"] == 5


def test_report_and_table_show_both_methods_per_condition(tmp_path):
    records = [_record("people", 50.0, 51.0, 70.0), _record("moderate", 25.0, None, None)]
    figures = {"generated_by": "benchmarks/validity.py --quick", "machine": "test", **V.report(records)}
    assert [r["condition"] for r in figures["conditions"]] == ["people", "moderate"]
    assert figures["moderate"]["abstention_rate"] == 1.0
    met = figures["targets_met"]
    assert met["mean_abs_error_pts"] and not met["moderate_abstention_rate"] and not met["reps_exact"]
    table = V.table_markdown(figures)
    assert "FaceCoach mean / max error" in table and "landmarks mean / max error" in table
    people = next(line for line in table.splitlines() if line.startswith("| people"))
    assert "| 1.0 / 1.0 | 20.0 / 20.0 |" in people
    moderate = next(line for line in table.splitlines() if line.startswith("| moderate"))
    assert "| – | – |" in moderate and "1 (100 %)" in moderate
    assert "≤ 2 / ≤ 8" in table

    doc = tmp_path / "validity.md"
    doc.write_text(f"# T\n\n{V.DOCS_BEGIN}\nold\n{V.DOCS_END}\nafter\n")
    V.write_docs(figures, doc)
    text = doc.read_text()
    assert "old" not in text and text.endswith(f"{V.DOCS_END}\nafter\n") and table in text
    doc.write_text("no markers")
    with pytest.raises(ValueError, match="validity:begin"):
        V.write_docs(figures, doc)


def test_the_docs_have_the_markers():
    text = V.DOCS.read_text()
    assert text.index(V.DOCS_BEGIN) < text.index(V.DOCS_END)


# --- through the engine --------------------------------------------------------------------------


@pytest.mark.slow
def test_two_cases_run_through_the_engine_and_record_everything(model):
    from benchmarks.media import MediaUnavailable
    from tests.conftest import unavailable

    chosen = [_case("people", 0), replace(_case("jpeg", 0), person="grace_hopper")]
    try:
        photos, failed = V.measure_people([c.person for c in chosen], model)
    except MediaUnavailable as err:
        unavailable(str(err), "allow access to PyPI, or fill the media cache (python -m benchmarks.media)")
    if failed:
        unavailable(f"stills not usable: {failed}", "python -m benchmarks.media astronaut grace_hopper")
    records = V.run(chosen, photos, jobs=1)
    assert [r["case"] for r in records] == [c.name for c in chosen]
    for r, c in zip(records, chosen, strict=True):
        assert RECORD_KEYS <= set(r), RECORD_KEYS - set(r)
        assert METHOD_KEYS <= set(r["facecoach"]) and METHOD_KEYS <= set(r["landmarks"])
        assert r["truth_symmetry_pct"] == c.truth_symmetry_pct and r["truth_weaker"] == c.truth_weaker
        assert r["truth_mm_in_phantom"] == pytest.approx(r["truth_mm"], abs=1e-3)
        assert r["frames"] == 294 and 0 <= r["frames_scored"] <= r["frames"]
        assert r["abstained"] == (r["reps_found"] == 0)
        assert len(r["facecoach"]["rep_symmetry_pct"]) == r["reps_found"] == len(r["reps_s"])
        sym = r["facecoach"]["symmetry_pct"]
        assert sym is None or (0.0 <= sym <= 100.0 and math.isfinite(sym))
    figures = V.report(records)
    assert figures["overall"]["cases"] == 2
    assert "people" in V.table_markdown({**figures, "generated_by": "test", "machine": "test"})
