"""A session's result: each exercise summarised, the 0-100 score with its reasons, and the
warnings a patient reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from coach.engine.exercise import ExerciseSpec
from coach.engine.measurer import (
    one_eye_scale_words,
)
from coach.engine.measures.peak import (
    reason_words,
)
from coach.engine.measures.sides import PerSide
from coach.engine.measures.symmetry import symmetry_pct, weaker_side
from coach.engine.motion.trust import by_count
from coach.engine.results import AnalysisResult
from coach.sessions.grades import assessment_grades
from coach.sessions.plan import SessionPlan
from coach.sessions.scoring import RepScore
from coach.words import count, was_were


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


def video_session(result: AnalysisResult, exercise: ExerciseSpec) -> SessionResult:
    """A video's analysis as a session of its repetitions, to keep in a patient's record.

    Each repetition found becomes one done repetition of ``exercise`` with its movement,
    symmetry, confidence and direction; what a guided session measures by its cues (onset
    and release timing, steadiness, the watched area) is not known from a free video and is
    left empty. It has no score: the session score rewards following the coach's cues (all
    the movements asked for, started together), which a free video did not have. The
    analysis's warnings come with it.
    """
    unknown: PerSide[float | None] = PerSide(None, None)
    reps = [
        RepScore(
            exercise_id=exercise.id,
            step=0,
            index=r.index,
            start_s=r.start_s,
            end_s=r.end_s,
            completed=True,
            unit=r.unit,
            peak=r.movement,
            symmetry_pct=r.symmetry_pct,
            onset_s=unknown,
            release_s=unknown,
            onset_lag_s=None,
            release_lag_s=None,
            steadiness_pct=unknown,
            synkinesis_kind="",
            synkinesis_value=None,
            synkinesis_side=None,
            synkinesis=False,
            flags=(),
            confidence=r.confidence,
            frames=r.frames,
            opposite_mm=r.opposite_mm,
            dragged=r.dragged,
        )
        for r in result.reps
    ]
    plan = SessionPlan(exercise.id, exercise.name, (replace(exercise, reps=max(1, len(reps))),))
    session = build_result(plan, reps, [], result.affected_side, result.frames, result.frames_with_face)
    return replace(
        session,
        score=None,
        score_parts={},
        score_explained=("A video is measured, not scored: the score is for sessions with the coach.",),
        warnings=session.warnings + tuple(result.warnings),
    )
