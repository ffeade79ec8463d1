"""How far one frame's tissue movement can be trusted, and why not.

Each tracked point's movement comes with evidence of its own quality
(:class:`coach.engine.motion.tissue.PointQuality`). This module turns that evidence into
an expected error in millimetres, a confidence from 0 to 1, and — when the
confidence is too low to score the frame — the reason, in one word that the app
and the analysis turn into the patient's words.

The constants were fitted to per-frame errors against known truth: virtual patients
(2-D and 3-D head motion) and chimeric faces built from real smiles (see
``benchmarks/calibration.py``, which prints the fit and its curve).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Reasons a frame is not trusted (what the patient is told is in coach.engine.measurer).
MOVING = "moving"  # the head moved in a way the fit could not follow
HIDDEN = "hidden"  # the tissue at a tracked point changed look: covered, or something moved over it
LIGHT = "light"  # the light on the face changed
EDGE = "edge"  # part of a tracked point was outside the picture

# Expected error: err² = se² + (A·residual)² + (B·spread)² + (C·excess mismatch)², mm.
RESIDUAL_WEIGHT = 0.35
SPREAD_WEIGHT = 0.5
MISMATCH_FREE = 6.0  # contrast-normalised grey levels a clean match differs by (noise, compression)
MISMATCH_MM = 0.03  # mm of expected error per grey level beyond that
ERROR_AT_HALF_MM = 0.45  # the expected error at which the confidence is 0.5
LIGHT_CHANGE = 0.25  # relative brightness change of the face that counts as "the light changed"


def error_of(confidence: float) -> float:
    """The expected error (mm) a frame confidence stands for: the inverse of :func:`judge`'s curve."""
    c = min(1.0, max(float(confidence), 1e-6))
    return ERROR_AT_HALF_MM * math.sqrt(math.log(c) / math.log(0.5))


def by_count(reasons: Iterable[str]) -> list[str]:
    """The distinct reasons, most frequent first (ties alphabetical, so every run words it alike)."""
    counts = Counter(reasons)
    return sorted(counts, key=lambda r: (-counts[r], r))


@dataclass(frozen=True)
class Trust:
    """One frame's verdict.

    Attributes:
        confidence: 0 (do not trust) to 1.
        error_mm: expected error of the worst tracked point, mm.
        reason: why the worst point is doubtful (``MOVING``, ``HIDDEN``, ``LIGHT``, ``EDGE``).
    """

    confidence: float
    error_mm: float
    reason: str


def point_error_mm(
    spread_mm: float, mismatch: float, rigid_se_mm: float, rigid_residual_mm: float, changes_look: bool = False
) -> dict[str, float]:
    """Each source's share of a point's expected error (mm; combine in quadrature).

    ``changes_look``: the tissue looks different when it moves (an eyelid over the
    eye), so its mismatch with the reference is not held against it.
    """
    excess = 0.0 if changes_look else max(0.0, mismatch - MISMATCH_FREE)
    return {
        MOVING: math.hypot(rigid_se_mm, RESIDUAL_WEIGHT * rigid_residual_mm),
        HIDDEN: math.hypot(SPREAD_WEIGHT * spread_mm, MISMATCH_MM * excess),
    }


def judge(qualities: Mapping[object, object], brightness_ratio: float = 1.0) -> Trust:
    """The frame's confidence: that of its least trustworthy point.

    Args:
        qualities: point → :class:`coach.engine.motion.tissue.PointQuality`.
        brightness_ratio: the face's mean brightness now ÷ at the reference.
    """
    verdicts = []
    for q in qualities.values():
        parts = point_error_mm(
            q.spread_mm,  # type: ignore[attr-defined]
            q.mismatch,  # type: ignore[attr-defined]
            q.rigid_se_mm,  # type: ignore[attr-defined]
            q.rigid_residual_mm,  # type: ignore[attr-defined]
            getattr(q, "changes_look", False),
        )
        err = math.hypot(*parts.values())
        seen = float(q.seen_fraction)  # type: ignore[attr-defined]
        # A disc mostly in the picture is measured as well as a whole one; below 90 % the
        # corner itself may be at the edge, and at half it is not trusted at all.
        in_view = min(1.0, max(0.0, (seen - 0.5) / 0.4))
        conf = in_view * 0.5 ** ((err / ERROR_AT_HALF_MM) ** 2) if math.isfinite(err) else 0.0
        if seen < 0.9:
            reason = EDGE
        elif abs(math.log(max(brightness_ratio, 1e-3))) > math.log1p(LIGHT_CHANGE):
            reason = LIGHT
        else:
            reason = max(parts, key=parts.__getitem__)
        verdicts.append(Trust(float(conf), float(err), reason))
    if not verdicts:
        return Trust(0.0, math.inf, EDGE)
    return min(verdicts, key=lambda v: v.confidence)
