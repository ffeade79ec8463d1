"""One repetition scored from its frames: movement per side, symmetry, timing, steadiness,
synkinesis, confidence; and the per-frame series kept with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from coach.engine.exercise import ExerciseSpec
from coach.engine.measures.direction import UP_AND_OUT, dragged
from coach.engine.measures.peak import (
    NO_REST,
    enough_trusted,
    hold_peak,
    own_rest_seen,
    rep_confidence,
)
from coach.engine.measures.sides import PerSide
from coach.engine.measures.symmetry import symmetry_pct, weaker_side
from coach.engine.motion.trust import by_count
from coach.sessions.plan import HOLD
from coach.sessions.series import RepSeries


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
    dragged: tuple[str, ...] = ()  # the sides pulled across (coach.engine.measures.direction.dragged)

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


@dataclass
class FrameRecord:
    t_s: float
    phase: str
    values: PerSide[float] | None
    move: PerSide[tuple[float, float]] | None
    narrowing: PerSide[float] | None
    mouth: PerSide[float] | None
    confidence: float
    reason: str | None = None  # why the measurer did not trust this frame (coach.engine.motion.trust), if it did not
    reference_t_s: float | None = None  # when the reference this frame is measured against was taken


# Synkinesis thresholds (see score_rep): eye narrowing on the affected side, and
# how much more than the other eye; mouth movement during eye or brow work.
EYE_SYNKINESIS_PCT = 15.0
EYE_SYNKINESIS_MARGIN_PCT = 10.0
MOUTH_SYNKINESIS_MM = 1.5


# Live: a side pulled this far (mm) against the exercise's direction during the hold, while
# the other moves, gets a cue (a frame is noisier than a hold: twice DRAGGED_MM).
def rep_series(ex: ExerciseSpec, step: int, index: int, move_start: float, frames: list[FrameRecord]) -> RepSeries:
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


def _first_crossing(frames: list[FrameRecord], side: str, level: float, t0: float, above: bool) -> float | None:
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


def unmeasured_reason(ex: ExerciseSpec, move_start: float, frames: list[FrameRecord]) -> str | None:
    """Why a rep's hold cannot be scored (``"moving"``, ``"hidden"``, ``"light"``, ``"edge"``,
    ``"no_face"``, ``"no_rest"``), or None when enough of it was measured with trust.

    ``"no_rest"``: the hold was measured against a reference older than the rest just
    before the rep (:func:`coach.engine.measures.peak.own_rest_seen`; a session takes its
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
    frames: list[FrameRecord],
    affected: str | None,
) -> RepScore | None:
    """Score one rep from its frames (move through early rest).

    Rules:
        * peak per side: median over the hold, after a 0.3 s settle (for the
          mouth-corner measure, the median movement vector's length up and out,
          :mod:`coach.engine.measures.direction`);
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
