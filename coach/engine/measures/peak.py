"""One rule for a repetition's per-side movement at its hold, used offline and live.

Offline analysis finds the hold in the signal; a guided session knows it from its
plan. What each side's movement *is*, once the hold's trusted frames are chosen, is
decided here only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from coach.engine.measures.direction import UP_AND_OUT, Direction
from coach.engine.measures.sides import PerSide
from coach.engine.motion.trust import EDGE, HIDDEN, LIGHT, MOVING, error_of

# A hold is scored only when enough of it was measured with trust: at least this share
# of its frames, and at least MIN_TRUSTED_FRAMES of them (or every frame of a short hold).
MIN_TRUSTED_HOLD = 0.5
MIN_TRUSTED_FRAMES = 3
# A frame's error is not independent of the next one's: on real video the head fit's
# error at the mouth corners keeps an autocorrelation of 0.32–0.63 over 10 frames, and falls
# to 0.3 after about 15 frames on the webcam clips but about 48 on the talking-face clip
# (benchmarks/rigid_split.py; since the firm points are also read with wide patches their
# fast noise is gone and the slow part is left). A hold counts one independent look per
# this many seconds: about 25 frames, where the clips' autocorrelation is 0.15–0.45.
ERROR_MEMORY_S = 1.0
SYMMETRY_DOUBT_PTS = 5.0  # a rep's expected symmetry error at which its confidence is 0.5
SYMMETRY_FLOOR_PTS = 1.5  # error the frames' own doubts do not show (flow and model limits)
# A smile repetition less sure than this is not given as a number: it is reported as not
# measured, for this reason. 0.05 means its symmetry is expected to be more than about 10
# points off (the "never a confident number more than 10 points off"). It withholds
# the clearly doubtful, not small clean movements held as the exercises ask: a symmetric
# 2 mm smile seen sharply (frames at 0.9) is about 0.23 held three seconds (0.01 held one:
# a single look at a 2 mm movement), a 3 mm one 0.5 (0.14).
MIN_REP_CONFIDENCE = 0.05
TOO_UNSURE = "unsteady"  # the picture was not sharp or steady enough to measure it precisely
# A repetition is measured from the rest just before it. Its neutral reference must have
# been taken in that rest, or be seen to still read that rest as rest: trusted frames
# measured against it in the last REST_LOOKBACK_S before the movement starts. Otherwise
# the repetition is not given as a number, for this reason. (A talking face's "smile"
# measured against a reference 40-70 s old read 5.9 % in a clip and 51.1 % in its mirror
# image, both at confidence 0.71: docs/real-faces.md, "A repetition measured from its own
# rest".)
REST_LOOKBACK_S = 2.0
NO_REST = "no_rest"  # the face was not seen at rest just before the movement
# Why a repetition was not given as a number, for the rep-level reasons decided here, in a
# patient's words (the files' and the sessions' warnings both use these).
REP_REASON_WORDS = {
    TOO_UNSURE: "the picture was not sharp or steady enough to measure it precisely",
    NO_REST: "your face was not seen still and relaxed just before the movement",
}


def reason_words(reason: str, area: str = "mouth area") -> str:
    """Why frames or a movement could not be measured, in a patient's words (files and sessions alike).

    Args:
        reason: a :mod:`coach.engine.motion.trust` reason, a rep-level one (``REP_REASON_WORDS``)
            or ``"no_face"``.
        area: the part of the face the exercise measures, in plain words ("eye area").
    """
    words = {
        MOVING: "your head moved",
        HIDDEN: f"part of your {area} was hidden or changed too fast to follow",
        LIGHT: "the light changed",
        EDGE: "part of your face was outside the picture",
        **REP_REASON_WORDS,
        "no_face": "your face was not in view",
    }
    return words.get(reason, reason)


def enough_trusted(trusted: int, frames: int) -> bool:
    """Whether a hold of ``frames`` frames, ``trusted`` of them trusted, can be scored.

    The one rule for files and for guided sessions: a number from a hold the
    measure mostly doubted is not given; the rep is reported as not measured.
    """
    if frames <= 0 or trusted <= 0:
        return False
    return trusted == frames or trusted >= max(MIN_TRUSTED_FRAMES, MIN_TRUSTED_HOLD * frames)


def hold_peak(
    values: Sequence[PerSide[float]],
    moves: Sequence[PerSide[tuple[float, float]]] | None = None,
    way: Direction = UP_AND_OUT,
) -> tuple[PerSide[float], PerSide[tuple[float, float]] | None]:
    """Per-side movement over a hold's trusted frames.

    Args:
        values: each frame's measure per side (mm or %), at least one frame.
        moves: each frame's (outward, up) movement vector per side, mm, for the
            mouth-corner measure; then each side's value is the median vector's length
            along ``way`` (:mod:`coach.engine.measures.direction`), not the median of the frames'
            values: noise averages out in the components, whereas every noisy length is
            positive.
        way: the measure's expected direction (with ``moves``).

    Returns:
        The peak per side, and the median vector per side (None without ``moves``).
    """
    if not values:
        raise ValueError("values must hold at least one frame")
    if moves:
        comp = {s: tuple(float(v) for v in np.median([m[s] for m in moves], axis=0)) for s in ("left", "right")}
        peak = PerSide(float(way.along(*comp["left"])), float(way.along(*comp["right"])))
        return peak, PerSide(comp["left"], comp["right"])  # type: ignore[arg-type]
    return PerSide(*(float(np.median([v[s] for v in values])) for s in ("left", "right"))), None


def own_rest_seen(start_s: float, reference_t_s: float | None, rest_frames: int, taken_at_rest: bool = True) -> bool:
    """Whether a repetition is measured from the rest just before it.

    True when at least ``MIN_TRUSTED_FRAMES`` trusted frames measured against its
    reference in the ``REST_LOOKBACK_S`` before the movement read the face at rest (below
    the repetition detector's off level): the reference still fits. Or, for a reference
    taken where the measure itself saw the face at rest (``taken_at_rest``), when it was
    taken at most ``REST_LOOKBACK_S`` before the movement.

    Args:
        start_s: when the movement started.
        reference_t_s: when the reference was taken (None: not known, so not seen).
        rest_frames: trusted frames at rest against that reference in the
            ``REST_LOOKBACK_S`` before ``start_s``.
        taken_at_rest: False for a reference taken on the landmarks' word alone, while
            every frame was doubtful: it may not fit the face at all (on a real talking
            face the next trusted frames read 13 mm against one, at confidence 0.65), so it
            must be seen to read rest before a movement measured against it counts.
    """
    if reference_t_s is None:
        return False
    recent = taken_at_rest and start_s - reference_t_s <= REST_LOOKBACK_S
    return rest_frames >= MIN_TRUSTED_FRAMES or recent


def rep_confidence(
    confidences: Sequence[float],
    times_s: Sequence[float],
    peak: PerSide[float],
    unit: str,
) -> float:
    """How far a rep's symmetry can be trusted, 0 to 1 (0.5 when it may be 5 points off).

    The hold's frames each promise an error (their confidence, :func:`coach.engine.motion.trust.error_of`);
    averaged over the hold it shrinks with the number of independent looks, and what
    it does to the symmetry depends on the movement's size: 0.3 mm is nothing on a
    10 mm smile and a lot on a 2 mm one. For measures not in millimetres (eye
    closure, per cent) the hold's mean frame confidence is returned.

    Args:
        confidences: the hold's trusted frames' confidences.
        times_s: their times.
        peak: the rep's movement per side, in ``unit``.
        unit: ``"mm"`` or ``"%"``.
    """
    if not confidences:
        return 0.0
    if unit != "mm":
        return float(np.mean(confidences))
    strong, weak = max(peak.left, peak.right), min(peak.left, peak.right)
    if strong <= 0.0:
        return 0.0
    frame_mm = float(np.median([error_of(c) for c in confidences]))
    span = (max(times_s) - min(times_s)) if len(times_s) > 1 else 0.0
    looks = max(1.0, min(float(len(confidences)), span / ERROR_MEMORY_S))
    side_mm = frame_mm / math.sqrt(looks)
    doubt = math.hypot(100.0 * side_mm * math.hypot(1.0, weak / strong) / strong, SYMMETRY_FLOOR_PTS)
    return float(0.5 ** ((doubt / SYMMETRY_DOUBT_PTS) ** 2))


def how_sure(confidence: float) -> str:
    """A rep's confidence in a patient's words (the bands of docs/validity.md's rep-level calibration)."""
    if confidence >= 0.8:
        return "sure"
    if confidence >= 0.5:
        return "fairly sure"
    return "unsure"


# The measures whose rep confidence has been calibrated against truth (smiles: virtual
# patients and chimeras of real smiles). Others report their confidence but are not gated
# on it until it is: the snarl's, for one, reads 0.1 on a virtual patient it measures
# 6 points off.
GATED_MEASURES = frozenset({"mouth_corner"})


def sure_enough(confidence: float, measure: str) -> bool:
    """Whether a repetition's number may be given (the one rep-level gate, files and sessions).

    Args:
        confidence: the rep's :func:`rep_confidence`.
        measure: the exercise's measure (``ExerciseSpec.measure``); see ``GATED_MEASURES``.
    """
    return measure not in GATED_MEASURES or confidence >= MIN_REP_CONFIDENCE
