"""A guided session when the face leaves the picture, at every moment of a repetition.

The measurer is scripted (the patient follows the cues: both mouth corners 3 mm out
while asked to move and hold, at rest otherwise), so what is tested is the session's
schedule: after the face comes back the coach always starts the movement again with its
movement cue, and every planned repetition ends as done or interrupted and redone —
never skipped by the clock running on while nobody was there.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from coach.engine.measurer import NO_FACE, OK, FrameMeasures
from coach.engine.measures.sides import PerSide
from coach.sessions.cues import SessionEngine
from coach.sessions.plan import BASELINE, DONE, HOLD, MOVE, PAUSED, RELEASE, REST, SessionPlan
from exercises import get_exercise

FPS = 30.0
EXERCISE = replace(get_exercise("smile"), reps=3, rise_s=1.0, hold_s=2.0, release_s=1.0, rest_s=2.0)


class _Patient:
    """Stands in for the measurer: a face that follows the engine's cues, gone in ``absent``."""

    calibrated = True
    scale_from = "both"

    def __init__(self, engine: SessionEngine, absent: tuple[float, float], resting_mm=None) -> None:  # noqa: ANN001
        self.engine = engine
        self.absent = absent
        self.resting_mm = resting_mm or (lambda t: 0.0)  # the corners while not asked to move
        self.reference_t_s = 0.0
        self._t = 0.0

    def update(self, frame, obs, t_s):  # noqa: ANN001, ANN201
        self._t = t_s
        if self.absent[0] <= t_s < self.absent[1]:
            return FrameMeasures(t_s, NO_FACE)
        mm = 3.0 if self.engine._phase in (MOVE, HOLD) else self.resting_mm(t_s)
        move = PerSide((mm, 0.0), (mm, 0.0))
        return FrameMeasures(
            t_s,
            OK,
            confidence=0.9,
            movement_mm={"mouth_corner": move},
            landmark_movement_mm={"mouth_corner": move},
            reference_t_s=self.reference_t_s,
        )

    def rebaseline(self) -> bool:
        self.reference_t_s = self._t
        return True

    def resting_asymmetry(self) -> None:
        return None


class _NoTracker:
    def update(self, frame, t_s):  # noqa: ANN001, ANN201
        return None

    def close(self) -> None:
        pass


def _session(absent: tuple[float, float], seconds: float = 90.0, resting_mm=None):  # noqa: ANN001, ANN202
    blank = np.zeros((8, 8, 3), np.uint8)
    plan = SessionPlan("t", "smile", (EXERCISE,))
    cues = []
    with SessionEngine(plan, tracker=_NoTracker()) as engine:
        engine._measurer = _Patient(engine, absent, resting_mm)  # type: ignore[assignment]
        for i in range(int(seconds * FPS)):
            t = i / FPS
            update = engine.update(blank, t, observation=None)
            cues.append((t, update.cue.phase, update.cue.rep, update.cue.text))
            if engine.done:
                break
        return engine.result(), cues


def _moments() -> dict[str, float]:
    """A time inside each phase of the second repetition, as planned."""
    (_, _, move, hold, release, rest) = SessionPlan("t", "smile", (EXERCISE,)).planned_reps()[1]
    return {MOVE: move + 0.3, HOLD: hold + 0.5, RELEASE: release + 0.3, REST: rest + 0.3}


@pytest.mark.parametrize("phase", [MOVE, HOLD, RELEASE, REST])
@pytest.mark.parametrize("away_s", [0.3, 1.5, 30.0])
def test_after_the_face_is_back_every_planned_rep_is_done_from_its_movement_cue(phase, away_s):
    gone = _moments()[phase]
    result, cues = _session((gone, gone + away_s))
    # Every planned repetition is done, once each, in order; none went missing.
    assert [r.index for r in result.reps] == [1, 2, 3], (phase, away_s, result.warnings)
    assert all(r.completed for r in result.reps)
    assert cues[-1][1] == DONE
    back = gone + away_s
    after = [(p, text) for t, p, _, text in cues if t >= back and p in (MOVE, HOLD, RELEASE)]
    if away_s > 0.5:  # longer than the session waits before pausing
        # From the moment the face is back, the first active phase shown is a movement cue.
        assert after and after[0][0] == MOVE and after[0][1].startswith(EXERCISE.cue_move), after[:3]
        assert any(p == PAUSED for _, p, _, _ in cues)
        assert result.interrupted == int(phase in (MOVE, HOLD, RELEASE))
    else:  # a moment's loss of the face neither pauses nor interrupts
        assert not any(p == PAUSED for _, p, _, _ in cues) and result.interrupted == 0
    # Each phase of a repetition is shown for its whole length once the face is back: no jump.
    runs = []
    for t, p, rep, _ in cues:
        if t < back:
            continue
        if not runs or runs[-1][0] != (p, rep):
            runs.append([(p, rep), t, t])
        runs[-1][2] = t
    for (p, _), t0, t1 in runs[1:-1]:
        if p in (MOVE, HOLD, RELEASE):
            assert t1 - t0 >= {MOVE: EXERCISE.rise_s, HOLD: EXERCISE.hold_s, RELEASE: EXERCISE.release_s}[p] - 0.1


def _rest_of_rep(n: int) -> tuple[float, float]:
    """When rep ``n`` (1-based)'s planned rest starts and ends."""
    (_, _, _, _, _, rest) = SessionPlan("t", "smile", (EXERCISE,)).planned_reps()[n - 1]
    return rest, rest + EXERCISE.rest_s


def test_the_coach_waits_for_the_face_to_relax_before_the_next_movement():
    # After rep 1 the patient keeps smiling (2 mm) 2.5 s into the rest of 2 s: the coach asks
    # them to relax and starts rep 2 only once the face is at rest, not on the clock.
    start, end = _rest_of_rep(1)
    relaxed_at = start + 2.5
    result, cues = _session((0.0, 0.0), resting_mm=lambda t: 2.0 if start <= t < relaxed_at else 0.0)
    assert [r.index for r in result.reps] == [1, 2, 3] and result.warnings == ()
    asked = [t for t, p, rep, text in cues if text == "Relax your face completely."]
    assert asked and min(asked) == pytest.approx(end, abs=0.1) and max(asked) < relaxed_at + 0.6
    move2 = min(t for t, p, rep, _ in cues if p == MOVE and rep == 2)
    assert relaxed_at + 0.2 <= move2 <= relaxed_at + 0.6  # most of the last half second at rest first


def test_a_face_that_settles_a_little_away_from_its_rest_is_not_kept_waiting():
    # After rep 1 the corners stay 0.8 mm up, still (a lasting sag): that is the rest now.
    start, end = _rest_of_rep(1)
    result, cues = _session((0.0, 0.0), resting_mm=lambda t: 0.8 if t >= start else 0.0)
    assert [r.index for r in result.reps] == [1, 2, 3]
    move2 = min(t for t, p, rep, _ in cues if p == MOVE and rep == 2)
    assert move2 == pytest.approx(end, abs=0.1)


def test_a_face_that_never_relaxes_is_not_waited_for_forever_and_the_result_says_so():
    start, _ = _rest_of_rep(1)
    result, cues = _session((0.0, 0.0), resting_mm=lambda t: 2.0 if t >= start else 0.0)
    assert [r.index for r in result.reps] == [1, 2, 3] and cues[-1][1] == DONE
    assert any("had not relaxed" in w for w in result.warnings)


def test_the_first_movement_waits_for_a_face_that_is_not_at_rest_when_the_session_starts():
    # The patient smiles (2 mm) over the end of the resting start: the first movement is
    # measured from a rest, so the coach asks them to relax and waits before cueing it.
    plan = SessionPlan("t", "smile", (EXERCISE,))
    start = plan.baseline_s - 1.0
    relaxed_at = plan.baseline_s + 2.0
    result, cues = _session((0.0, 0.0), resting_mm=lambda t: 2.0 if start <= t < relaxed_at else 0.0)
    assert [r.index for r in result.reps] == [1, 2, 3] and result.warnings == ()
    asked = [t for t, p, rep, text in cues if text == "Relax your face completely."]
    assert asked and min(asked) == pytest.approx(plan.baseline_s, abs=0.1) and max(asked) < relaxed_at + 0.6
    assert all(p == BASELINE for t, p, rep, text in cues if t in asked)
    move1 = min(t for t, p, rep, _ in cues if p == MOVE)
    assert relaxed_at + 0.2 <= move1 <= relaxed_at + 0.6


def test_a_face_first_taken_mid_smile_is_not_kept_waiting_once_it_rests():
    # The face was first taken smiling: resting, it reads 2 mm the other way (corners in)
    # until the reference is renewed. Still, and not moving the smile's way: that is its rest.
    plan = SessionPlan("t", "smile", (EXERCISE,))
    result, cues = _session((0.0, 0.0), resting_mm=lambda t: -2.0 if t < plan.baseline_s else 0.0)
    assert [r.index for r in result.reps] == [1, 2, 3] and result.warnings == ()
    assert not [t for t, p, rep, text in cues if text == "Relax your face completely."]
    assert min(t for t, p, rep, _ in cues if p == MOVE) == pytest.approx(plan.baseline_s, abs=0.05)


def test_the_coach_says_when_someone_else_is_in_the_picture():
    blank = np.zeros((8, 8, 3), np.uint8)
    plan = SessionPlan("t", "smile", (EXERCISE,))
    cue = "Someone else is in the picture: we keep watching you"
    seen = []
    with SessionEngine(plan, tracker=_NoTracker()) as engine:
        patient = _Patient(engine, (0.0, 0.0))
        measure = patient.update
        patient.update = lambda f, o, t: replace(measure(f, o, t), faces_seen=2 if 3.0 <= t < 4.0 else 1)
        engine._measurer = patient  # type: ignore[assignment]
        for i in range(int(6.0 * FPS)):
            t = i / FPS
            seen.append((t, cue in engine.update(blank, t, observation=None).feedback.messages))
    assert all(said == (3.0 <= t < 4.0) for t, said in seen)
