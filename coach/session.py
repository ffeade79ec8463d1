"""The guided session: cues, live feedback and scored reps, driven only by frames.

A :class:`SessionEngine` runs a :class:`SessionPlan` (exercises in order) on a
stream of frames. Each exercise starts with a resting baseline, then each rep
goes move → hold → release → rest. Time comes from frame timestamps only, so a
recorded session replayed through the engine gives the same scores as live.

If the face is lost during a rep for more than half a second the rep is
abandoned (no numbers are invented), the coach pauses, and once the face is
back it rests briefly and repeats the same rep.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from coach.exercise import ExerciseSpec
from coach.measurer import (
    BOTH_IRISES,
    CALIBRATING,
    NO_FACE,
    OK,
    TURNED,
    UNSURE,
    FaceMeasurer,
    FrameMeasures,
    one_eye_scale_words,
)
from coach.measures.direction import UP_AND_OUT, dragged
from coach.measures.peak import (
    MIN_TRUSTED_FRAMES,
    NO_REST,
    TOO_UNSURE,
    enough_trusted,
    hold_peak,
    own_rest_seen,
    reason_words,
    rep_confidence,
    sure_enough,
)
from coach.measures.sides import PerSide, other_side
from coach.measures.symmetry import symmetry_pct, weaker_side
from coach.model import ModelFile
from coach.motion.trust import by_count
from coach.observation import FaceObservation
from coach.reps import SETTLE_BAND, SETTLE_SHARE
from coach.series import RepSeries
from coach.tracking import FaceTracker
from coach.words import count, was_were

BASELINE = "baseline"
MOVE = "move"
HOLD = "hold"
RELEASE = "release"
REST = "rest"
PAUSED = "paused"
DONE = "done"

_TRACK = object()
# Before the next movement the face must be at rest (see SessionEngine._relaxed): checked
# over this long, or settled still over SETTLE_CHECK_S; the coach waits at most
# RELAX_WAIT_S beyond the planned rest, asking the patient to relax.
RELAX_CHECK_S = 0.5
SETTLE_CHECK_S = 1.0
RELAX_WAIT_S = 6.0

# What the patient is told while a frame's movement cannot be trusted (reasons: coach.motion.trust).
UNSURE_CUES = {
    "moving": "Keep your head still",
    "hidden": "Keep your {area} in clear view",
    "light": "The light changed: hold still a moment",
    "edge": "Move into the middle of the picture",
}


@dataclass(frozen=True)
class SessionPlan:
    """Exercises in order, each with its own reps and timings.

    Attributes:
        id, name: the program's.
        steps: the exercises (already tuned for this patient).
        assessment: grade the session (eFACE-like, Sunnybrook-like estimates).
        baseline_s: resting time before each exercise, seconds (1 to 30).
    """

    id: str
    name: str
    steps: tuple[ExerciseSpec, ...]
    assessment: bool = False
    baseline_s: float = 2.0

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError("steps must hold at least one exercise")
        if not 1.0 <= self.baseline_s <= 30.0:
            raise ValueError(f"baseline_s must be 1 to 30, got {self.baseline_s}")

    def planned_reps(self) -> list[tuple[int, int, float, float, float, float]]:
        """Every rep if nothing interrupts: (step, rep, move, hold, release, rest start), seconds."""
        out = []
        t = 0.0
        for i, ex in enumerate(self.steps):
            t += self.baseline_s
            for r in range(1, ex.reps + 1):
                out.append(
                    (i, r, t, t + ex.rise_s, t + ex.rise_s + ex.hold_s, t + ex.rise_s + ex.hold_s + ex.release_s)
                )
                t += ex.period_s
        return out

    @property
    def duration_s(self) -> float:
        return sum(self.baseline_s + ex.reps * ex.period_s for ex in self.steps)


@dataclass(frozen=True)
class Cue:
    """What the coach shows or says now."""

    t_s: float
    step: int
    exercise_id: str
    exercise_name: str
    rep: int
    reps: int
    phase: str
    text: str
    seconds_left: float

    @property
    def countdown(self) -> int | None:
        """Whole seconds left in a hold (3, 2, 1), else None."""
        return math.ceil(self.seconds_left) if self.phase == HOLD and self.seconds_left > 0 else None

    @property
    def words(self) -> str:
        """The cue without its countdown ("Hold…" for "Hold… 2"): the number is shown once, on the
        picture, so that two displays refreshed at different moments never disagree."""
        head, _, tail = self.text.rpartition(" ")
        return head if self.countdown is not None and head and tail == str(self.countdown) else self.text


@dataclass(frozen=True)
class LiveFeedback:
    """Per-frame feedback for the patient.

    Attributes:
        value: the exercise's movement per side (unit of the measure), or None.
        progress: value ÷ target per side (1.0 = on target), or None.
        messages: short, kind prompts ("Slow down", "Keep your eye open"…).
    """

    value: PerSide[float] | None
    progress: PerSide[float] | None
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class RepScore:
    """One scored repetition of one exercise."""

    exercise_id: str
    step: int
    index: int
    start_s: float
    end_s: float
    completed: bool
    unit: str
    peak: PerSide[float]
    symmetry_pct: float | None
    onset_s: PerSide[float | None]
    release_s: PerSide[float | None]
    onset_lag_s: float | None
    release_lag_s: float | None
    steadiness_pct: PerSide[float | None]
    synkinesis_kind: str
    synkinesis_value: float | None
    synkinesis_side: str | None
    synkinesis: bool
    flags: tuple[str, ...]
    confidence: float
    frames: int
    # Eye synkinesis: how much more the watched eye narrowed than the other one (points);
    # a normal smile narrows both eyes alike. None for other kinds.
    synkinesis_excess: float | None = None
    # Per side, the measured point's movement at the hold against the exercise's expected
    # direction, mm (a corner dragged in or down); never counted in ``peak``. None for
    # measures without a direction.
    opposite_mm: PerSide[float] | None = None
    dragged: tuple[str, ...] = ()  # the sides pulled across (coach.measures.direction.dragged)

    def to_dict(self) -> dict[str, Any]:
        def r(x: float | None, nd: int = 2) -> float | None:
            return None if x is None else round(float(x), nd)

        def side(p: PerSide[Any], nd: int = 2) -> dict[str, float | None]:
            return {s: r(p[s], nd) for s in ("left", "right")}

        return {
            "exercise": self.exercise_id,
            "step": self.step,
            "index": self.index,
            "start_s": r(self.start_s, 3),
            "end_s": r(self.end_s, 3),
            "completed": self.completed,
            "unit": self.unit,
            "peak": side(self.peak),
            "symmetry_pct": r(self.symmetry_pct, 1),
            "onset_s": side(self.onset_s, 3),
            "release_s": side(self.release_s, 3),
            "onset_lag_s": r(self.onset_lag_s, 3),
            "release_lag_s": r(self.release_lag_s, 3),
            "steadiness_pct": side(self.steadiness_pct, 1),
            "synkinesis": {
                "watch": self.synkinesis_kind,
                "value": r(self.synkinesis_value, 1),
                "unit": "%" if self.synkinesis_kind == "eye" else "mm",
                "side": self.synkinesis_side,
                "flagged": self.synkinesis,
            },
            "flags": list(self.flags),
            "opposite_mm": None if self.opposite_mm is None else side(self.opposite_mm),
            "dragged": list(self.dragged),
            "confidence": r(self.confidence),
            "frames": self.frames,
        }


@dataclass(frozen=True)
class SessionUpdate:
    """What one frame produced.

    Attributes:
        completed: reps scored at this frame.
        completed_series: their per-frame series, one per rep of ``completed``, in order.
    """

    t_s: float
    cue: Cue
    feedback: LiveFeedback
    measures: FrameMeasures
    completed: tuple[RepScore, ...] = ()
    completed_series: tuple[RepSeries, ...] = ()


@dataclass
class _Frame:
    t_s: float
    phase: str
    values: PerSide[float] | None
    move: PerSide[tuple[float, float]] | None
    narrowing: PerSide[float] | None
    mouth: PerSide[float] | None
    confidence: float
    reason: str | None = None  # why the measurer did not trust this frame (coach.motion.trust), if it did not
    reference_t_s: float | None = None  # when the reference this frame is measured against was taken


# Synkinesis thresholds (see score_rep): eye narrowing on the affected side, and
# how much more than the other eye; mouth movement during eye or brow work.
EYE_SYNKINESIS_PCT = 15.0
EYE_SYNKINESIS_MARGIN_PCT = 10.0
MOUTH_SYNKINESIS_MM = 1.5
# Live: a side pulled this far (mm) against the exercise's direction during the hold, while
# the other moves, gets a cue (a frame is noisier than a hold: twice DRAGGED_MM).
PULLED_NOW_MM = 1.0


class SessionEngine:
    """Runs a plan on frames.

    Args:
        plan: what to do.
        affected_side: the patient's affected side, if known.
        tracker: the stream's tracker (made here, and closed by :meth:`close`, if omitted).
        model: the model for a tracker made here.
        pause_after_s: unmeasured time in a rep before it is abandoned (0.1 to 5).
        resume_rest_s: rest after the face comes back, before the rep is repeated (0.5 to 10).
    """

    def __init__(
        self,
        plan: SessionPlan,
        affected_side: str | None = None,
        tracker: FaceTracker | None = None,
        model: ModelFile | None = None,
        pause_after_s: float = 0.5,
        resume_rest_s: float = 2.0,
    ) -> None:
        if affected_side not in (None, "left", "right"):
            raise ValueError(f"affected_side must be 'left', 'right' or None, got {affected_side!r}")
        if not 0.1 <= pause_after_s <= 5.0:
            raise ValueError(f"pause_after_s must be 0.1 to 5, got {pause_after_s}")
        if not 0.5 <= resume_rest_s <= 10.0:
            raise ValueError(f"resume_rest_s must be 0.5 to 10, got {resume_rest_s}")
        self.plan = plan
        self.affected_side = affected_side
        self._own_tracker = tracker is None
        self.tracker = tracker or FaceTracker(model)
        self.pause_after_s = pause_after_s
        self.resume_rest_s = resume_rest_s
        self.reps: list[RepScore] = []
        self.series: list[RepSeries] = []
        self.interrupted: list[tuple[str, int, float]] = []
        self.unmeasured: list[tuple[str, int, str]] = []  # (exercise, rep, reason) not scored
        self.last_observation: FaceObservation | None = None
        self.frames = 0
        self.frames_with_face = 0
        self._step = 0
        self._rep = 1
        self._phase = BASELINE
        self._phase_t: float | None = None
        self._rest_len = 0.0
        self._rep_start = 0.0
        self._scored = False
        self._repeat = False
        self._buffer: list[_Frame] = []
        self._unseen_since: float | None = None
        self._seen_since: float | None = None
        self._measurer = self._new_measurer()
        self._first_resting: dict[str, float] | None = None
        self.scale_from_one_eye: str | None = None  # the eye whose iris alone set a scale, if any
        # The last seconds' trusted frames: (time, larger side's movement the exercise's way,
        # larger side's movement either way); None when not measured.
        self._recent: deque[tuple[float, float | None, float | None]] = deque()
        self._waiting_to_relax = False
        self.unrelaxed = 0  # movements started after waiting in vain for the face to relax

    # -- life cycle -------------------------------------------------------------
    def close(self) -> None:
        if self._own_tracker:
            self.tracker.close()

    def __enter__(self) -> SessionEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def exercise(self) -> ExerciseSpec:
        return self.plan.steps[min(self._step, len(self.plan.steps) - 1)]

    @property
    def done(self) -> bool:
        return self._phase == DONE

    def _new_measurer(self) -> FaceMeasurer:
        return self.exercise.new_measurer()

    # -- the frame loop ---------------------------------------------------------
    def update(
        self, frame_rgb: np.ndarray, t_s: float, observation: FaceObservation | None | object = _TRACK
    ) -> SessionUpdate:
        """Process one frame: returns the cue, live feedback and any rep just scored."""
        obs = self.tracker.update(frame_rgb, t_s) if observation is _TRACK else observation
        self.last_observation = obs  # type: ignore[assignment]
        self.frames += 1
        fm = self._measurer.update(frame_rgb, obs, t_s)  # type: ignore[arg-type]
        if fm.status != NO_FACE:
            self.frames_with_face += 1
        seen = fm.status in (OK, CALIBRATING, UNSURE)
        if seen:
            self._unseen_since = None
            self._seen_since = t_s if self._seen_since is None else self._seen_since
        else:
            self._seen_since = None
            self._unseen_since = t_s if self._unseen_since is None else self._unseen_since
        if self._phase_t is None:
            self._phase_t = t_s
        completed: list[RepScore] = []
        frame = self._frame_of(fm)
        if self._phase in (MOVE, HOLD, RELEASE, REST) and not self._scored:
            self._buffer.append(frame)
        self._recent.append((t_s, *self._amounts(frame)))
        while self._recent and self._recent[0][0] < t_s - SETTLE_CHECK_S:
            self._recent.popleft()
        n_series = len(self.series)
        self._advance(t_s, fm, completed)
        return SessionUpdate(
            t_s, self._cue(t_s), self._feedback(fm, frame), fm, tuple(completed), tuple(self.series[n_series:])
        )

    def _frame_of(self, fm: FrameMeasures) -> _Frame:
        ex = self.exercise
        values = ex.measure_def.value(fm) if fm.ok else None
        primary = ex.measure_def.points[0].name
        mouth = None
        if fm.ok and ex.watch == "mouth":
            mouth = fm.excursion_mm("mouth_corner")
        return _Frame(
            fm.t_s,
            self._phase,
            values,
            fm.movement_mm.get(primary) if fm.ok else None,
            fm.eye_narrowing_pct if fm.ok else None,
            mouth,
            fm.confidence_of(primary),
            fm.reason,
            fm.reference_t_s if fm.ok else None,
        )

    def _duration(self, phase: str) -> float:
        ex = self.exercise
        return {
            BASELINE: self.plan.baseline_s,
            MOVE: ex.rise_s,
            HOLD: ex.hold_s,
            RELEASE: ex.release_s,
            REST: self._rest_len,
        }.get(phase, math.inf)

    def _enter(self, phase: str, t: float) -> None:
        self._phase = phase
        self._phase_t = t

    def _advance(self, t: float, fm: FrameMeasures, completed: list[RepScore]) -> None:
        lost_for = 0.0 if self._unseen_since is None else t - self._unseen_since
        # Face lost mid-rep: abandon the rep rather than guess, and pause.
        if self._phase in (MOVE, HOLD, RELEASE) and lost_for > self.pause_after_s:
            self.interrupted.append((self.exercise.id, self._rep, t))
            self._repeat = True
            self._buffer.clear()
            self._enter(PAUSED, t)
            return
        if self._phase == REST and lost_for > self.pause_after_s:
            # Face lost while resting: the rep before is complete (scored now if it was not
            # yet); the next one starts, with its movement cue, after the face is back and
            # has rested again.
            if not self._scored:
                self._score(completed)
            self._waiting_to_relax = False
            self._enter(PAUSED, t)
            return
        if self._phase == PAUSED:
            if self._seen_since is not None and t - self._seen_since >= 0.5:
                self._rest_len = self.resume_rest_s
                self._scored = True  # nothing to score for the abandoned rep
                self._enter(REST, t)
            return
        if self._phase == BASELINE and self._unseen_since is not None:
            self._phase_t = t  # the resting baseline needs the face in view throughout
            self._waiting_to_relax = False
            return
        for _ in range(8):  # at most a few phase changes per frame
            assert self._phase_t is not None
            if self._phase == DONE or t - self._phase_t < self._duration(self._phase):
                break
            end = self._phase_t + self._duration(self._phase)
            if self._phase == BASELINE:
                if not self._measurer.calibrated:
                    break
                if self._relaxed() is False and t - end < RELAX_WAIT_S:
                    # Moving the exercise's way since the face was first taken: the first
                    # movement is measured from a rest, so wait until there is one.
                    self._waiting_to_relax = True
                    break
                if self._waiting_to_relax and self._relaxed() is not True:
                    self.unrelaxed += 1
                self._waiting_to_relax = False
                self._measurer.rebaseline()
                if self._measurer.scale_from != BOTH_IRISES:
                    self.scale_from_one_eye = self._measurer.scale_from
                if self._first_resting is None:
                    self._first_resting = self._measurer.resting_asymmetry()
                self._start_rep(end if t - end <= self.pause_after_s else t)  # after a wait: now, with its cue
            elif self._phase == MOVE:
                self._enter(HOLD, end)
            elif self._phase == HOLD:
                self._enter(RELEASE, end)
            elif self._phase == RELEASE:
                self._rest_len = self.exercise.rest_s
                self._enter(REST, end)
            elif self._phase == REST:
                if not self._scored:
                    self._score(completed)
                if self._unseen_since is not None:
                    break  # wait for the face before the next movement
                another_rep = self._repeat or self._rep < self.exercise.reps
                if another_rep and self._relaxed() is False and t - end < RELAX_WAIT_S:
                    self._waiting_to_relax = True
                    break  # the next movement is measured from this rest: wait until it is one
                if self._waiting_to_relax and self._relaxed() is not True:
                    self.unrelaxed += 1
                self._waiting_to_relax = False
                # After waiting for the face, the next movement starts now, with its cue;
                # the schedule never runs through phases the patient was not shown.
                self._next_rep(end if t - end <= self.pause_after_s else t)
        # Score early in the rest, once the release has had time to show.
        if self._phase == REST and not self._scored and t - (self._phase_t or t) >= min(0.5, self._rest_len):
            self._score(completed)

    def _start_rep(self, t: float) -> None:
        self._buffer.clear()
        self._scored = False
        self._rep_start = t
        self._enter(MOVE, t)

    def _next_rep(self, t: float) -> None:
        ex = self.exercise
        if self._repeat:
            self._repeat = False  # the interrupted rep is done again
        elif self._rep < ex.reps:
            self._rep += 1
        else:
            self._step += 1
            if self._step >= len(self.plan.steps):
                self._enter(DONE, t)
                return
            self._rep = 1
            self._measurer = self._new_measurer()
            self._seen_since = None
            self._enter(BASELINE, t)
            return
        # The face is resting between reps: measure the next rep from this rest.
        self._measurer.rebaseline()
        self._start_rep(t)

    def _score(self, completed: list[RepScore]) -> None:
        self._scored = True
        ex = self.exercise
        why = unmeasured_reason(ex, self._rep_start, self._buffer)
        rep = None if why else score_rep(ex, self._step, self._rep, self._rep_start, self._buffer, self.affected_side)
        if rep is not None and rep.completed and not sure_enough(rep.confidence, ex.measure):
            rep, why = None, TOO_UNSURE
        if rep is not None:
            self.reps.append(rep)
            self.series.append(rep_series(ex, self._step, self._rep, self._rep_start, self._buffer))
            completed.append(rep)
        else:
            # Abstain rather than score a hold we could not see: say so, never drop it silently.
            self.unmeasured.append((ex.id, self._rep, why or "no_face"))
        self._buffer = []

    # -- what the patient sees ----------------------------------------------------
    def _cue(self, t: float) -> Cue:
        ex = self.exercise
        left = max(0.0, self._duration(self._phase) - (t - (self._phase_t or t)))
        if self._phase == DONE:
            text = "All done. Well done!"
        elif self._phase == PAUSED or (self._unseen_since is not None and self._phase != BASELINE):
            text = "We can't see your face. Face the camera and we'll carry on."
        elif self._phase == BASELINE:
            if self._unseen_since is not None:
                text = "Face the camera so we can see you."
            elif self._waiting_to_relax:
                text = "Relax your face completely."
            else:
                text = f"{ex.name}. Relax your face and look at the camera."
        elif self._phase == MOVE:
            text = ex.cue_for(self._rep) + "…"
        elif self._phase == HOLD:
            text = f"{ex.cue_hold}… {math.ceil(left)}" if left > 0 else ex.cue_hold
        elif self._phase == RELEASE:
            text = ex.cue_release + "…"
        elif self._waiting_to_relax:
            text = "Relax your face completely."
        else:
            text = "Rest."
        return Cue(t, self._step, ex.id, ex.name, self._rep, ex.reps, self._phase, text, left)

    def _feedback(self, fm: FrameMeasures, frame: _Frame) -> LiveFeedback:
        ex = self.exercise
        msgs: list[str] = []
        if fm.status == TURNED:
            msgs.append("Face the camera")
        elif fm.status == NO_FACE:
            msgs.append("We can't see your face")
        elif fm.status == UNSURE:
            msgs.append(UNSURE_CUES.get(fm.reason or "", "Keep your head still").format(area=ex.measure_def.area))
        elif fm.status not in (OK, CALIBRATING):
            msgs.append("Move a little closer to the camera")
        if fm.faces_seen > 1:
            msgs.append("Someone else is in the picture: we keep watching you")
        value = frame.values
        progress = None
        if value is not None and ex.target > 0:
            progress = PerSide(value.left / ex.target, value.right / ex.target)
        if value is not None and self._phase in (MOVE, HOLD):
            strong = max(value.left, value.right)
            weak = min(value.left, value.right)
            if ex.max_strong and strong > ex.max_strong:
                msgs.append("Smaller, please: about a quarter of your effort")
            if ex.match_weaker and strong > 1.25 * weak + 0.5:
                msgs.append("Easy on the stronger side")
            if self._phase == MOVE and self._too_fast_now(frame):
                msgs.append("Slow down")
        affected = self.affected_side
        if frame.narrowing is not None and ex.watch == "eye" and self._phase in (MOVE, HOLD):
            side = affected or ("left" if frame.narrowing.left > frame.narrowing.right else "right")
            if frame.narrowing[side] >= EYE_SYNKINESIS_PCT:
                msgs.append("Keep your eye open")
        way = ex.measure_def.direction
        if value is not None and frame.move is not None and way is not None and way.drags and self._phase == HOLD:
            # A side pulled across: moving the other way more than its own, while the other
            # side moves the exercise's way.
            pulled = [
                s
                for s in ("left", "right")
                if way.opposite(*frame.move[s]) >= max(PULLED_NOW_MM, value[s]) and value[other_side(s)] >= ex.on_level
            ]
            if pulled and not any(m.startswith("Easy on the stronger side") for m in msgs):
                msgs.append("Easy on the stronger side: it pulls the other side across")
        if frame.mouth is not None and ex.watch == "mouth" and self._phase in (MOVE, HOLD):
            if max(frame.mouth.left, frame.mouth.right) >= MOUTH_SYNKINESIS_MM:
                msgs.append("Keep your mouth still")
        return LiveFeedback(value, progress, tuple(msgs))

    def _amounts(self, frame: _Frame) -> tuple[float | None, float | None]:
        """The larger side's movement the exercise's way, and either way (None when not measured)."""
        if frame.values is None:
            return None, None
        measure = self.exercise.measure_def
        way, move = measure.direction, frame.move
        opposite = None if way is None or move is None else PerSide(way.opposite(*move.left), way.opposite(*move.right))
        return max(frame.values.left, frame.values.right), measure.either_way(frame.values, opposite)

    def _relaxed(self) -> bool | None:
        """Whether the face is at rest now, so that the next movement can be measured from here.

        At rest: the last ``RELAX_CHECK_S`` of trusted frames below the exercise's off level,
        moving neither its way nor the other (their median: one noisy frame does not keep a
        relaxed patient waiting). Or settled: still (the middle 80 % within ``SETTLE_BAND``
        of its on level) for ``SETTLE_CHECK_S``, and either most of the way back from the
        last movement (median below ``SETTLE_SHARE`` of its peak) — a lasting sag, say — or
        not moved the exercise's way at all (below the off level): a face resting away from
        where the reference was taken, the other way (that was no rest: a smile held while
        the face was first taken). None when too few frames were trusted to tell: then the
        coach does not keep a patient waiting on the measure's doubt.
        """
        ex = self.exercise
        if not self._recent:
            return None
        now = self._recent[-1][0]
        last = [e for t, _, e in self._recent if e is not None and t >= now - RELAX_CHECK_S]
        if len(last) < MIN_TRUSTED_FRAMES:
            return None
        if float(np.median(last)) < ex.off_level:
            return True
        held = [e for _, _, e in self._recent if e is not None]
        along = [a for _, a, _ in self._recent if a is not None]
        mine = [r for r in self.reps if r.step == self._step and r.completed]
        peak = max(mine[-1].peak.left, mine[-1].peak.right) if mine else 0.0
        low, high = np.percentile(held, [10, 90]) if len(held) >= MIN_TRUSTED_FRAMES else (0.0, math.inf)
        still = now - self._recent[0][0] >= 0.9 * SETTLE_CHECK_S and high - low <= SETTLE_BAND * ex.on_level
        return bool(still and (float(np.median(held)) < SETTLE_SHARE * peak or max(along) < ex.off_level))

    def _too_fast_now(self, frame: _Frame) -> bool:
        # Over the last 0.25 s, faster than the whole target in a third of the rise time.
        ex = self.exercise
        recent = []
        for f in reversed(self._buffer):
            if frame.t_s - f.t_s > 0.25:
                break
            if f.values is not None:
                recent.insert(0, f)
        if len(recent) < 3 or frame.values is None:
            return False
        dt = recent[-1].t_s - recent[0].t_s
        if dt <= 0:
            return False
        speed = (
            max(recent[-1].values.left, recent[-1].values.right) - max(recent[0].values.left, recent[0].values.right)
        ) / dt  # type: ignore[union-attr]
        limit = max(ex.target, 2 * ex.on_level) / max(0.2, ex.rise_s / 3)
        return speed > limit

    # -- results -----------------------------------------------------------------
    def result(self) -> SessionResult:
        return build_result(
            self.plan,
            self.reps,
            self.interrupted,
            self.affected_side,
            self.frames,
            self.frames_with_face,
            self._first_resting,
            self.unmeasured,
            self.scale_from_one_eye,
            self.unrelaxed,
        )


def rep_series(ex: ExerciseSpec, step: int, index: int, move_start: float, frames: list[_Frame]) -> RepSeries:
    """The per-frame series of one rep, times from ``move_start`` (see :class:`RepSeries`)."""
    nan = float("nan")
    t = [f.t_s - move_start for f in frames]
    val = [(nan, nan) if f.values is None else (f.values.left, f.values.right) for f in frames]
    eye = [(nan, nan) if f.narrowing is None else (f.narrowing.left, f.narrowing.right) for f in frames]
    v = np.array(val, dtype=np.float32).reshape(-1, 2)
    e = np.array(eye, dtype=np.float32).reshape(-1, 2)
    return RepSeries(
        ex.id, step, index, np.array(t, np.float32), v[:, 0], v[:, 1], e[:, 0], e[:, 1], ex.measure_def.unit
    )


def _first_crossing(frames: list[_Frame], side: str, level: float, t0: float, above: bool) -> float | None:
    for f in frames:
        if f.t_s < t0 or f.values is None:
            continue
        v = f.values[side]
        if (v >= level) if above else (v <= level):
            return f.t_s - t0
    return None


def _hold_window(ex: ExerciseSpec, move_start: float) -> tuple[float, float]:
    """The part of the hold that is scored: after a short settle, to the release (seconds)."""
    hold_start = move_start + ex.rise_s
    return hold_start + min(0.3, ex.hold_s / 3), hold_start + ex.hold_s


def unmeasured_reason(ex: ExerciseSpec, move_start: float, frames: list[_Frame]) -> str | None:
    """Why a rep's hold cannot be scored (``"moving"``, ``"hidden"``, ``"light"``, ``"edge"``,
    ``"no_face"``, ``"no_rest"``), or None when enough of it was measured with trust.

    ``"no_rest"``: the hold was measured against a reference older than the rest just
    before the rep (:func:`coach.measures.peak.own_rest_seen`; a session takes its
    reference at the end of each rest and keeps no frame from before the rep, so this
    happens only when that failed).
    """
    lo, hi = _hold_window(ex, move_start)
    hold = [f for f in frames if lo <= f.t_s <= hi]
    trusted = [f for f in hold if f.values is not None]
    if not hold:
        seen = [f for f in frames if f.values is not None]
        if not seen:
            return "no_face"
        return None if own_rest_seen(move_start, seen[0].reference_t_s, 0) else NO_REST
    if enough_trusted(len(trusted), len(hold)):
        return None if own_rest_seen(move_start, trusted[0].reference_t_s, 0) else NO_REST
    why = [f.reason for f in hold if f.reason]
    return by_count(why)[0] if why else "no_face"


def score_rep(
    ex: ExerciseSpec,
    step: int,
    index: int,
    move_start: float,
    frames: list[_Frame],
    affected: str | None,
) -> RepScore | None:
    """Score one rep from its frames (move through early rest).

    Rules:
        * peak per side: median over the hold, after a 0.3 s settle (for the
          mouth-corner measure, the median movement vector's length up and out,
          :mod:`coach.measures.direction`);
        * completed: the larger side's peak reached ``on_level``;
        * onset/release: when each side passes 20 % of its own peak; the lag is
          the difference between the sides;
        * steadiness: spread of the hold, 100 × SD ÷ mean, per side;
        * synkinesis (eye): the affected (else weaker) side's eye narrowing over
          the hold ≥ 15 % and ≥ 10 points more than the other eye;
          (mouth): the mouth corner on that side moves ≥ 1.5 mm;
        * flags: ``too_fast`` (10 → 90 % of the peak in under a third of the
          rise time), ``too_big`` (strong side past ``max_strong``),
          ``strong_side_ahead`` (symmetry drill: strong > 1.25 × weak + 0.5),
          ``left_dragged`` / ``right_dragged`` (that side's point moved against the
          exercise's direction by ``DRAGGED_MM`` or more at the hold; that movement is
          never in ``peak``).

    Returns None when no frame of the rep could be measured.
    """
    seen = [f for f in frames if f.values is not None]
    if not seen:
        return None
    settled, release_start = _hold_window(ex, move_start)
    hold = [f for f in seen if settled <= f.t_s <= release_start]
    if len(hold) < 3:
        hold = [f for f in seen if f.phase == HOLD] or seen
    unit = ex.measure_def.unit
    way = ex.measure_def.direction
    moves = [f.move for f in hold] if way is not None and all(f.move for f in hold) else None
    vectors = moves if ex.measure == "mouth_corner" else None
    peak, _ = hold_peak([f.values for f in hold], vectors, way or UP_AND_OUT)  # type: ignore[misc]
    opposite = None
    if way is not None and moves:
        median = {s: np.median([m[s] for m in moves], axis=0) for s in ("left", "right")}  # type: ignore[index]
        opposite = PerSide(*(float(way.opposite(*median[s])) for s in ("left", "right")))
    completed = max(peak.left, peak.right) >= ex.on_level
    sym = symmetry_pct(peak.left, peak.right, affected) if completed else None
    onset: dict[str, float | None] = {}
    release: dict[str, float | None] = {}
    steady: dict[str, float | None] = {}
    for s in ("left", "right"):
        p = peak[s]
        if completed and p >= ex.off_level:
            onset[s] = _first_crossing(seen, s, 0.2 * p, move_start, above=True)
            release[s] = _first_crossing(seen, s, 0.2 * p, release_start, above=False)
            vals = np.array([f.values[s] for f in hold])  # type: ignore[index]
            steady[s] = float(100.0 * vals.std() / max(vals.mean(), 1e-9))
        else:
            onset[s] = release[s] = steady[s] = None
    onset_lag = None if None in (onset["left"], onset["right"]) else abs(onset["left"] - onset["right"])  # type: ignore[operator]
    release_lag = (
        None if None in (release["left"], release["right"]) else abs(release["left"] - release["right"])  # type: ignore[operator]
    )
    flags: list[str] = []
    strong = "left" if peak.left >= peak.right else "right"
    if completed:
        t10 = _first_crossing(seen, strong, 0.1 * peak[strong], move_start, above=True)
        t90 = _first_crossing(seen, strong, 0.9 * peak[strong], move_start, above=True)
        if t10 is not None and t90 is not None and t90 - t10 < ex.rise_s / 3:
            flags.append("too_fast")
        if ex.max_strong and peak[strong] > ex.max_strong:
            flags.append("too_big")
        if ex.match_weaker and peak[strong] > 1.25 * min(peak.left, peak.right) + 0.5:
            flags.append("strong_side_ahead")
    # A side pulled against the exercise's direction (a corner dragged across by the other side).
    pulled = dragged(peak, opposite, way)
    flags.extend(f"{side}_dragged" for side in pulled)
    syn_side = affected or weaker_side(peak.left, peak.right) or ("left" if peak.left < peak.right else "right")
    syn_value: float | None = None
    syn_excess: float | None = None
    syn = False
    if ex.watch == "eye":
        narrow = [f.narrowing for f in hold if f.narrowing is not None]
        if narrow:
            med = PerSide(*(float(np.median([n[s] for n in narrow])) for s in ("left", "right")))
            other = "right" if syn_side == "left" else "left"
            syn_value = med[syn_side]
            syn_excess = med[syn_side] - med[other]
            syn = med[syn_side] >= EYE_SYNKINESIS_PCT and syn_excess >= EYE_SYNKINESIS_MARGIN_PCT
    elif ex.watch == "mouth":
        mouth = [f.mouth for f in hold if f.mouth is not None]
        if mouth:
            syn_value = float(np.median([m[syn_side] for m in mouth]))
            syn = syn_value >= MOUTH_SYNKINESIS_MM
    return RepScore(
        exercise_id=ex.id,
        step=step,
        index=index,
        start_s=move_start,
        end_s=release_start + ex.release_s,
        completed=completed,
        unit=unit,
        peak=peak,
        symmetry_pct=sym,
        onset_s=PerSide(onset["left"], onset["right"]),
        release_s=PerSide(release["left"], release["right"]),
        onset_lag_s=onset_lag,
        release_lag_s=release_lag,
        steadiness_pct=PerSide(steady["left"], steady["right"]),
        synkinesis_kind=ex.watch,
        synkinesis_value=syn_value,
        synkinesis_side=syn_side if ex.watch else None,
        synkinesis=syn and completed,
        flags=tuple(flags),
        confidence=rep_confidence([f.confidence for f in hold], [f.t_s for f in hold], peak, unit),
        frames=len(seen),
        synkinesis_excess=syn_excess,
        opposite_mm=opposite,
        dragged=pulled,
    )


# ---------------------------------------------------------------------------
# Session results, the session score and the assessment estimates.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExerciseSummary:
    exercise_id: str
    step: int
    name: str
    unit: str
    planned: int
    completed: int
    interrupted: int
    mean_peak: PerSide[float] | None
    symmetry_pct: float | None
    weaker_side: str | None
    mean_onset_lag_s: float | None
    synkinesis_reps: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "exercise": self.exercise_id,
            "step": self.step,
            "name": self.name,
            "unit": self.unit,
            "planned": self.planned,
            "completed": self.completed,
            "interrupted": self.interrupted,
            "mean_peak": None
            if self.mean_peak is None
            else {s: round(self.mean_peak[s], 2) for s in ("left", "right")},
            "symmetry_pct": None if self.symmetry_pct is None else round(self.symmetry_pct, 1),
            "weaker_side": self.weaker_side,
            "mean_onset_lag_s": None if self.mean_onset_lag_s is None else round(self.mean_onset_lag_s, 3),
            "synkinesis_reps": self.synkinesis_reps,
        }


@dataclass(frozen=True)
class SessionResult:
    plan_id: str
    affected_side: str | None
    exercises: tuple[ExerciseSummary, ...]
    reps: tuple[RepScore, ...]
    score: int | None
    score_parts: dict[str, float]
    score_explained: tuple[str, ...]
    grades: dict[str, Any] | None
    frames: int
    frames_with_face: int
    interrupted: int
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "program": self.plan_id,
            "affected_side": self.affected_side,
            "frames": self.frames,
            "frames_with_face": self.frames_with_face,
            "score": self.score,
            "score_parts": {k: round(v, 1) for k, v in self.score_parts.items()},
            "score_explained": list(self.score_explained),
            "exercises": [e.to_dict() for e in self.exercises],
            "reps": [r.to_dict() for r in self.reps],
            "interrupted_reps": self.interrupted,
            "grades": self.grades,
            "warnings": list(self.warnings),
        }


def summarise_exercise(
    ex: ExerciseSpec, step: int, reps: list[RepScore], interrupted: int, affected: str | None
) -> ExerciseSummary:
    done = [r for r in reps if r.completed]
    mean = None
    sym = None
    weaker = None
    lag = None
    if done:
        mean = PerSide(*(float(np.mean([r.peak[s] for r in done])) for s in ("left", "right")))
        sym = symmetry_pct(mean.left, mean.right, affected)
        weaker = weaker_side(mean.left, mean.right)
        lags = [r.onset_lag_s for r in done if r.onset_lag_s is not None]
        lag = float(np.mean(lags)) if lags else None
    return ExerciseSummary(
        ex.id,
        step,
        ex.name,
        ex.measure_def.unit,
        ex.reps,
        len(done),
        interrupted,
        mean,
        sym,
        weaker,
        lag,
        sum(r.synkinesis for r in done),
    )


def session_score(
    summaries: Iterable[ExerciseSummary], reps: list[RepScore]
) -> tuple[int | None, dict[str, float], tuple[str, ...]]:
    """A 0–100 score with its reasons, in plain words.

    Rule: completion 30 points (reps done ÷ planned), symmetry 40 (mean rep
    symmetry, capped at 100 %), control 15 (onset lag: full marks up to 0.2 s,
    none from 1 s), eye and mouth kept still 15 (share of reps without synkinesis).
    """
    summaries = list(summaries)
    planned = sum(s.planned for s in summaries)
    done = [r for r in reps if r.completed]
    if planned == 0:
        return None, {}, ()
    completion = 30.0 * min(1.0, len(done) / planned)
    syms = [min(100.0, r.symmetry_pct) for r in done if r.symmetry_pct is not None]
    symmetry = 40.0 * (float(np.mean(syms)) / 100.0) if syms else 0.0
    lags = [r.onset_lag_s for r in done if r.onset_lag_s is not None]
    control = 15.0 * float(np.mean([np.clip((1.0 - lag) / 0.8, 0.0, 1.0) for lag in lags])) if lags else 0.0
    watched = [r for r in done if r.synkinesis_kind]
    still = 15.0 * (sum(not r.synkinesis for r in watched) / len(watched)) if watched else (15.0 if done else 0.0)
    parts = {"completion": completion, "symmetry": symmetry, "control": control, "still": still}
    total = int(round(sum(parts.values())))
    why = [
        f"You did {len(done)} of {planned} movements ({completion:.0f} of 30 points).",
        (
            f"Your two sides moved {np.mean(syms):.0f} % alike on average ({symmetry:.0f} of 40 points)."
            if syms
            else "We could not compare your two sides this time (0 of 40 points)."
        ),
        (
            f"Your two sides started on average {np.mean(lags):.2f} s apart ({control:.0f} of 15 points)."
            if lags
            else "We could not time your movements this time (0 of 15 points)."
        ),
    ]
    if watched:
        why.append(
            f"The rest of your face stayed still in {sum(not r.synkinesis for r in watched)} of {len(watched)} "
            f"movements ({still:.0f} of 15 points)."
        )
    return total, parts, tuple(why)


# Standard expressions: exercise id → (eFACE-like item, Sunnybrook-like item).
# The assessment's items (docs/assessment.md): eFACE's dynamic items (Banks et al. 2015)
# and Sunnybrook's five standard expressions (Ross et al. 1996), each from the exercise
# that performs it; None where FaceCoach does not measure the item.
EFACE_DYNAMIC_ITEMS: dict[str, str | None] = {
    "brow_elevation": "brow_raise",
    "gentle_eye_closure": "gentle_eye_closure",
    "full_eye_closure": "full_eye_closure",
    "oral_commissure_with_smile": "big_smile",
    "lower_lip_eee": None,  # eFACE grades the lower lip's depression; FaceCoach measures the corners
}
SUNNYBROOK_EXPRESSIONS: dict[str, str] = {
    "brow_lift": "brow_raise",
    "gentle_eye_closure": "gentle_eye_closure",
    "open_mouth_smile": "big_smile",
    "snarl": "snarl",
    "lip_pucker": "pucker",
}
ASSESSMENT_EXERCISES = frozenset(v for v in (*EFACE_DYNAMIC_ITEMS.values(), *SUNNYBROOK_EXPRESSIONS.values()) if v)


def _voluntary_1_to_5(ratio_pct: float) -> int:
    if ratio_pct < 10:
        return 1
    if ratio_pct < 35:
        return 2
    if ratio_pct < 65:
        return 3
    if ratio_pct < 90:
        return 4
    return 5


def _synkinesis_0_to_3(kind: str, value: float | None) -> int:
    """Sunnybrook-like synkinesis grade: eye narrowing beyond the other eye's (points), or mouth movement (mm)."""
    if value is None:
        return 0
    steps = (10.0, 25.0, 50.0) if kind == "eye" else (1.0, 2.0, 4.0)
    return sum(value >= s for s in steps)


def assessment_grades(
    summaries: list[ExerciseSummary], reps: list[RepScore], affected: str | None, resting: dict[str, float] | None
) -> dict[str, Any]:
    """eFACE-like and Sunnybrook-like **estimates** from an assessment session (docs/assessment.md).

    Rules (each an estimate, not a clinician's grade):
        * affected side: as given, else the side that moved less over all items;
        * eFACE-like dynamic item (0–100), for eFACE's dynamic items only: affected ÷
          unaffected movement × 100, capped at 100; dynamic score: their mean, given only
          when every item was measured (the lower lip in "EEE" never is: FaceCoach
          measures the mouth corners there), else None with the missing items named;
        * Sunnybrook-like voluntary movement (1–5) per standard expression from
          that ratio: < 10 % → 1, < 35 % → 2, < 65 % → 3, < 90 % → 4, else 5;
          score = 4 × sum (20–100), given only when all five were measured;
        * Sunnybrook-like synkinesis (0–3) per expression: the watched eye narrowing
          ≥ 10 / 25 / 50 points **more than the other eye** (mouth expressions: a normal
          smile narrows both eyes alike), or mouth movement ≥ 1 / 2 / 4 mm (eye and brow
          expressions); score = sum (0–15);
        * Sunnybrook-like resting symmetry: eye (aperture differs > 1.5 mm) and
          mouth (corner height differs > 2 mm), 1 point each; cheek not
          estimated; score = 5 × sum;
        * composite = voluntary − resting − synkinesis, given only when voluntary is.
    """
    done = {s.exercise_id: s for s in summaries if s.mean_peak is not None and s.exercise_id in ASSESSMENT_EXERCISES}
    if affected is None:
        tot = {
            side: sum(s.mean_peak[side] / max(1e-9, max(s.mean_peak.left, s.mean_peak.right)) for s in done.values())  # type: ignore[index]
            for side in ("left", "right")
        }
        affected = "left" if tot["left"] < tot["right"] else "right"
    other = "right" if affected == "left" else "left"

    def ratio(ex_id: str) -> float:
        s = done[ex_id]
        return 100.0 * s.mean_peak[affected] / max(s.mean_peak[other], 1e-9)  # type: ignore[index]

    eface = {item: round(min(100.0, ratio(ex)), 1) for item, ex in EFACE_DYNAMIC_ITEMS.items() if ex in done}
    eface_missing = [item for item in EFACE_DYNAMIC_ITEMS if item not in eface]
    voluntary: dict[str, int] = {}
    synk: dict[str, int] = {}
    for item, ex_id in SUNNYBROOK_EXPRESSIONS.items():
        if ex_id not in done:
            continue
        voluntary[item] = _voluntary_1_to_5(ratio(ex_id))
        rs = [r for r in reps if r.exercise_id == ex_id and r.completed]
        kind = rs[0].synkinesis_kind if rs else ""
        vals = [r.synkinesis_excess if kind == "eye" else r.synkinesis_value for r in rs]
        vals = [v for v in vals if v is not None]
        synk[item] = _synkinesis_0_to_3(kind, float(np.median(vals)) if vals else None)
    missing = [item for item in SUNNYBROOK_EXPRESSIONS if item not in voluntary]
    resting_pts = {}
    if resting:
        resting_pts = {
            "eye": int(abs(resting.get("eye_aperture_mm", 0.0)) > 1.5),
            "mouth": int(abs(resting.get("commissure_height_mm", 0.0)) > 2.0),
        }
    vol_score = 4 * sum(voluntary.values()) if voluntary and not missing else None
    syn_score = sum(synk.values()) if not missing else None
    rest_score = 5 * sum(resting_pts.values())
    return {
        "label": "Estimates from FaceCoach measurements, not a clinician's grading.",
        "affected_side_used": affected,
        "eface_like": {
            "items": eface,
            "dynamic_score": round(float(np.mean(list(eface.values()))), 1) if eface and not eface_missing else None,
            "measured_items_mean": round(float(np.mean(list(eface.values()))), 1) if eface else None,
            "missing": eface_missing,
            "rule": "eFACE dynamic items: affected ÷ unaffected movement × 100, capped at 100; dynamic score = "
            "their mean, only when every item is measured (the lower lip in EEE is not)",
        },
        "sunnybrook_like": {
            "voluntary_movement": voluntary,
            "voluntary_score": vol_score,
            "synkinesis": synk,
            "synkinesis_score": syn_score,
            "resting": resting_pts,
            "resting_score": rest_score,
            "composite": None if vol_score is None or syn_score is None else vol_score - rest_score - syn_score,
            "missing": missing,
            "rule": "voluntary 1–5 from movement ratio (<10/35/65/90 %); synkinesis 0–3 from eye narrowing beyond "
            "the other eye's (10/25/50 points) or mouth movement (1/2/4 mm); resting: eye > 1.5 mm, mouth > 2 mm "
            "apart; cheek not estimated; scores only when all five expressions were measured",
        },
    }


def build_result(
    plan: SessionPlan,
    reps: list[RepScore],
    interrupted: list[tuple[str, int, float]],
    affected: str | None,
    frames: int,
    frames_with_face: int,
    resting: dict[str, float] | None = None,
    unmeasured: list[tuple[str, int, str]] | None = None,
    scale_from_one_eye: str | None = None,
    unrelaxed: int = 0,
) -> SessionResult:
    summaries = []
    for i, ex in enumerate(plan.steps):
        mine = [r for r in reps if r.step == i]
        summaries.append(summarise_exercise(ex, i, mine, sum(1 for e, _, _ in interrupted if e == ex.id), affected))
    score, parts, why = session_score(summaries, reps)
    grades = assessment_grades(summaries, reps, affected, resting) if plan.assessment else None
    warnings = []
    if frames and frames_with_face == 0:
        warnings.append("No face was found: nothing could be scored.")
    if interrupted:
        n = len(interrupted)
        warnings.append(f"{count(n, 'movement')} {was_were(n)} repeated because your face left the picture.")
    if unmeasured:
        areas = {ex.id: ex.measure_def.area for ex in plan.steps}
        said = by_count(reason_words(r, areas.get(e, "face")) for e, _, r in unmeasured)
        words = ", ".join(said)
        warnings.append(f"{count(len(unmeasured), 'movement')} could not be measured reliably ({words}).")
    if scale_from_one_eye:
        warnings.append(one_eye_scale_words(scale_from_one_eye))
    if unrelaxed:
        warnings.append(
            f"{count(unrelaxed, 'time')} your face had not relaxed when the next movement began; "
            "those movements were measured from where your face was."
        )
    return SessionResult(
        plan.id,
        affected,
        tuple(summaries),
        tuple(reps),
        score,
        parts,
        why,
        grades,
        frames,
        frames_with_face,
        len(interrupted),
        tuple(warnings),
    )


def with_overrides(plan: SessionPlan, overrides: dict[str, dict[str, Any]]) -> SessionPlan:
    """The plan with per-exercise tuning (a therapist's reps, holds, rests…) applied."""
    steps = []
    for ex in plan.steps:
        o = overrides.get(ex.id, {})
        steps.append(replace(ex, **o) if o else ex)
    return replace(plan, steps=tuple(steps))
