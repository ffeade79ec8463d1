"""Which way a movement counts: along each exercise's expected direction, never against it.

A point's movement is an (outward, up) vector in face millimetres, per side (outward is
away from the midline). An exercise expects it to go one way: a smile's mouth corner up
and out, a brow up, a nostril up, a corner out or in. Only the part of the movement that
goes that way is effort. The rest — a paralysed corner dragged toward the midline or
down by the healthy side pulling the lips across, a brow pulled down — is reported apart
(the "opposite" movement, and a repetition's "dragged" sides), never as effort: a length
of the whole vector would count a dragged corner as a smile.

For a smile, "up and out" is the quadrant: the outward part if it is outward, the upward
part if it is upward (a corner going straight up, or straight out, moves fully along it;
one going in and up moves only by its upward part, and its inward part is opposite).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from coach.engine.measures.sides import PerSide

# A side whose movement against the expected direction at a repetition's hold is at least
# this (mm) was dragged (our choice: about twice a trusted hold's error on the real clips,
# 0.18-0.39 mm a frame, before averaging).
DRAGGED_MM = 0.5


@dataclass(frozen=True)
class Direction:
    """An expected direction of movement: how an (outward, up) vector splits into along and opposite.

    Attributes:
        name: id, e.g. ``"up_and_out"``.
        words: plain words for people, e.g. ``"up and out"``.
        opposite_words: the opposite way, e.g. ``"down or in"``.
        along: the vector's length along the expected direction (≥ 0).
        opposite: its length against it (≥ 0).
        drags: whether movement against it is what a side pulled across by the other side
            does (a smile's or an "ee"'s corner, dragged toward the midline), so that a side
            moving mostly that way is reported as *dragged*. Not for a pucker (a corner
            pulled across moves *inward*, the pucker's own way: direction cannot tell them
            apart) nor for a brow or a nostril.
    """

    name: str
    words: str
    opposite_words: str
    along: Callable[[float, float], float]
    opposite: Callable[[float, float], float]
    drags: bool = False


UP_AND_OUT = Direction(
    "up_and_out",
    "up and out",
    "down or in",
    lambda o, u: math.hypot(max(o, 0.0), max(u, 0.0)),
    lambda o, u: math.hypot(min(o, 0.0), min(u, 0.0)),
    drags=True,
)
UP = Direction("up", "up", "down", lambda o, u: max(u, 0.0), lambda o, u: max(-u, 0.0))
OUT = Direction("out", "outward", "inward", lambda o, u: max(o, 0.0), lambda o, u: max(-o, 0.0), drags=True)
IN = Direction("in", "inward", "outward", lambda o, u: max(-o, 0.0), lambda o, u: max(o, 0.0))


def dragged(
    along_mm: PerSide[float] | None, opposite_mm: PerSide[float] | None, way: Direction | None
) -> tuple[str, ...]:
    """The sides a hold shows pulled across: at least ``DRAGGED_MM`` against ``way``, and more
    against it than along it (a corner that moved out 3 mm and down 0.6 mm moved the smile's
    way). None for directions that do not drag (``Direction.drags``).

    Args:
        along_mm: each side's movement along ``way`` at the hold, mm.
        opposite_mm: each side's movement against it, mm.
        way: the exercise's direction.
    """
    if along_mm is None or opposite_mm is None or way is None or not way.drags:
        return ()
    return tuple(s for s in ("left", "right") if opposite_mm[s] >= max(DRAGGED_MM, along_mm[s]))
