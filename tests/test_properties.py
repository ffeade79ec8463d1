"""Property-based tests: the pure measures and the file parsers on whatever hypothesis can think of.

Measures never raise on numbers (NaN and infinity included) and give finite
answers or ``None``; geometry on any finite landmarks gives finite answers or a
clean ``ValueError``; the exercise and program parsers let only
:class:`ExerciseError` escape, whatever table they are given.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from coach.engine import landmarks as L
from coach.engine.exercise import ExerciseSpec
from coach.engine.face_frame import face_frame, pose_angles_deg
from coach.engine.measures import landmark as lmm
from coach.engine.measures.sides import PerSide, other_side
from coach.engine.measures.symmetry import symmetry_pct, weaker_side
from coach.errors import ExerciseError
from exercises.programs import Program, check_overrides, parse_program
from exercises.registry import _FIELDS, load_file, parse_exercise
from tests.test_face_frame import landmarks_px

PROPERTY = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

any_float = st.floats(allow_nan=True, allow_infinity=True)
sides = st.sampled_from([None, "left", "right"])


# --- symmetry_pct and weaker_side --------------------------------------------------------------


@PROPERTY
@given(any_float, any_float, sides)
@example(1e308, 1e-8, "left")  # the ratio overflows: no number, rather than infinity
def test_symmetry_pct_never_raises_and_is_a_finite_percentage_or_none(left, right, affected):
    got = symmetry_pct(left, right, affected)
    assert got is None or (math.isfinite(got) and got >= 0.0)
    if affected is None and got is not None:
        assert 0.0 <= got <= 100.0
    if not (math.isfinite(left) and math.isfinite(right)):
        assert got is None


@PROPERTY
@given(any_float, any_float, sides)
def test_symmetry_pct_is_none_when_the_reference_side_did_not_move(left, right, affected):
    reference = {None: max(left, right), "left": right, "right": left}[affected]
    if math.isfinite(left) and math.isfinite(right) and reference <= 0.0:
        assert symmetry_pct(left, right, affected) is None


@PROPERTY
@given(any_float, any_float)
def test_swapping_the_sides_swaps_the_answers(left, right):
    assert symmetry_pct(left, right) == symmetry_pct(right, left)
    assert symmetry_pct(left, right, "left") == symmetry_pct(right, left, "right")
    got = weaker_side(left, right)
    assert weaker_side(right, left) == (None if got is None else other_side(got))


@PROPERTY
@given(any_float, any_float)
def test_weaker_side_never_raises_and_names_the_side_that_moved_less(left, right):
    got = weaker_side(left, right)
    assert got in (None, "left", "right")
    if not (math.isfinite(left) and math.isfinite(right)):
        assert got is None
    if got is not None:
        weaker, stronger = (left, right) if got == "left" else (right, left)
        assert max(weaker, 0.0) < stronger
        # Never "weaker" when the symmetry says the two are the same.
        assert symmetry_pct(left, right) < 95.0


@PROPERTY
@given(any_float, any_float, st.text(max_size=8).filter(lambda s: s not in ("left", "right")))
def test_an_unknown_affected_side_is_a_value_error_naming_it(left, right, affected):
    with pytest.raises(ValueError, match="side must be"):
        symmetry_pct(left, right, affected)


# --- landmark measures and the face frame on random landmark arrays -------------------------------

coordinate = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
landmark_arrays = hnp.arrays(np.float64, (L.N_LANDMARKS, 2), elements=coordinate, fill=coordinate)


def _finite(x: Any) -> bool:
    if isinstance(x, PerSide):
        return _finite(x.left) and _finite(x.right)
    if isinstance(x, dict):
        return all(_finite(v) for v in x.values())
    return bool(np.isfinite(np.asarray(x, dtype=np.float64)).all())


@PROPERTY
@given(landmark_arrays, landmark_arrays)
def test_landmark_measures_are_finite_on_any_finite_landmarks(lm, base):
    for value in (
        lmm.commissure_mm(lm),
        lmm.eye_aperture_mm(lm),
        lmm.brow_height_mm(lm),
        lmm.mouth_width_mm(lm),
        lmm.corner_to_midline_mm(lm),
        lmm.resting_asymmetry(lm),
        lmm.excursion_mm(lm, base, L.MOUTH_CORNER),
    ):
        assert _finite(value)
    assert lmm.mouth_width_mm(lm) >= 0.0
    assert lmm.eye_aperture_mm(lm).left >= 0.0 and lmm.eye_aperture_mm(lm).right >= 0.0


@PROPERTY
@given(
    st.one_of(
        st.lists(st.sampled_from([0, 1, 2, 3, L.N_LANDMARKS - 1, L.N_LANDMARKS, 500]), max_size=2),
        st.sampled_from([[L.N_LANDMARKS, 2, 1], [1, L.N_LANDMARKS, 2]]),
    )
)
def test_landmark_measures_refuse_a_wrong_shape_with_a_value_error(shape):
    assume(not (len(shape) == 2 and shape[0] >= L.N_LANDMARKS and shape[1] >= 2))
    with pytest.raises(ValueError, match="expected shape"):
        lmm.mouth_width_mm(np.zeros(shape))


@PROPERTY
@given(coordinate, coordinate)
def test_smile_angle_deg_is_a_finite_angle(outward, up):
    angle = lmm.smile_angle_deg(outward, up)
    assert math.isfinite(angle) and -180.0 <= angle <= 180.0


@PROPERTY
@given(st.text(max_size=6), coordinate, coordinate)
def test_outward_up_accepts_only_the_two_sides(side, dx, dy):
    if side in ("left", "right"):
        out, up = lmm.outward_up(side, np.array([dx, dy]))
        assert abs(out) == abs(dx) and up == dy
    else:
        with pytest.raises(ValueError, match="side must be"):
            lmm.outward_up(side, np.array([dx, dy]))


@PROPERTY
@given(
    st.floats(-180.0, 180.0),
    st.floats(0.05, 20.0),
    st.tuples(coordinate, coordinate),
    hnp.arrays(np.float64, (L.N_LANDMARKS, 2), elements=st.floats(-3.0, 3.0)),
)
def test_face_frame_of_a_plausible_face_maps_to_finite_mm_and_back(angle_deg, scale, shift, jitter_px):
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    xy = scale * (landmarks_px()[:, :2] + jitter_px) @ np.array([[c, -s], [s, c]]).T + np.asarray(shift)
    try:
        ff = face_frame(xy)
    except ValueError:
        return  # a face squashed flat by the jitter is refused, not measured
    mm = ff.to_mm(xy)
    assert np.isfinite(mm).all()
    assert math.isfinite(ff.px_per_mm) and ff.px_per_mm > 0
    np.testing.assert_allclose(ff.to_px(mm), xy, atol=1e-6 * max(1.0, float(np.abs(xy).max())))


@PROPERTY
@given(landmark_arrays)
def test_face_frame_of_any_finite_landmarks_is_finite_or_a_value_error(xy):
    try:
        ff = face_frame(xy)
    except ValueError:
        return
    assert np.isfinite(ff.origin_px).all() and np.isfinite(ff.x_axis).all()
    assert math.isclose(float(np.hypot(*ff.x_axis)), 1.0, rel_tol=1e-9)
    assert math.isfinite(ff.px_per_mm) and ff.px_per_mm > 0


@PROPERTY
@given(hnp.arrays(np.float64, (4, 4), elements=any_float))
def test_pose_angles_deg_of_any_matrix_are_finite(pose):
    assert all(math.isfinite(a) for a in pose_angles_deg(pose))


# --- the exercise and program parsers on arbitrary tables -----------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**20, max_value=10**5000),
    any_float,
    st.text(max_size=20),
    st.binary(max_size=8),
    st.dates(),
)
junk = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
keys = st.one_of(st.sampled_from(sorted(_FIELDS)), st.text(max_size=12), st.integers(), st.none())
arbitrary_tables = st.dictionaries(keys, junk, max_size=12)

VALID_EXERCISE: dict[str, Any] = {
    "id": "wink",
    "name": "Gentle wink",
    "measure": "mouth_corner",
    "instructions": "Close one eye softly.",
    "good_rep": "Both sides move together.",
    "reps": 3,
    "hold_s": 2.5,
    "on_level": 1.5,
    "off_level": 0.5,
}
VALID_PROGRAM: dict[str, Any] = {
    "id": "p",
    "name": "A program",
    "for": "Anyone",
    "description": "Smile.",
    "steps": [{"exercise": "smile", "reps": 3}],
}


def _one_field_spoiled(valid: dict[str, Any], names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid table with one field replaced by junk, dropped, or a junk field added."""

    def spoil(args: tuple[str, Any, int]) -> dict[str, Any]:
        name, value, how = args
        out = dict(valid)
        if how == 0:
            out.pop(name, None)
        else:
            out[name] = value
        return out

    return st.tuples(st.sampled_from(names), junk, st.integers(0, 2)).map(spoil)


def _parse_exercise_or_error(data: Any) -> None:
    try:
        spec = parse_exercise(data, "junk.toml")
    except ExerciseError as err:
        assert str(err).startswith("junk.toml: ")
        assert len(str(err)) < 2000
    else:
        assert isinstance(spec, ExerciseSpec)


@PROPERTY
@given(st.one_of(arbitrary_tables, junk))
def test_parse_exercise_lets_only_exercise_error_escape(data):
    _parse_exercise_or_error(data)


@PROPERTY
@given(_one_field_spoiled(VALID_EXERCISE, [*sorted(_FIELDS), "colour"]))
def test_parse_exercise_names_the_spoiled_field(data):
    _parse_exercise_or_error(data)


def _parse_program_or_error(data: Any) -> None:
    try:
        program = parse_program(data, "junk.toml")
    except ExerciseError as err:
        assert str(err).startswith("junk.toml: ")
        assert len(str(err)) < 2000
    else:
        assert isinstance(program, Program)
        program.plan()  # what a valid program says can be run


@PROPERTY
@given(st.one_of(arbitrary_tables, junk))
def test_parse_program_lets_only_exercise_error_escape(data):
    _parse_program_or_error(data)


step_junk = st.dictionaries(st.sampled_from(["exercise", "reps", "hold_s", "rest_s", "colour"]), junk, max_size=4)


@PROPERTY
@given(
    st.one_of(
        _one_field_spoiled(VALID_PROGRAM, ["id", "name", "for", "description", "steps", "assessment", "colour"]),
        st.lists(st.one_of(step_junk, junk), max_size=3).map(lambda steps: {**VALID_PROGRAM, "steps": steps}),
        st.fixed_dictionaries({"reps": junk}).map(
            lambda tuned: {**VALID_PROGRAM, "steps": [{"exercise": "smile", **tuned}]}
        ),
    )
)
def test_parse_program_names_the_spoiled_field_or_step(data):
    _parse_program_or_error(data)


@PROPERTY
@given(st.one_of(junk, st.dictionaries(st.one_of(st.just("smile"), st.text(max_size=8)), junk, max_size=3)))
def test_check_overrides_lets_only_exercise_error_escape(overrides):
    try:
        check_overrides(overrides, {"smile"}, "tuning")
    except ExerciseError as err:
        assert str(err).startswith("tuning: ")


@settings(max_examples=150, deadline=None, database=None)
@given(st.binary(max_size=400))
def test_any_bytes_in_an_exercise_file_load_or_give_one_exercise_error(content):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "odd.toml"
        path.write_bytes(content)
        try:
            load_file(path)
        except ExerciseError as err:
            assert str(err).startswith("odd.toml: ")
