"""What the engine needs to know about an exercise (the data lives in ``exercises/``).

A *measure* says which tissue points are tracked, where the head's own motion
is read, and how a frame's point movements become one number per side.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from coach.engine import landmarks as L
from coach.engine.measurer import FaceMeasurer, FrameMeasures, reference_frames_for
from coach.engine.measures.direction import IN, OUT, UP, UP_AND_OUT, Direction
from coach.engine.measures.sides import PerSide
from coach.engine.motion.tissue import (
    RIGID_LANDMARKS,
    RIGID_WITHOUT_FOREHEAD,
    RIGID_WITHOUT_NOSE,
    SMILE_POINTS,
    TrackPoint,
)
from coach.engine.reps import LEVELS

# Eyelid points sit on the lid skin just off the margin; thin structures get a small window.
LID_POINTS = tuple(
    TrackPoint(name, side, idx[side], (0.0, dy), radius_mm=1.2, window_mm=3.0, changes_look=True)
    for name, idx, dy in (("upper_lid", L.EYE_UPPER_LID, 0.8), ("lower_lid", L.EYE_LOWER_LID, -0.8))
    for side in ("left", "right")
)
BROW_POINTS = tuple(TrackPoint("mid_brow", s, L.MID_BROW[s], (0.0, 1.0), radius_mm=3.0) for s in ("left", "right"))
ALA_POINTS = tuple(
    TrackPoint("nose_ala", s, L.NOSE_ALA[s], (1.0, 0.0), radius_mm=2.0, window_mm=4.0) for s in ("left", "right")
)


def _per_side(fm: FrameMeasures, point: str, f: Callable[[float, float], float]) -> PerSide[float] | None:
    mv = fm.movement_mm.get(point)
    if mv is None:
        return None
    return PerSide(f(*mv.left), f(*mv.right))


def _eye_closure(fm: FrameMeasures) -> PerSide[float] | None:
    return fm.eye_narrowing_pct


@dataclass(frozen=True)
class MeasureDef:
    """How one kind of movement is measured.

    Attributes:
        name: id used in exercise files.
        label: plain words for people.
        unit: ``"mm"`` or ``"%"``.
        points: tissue points to track.
        rigid: landmarks on tissue that stays still in this movement.
        value: a frame's measures → movement per side in ``unit`` (≥ 0), or None.
        direction: the way the first point is expected to move; only movement that way is
            counted (``value``), the rest is reported apart (:meth:`opposite`). None for
            measures that are not a point's movement (eye closure).
        part: the measured part, in plain words ("mouth corner").
        area: the part of the face it is in, in plain words ("mouth area").
    """

    name: str
    label: str
    unit: str
    points: tuple[TrackPoint, ...]
    rigid: tuple[int, ...]
    value: Callable[[FrameMeasures], PerSide[float] | None]
    direction: Direction | None = None
    part: str = "mouth corner"
    area: str = "mouth area"

    def either_way(self, values: PerSide[float], opposite: PerSide[float] | None) -> float:
        """The larger side's movement that repetitions are found in and rest is judged on.

        For the mouth corner's up-and-out measure, its movement either way (the length of
        the movement, as measured before directions were told apart): a corner moved down or
        in is no smile, but not the rest either. For the other measures, their own way only.
        """
        if self.name != "mouth_corner" or opposite is None:
            return max(values.left, values.right)
        return max(math.hypot(values[s], opposite[s]) for s in ("left", "right"))

    def opposite(self, fm: FrameMeasures) -> PerSide[float] | None:
        """A frame's movement of the first point against the expected direction, mm per side (None: not measured)."""
        if self.direction is None:
            return None
        return _per_side(fm, self.points[0].name, self.direction.opposite)


def _moving(
    name: str,
    label: str,
    points: tuple[TrackPoint, ...],
    rigid: tuple[int, ...],
    way: Direction,
    part: str = "mouth corner",
    area: str = "mouth area",
) -> MeasureDef:
    """A measure of the first point's movement along ``way``, in mm."""
    value = lambda fm: _per_side(fm, points[0].name, way.along)  # noqa: E731
    return MeasureDef(name, label, "mm", points, rigid, value, way, part, area)


MEASURES: dict[str, MeasureDef] = {
    m.name: m
    for m in (
        _moving("mouth_corner", "mouth corners moving up and out", SMILE_POINTS, RIGID_LANDMARKS, UP_AND_OUT),
        _moving("corner_out", "mouth corners moving out", SMILE_POINTS, RIGID_LANDMARKS, OUT),
        _moving("corner_in", "mouth corners moving in", SMILE_POINTS, RIGID_LANDMARKS, IN),
        MeasureDef(
            "corner_horizontal",
            "mouth corners moving out and in",
            "mm",
            SMILE_POINTS,
            RIGID_LANDMARKS,
            lambda fm: _per_side(fm, "mouth_corner", lambda o, u: abs(o)),
        ),
        _moving("brow", "brow lift", BROW_POINTS, RIGID_WITHOUT_FOREHEAD, UP, "brow", "brow area"),
        _moving("nose_ala", "nose wrinkle (nostril lift)", ALA_POINTS, RIGID_WITHOUT_NOSE, UP, "nostril", "nose area"),
        MeasureDef(
            "eye_closure", "eye closure", "%", LID_POINTS, RIGID_LANDMARKS, _eye_closure, None, "eyelid", "eye area"
        ),
    )
}

# What synkinesis to watch for: the points it needs.
WATCH_POINTS: dict[str, tuple[TrackPoint, ...]] = {
    "eye": LID_POINTS,
    "mouth": SMILE_POINTS,
}


@dataclass(frozen=True)
class ExerciseSpec:
    """One exercise, as the engine uses it.

    Attributes:
        id: short stable name, e.g. ``"smile"``.
        name: what the patient sees.
        measure: a key of :data:`MEASURES`.
        instructions: plain words for the patient.
        reps: repetitions in a set.
        rise_s, hold_s, release_s, rest_s: the cue schedule, seconds.
        on_level, off_level: movement that starts and ends a rep, in the measure's
            :attr:`unit` (mm, or per cent of the resting eye opening for eye closure).
        cue_move, cue_hold, cue_release: what the coach says.
        cue_alternate: if set, even-numbered reps use this instead of ``cue_move``
            (the "ee"–"oo" alternation).
        good_rep: what a good repetition looks like, in plain words.
        watch: synkinesis to watch for: ``"eye"`` (the eye narrowing), ``"mouth"``
            (the mouth moving), or ``""``.
        target: movement to aim for (unit of the measure); 0 = no target.
        max_strong: above this the strong side is working too hard (0 = no limit).
        match_weaker: the symmetry drill: move only as far as the weaker side can.
    """

    id: str
    name: str
    measure: str = "mouth_corner"
    instructions: str = ""
    reps: int = 5
    rise_s: float = 1.5
    hold_s: float = 5.0
    release_s: float = 1.5
    rest_s: float = 3.0
    on_level: float = 1.0
    off_level: float = 0.5
    cue_move: str = "Move gently"
    cue_hold: str = "Hold"
    cue_release: str = "And relax"
    cue_alternate: str = ""
    good_rep: str = ""
    watch: str = ""
    target: float = 0.0
    max_strong: float = 0.0
    match_weaker: bool = False

    def __post_init__(self) -> None:
        if self.measure not in MEASURES:
            raise ValueError(f"measure must be one of {sorted(MEASURES)}, got {self.measure!r}")
        unit = self.measure_def.unit
        low, high, low_off = LEVELS[unit]  # the repetition detector's
        if not low <= self.on_level <= high:
            raise ValueError(f"on_level must be {low:g} to {high:g} ({unit} for {self.measure}), got {self.on_level}")
        if not low_off <= self.off_level < self.on_level:
            raise ValueError(
                f"off_level must be {low_off:g} to below on_level ({unit} for {self.measure}), "
                f"got off_level={self.off_level}, on_level={self.on_level}"
            )
        if self.watch not in ("", *WATCH_POINTS):
            raise ValueError(f"watch must be one of '', {', '.join(WATCH_POINTS)}; got {self.watch!r}")

    @property
    def measure_def(self) -> MeasureDef:
        return MEASURES[self.measure]

    @property
    def unit(self) -> str:
        """The unit of this exercise's movement, levels and target: ``"mm"`` or ``"%"``."""
        return self.measure_def.unit

    @property
    def points(self) -> tuple[TrackPoint, ...]:
        """Tissue points to track: the measure's, then the watched ones (no repeats)."""
        pts = list(self.measure_def.points)
        for p in WATCH_POINTS.get(self.watch, ()):
            if p not in pts:
                pts.append(p)
        return tuple(pts)

    @property
    def rigid(self) -> tuple[int, ...]:
        return self.measure_def.rigid

    def new_measurer(self) -> FaceMeasurer:
        """A measurer for this exercise: its points, its firm landmarks, its reference's size."""
        return FaceMeasurer(self.points, self.rigid, reference_frames=reference_frames_for(self.measure))

    def cue_for(self, rep: int) -> str:
        """The movement cue for rep ``rep`` (1-based)."""
        return self.cue_alternate if self.cue_alternate and rep % 2 == 0 else self.cue_move

    @property
    def period_s(self) -> float:
        return self.rise_s + self.hold_s + self.release_s + self.rest_s


DEFAULT_SMILE = ExerciseSpec(
    id="smile",
    name="Gentle smile",
    instructions="Smile gently with closed lips, both sides together. Hold, then relax.",
    cue_move="Smile gently",
)
