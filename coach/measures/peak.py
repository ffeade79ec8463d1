"""One rule for a repetition's per-side movement at its hold, used offline and live.

Offline analysis finds the hold in the signal; a guided session knows it from its
plan. What each side's movement *is*, once the hold's trusted frames are chosen, is
decided here only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from coach.measures.sides import PerSide

# A hold is scored only when enough of it was measured with trust: at least this share
# of its frames, and at least MIN_TRUSTED_FRAMES of them (or every frame of a short hold).
MIN_TRUSTED_HOLD = 0.5
MIN_TRUSTED_FRAMES = 3


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
) -> tuple[PerSide[float], PerSide[tuple[float, float]] | None]:
    """Per-side movement over a hold's trusted frames.

    Args:
        values: each frame's measure per side (mm or %), at least one frame.
        moves: each frame's (outward, up) movement vector per side, mm, for the
            mouth-corner measure; then each side's value is the length of the median
            vector, not the median of lengths: noise averages out in the components,
            whereas every noisy length is positive.

    Returns:
        The peak per side, and the median vector per side (None without ``moves``).
    """
    if not values:
        raise ValueError("values must hold at least one frame")
    if moves:
        comp = {s: tuple(float(v) for v in np.median([m[s] for m in moves], axis=0)) for s in ("left", "right")}
        peak = PerSide(float(np.hypot(*comp["left"])), float(np.hypot(*comp["right"])))
        return peak, PerSide(comp["left"], comp["right"])  # type: ignore[arg-type]
    return PerSide(*(float(np.median([v[s] for v in values])) for s in ("left", "right"))), None
