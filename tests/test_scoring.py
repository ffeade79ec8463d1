"""Rep scoring, the session score and the assessment estimates, on synthetic frames."""

from __future__ import annotations

from dataclasses import replace

import pytest

from coach.engine.measures.sides import PerSide
from coach.errors import ExerciseError
from coach.sessions.grades import assessment_grades
from coach.sessions.plan import HOLD, MOVE, RELEASE, REST
from coach.sessions.scoring import FrameRecord, score_rep, unmeasured_reason
from coach.sessions.summary import ExerciseSummary, session_score
from exercises import get_exercise, get_program
from exercises.programs import check_overrides, parse_program

FPS = 30.0


def frames_for(ex, left_peak, right_peak, lag_right_s=0.0, narrowing=None, mouth=None, rise_s=None):
    """A rep: smooth rise over ``rise_s`` (default the exercise's), hold, release; right side late by ``lag``."""
    rise = ex.rise_s if rise_s is None else rise_s
    out = []
    total = ex.rise_s + ex.hold_s + ex.release_s + 0.6
    n = int(total * FPS)
    for i in range(n):
        t = i / FPS
        phase = MOVE if t < ex.rise_s else HOLD if t < ex.rise_s + ex.hold_s else RELEASE
        if t >= ex.rise_s + ex.hold_s + ex.release_s:
            phase = REST

        def level(tt, rise=rise):
            if tt < 0:
                return 0.0
            if tt < rise:
                return tt / rise
            if tt < ex.rise_s + ex.hold_s:
                return 1.0
            return max(0.0, 1.0 - (tt - ex.rise_s - ex.hold_s) / ex.release_s)

        lv, rv = left_peak * level(t), right_peak * level(t - lag_right_s)
        out.append(
            FrameRecord(
                t,
                phase,
                PerSide(lv, rv),
                PerSide((lv * 0.8, lv * 0.6), (rv * 0.8, rv * 0.6)),
                None if narrowing is None else PerSide(*(narrowing[s] * level(t) for s in ("left", "right"))),
                None if mouth is None else PerSide(*(mouth[s] * level(t) for s in ("left", "right"))),
                0.9,
            )
        )
    return out


@pytest.mark.parametrize(
    "left, right, completed, symmetry",
    [
        (0.0, 0.0, False, None),  # no movement: the rep is not invented
        (0.3, 0.2, False, None),
        (4.0, 2.0, True, 50.0),
        (3.0, 3.0, True, 100.0),
    ],
)
def test_peak_completion_and_symmetry(left, right, completed, symmetry):
    ex = get_exercise("smile")
    rep = score_rep(ex, 0, 1, 0.0, frames_for(ex, left, right), None)
    assert rep.completed is completed
    assert rep.peak.left == pytest.approx(left, abs=1e-6)
    assert rep.peak.right == pytest.approx(right, abs=1e-6)
    if symmetry is None:
        assert rep.symmetry_pct is None
    else:
        assert rep.symmetry_pct == pytest.approx(symmetry, abs=0.1)


@pytest.mark.parametrize(
    "reference_t_s, reason",
    [
        (0.02, None),  # the session's reference, taken at the end of the rest as the rep starts
        (-1.5, None),  # ...or during the rest just before it
        (-10.0, "no_rest"),  # renewing it failed: the hold is measured from an older rest
        (None, "no_rest"),  # a reference of unknown age
    ],
)
def test_a_guided_rep_is_measured_from_the_rest_just_before_it(reference_t_s, reason):
    ex = get_exercise("smile")
    frames = [replace(f, reference_t_s=reference_t_s) for f in frames_for(ex, 4.0, 2.0)]
    assert unmeasured_reason(ex, 0.0, frames) == reason


def test_no_measured_frame_gives_no_rep():
    ex = get_exercise("smile")
    frames = [replace(f, values=None, move=None) for f in frames_for(ex, 4, 4)]
    assert score_rep(ex, 0, 1, 0.0, frames, None) is None


def test_onset_lag_between_the_sides():
    ex = get_exercise("smile")
    rep = score_rep(ex, 0, 1, 0.0, frames_for(ex, 4.0, 4.0, lag_right_s=0.5), None)
    assert rep.onset_lag_s == pytest.approx(0.5, abs=0.05)
    assert rep.onset_s.right > rep.onset_s.left


def test_too_fast_and_too_big_flags():
    ex = get_exercise("smile")
    assert score_rep(ex, 0, 1, 0.0, frames_for(ex, 4.0, 4.0), None).flags == ()
    fast = score_rep(ex, 0, 1, 0.0, frames_for(ex, 4.0, 4.0, rise_s=0.2), None)
    assert "too_fast" in fast.flags
    big = score_rep(ex, 0, 1, 0.0, frames_for(ex, 9.0, 8.5), None)
    assert "too_big" in big.flags


def test_symmetry_drill_flags_the_strong_side_running_ahead():
    ex = get_exercise("symmetry_hold")
    assert "strong_side_ahead" in score_rep(ex, 0, 1, 0.0, frames_for(ex, 4.0, 2.0), None).flags
    assert "strong_side_ahead" not in score_rep(ex, 0, 1, 0.0, frames_for(ex, 2.4, 2.0), None).flags


@pytest.mark.parametrize(
    "narrowing, affected, flagged, side",
    [
        ({"left": 0.0, "right": 0.0}, None, False, "right"),
        ({"left": 0.0, "right": 30.0}, None, True, "right"),  # the weaker side's eye narrows
        ({"left": 25.0, "right": 30.0}, None, False, "right"),  # both eyes narrow alike: not synkinesis
        ({"left": 30.0, "right": 0.0}, "left", True, "left"),
        ({"left": 12.0, "right": 0.0}, "left", False, "left"),
    ],
)
def test_eye_synkinesis_rule(narrowing, affected, flagged, side):
    ex = get_exercise("smile")
    rep = score_rep(ex, 0, 1, 0.0, frames_for(ex, 4.0, 2.0, narrowing=narrowing), affected)
    assert rep.synkinesis is flagged
    assert rep.synkinesis_side == side


def test_mouth_synkinesis_in_eye_closure():
    ex = get_exercise("gentle_eye_closure")
    quiet = score_rep(ex, 0, 1, 0.0, frames_for(ex, 80.0, 60.0, mouth={"left": 0.2, "right": 0.3}), None)
    moving = score_rep(ex, 0, 1, 0.0, frames_for(ex, 80.0, 60.0, mouth={"left": 0.2, "right": 2.5}), None)
    assert not quiet.synkinesis and moving.synkinesis
    assert moving.synkinesis_value == pytest.approx(2.5, abs=0.01)


def _summary(ex_id, left, right, planned=1):
    return ExerciseSummary(ex_id, 0, ex_id, "mm", planned, 1, 0, PerSide(left, right), None, None, 0.1, 0)


def test_session_score_is_explained():
    ex = get_exercise("smile")
    reps = [score_rep(ex, 0, i, 0.0, frames_for(ex, 4.0, 3.0), None) for i in (1, 2)]
    score, parts, why = session_score([_summary("smile", 4.0, 3.0, planned=4)], reps)
    assert parts["completion"] == pytest.approx(15.0)  # 2 of 4
    assert parts["symmetry"] == pytest.approx(30.0, abs=0.1)  # 75 % alike
    assert score == round(sum(parts.values()))
    assert why[0].startswith("You did 2 of 4 movements")
    assert session_score([], []) == (None, {}, ())


def test_assessment_grades_follow_their_rules():
    summaries = [
        _summary("brow_raise", 5.0, 0.25),  # 5 % → 1
        _summary("gentle_eye_closure", 90.0, 27.0),  # 30 % → 2
        _summary("big_smile", 10.0, 5.0),  # 50 % → 3
        _summary("snarl", 3.0, 2.4),  # 80 % → 4
        _summary("pucker", 4.0, 3.8),  # 95 % → 5
    ]
    g = assessment_grades(summaries, [], None, {"eye_aperture_mm": 2.0, "commissure_height_mm": -1.0})
    sb = g["sunnybrook_like"]
    assert g["affected_side_used"] == "right"
    assert sb["voluntary_movement"] == {
        "brow_lift": 1,
        "gentle_eye_closure": 2,
        "open_mouth_smile": 3,
        "snarl": 4,
        "lip_pucker": 5,
    }
    assert sb["voluntary_score"] == 4 * 15
    assert sb["resting"] == {"eye": 1, "mouth": 0}
    assert sb["composite"] == 60 - 5 - 0
    # eFACE's dynamic items only (lip pucker and snarl are Sunnybrook's), the smile's from the open smile.
    ef = g["eface_like"]
    assert ef["items"] == {"brow_elevation": 5.0, "gentle_eye_closure": 30.0, "oral_commissure_with_smile": 50.0}
    assert ef["missing"] == ["full_eye_closure", "lower_lip_eee"] and ef["dynamic_score"] is None
    assert ef["measured_items_mean"] == pytest.approx((5 + 30 + 50) / 3, abs=0.1)
    assert "estimate" in g["label"].lower()


def test_a_missing_expression_makes_the_sunnybrook_like_scores_incomplete_not_lower():
    summaries = [_summary(i, 4.0, 4.0) for i in ("brow_raise", "gentle_eye_closure", "big_smile", "snarl")]
    sb = assessment_grades(summaries, [], "left", None)["sunnybrook_like"]
    assert sb["missing"] == ["lip_pucker"]
    assert sb["voluntary_score"] is None and sb["composite"] is None and sb["synkinesis_score"] is None
    assert sb["voluntary_movement"] == {"brow_lift": 5, "gentle_eye_closure": 5, "open_mouth_smile": 5, "snarl": 5}


@pytest.mark.parametrize(
    ("narrowing", "grade"),
    [
        ({"left": 25.0, "right": 25.0}, 0),  # a normal smile narrows both eyes alike: no synkinesis
        ({"left": 40.0, "right": 25.0}, 1),  # 15 points more on the watched (left) eye
        ({"left": 60.0, "right": 25.0}, 2),
        ({"left": 80.0, "right": 20.0}, 3),
    ],
)
def test_smile_synkinesis_is_graded_on_the_watched_eye_beyond_the_other(narrowing, grade):
    ex = get_exercise("big_smile")
    rep = score_rep(ex, 0, 1, 0.0, frames_for(ex, 2.0, 4.0, narrowing=narrowing), "left")
    summaries = [_summary(i, 2.0, 4.0) for i in ("brow_raise", "gentle_eye_closure", "big_smile", "snarl", "pucker")]
    sb = assessment_grades(summaries, [rep], "left", None)["sunnybrook_like"]
    assert sb["synkinesis"]["open_mouth_smile"] == grade


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"smile": {"reps": 0}}, "1 to 50"),
        ({"smile": {"color": 3}}, "cannot be tuned"),
        ({"wink": {"reps": 3}}, "not in this program"),
        ({"smile": {"hold_s": "long"}}, "must be a number"),
    ],
)
def test_bad_tuning_is_refused_with_a_reason(overrides, message):
    with pytest.raises(ExerciseError, match=message):
        check_overrides(overrides, {"smile"}, "tuning")
    with pytest.raises(ExerciseError):
        get_program("masseteric").plan(overrides)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "x", "for": "x", "description": "x", "steps": [{"exercise": "smile"}]}, "'id'"),
        ({"id": "p", "name": "x", "for": "x", "description": "x", "steps": []}, "steps"),
        ({"id": "p", "name": "x", "for": "x", "description": "x", "steps": [{"exercise": "yodel"}]}, "yodel"),
        ({"id": "p", "name": "x", "for": "x", "description": "x", "steps": [{"exercise": "smile"}], "x": 1}, "'x'"),
    ],
)
def test_malformed_program_names_the_field(data, message):
    with pytest.raises(ExerciseError, match=message):
        parse_program(data, "p.toml")
