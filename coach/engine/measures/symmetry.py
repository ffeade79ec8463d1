"""Symmetry between the two sides, and which side is weaker."""

from __future__ import annotations

import math

from coach.engine.measures.sides import other_side

# Below this difference the two sides are the same within measurement noise.
WEAKER_MIN_DIFF_MM = 0.3
WEAKER_MAX_SYMMETRY_PCT = 95.0


def symmetry_pct(left: float, right: float, affected: str | None = None) -> float | None:
    """Movement symmetry, per cent.

    With an affected side: affected ÷ unaffected × 100 (may exceed 100).
    Without: weaker ÷ stronger × 100 (0 to 100).

    Returns:
        ``None`` when the reference side did not move (nothing to compare), a
        value is not a finite number, or the ratio is too large to be a number.

    Raises:
        ValueError: ``affected`` is not ``"left"``, ``"right"`` or ``None``.
    """
    if affected is not None:
        other_side(affected)  # validates the name
    if not (math.isfinite(left) and math.isfinite(right)):
        return None
    left, right = max(0.0, float(left)), max(0.0, float(right))
    if affected is not None:
        num = left if affected == "left" else right
        den = right if affected == "left" else left
    else:
        num, den = min(left, right), max(left, right)
    if den <= 1e-9:
        return None
    pct = 100.0 * (num / den)
    return pct if math.isfinite(pct) else None


def weaker_side(left: float, right: float) -> str | None:
    """The side that moved less, or ``None`` when the difference is within noise.

    The difference is noise when it is under 0.3 mm or the sides are ≥ 95 %
    symmetric (healthy smiles are 79–98 % symmetric).
    """
    if not (math.isfinite(left) and math.isfinite(right)):
        return None
    left, right = max(0.0, float(left)), max(0.0, float(right))
    hi = max(left, right)
    if hi <= 0 or abs(left - right) < WEAKER_MIN_DIFF_MM:
        return None
    if 100.0 * min(left, right) / hi >= WEAKER_MAX_SYMMETRY_PCT:
        return None
    return "left" if left < right else "right"
