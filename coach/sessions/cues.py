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
from dataclasses import dataclass

import numpy as np

from coach.engine.exercise import ExerciseSpec
from coach.engine.measurer import (
    BOTH_IRISES,
    CALIBRATING,
    NO_FACE,
    OK,
    TURNED,
    UNSURE,
    FaceMeasurer,
    FrameMeasures,
)
from coach.engine.measures.peak import (
    MIN_TRUSTED_FRAMES,
    TOO_UNSURE,
    sure_enough,
)
from coach.engine.measures.sides import PerSide, other_side
from coach.engine.model import ModelFile
from coach.engine.observation import FaceObservation
from coach.engine.reps import SETTLE_BAND, SETTLE_SHARE
from coach.engine.tracking import FaceTracker
from coach.sessions.plan import BASELINE, DONE, HOLD, MOVE, PAUSED, RELEASE, REST, SessionPlan
from coach.sessions.scoring import (
    EYE_SYNKINESIS_PCT,
    MOUTH_SYNKINESIS_MM,
    FrameRecord,
    RepScore,
    rep_series,
    score_rep,
    unmeasured_reason,
)
from coach.sessions.series import RepSeries
from coach.sessions.summary import SessionResult, build_result

_TRACK = object()
# Before the next movement the face must be at rest (see SessionEngine._relaxed): checked
# over this long, or settled still over SETTLE_CHECK_S; the coach waits at most
# RELAX_WAIT_S beyond the planned rest, asking the patient to relax.
RELAX_CHECK_S = 0.5
SETTLE_CHECK_S = 1.0
RELAX_WAIT_S = 6.0

# What the patient is told while a frame's movement cannot be trusted (reasons: coach.engine.motion.trust).
UNSURE_CUES = {
    "moving": "Keep your head still",
    "hidden": "Keep your {area} in clear view",
    "light": "The light changed: hold still a moment",
    "edge": "Move into the middle of the picture",
}


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
        self._buffer: list[FrameRecord] = []
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

    def _frame_of(self, fm: FrameMeasures) -> FrameRecord:
        ex = self.exercise
        values = ex.measure_def.value(fm) if fm.ok else None
        primary = ex.measure_def.points[0].name
        mouth = None
        if fm.ok and ex.watch == "mouth":
            mouth = fm.excursion_mm("mouth_corner")
        return FrameRecord(
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

    def _feedback(self, fm: FrameMeasures, frame: FrameRecord) -> LiveFeedback:
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

    def _amounts(self, frame: FrameRecord) -> tuple[float | None, float | None]:
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

    def _too_fast_now(self, frame: FrameRecord) -> bool:
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
