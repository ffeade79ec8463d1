"""A session's plan: the exercises in order, each tuned for the patient."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from coach.engine.exercise import ExerciseSpec

# The phases of a session, in order for each repetition (baseline once per exercise).
BASELINE = "baseline"
MOVE = "move"
HOLD = "hold"
RELEASE = "release"
REST = "rest"
PAUSED = "paused"
DONE = "done"


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


def with_overrides(plan: SessionPlan, overrides: dict[str, dict[str, Any]]) -> SessionPlan:
    """The plan with per-exercise tuning (a therapist's reps, holds, rests…) applied."""
    steps = []
    for ex in plan.steps:
        o = overrides.get(ex.id, {})
        steps.append(replace(ex, **o) if o else ex)
    return replace(plan, steps=tuple(steps))
