"""Virtual patients who follow a session plan: known truth for every rep.

Each exercise of the plan is performed on its own activation channel, on the
engine's schedule (as a patient following the cues would), with a chosen
movement per side and, optionally, synkinesis (the eye narrowing during mouth
work, or the mouth moving during eye or brow work).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from coach.engine.exercise import ExerciseSpec
from coach.sessions.plan import SessionPlan
from coach.virtual.phantom import Action, PhantomSpec, Timeline

# Resting eye opening of the portrait (upper to lower lid anchor), mm.
PORTRAIT_EYE_APERTURE_MM = 8.9
UPPER_LID_SHARE = 0.65  # the upper lid does most of the closing


@dataclass(frozen=True)
class Performance:
    """How the virtual patient does one exercise.

    Attributes:
        left, right: movement per side in the exercise's unit (mm, or % closure
            for eye closure).
        eye_narrowing_pct: per side, how much the eye closes during the movement
            (ocular synkinesis), per cent of its opening.
        mouth_mm: per side, how far the mouth corner moves during the movement
            (oral synkinesis in eye or brow work), mm.
        dragged_mm: per side, how far the mouth corner is pulled toward the midline
            during the movement (a paralysed corner dragged across by the other side), mm.
        skip_reps: rep numbers (1-based) the patient does not do.
    """

    left: float
    right: float
    eye_narrowing_pct: dict[str, float] = field(default_factory=dict)
    mouth_mm: dict[str, float] = field(default_factory=dict)
    dragged_mm: dict[str, float] = field(default_factory=dict)
    skip_reps: tuple[int, ...] = ()

    def amount(self, side: str) -> float:
        return self.left if side == "left" else self.right


def _lid_actions(side: str, pct: float, channel: str) -> list[Action]:
    close_mm = pct / 100.0 * PORTRAIT_EYE_APERTURE_MM
    return [
        Action("upper_lid", side, UPPER_LID_SHARE * close_mm, direction_deg=-90.0, sigma_mm=4.5, channel=channel),
        Action("lower_lid", side, (1 - UPPER_LID_SHARE) * close_mm, direction_deg=90.0, sigma_mm=3.0, channel=channel),
    ]


def actions_for(ex: ExerciseSpec, perf: Performance, channel: str, channel_in: str | None = None) -> list[Action]:
    """The phantom actions that perform ``ex`` as ``perf`` says."""
    out: list[Action] = []
    for side in ("left", "right"):
        amt = perf.amount(side)
        if amt > 0:
            if ex.measure == "mouth_corner":
                out.append(Action("mouth_corner", side, amt, 35.0, 10.0, channel))
            elif ex.measure == "corner_out":
                out.append(Action("mouth_corner", side, amt, 0.0, 10.0, channel))
            elif ex.measure == "corner_in":
                out.append(Action("mouth_corner", side, amt, 180.0, 8.0, channel))
            elif ex.measure == "corner_horizontal":
                out.append(Action("mouth_corner", side, amt, 0.0, 10.0, channel))
                out.append(Action("mouth_corner", side, amt, 180.0, 8.0, channel_in or channel))
            elif ex.measure == "brow":
                out.append(Action("mid_brow", side, amt, 90.0, 9.0, channel))
            elif ex.measure == "nose_ala":
                out.append(Action("nose_ala", side, amt, 80.0, 5.0, channel))
            elif ex.measure == "eye_closure":
                out.extend(_lid_actions(side, amt, channel))
            else:
                raise ValueError(f"no phantom for measure {ex.measure!r}")
        if perf.eye_narrowing_pct.get(side, 0.0) > 0:
            out.extend(_lid_actions(side, perf.eye_narrowing_pct[side], channel))
        if perf.mouth_mm.get(side, 0.0) > 0:
            out.append(Action("mouth_corner", side, perf.mouth_mm[side], 35.0, 10.0, channel))
        if perf.dragged_mm.get(side, 0.0) > 0:
            out.append(Action("mouth_corner", side, perf.dragged_mm[side], 180.0, 10.0, channel))
    return out


def session_phantom(
    plan: SessionPlan,
    performances: dict[str, Performance],
    shifts: dict[tuple[int, int], float] | None = None,
    tail_s: float = 1.0,
    **spec_kwargs: object,
) -> PhantomSpec:
    """A phantom performing ``plan``.

    Args:
        plan: the session plan; reps follow :meth:`SessionPlan.planned_reps`.
        performances: exercise id → how it is done (missing: not done at all).
        shifts: (step, rep) → seconds that this rep and every later one start
            late (a patient redoing a rep after a pause).
        tail_s: rest after the last rep, seconds.
        spec_kwargs: passed to :class:`PhantomSpec` (head motion, face size, …).
    """
    shifts = shifts or {}
    ramps: dict[str, list[tuple[float, float, float, float]]] = {}
    offset = 0.0
    end = 0.0
    for step, rep, t0, t1, t2, t3 in plan.planned_reps():
        offset += shifts.get((step, rep), 0.0)
        ex = plan.steps[step]
        perf = performances.get(ex.id)
        end = t3 + ex.rest_s + offset
        if perf is None or rep in perf.skip_reps:
            continue
        name = f"s{step}" if not (ex.cue_alternate and rep % 2 == 0) else f"s{step}-alt"
        ramps.setdefault(name, []).append((t0 + offset, t1 + offset, t2 + offset, t3 + offset))
    channels = tuple((name, Timeline(tuple(r))) for name, r in sorted(ramps.items()))
    actions: list[Action] = []
    for step, ex in enumerate(plan.steps):
        perf = performances.get(ex.id)
        if perf is not None:
            actions += actions_for(ex, perf, f"s{step}", f"s{step}-alt" if ex.cue_alternate else None)
    return PhantomSpec(
        actions=tuple(actions),
        channels=channels,
        duration_s=end + tail_s,
        **spec_kwargs,  # type: ignore[arg-type]
    )
