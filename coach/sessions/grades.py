"""The assessment's clinical estimates (eFACE-like, Sunnybrook-like) from a session's
measured exercises (docs/assessment.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach.sessions.scoring import RepScore

if TYPE_CHECKING:
    from coach.sessions.summary import ExerciseSummary

from typing import Any

import numpy as np

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
