"""Offline analysis when the measure doubts part of a repetition.

The repetition detector follows the trusted measure, and the landmarks where the
measure is doubtful, so a repetition is found as one piece: scored when enough of its
hold was trusted (the same rule as guided sessions), otherwise reported as not
measured, with the reason. The measurer is scripted here: what is tested is the
analysis, not the tracking.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from coach.engine.analysis import Analyzer
from coach.engine.measurer import OK, UNSURE, FrameMeasures
from coach.engine.measures.peak import MIN_TRUSTED_FRAMES, NO_REST, REST_LOOKBACK_S, enough_trusted, own_rest_seen
from coach.engine.measures.sides import PerSide
from coach.engine.reps import RepDetector

FPS = 30.0


def _profile(t: float, start: float = 1.0, rise: float = 0.6, hold: float = 2.0, peak: float = 4.0) -> float:
    """A smile's movement (mm) at time t: rest, rise, hold, release, rest."""
    if t < start or t > start + 2 * rise + hold:
        return 0.0
    if t < start + rise:
        return peak * (t - start) / rise
    if t <= start + rise + hold:
        return peak
    return peak * (start + 2 * rise + hold - t) / rise


def _frame(
    t: float, tissue_mm: float | None, landmark_mm: float, reason: str = "moving", confidence: float = 0.9
) -> FrameMeasures:
    """A smile frame, the right side half the left: trusted (``tissue_mm``) or unsure (None), landmarks always."""
    lm = PerSide((landmark_mm, 0.0), (landmark_mm, 0.0))
    if tissue_mm is None:
        return FrameMeasures(t, UNSURE, confidence=0.1, reason=reason, landmark_movement_mm={"mouth_corner": lm})
    move = PerSide((tissue_mm, 0.0), (0.5 * tissue_mm, 0.0))
    return FrameMeasures(
        t, OK, confidence=confidence, movement_mm={"mouth_corner": move}, landmark_movement_mm={"mouth_corner": lm}
    )


class _Scripted:
    """Stands in for the measurer: returns the scripted frames in order.

    Like the real one, it measures each trusted frame against the reference taken
    last (at 0 s, then at each :meth:`rebaseline`, unless ``can_renew`` is False).
    """

    baselines = 1
    scale_from = "both"

    def __init__(self, frames: list[FrameMeasures], can_renew: bool = True) -> None:
        self._frames = iter(frames)
        self.can_renew = can_renew
        self.reference_t_s = 0.0
        self._t = 0.0

    def update(self, frame, obs, t_s):  # noqa: ANN001, ANN201
        fm = next(self._frames)
        self._t = fm.t_s
        return replace(fm, reference_t_s=self.reference_t_s) if fm.ok else fm

    def rebaseline(self) -> bool:
        if self.can_renew:
            self.reference_t_s = self._t
        return self.can_renew

    def resting_asymmetry(self) -> None:
        return None


def _analyse(frames: list[FrameMeasures], can_renew: bool = True):  # noqa: ANN202
    blank = np.zeros((8, 8, 3), np.uint8)
    with Analyzer(model=None, tracker=_NoTracker()) as an:
        an.measurer = _Scripted(frames, can_renew)  # type: ignore[assignment]
        for fm in frames:
            an.update(blank, fm.t_s, observation=None)
        return an, an.result("scripted", FPS, frames[-1].t_s)


class _NoTracker:
    def update(self, frame, t_s):  # noqa: ANN001, ANN201
        return None

    def close(self) -> None:
        pass


def _times(seconds: float = 5.0) -> list[float]:
    return [i / FPS for i in range(int(seconds * FPS))]


def test_a_rep_with_a_doubtful_stretch_in_its_hold_is_still_one_scored_rep():
    # 0.8 s of doubt (longer than the 0.6 s gap a rep used to survive) in a 2 s hold.
    frames = [_frame(t, None if 2.0 <= t < 2.8 else _profile(t), _profile(t)) for t in _times()]
    an, result = _analyse(frames)
    assert len(result.reps) == 1
    rep = result.reps[0]
    assert rep.excursion_mm.left == pytest.approx(4.0, abs=0.01)
    assert rep.symmetry_pct == pytest.approx(50.0, abs=0.5)
    assert an.unmeasured == []
    assert result.to_dict()["reps_not_measured"] == []


def test_a_rep_the_measure_mostly_doubted_is_found_and_reported_not_measured():
    frames = [_frame(t, None if 1.3 <= t < 3.6 else _profile(t), _profile(t), "moving") for t in _times()]
    an, result = _analyse(frames)
    assert result.reps == ()
    assert len(an.unmeasured) == 1
    start, end, reason = an.unmeasured[0]
    assert reason == "moving"
    assert 0.9 <= start <= 1.2 and 4.0 <= end <= 4.4
    assert result.to_dict()["reps_not_measured"][0]["reason"] == "moving"
    words = " ".join(result.warnings)
    assert "1 movement was seen but not scored" in words and "your head moved" in words
    assert "No movement was found" not in words


def test_landmarks_alone_never_make_a_rep_the_trusted_measure_contradicts():
    # The landmarks read the movement a little larger (1.1 mm) than the trusted measure
    # (0.9 mm, below the 1 mm that starts a rep); a doubtful moment lets the landmarks
    # start a rep, but the trusted hold says the movement never reached a rep's size.
    frames = [
        _frame(t, None if 1.4 <= t < 1.8 else 0.9 / 1.1 * _profile(t, peak=1.1), _profile(t, peak=1.1))
        for t in _times()
    ]
    an, result = _analyse(frames)
    assert result.reps == () and an.unmeasured == []


def test_hold_rule_is_shared_with_guided_sessions():
    assert enough_trusted(3, 6) and enough_trusted(2, 2)
    assert not enough_trusted(2, 6) and not enough_trusted(0, 0) and not enough_trusted(4, 10)


def test_a_movement_that_never_returns_to_rest_is_not_a_rep():
    detector = RepDetector(max_active_s=5.0)
    values = [0.0] * 10 + [3.0] * int(8 * FPS) + [0.0] * 10 + [3.0] * 30 + [0.0] * 10
    reps = [w for i, v in enumerate(values) if (w := detector.update(v, i / FPS)) is not None]
    assert detector.too_long == 1
    assert len(reps) == 1 and reps[0].start_s > 8.0  # the next movement from rest still counts
    with pytest.raises(ValueError, match="max_active_s"):
        RepDetector(max_active_s=0.5)


def test_a_movement_only_the_landmarks_saw_does_not_block_a_fresh_reference():
    # Every frame doubtful; the landmarks drift 1.2 mm from the old reference (above the
    # 1 mm that starts a rep, still "at rest" for the landmarks): after a second the
    # analysis takes a new reference and forgets the landmark-only "movement".
    frames = [_frame(t, 0.0 if t < 0.5 else None, 0.0 if t < 0.5 else 1.2) for t in _times(3.0)]
    renewed = []

    an_frames = _Scripted(frames)
    an_frames.rebaseline = lambda: renewed.append(True) or True  # type: ignore[method-assign]
    blank = np.zeros((8, 8, 3), np.uint8)
    with Analyzer(model=None, tracker=_NoTracker()) as an:
        an.measurer = an_frames  # type: ignore[assignment]
        states = []
        for fm in frames:
            an.update(blank, fm.t_s, observation=None)
            states.append(an.detector.state)
    assert renewed, "no fresh reference was taken"
    assert "active" in states and states[-1] == "rest"
    assert an.unmeasured == [] and an.reps == []


def test_rep_confidence_weighs_the_frames_doubt_against_the_movement_size():
    from coach.engine.measures.peak import rep_confidence

    times = [i / FPS for i in range(45)]  # a 1.5 s hold
    sure, doubtful = [0.95] * 45, [0.35] * 45
    big, small = PerSide(8.0, 8.0), PerSide(2.0, 0.0)
    # The same frames are worth more on a big movement than on a small one...
    assert rep_confidence(sure, times, big, "mm") > rep_confidence(sure, times, small, "mm")
    # ...doubtful frames less than sure ones...
    assert rep_confidence(doubtful, times, big, "mm") < rep_confidence(sure, times, big, "mm")
    # ...and one look less than a held second and a half of them.
    assert rep_confidence(doubtful[:1], times[:1], big, "mm") < rep_confidence(doubtful, times, big, "mm")
    assert rep_confidence([], [], big, "mm") == 0.0
    assert rep_confidence(sure, times, PerSide(0.0, 0.0), "mm") == 0.0
    # Per-cent measures (eye closure) keep the frames' mean confidence.
    assert rep_confidence([0.6, 0.8], [0.0, 0.1], PerSide(40.0, 30.0), "%") == pytest.approx(0.7)
    assert 0.0 < rep_confidence(sure, times, big, "mm") <= 1.0


def test_how_sure_words_follow_the_rep_calibration_bands():
    from coach.engine.measures.peak import how_sure

    assert [how_sure(c) for c in (0.95, 0.8, 0.6, 0.49, 0.0)] == ["sure", "sure", "fairly sure", "unsure", "unsure"]


def test_a_rep_too_small_for_its_frames_doubt_is_reported_not_measured():
    # Every frame just passes the frame gate (about 0.55 mm of expected error), the
    # movement is small (1.5 mm against 0.75 mm): the symmetry could be 20 points off.
    frames = [_frame(t, _profile(t, peak=1.5), _profile(t, peak=1.5), confidence=0.32) for t in _times()]
    an, result = _analyse(frames)
    assert result.reps == ()
    assert [r for *_, r in an.unmeasured] == ["unsteady"]
    assert any("not sharp or steady enough" in w for w in result.warnings), result.warnings
    # The same movement seen sharply is scored.
    frames = [_frame(t, _profile(t, peak=1.5), _profile(t, peak=1.5), confidence=0.99) for t in _times()]
    an, result = _analyse(frames)
    assert len(result.reps) == 1 and an.unmeasured == []


def test_a_smiles_confidence_is_its_own_points_not_an_eyelids_beside_it():
    from coach.engine.analysis import sample_of
    from exercises import get_exercise

    fm = _frame(1.0, 3.0, 3.0, confidence=0.35)  # the frame's least sure point: an eyelid closing
    fm = FrameMeasures(
        fm.t_s,
        OK,
        confidence=0.35,
        point_confidence={"mouth_corner": 0.9, "upper_lid": 0.35},
        movement_mm=fm.movement_mm,
        landmark_movement_mm=fm.landmark_movement_mm,
    )
    sample = sample_of(fm, get_exercise("smile"))
    assert sample is not None and sample.confidence == 0.9


@pytest.mark.parametrize("landmark_scale", [0.1, 1.3, 2.0])
def test_one_doubtful_frame_neither_splits_nor_loses_a_clean_rep(landmark_scale):
    # The landmarks read on their own scale: lower (they could end the rep) or higher
    # (they could take over the hold) than the measure. One doubtful frame mid-hold must
    # do neither.
    frames = [
        _frame(t, None, landmark_scale * _profile(t))
        if abs(t - 2.5) < 0.5 / FPS
        else _frame(t, _profile(t), _profile(t))
        for t in _times()
    ]
    an, result = _analyse(frames)
    assert len(result.reps) == 1 and an.unmeasured == [], (result.reps, an.unmeasured)
    assert result.reps[0].symmetry_pct == pytest.approx(50.0, abs=0.5)


def test_a_rep_is_scored_only_when_measured_from_the_rest_just_before_it():
    # A smile at 4 s after 3.7 s in which no frame could be trusted (the landmarks say the
    # face rested), measured against the reference of 0 s that could not be renewed: what it
    # reads depends on how the face drifted since, so it is not given as a number (a
    # talking face's "smile" measured 40-70 s after its reference read 5.9 % in a clip and
    # 51.1 % in its mirror image, both at confidence 0.71).
    def stream(rest_trusted: bool) -> list[FrameMeasures]:
        return [
            _frame(t, _profile(t, start=4.0) if t < 0.5 or t >= 4.2 or rest_trusted else None, 0.0) for t in _times(8.0)
        ]

    an, result = _analyse(stream(rest_trusted=False), can_renew=False)
    assert result.reps == ()
    assert [r for *_, r in an.unmeasured] == [NO_REST]
    assert "not seen still and relaxed just before the movement" in " ".join(result.warnings)
    # The same smile, its rest seen to read rest against that old reference: scored.
    an, result = _analyse(stream(rest_trusted=True), can_renew=False)
    assert len(result.reps) == 1 and an.unmeasured == []
    assert result.reps[0].symmetry_pct == pytest.approx(50.0, abs=0.5)
    # ...and with the reference renewed in that rest (the usual case), scored too.
    an, result = _analyse(stream(rest_trusted=True))
    assert len(result.reps) == 1 and an.unmeasured == []


def test_a_reference_taken_on_the_landmarks_word_must_be_seen_to_read_rest():
    # Every frame doubtful from 0.5 s, the landmarks at rest: after 1 s the reference is
    # renewed on their word alone. From 2.5 s trusted frames read 4 mm at once against it.
    # Before, that counted as a repetition measured from its own rest (the reference was
    # under 2 s old); on a real talking face such a reading was 13 mm where the landmarks
    # read 2.5. Now the reference must first be seen to read rest.
    def stream(rest_seen: bool) -> list[FrameMeasures]:
        def frame(t: float) -> FrameMeasures:
            if 0.5 <= t < 2.5 and not (rest_seen and t >= 2.0):
                return _frame(t, None, 0.0)
            return _frame(t, _profile(t, start=2.5, rise=0.1), 0.0)

        return [frame(t) for t in _times(6.0)]

    an, result = _analyse(stream(rest_seen=False))
    assert result.reps == () and [r for *_, r in an.unmeasured] == [NO_REST]
    # The same, with half a second of trusted rest against the new reference first: scored.
    an, result = _analyse(stream(rest_seen=True))
    assert len(result.reps) == 1 and an.unmeasured == []


def test_own_rest_rule():
    # The reference taken within REST_LOOKBACK_S of the start, or seen to fit there.
    assert own_rest_seen(5.0, 5.0 - REST_LOOKBACK_S, 0)
    assert not own_rest_seen(5.0, 5.0 - REST_LOOKBACK_S - 0.1, 0)
    assert own_rest_seen(5.0, 0.0, MIN_TRUSTED_FRAMES)
    assert not own_rest_seen(5.0, 0.0, MIN_TRUSTED_FRAMES - 1)
    assert not own_rest_seen(5.0, None, 10)  # a reference of unknown age is not seen to fit
    # A reference taken on the landmarks' word alone counts only once seen to read rest.
    assert not own_rest_seen(5.0, 5.0 - REST_LOOKBACK_S, 0, taken_at_rest=False)
    assert own_rest_seen(5.0, 5.0 - REST_LOOKBACK_S, MIN_TRUSTED_FRAMES, taken_at_rest=False)
