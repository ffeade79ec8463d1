"""Offline (and live) analysis of one exercise: frames in, scored reps out.

:class:`Analyzer` is fed frame by frame, so the same code scores a file and a
live stream. Time comes only from frame timestamps.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from coach.engine.exercise import DEFAULT_SMILE, ExerciseSpec
from coach.engine.measurer import (
    BOTH_IRISES,
    MIN_CONFIDENCE,
    NO_FACE,
    OK,
    TOO_SMALL,
    TURNED,
    UNSURE,
    FrameMeasures,
    one_eye_scale_words,
)
from coach.engine.measures.direction import UP_AND_OUT, Direction, dragged
from coach.engine.measures.landmark import smile_angle_deg
from coach.engine.measures.peak import (
    MIN_TRUSTED_FRAMES,
    NO_REST,
    REST_LOOKBACK_S,
    TOO_UNSURE,
    enough_trusted,
    hold_peak,
    own_rest_seen,
    reason_words,
    rep_confidence,
    sure_enough,
)
from coach.engine.measures.sides import PerSide, other_side
from coach.engine.measures.symmetry import symmetry_pct, weaker_side
from coach.engine.model import ModelFile
from coach.engine.motion.trust import MOVING, by_count
from coach.engine.observation import FaceObservation
from coach.engine.reps import ACTIVE, RepDetector, RepWindow
from coach.engine.results import AnalysisResult, RepResult, Summary
from coach.engine.tracking import FaceTracker
from coach.engine.video import VideoReader
from coach.words import count, was_were

_TRACK = object()  # sentinel: "track this frame yourself"
PLATEAU_FRACTION = 0.8
RECOVER_AFTER_S = 1.0  # doubtful this long at rest: take a new reference
RESTING_LANDMARK_MM = 1.5  # landmark movement below which the face looks at rest
RESTING_EXPRESSIONS = ("smile", "mouth_stretch", "nose_sneer", "brow_outer_up", "squint")
RESTING_SCORE = 0.25  # ...or every one of these expression scores below this
# With an affected side given, a summary symmetry above this (the affected side moving more
# than half again as much as the other) makes the result ask whether left and right were
# swapped (a mirrored video). Our choice.
AFFECTED_MOVED_MORE_PCT = 150.0
# A face that stays this long (seconds) against the exercise's direction by at least the
# "on" level, with no movement its way, rests somewhere else than its reference: the
# reference was not a rest (a video that starts mid-smile), and the face is measured from
# here on.
AWAY_REST_S = 1.0


@dataclass(frozen=True)
class _Sample:
    """One scored frame: the measure per side, its main point's movement, and when its reference was taken."""

    t_s: float
    values: PerSide[float]
    move: PerSide[tuple[float, float]]
    lm: PerSide[tuple[float, float]]
    confidence: float
    reference_t_s: float | None = None
    opposite: PerSide[float] | None = None  # movement against the exercise's direction, mm
    rest_signal: float = 0.0  # what repetitions are found in and rest is judged on (MeasureDef.either_way)

    @property
    def signal(self) -> float:
        """The larger side's movement the exercise's way (what is scored)."""
        return max(self.values.left, self.values.right)


def sample_of(fm: FrameMeasures, exercise: ExerciseSpec) -> _Sample | None:
    """The frame's movement for this exercise, or None when it cannot be scored."""
    if not fm.ok:  # the measurer's gate: one for files and live sessions
        return None
    values = exercise.measure_def.value(fm)
    point = exercise.measure_def.points[0].name
    if values is None or point not in fm.movement_mm:
        return None
    opposite = exercise.measure_def.opposite(fm)
    return _Sample(
        fm.t_s,
        values,
        fm.movement_mm[point],
        fm.landmark_movement_mm[point],
        fm.confidence_of(point),
        fm.reference_t_s,
        opposite,
        exercise.measure_def.either_way(values, opposite),
    )


@dataclass(frozen=True)
class _Tick:
    """One frame on the repetition detector's time line.

    ``timing`` is what the detector follows: the trusted measure, or — where the
    measure was doubtful — the same movement read from the landmarks, so that a
    repetition is still *found* (and then reported as not measured) instead of being
    cut into pieces by doubtful frames. Only ``sample`` (trusted) is ever scored.
    """

    t_s: float
    timing: float | None
    sample: _Sample | None
    reason: str | None
    landmarks: float | None = None  # an unsure frame's landmark reading (its own scale)


def landmark_signal(fm: FrameMeasures, exercise: ExerciseSpec) -> float | None:
    """An unsure frame's movement for this exercise from the landmarks alone (timing; as rest_signal)."""
    if fm.status != UNSURE or not fm.landmark_movement_mm:
        return None
    lm = replace(fm, movement_mm=fm.landmark_movement_mm)
    values = exercise.measure_def.value(lm)
    if values is None:
        return None
    return exercise.measure_def.either_way(values, exercise.measure_def.opposite(lm))


def score_window(
    window: RepWindow,
    samples: list[_Sample],
    affected: str | None,
    way: Direction | None = UP_AND_OUT,
    hold: list[_Sample] | None = None,
    unit: str = "mm",
    vector: bool = True,
) -> RepResult:
    """Per-side movement at the hold of one rep.

    The hold is every frame whose movement is at least 80 % of the rep's peak
    (or the trusted frames of the hold found on the detector's time line, when
    given); each side's value is its median there, which is steady against
    single-frame noise and still reflects a short hold. With ``vector`` (the
    mouth-corner measure) the value is the median movement vector's length along
    ``way``, the measure's expected direction; the part against it is the rep's
    ``opposite_mm`` (for any measure with a direction).
    """
    inside = [s for s in samples if window.start_s <= s.t_s <= window.end_s]
    if hold is None:
        peak = max(s.signal for s in inside)
        hold = [s for s in inside if s.signal >= PLATEAU_FRACTION * peak]
    values = [s.values for s in hold]
    along, vectors = hold_peak(values, [s.move for s in hold], way or UP_AND_OUT)
    peak = along if vector else hold_peak(values)[0]
    comp = {side: vectors[side] for side in ("left", "right")}  # type: ignore[index]
    opposite = None if way is None else PerSide(way.opposite(*comp["left"]), way.opposite(*comp["right"]))
    lm = {side: float(np.hypot(*np.median([s.lm[side] for s in hold], axis=0))) for side in ("left", "right")}
    exc = {side: peak[side] for side in ("left", "right")}
    confidence = rep_confidence([s.confidence for s in hold], [s.t_s for s in hold], PerSide(*exc.values()), unit)
    return RepResult(
        index=window.index,
        start_s=window.start_s,
        peak_s=window.peak_s,
        end_s=window.end_s,
        movement=PerSide(exc["left"], exc["right"]),
        components_mm=PerSide(comp["left"], comp["right"]),  # type: ignore[arg-type]
        angle_deg=PerSide(smile_angle_deg(*comp["left"]), smile_angle_deg(*comp["right"])),
        symmetry_pct=symmetry_pct(exc["left"], exc["right"], affected),
        landmark_excursion_mm=PerSide(lm["left"], lm["right"]),
        landmark_symmetry_pct=symmetry_pct(lm["left"], lm["right"], affected),
        confidence=confidence,
        frames=len(inside),
        unit=unit,
        opposite_mm=opposite,
        dragged=dragged(PerSide(exc["left"], exc["right"]), opposite, way),
    )


def measured_from_rest(
    start_s: float,
    reference_t_s: float | None,
    samples: Iterable[_Sample],
    rest_below: float,
    taken_at_rest: bool = True,
) -> bool:
    """Whether a rep starting at ``start_s``, its hold measured against the reference taken at
    ``reference_t_s``, is measured from its own rest (:func:`coach.engine.measures.peak.own_rest_seen`).

    ``samples``: trusted frames up to the start; those measured against the same
    reference in the ``REST_LOOKBACK_S`` before it, with movement either way below
    ``rest_below`` (the detector's off level), show the rest.
    """
    rest = sum(
        1
        for s in samples
        if start_s - REST_LOOKBACK_S <= s.t_s <= start_s
        and s.reference_t_s == reference_t_s
        and s.rest_signal < rest_below
    )
    return own_rest_seen(start_s, reference_t_s, rest, taken_at_rest)


def _looks_at_rest(fm: FrameMeasures) -> bool:
    """Whether the landmarks (not the tissue measure) say the face is at rest.

    Either every tracked point is near its resting position in the face frame, or —
    when the head has turned since, which moves landmarks in a flat picture — the
    expression scores of the landmark model are all low.
    """
    if fm.landmark_movement_mm:
        moves = [v[side] for v in fm.landmark_movement_mm.values() for side in ("left", "right")]
        if all(float(np.hypot(*m)) < RESTING_LANDMARK_MM for m in moves):
            return True
    scores = [fm.blendshapes[k] for k in RESTING_EXPRESSIONS if k in fm.blendshapes]
    return bool(scores) and all(max(v.left, v.right) < RESTING_SCORE for v in scores)


def summarise(reps: Iterable[RepResult], affected: str | None, unit: str = "mm") -> Summary:
    """Mean movement per side over the reps (in ``unit``), its symmetry and the weaker side."""
    reps = list(reps)
    if not reps:
        return Summary(None, None, None, unit=unit)
    mean = {s: float(np.mean([r.movement[s] for r in reps])) for s in ("left", "right")}
    lm = {s: float(np.mean([r.landmark_excursion_mm[s] for r in reps])) for s in ("left", "right")}
    return Summary(
        movement=PerSide(mean["left"], mean["right"]),
        symmetry_pct=symmetry_pct(mean["left"], mean["right"], affected),
        weaker_side=weaker_side(mean["left"], mean["right"]),
        landmark_excursion_mm=PerSide(lm["left"], lm["right"]),
        landmark_symmetry_pct=symmetry_pct(lm["left"], lm["right"], affected),
        unit=unit,
    )


class Analyzer:
    """Scores one exercise on a stream of frames.

    Args:
        exercise: what is being done (default: the gentle smile).
        affected_side: the patient's affected side, if known.
        tracker: a :class:`FaceTracker` for this stream (made, and closed by
            :meth:`close`, when omitted).
        model: the model for a tracker made here.
        rebaseline_after_s: rest time after which the resting face becomes the
            new neutral (0.2 to 10 s).
    """

    def __init__(
        self,
        exercise: ExerciseSpec = DEFAULT_SMILE,
        affected_side: str | None = None,
        tracker: FaceTracker | None = None,
        model: ModelFile | None = None,
        rebaseline_after_s: float = 0.6,
    ) -> None:
        if affected_side not in (None, "left", "right"):
            raise ValueError(f"affected_side must be 'left', 'right' or None, got {affected_side!r}")
        if not 0.2 <= rebaseline_after_s <= 10.0:
            raise ValueError(f"rebaseline_after_s must be 0.2 to 10, got {rebaseline_after_s}")
        self.exercise = exercise
        self.affected_side = affected_side
        self._own_tracker = tracker is None
        self.tracker = tracker or FaceTracker(model)
        self.measurer = exercise.new_measurer()
        self.detector = RepDetector(exercise.on_level, exercise.off_level, unit=exercise.unit)
        self.rebaseline_after_s = rebaseline_after_s
        self.reps: list[RepResult] = []
        self.unmeasured: list[tuple[float, float, str]] = []  # (start s, end s, reason) of reps found, not scored
        self._ticks: deque[_Tick] = deque()
        self._rep_trusted = False  # the movement under way has had a trusted frame
        self._too_long_seen = 0
        self._rebased_this_rest = True
        self._unsure_since: float | None = None
        self._unseen_refs: set[float | None] = set()  # references taken while every frame was doubtful
        self.frames = 0
        self.frames_with_face = 0
        self.frames_scored = 0
        self.status_s: dict[str, float] = {}
        self.unsure_s: dict[str, float] = {}  # reason → seconds of frames not trusted for it
        self.multi_face_frames = 0
        self.settled_rests: list[float] = []  # how far from the old rest the face settled after a rep
        self.rests_away_s: list[float] = []  # when the face was found resting against the direction of its reference
        self._began_unrelaxed = False  # ...the first time, against the reference taken when the video began
        self._last_t: float | None = None
        self.last_observation: FaceObservation | None = None

    def close(self) -> None:
        if self._own_tracker:
            self.tracker.close()

    def __enter__(self) -> Analyzer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(
        self, frame_rgb: np.ndarray, t_s: float, observation: FaceObservation | None | object = _TRACK
    ) -> tuple[FrameMeasures, RepResult | None]:
        """Track, measure and score one frame. Returns its measures and a rep if one just ended.

        ``observation`` may be passed when the frame was already tracked (by this
        analyzer's tracker, e.g. on another thread); ``None`` means no face.
        """
        obs = self.tracker.update(frame_rgb, t_s) if observation is _TRACK else observation
        self.last_observation = obs
        fm = self.measurer.update(frame_rgb, obs, t_s)  # type: ignore[arg-type]
        dt = 0.0 if self._last_t is None else max(0.0, t_s - self._last_t)
        self._last_t = t_s
        self.frames += 1
        self.status_s[fm.status] = self.status_s.get(fm.status, 0.0) + dt
        if fm.status == UNSURE and fm.reason:
            self.unsure_s[fm.reason] = self.unsure_s.get(fm.reason, 0.0) + dt
        if fm.status != UNSURE:
            self._unsure_since = None
        elif self._unsure_since is None:
            self._unsure_since = t_s
        if fm.status != NO_FACE:
            self.frames_with_face += 1
            if fm.faces_seen > 1:
                self.multi_face_frames += 1
        value = None
        sample = sample_of(fm, self.exercise)
        if sample is not None:
            self.frames_scored += 1
            # Repetitions are found in the movement either way (from rest, back to rest);
            # only the part the exercise's way is scored.
            value = sample.rest_signal
        lm = None if value is not None else landmark_signal(fm, self.exercise)
        timing = value if value is not None else lm
        if lm is not None and self.detector.state == ACTIVE and self._rep_trusted:
            # A doubtful frame inside a movement the measure itself has seen keeps it
            # going but never ends it: only a trusted frame (or a long gap) does.
            timing = max(lm, self.detector.off)
        self._ticks.append(_Tick(t_s, timing, sample, fm.reason, lm))
        was_active = self.detector.state == ACTIVE
        window = self.detector.update(timing, t_s)
        if self.detector.state == ACTIVE:
            # Has the measure itself, trusted, seen this movement? (Else only the landmarks have.)
            self._rep_trusted = (was_active and self._rep_trusted) or value is not None
        rep = self._score(window) if window is not None else None
        settled_low = window is not None and window.settled and timing is not None and timing < self.detector.on
        if settled_low and _looks_at_rest(fm):
            # The face came most of the way back and stayed still there, less than a
            # repetition's size away, and the landmarks say it rests: that is its rest now (a
            # lasting sag, a corner that stays a little up). The next repetition is measured
            # from it, not from the old rest. (Further away it may be a release that paused:
            # the rest that follows renews the reference as usual.)
            if self.measurer.rebaseline():
                self.settled_rests.append(round(max(timing or 0.0, 0.0), 1))
                self._rebased_this_rest = True
                return fm, rep
        self._maintain(value, t_s, fm)
        return fm, rep

    def _score(self, window: RepWindow) -> RepResult | None:
        """Score a repetition the detector found, or record why it cannot be."""
        inside = [k for k in self._ticks if window.start_s <= k.t_s <= window.end_s and k.timing is not None]
        # The hold: trusted frames near the trusted peak, doubtful ones near the landmarks'
        # own peak (the two read on different scales, so neither sets the other's bar).
        seen = [k.sample.signal for k in inside if k.sample is not None]
        read = [k.landmarks for k in inside if k.sample is None and k.landmarks is not None]
        hold = [
            k
            for k in inside
            if (k.sample is not None and k.sample.signal >= PLATEAU_FRACTION * max(seen))
            or (k.sample is None and k.landmarks is not None and k.landmarks >= PLATEAU_FRACTION * max(read))
        ]
        trusted = [k.sample for k in hold if k.sample is not None]
        if not enough_trusted(len(trusted), len(hold)):
            why = [k.reason for k in hold if k.sample is None and k.reason]
            self.unmeasured.append((window.start_s, window.end_s, by_count(why)[0] if why else MOVING))
            return None
        if max(s.signal for s in trusted) < self.detector.on:
            # Only the landmarks saw a movement; the measure, where it was trusted,
            # did not: not a repetition.
            return None
        # Measured from its own rest: the reference must have been taken in the rest just
        # before the movement, or be seen there to still read rest as rest.
        before = [k.sample for k in self._ticks if k.t_s <= window.start_s and k.sample is not None]
        ref = trusted[0].reference_t_s
        if not measured_from_rest(window.start_s, ref, before, self.detector.off, ref not in self._unseen_refs):
            self.unmeasured.append((window.start_s, window.end_s, NO_REST))
            return None
        samples = [k.sample for k in inside if k.sample is not None]
        measure = self.exercise.measure_def
        rep = score_window(
            replace(window, index=len(self.reps) + 1),
            samples,
            self.affected_side,
            measure.direction,
            hold=trusted,
            unit=measure.unit,
            vector=self.exercise.measure == "mouth_corner",
        )
        if not sure_enough(rep.confidence, self.exercise.measure):
            self.unmeasured.append((window.start_s, window.end_s, TOO_UNSURE))
            return None
        self.reps.append(rep)
        return rep

    def _rests_away(self, t_s: float) -> bool:
        """Whether the face has rested for ``AWAY_REST_S`` against the exercise's direction by at
        least the "on" level, still and with no movement its way, all against one reference.

        A smile's reference taken mid-smile reads the rest that follows as corners moved in and
        down: never as movement, so no repetition would ever be found from it.
        """
        ticks = [k for k in self._ticks if k.t_s >= t_s - AWAY_REST_S]
        if not ticks or t_s - ticks[0].t_s < 0.9 * AWAY_REST_S:
            return False
        samples = [k.sample for k in ticks if k.sample is not None]
        if len(samples) < max(MIN_TRUSTED_FRAMES, 0.8 * len(ticks)):
            return False
        on, off = self.detector.on, self.detector.off
        if any(s.opposite is None or s.reference_t_s != samples[-1].reference_t_s or s.signal >= off for s in samples):
            return False
        away = [max(s.opposite.left, s.opposite.right) for s in samples]  # type: ignore[union-attr]
        half = len(away) // 2
        still = abs(float(np.median(away[:half])) - float(np.median(away[half:]))) <= 0.5 * on
        return min(away) >= on and still

    def _maintain(self, value: float | None, t_s: float, fm: FrameMeasures) -> None:
        if value is not None and self._rests_away(t_s):
            # The face rests away from its reference, against the exercise's direction, and
            # nothing moves its way: that reference was not a rest. Measure from here (a
            # "movement" under way, which is only that offset, is forgotten).
            first = self.measurer.baselines == 1  # the reference taken when the video began
            if self.measurer.rebaseline():
                self.detector.cancel()
                self.rests_away_s.append(round(t_s, 2))
                self._began_unrelaxed = self._began_unrelaxed or first
                self._rebased_this_rest = True
                return
        if self.detector.too_long > self._too_long_seen and _looks_at_rest(fm):
            # A "movement" that never came back to rest, and the landmarks say the face is
            # at rest: the reference no longer fits the face. Start afresh from here.
            self._too_long_seen = self.detector.too_long
            if self.measurer.rebaseline():
                self._rebased_this_rest = True
                return
        active = self.detector.state == ACTIVE
        if (
            not (active and self._rep_trusted)
            and self._unsure_since is not None
            and t_s - self._unsure_since >= RECOVER_AFTER_S
            and _looks_at_rest(fm)
        ):
            # The reference no longer matches the face (it drifted, turned, or the light
            # changed) and every frame is doubtful: with no trusted value, rest can never
            # be seen in the measure itself, so the landmarks say when to start afresh.
            # A movement only the landmarks saw does not hold this up; it is forgotten.
            # The measure has not seen this reference read rest: a movement against it
            # counts only once it has (coach.engine.measures.peak.own_rest_seen).
            if self.measurer.rebaseline():
                self._unseen_refs.add(self.measurer.reference_t_s)
                if active:
                    self.detector.cancel()
                self._unsure_since = t_s
                self._rebased_this_rest = True
                return
        if active:
            self._rebased_this_rest = False
            return
        # Keep only what a rep starting now could need (its own rest included).
        while self._ticks and self._ticks[0].t_s < t_s - REST_LOOKBACK_S - 1.0:
            self._ticks.popleft()
        if (
            not self._rebased_this_rest
            and value is not None
            and value < 0.5 * self.detector.off
            and self.detector.in_rest_for(t_s) >= self.rebaseline_after_s
        ):
            self._rebased_this_rest = self.measurer.rebaseline()

    def result(
        self, source: str, fps: float, duration_s: float, notes: Iterable[str] = (), mirrored: bool | None = None
    ) -> AnalysisResult:
        """Everything measured so far, as an :class:`AnalysisResult`.

        ``mirrored``: whether the frames were turned back from a mirror image before
        measuring (recorded in the result; None when not known).
        """
        warnings = list(notes)
        area = self.exercise.measure_def.area
        summary = summarise(self.reps, self.affected_side, self.exercise.unit)
        if self.frames_with_face == 0:
            warnings.append("No face was found in this video.")
        else:
            lost = self.status_s.get(NO_FACE, 0.0)
            if lost >= 0.5:
                warnings.append(f"Your face was out of view for {lost:.1f} s; those moments were not scored.")
            if self.multi_face_frames > 0.1 * self.frames_with_face:
                warnings.append(
                    "More than one face was in view; FaceCoach measured the face it found first "
                    "(the largest at the start) and kept following it."
                )
            turned = self.status_s.get(TURNED, 0.0)
            if turned >= 0.5:
                warnings.append(f"The head was turned away for {turned:.1f} s; those moments were not scored.")
            small = self.status_s.get(TOO_SMALL, 0.0)
            if small >= 0.5:
                warnings.append("The face was too small in the picture to measure; sit closer to the camera.")
            if self.detector.too_long:
                warnings.append(
                    f"For over {self.detector.max_active_s:.0f} s the face did not seem to return to rest "
                    f"({count(self.detector.too_long, 'time')}); that stretch was not counted as a repetition."
                )
            if self.settled_rests:
                unit = "mm" if self.exercise.unit == "mm" else "%"
                warnings.append(
                    f"After {count(len(self.settled_rests), 'movement')} your face did not go all the way back to rest "
                    f"(it stayed up to {max(self.settled_rests):g} {unit} away); the next ones were measured from "
                    "where it settled."
                )
            way = self.exercise.measure_def.direction
            if self._began_unrelaxed:
                warnings.append(
                    f"At {self.rests_away_s[0]:.1f} s your face came to rest somewhere else than at the start of "
                    "the video: perhaps it began in the middle of a movement, which was not counted. Movements "
                    "are measured from that rest. Next time, start the video with your face relaxed."
                )
            elif self.rests_away_s and way is not None:
                warnings.append(
                    f"At {self.rests_away_s[0]:.1f} s your face came to rest further {way.opposite_words} than before; "
                    "the movements after that are measured from there."
                )
            pulled = by_count(s for r in self.reps for s in r.dragged)
            if pulled and way is not None:
                part = self.exercise.measure_def.part
                for side in pulled:
                    n = sum(side in r.dragged for r in self.reps)
                    warnings.append(
                        f"In {n} of {len(self.reps)} movements your {side} {part} was pulled {way.opposite_words} "
                        f"instead of moving {way.words}. That pull is not counted as movement."
                    )
            if self.detector.abandoned:
                warnings.append(
                    f"{count(self.detector.abandoned, 'movement')} {was_were(self.detector.abandoned)} not scored "
                    "because the face was lost "
                    "or could not be measured part-way."
                )
            unsure = self.status_s.get(UNSURE, 0.0)
            if unsure >= 0.5:
                why = sorted(self.unsure_s.items(), key=lambda kv: -kv[1])
                words = ", ".join(reason_words(r, area) for r, sec in why if sec >= 0.2 * unsure)
                warnings.append(f"For {unsure:.1f} s the movement could not be measured reliably ({words}).")
            if self.unmeasured:
                words = ", ".join(reason_words(r, area) for r in by_count(r for *_, r in self.unmeasured))
                warnings.append(
                    f"{count(len(self.unmeasured), 'movement')} {was_were(len(self.unmeasured))} seen but not scored, "
                    f"because {'it' if len(self.unmeasured) == 1 else 'they'} could not be measured reliably ({words})."
                )
            if self.measurer.scale_from != BOTH_IRISES:
                warnings.append(one_eye_scale_words(self.measurer.scale_from))
            measured = sum(v for k, v in self.status_s.items() if k == OK)
            if not self.reps and (self.frames_scored > 0 or self.unmeasured):
                if self.unmeasured or measured < 0.5 * (measured + unsure):
                    warnings.append("No repetition could be measured reliably; see the reasons above.")
                else:
                    warnings.append("No movement was found: no repetitions were scored.")
        sym = summary.symmetry_pct
        moved_more = (sym is None and summary.movement is not None) or (
            sym is not None and sym > AFFECTED_MOVED_MORE_PCT
        )
        if self.affected_side and moved_more and summary.weaker_side == other_side(self.affected_side):
            swap = "not mirrored" if mirrored else "mirrored"
            warnings.append(
                f"Your affected side ({self.affected_side}) moved more than the other side. If that is not what "
                "you expected, left and right may be swapped in the video: measure it again and say that it is "
                f"{swap}."
            )
        return AnalysisResult(
            source=source,
            frames=self.frames,
            frames_with_face=self.frames_with_face,
            frames_scored=self.frames_scored,
            fps=fps,
            duration_s=duration_s,
            exercise=self.exercise.id,
            affected_side=self.affected_side,
            reps=tuple(self.reps),
            summary=summary,
            warnings=tuple(warnings),
            resting_asymmetry_mm=self.measurer.resting_asymmetry(),
            baselines=self.measurer.baselines,
            extra={
                "scale_from": self.measurer.scale_from,
                **({} if mirrored is None else {"mirrored": mirrored}),
                "rests_away_s": list(self.rests_away_s),
                "reps_not_measured": [
                    {"start_s": round(a, 3), "end_s": round(b, 3), "reason": r} for a, b, r in self.unmeasured
                ],
            },
        )


def analyze_video(
    path: str | Path,
    exercise: ExerciseSpec = DEFAULT_SMILE,
    affected_side: str | None = None,
    mirrored: bool = False,
    model: ModelFile | None = None,
) -> AnalysisResult:
    """Analyse a video file for one exercise.

    Raises:
        VideoError: the file cannot be read as a video.
        ModelError: the face model cannot be found.
    """
    with VideoReader(path, mirrored=mirrored) as video, Analyzer(exercise, affected_side, model=model) as an:
        n = 0
        for t, frame, obs in tracked(video, an.tracker):
            an.update(frame, t, obs)
            n += 1
        notes = []
        if video.info.fps_was_guessed:
            notes.append(f"The video did not state a usable frame rate; {video.info.fps:g} fps was assumed.")
        return an.result(str(path), video.info.fps, n / video.info.fps, notes, mirrored=mirrored)


def tracked(
    frames: Iterable[tuple[float, np.ndarray]], tracker: FaceTracker, depth: int = 4
) -> Iterator[tuple[float, np.ndarray, FaceObservation | None]]:
    """Decode and track on a worker thread while the caller measures.

    A two-stage pipeline uses both cores of a laptop: MediaPipe and OpenCV
    release the GIL. Order is kept, so results are identical to a plain loop.
    The tracker must not be used elsewhere meanwhile.
    """
    q: queue.Queue[tuple[float, np.ndarray, FaceObservation | None] | BaseException | None] = queue.Queue(depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for t, frame in frames:
                if stop.is_set():
                    return
                q.put((t, frame, tracker.update(frame, t)))
            q.put(None)
        except BaseException as err:  # noqa: BLE001 - handed to the consumer and re-raised there
            q.put(err)

    worker = threading.Thread(target=work, name="facecoach-track", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                worker.join(0.05)


def analyze_frames(
    frames: Iterable[tuple[float, np.ndarray]],
    exercise: ExerciseSpec = DEFAULT_SMILE,
    affected_side: str | None = None,
    fps: float = 30.0,
    source: str = "<frames>",
    model: ModelFile | None = None,
) -> AnalysisResult:
    """Analyse in-memory frames ``(t_s, RGB uint8)`` for one exercise."""
    with Analyzer(exercise, affected_side, model=model) as an:
        last = 0.0
        for t, frame in frames:
            an.update(frame, t)
            last = t
        return an.result(source, fps, last + 1.0 / fps if an.frames else 0.0)


__all__ = [
    "Analyzer",
    "analyze_video",
    "analyze_frames",
    "measured_from_rest",
    "score_window",
    "summarise",
    "OK",
    "MIN_CONFIDENCE",
]
