"""Direction: only movement the way an exercise expects counts; a pull the other way is reported apart.

Issue 13, item 5 (a corner dragged toward the midline counted as movement) and item 2's
video that starts mid-smile (its rests were scored as repetitions).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from coach.engine.analysis import analyze_frames, tracked
from coach.engine.exercise import MEASURES
from coach.engine.measures.direction import DRAGGED_MM, IN, OUT, UP, UP_AND_OUT, dragged
from coach.engine.measures.sides import PerSide
from coach.sessions.cues import SessionEngine
from coach.sessions.plan import BASELINE, HOLD, REST, SessionPlan
from coach.sessions.scoring import score_rep
from coach.virtual.phantom import Action, PhantomRenderer, Schedule, source_image
from coach.virtual.phantom3d import FaceModel3D, Phantom3DSpec
from coach.virtual.session_phantom import Performance, session_phantom
from exercises import get_exercise
from tests.test_scoring import frames_for

SCHEDULE = Schedule(lead_in_s=1.0, rise_s=0.6, hold_s=1.5, release_s=0.6, rest_s=1.6, reps=3)
FAST = {"rise_s": 0.8, "hold_s": 1.5, "release_s": 0.8, "rest_s": 1.2}
LOOK = {"size_wh": (480, 360), "face_width_px": 170.0, "schedule": SCHEDULE}


@pytest.fixture(scope="module")
def face(model) -> FaceModel3D:
    return FaceModel3D.from_image(np.clip(source_image() + 0.5, 0, 255).astype(np.uint8), model)


@pytest.mark.parametrize(
    ("o", "u", "along", "opposite"),
    [
        (3.0, 4.0, 5.0, 0.0),  # up and out: all of it
        (0.0, 2.0, 2.0, 0.0),  # straight up
        (2.0, 0.0, 2.0, 0.0),  # straight out
        (-3.0, 0.0, 0.0, 3.0),  # toward the midline: none of it
        (-3.0, 4.0, 4.0, 3.0),  # in and up: the upward part only
        (3.0, -4.0, 3.0, 4.0),  # out and down: the outward part only
        (-3.0, -4.0, 0.0, 5.0),  # in and down: all against
    ],
)
def test_up_and_out_splits_a_movement_into_along_and_opposite(o, u, along, opposite):
    assert UP_AND_OUT.along(o, u) == pytest.approx(along)
    assert UP_AND_OUT.opposite(o, u) == pytest.approx(opposite)
    # Nothing is lost: the two parts are the vector's components, each counted once.
    assert math.hypot(UP_AND_OUT.along(o, u), UP_AND_OUT.opposite(o, u)) == pytest.approx(math.hypot(o, u))


def test_each_directed_measure_counts_only_its_own_way():
    assert (UP.along(1.0, -2.0), UP.opposite(1.0, -2.0)) == (0.0, 2.0)
    assert (OUT.along(-1.0, 2.0), OUT.opposite(-1.0, 2.0)) == (0.0, 1.0)
    assert (IN.along(-1.0, 2.0), IN.opposite(-1.0, 2.0)) == (1.0, 0.0)
    assert MEASURES["mouth_corner"].direction is UP_AND_OUT
    assert MEASURES["brow"].direction is UP and MEASURES["nose_ala"].direction is UP
    assert MEASURES["eye_closure"].direction is None


def test_a_side_is_dragged_when_it_moved_more_the_other_way_from_the_threshold_up():
    none = PerSide(0.0, 0.0)
    assert dragged(none, PerSide(DRAGGED_MM, DRAGGED_MM - 0.01), UP_AND_OUT) == ("left",)
    assert dragged(none, PerSide(0.0, 2.0), OUT) == ("right",)
    # Out 3 mm and down 0.6 mm moved the smile's way: not dragged.
    assert dragged(PerSide(3.0, 0.0), PerSide(0.6, 0.0), UP_AND_OUT) == ()
    # A pucker's corner pulled across moves inward, its own way; a brow is not pulled across.
    assert dragged(none, PerSide(2.0, 2.0), IN) == () and dragged(none, PerSide(2.0, 2.0), UP) == ()
    assert dragged(none, None, UP_AND_OUT) == ()


def test_a_pucker_is_never_flagged_dragged():
    ex = get_exercise("pucker")
    frames = frames_for(ex, 3.0, 2.0)
    # The right corner goes outward (the other way) while the left puckers.
    frames = [
        f.__class__(**{**f.__dict__, "move": PerSide((-f.values.left, 0.0), (abs(f.values.right), 0.0))})
        for f in frames
    ]
    rep = score_rep(ex, 0, 1, 0.0, frames, None)
    assert rep.opposite_mm.right > 1.5 and rep.dragged == () and not any("dragged" in f for f in rep.flags)


def test_a_session_rep_with_a_corner_pulled_inward_scores_no_movement_on_that_side():
    ex = get_exercise("smile")
    frames = frames_for(ex, 3.0, 2.0)
    # The right corner moves toward the midline (outward −2 mm) instead of up and out.
    frames = [f.__class__(**{**f.__dict__, "move": PerSide(f.move.left, (-abs(f.values.right), 0.0))}) for f in frames]
    rep = score_rep(ex, 0, 1, 0.0, frames, None)
    assert rep.peak.right == pytest.approx(0.0, abs=1e-9)
    assert rep.peak.left == pytest.approx(3.0, rel=0.01)
    assert rep.symmetry_pct == pytest.approx(0.0, abs=1e-6)
    assert rep.opposite_mm.right == pytest.approx(2.0, rel=0.01)
    assert rep.dragged == ("right",) and "right_dragged" in rep.flags
    assert rep.to_dict()["dragged"] == ["right"]


def test_a_corner_pulled_to_the_midline_is_not_counted_as_movement(face, model):
    """The weak (right) corner is dragged 2 mm toward the midline while the left smiles 4 mm.

    Before: the drag's length counted, and the rep read about 50 % symmetric.
    """
    spec = Phantom3DSpec(
        face=face,
        actions=(
            Action("mouth_corner", "left", 4.0),
            Action("mouth_corner", "right", 2.0, direction_deg=180.0),
        ),
        **LOOK,
    )
    result = analyze_frames(spec.frames(), fps=spec.fps, model=model)
    assert len(result.reps) == SCHEDULE.reps
    for rep in result.reps:
        assert rep.movement.right < 0.5 and rep.movement.left > 3.0
        assert rep.symmetry_pct < 15.0
        assert rep.dragged == ("right",)
        assert rep.opposite_mm.right > 1.2
        # A landmark-only length (Emotrics-style) counts the drag as movement.
        assert rep.landmark_excursion_mm.right > 0.5
        assert rep.landmark_symmetry_pct > rep.symmetry_pct + 10.0
    assert result.summary.weaker_side == "right"
    assert any("right mouth corner was pulled down or in" in w for w in result.warnings)


def test_a_video_that_starts_mid_smile_is_measured_from_its_first_rest(face, model):
    """The clip starts in the first smile's hold. Before: its first frames were the resting
    reference, every rest read as a movement away from it, and the smiles as none."""
    spec = Phantom3DSpec(
        face=face,
        actions=(Action("mouth_corner", "left", 4.0), Action("mouth_corner", "right", 2.0)),
        **LOOK,
    )
    start = SCHEDULE.lead_in_s + SCHEDULE.rise_s + 0.3
    frames = [(t - start, f) for t, f in spec.frames() if t >= start]
    result = analyze_frames(frames, fps=spec.fps, model=model)
    assert result.extra["rests_away_s"], result.warnings
    assert result.extra["rests_away_s"][0] < SCHEDULE.period_s
    assert any("perhaps it began in the middle of a movement" in w for w in result.warnings)
    # The two smiles seen from rest, measured from it.
    assert len(result.reps) == SCHEDULE.reps - 1
    for rep in result.reps:
        assert rep.symmetry_pct == pytest.approx(50.0, abs=10.0)
        assert rep.start_s > result.extra["rests_away_s"][0]
        assert rep.dragged == ()


def test_a_guided_session_cues_and_flags_a_corner_dragged_across(model):
    """The right corner does not smile; the left pulls it 2 mm toward the midline."""
    plan = SessionPlan("t", "smile", (replace(get_exercise("smile"), reps=2, **FAST),))
    spec = session_phantom(plan, {"smile": Performance(4.0, 0.0, dragged_mm={"right": 2.0})}, seed=5)
    messages = []
    with SessionEngine(plan, model=model) as eng:
        for t, frame, obs in tracked(PhantomRenderer(spec).frames(), eng.tracker):
            u = eng.update(frame, t, obs)
            messages.append((u.cue.phase, u.feedback.messages))
        res = eng.result()
    assert [r.index for r in res.reps] == [1, 2]
    for rep in res.reps:
        assert rep.peak.right < 0.5 and rep.peak.left > 3.0
        assert rep.dragged == ("right",) and "right_dragged" in rep.flags
    cue = "Easy on the stronger side: it pulls the other side across"
    assert any(cue in m for phase, m in messages if phase == HOLD)
    assert not any(cue in m for phase, m in messages if phase in (REST, BASELINE))


def test_why_a_movement_was_not_measured_names_the_exercise_s_own_area():
    from coach.engine.measures.peak import reason_words

    assert reason_words("hidden", MEASURES["eye_closure"].area) == (
        "part of your eye area was hidden or changed too fast to follow"
    )
    assert "mouth area" in reason_words("hidden", MEASURES["mouth_corner"].area)
    assert reason_words("no_rest") == "your face was not seen still and relaxed just before the movement"
