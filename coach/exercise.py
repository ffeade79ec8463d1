"""What the engine needs to know about an exercise (the data lives in ``exercises/``)."""

from __future__ import annotations

from dataclasses import dataclass

from coach.motion.tissue import SMILE_POINTS, TrackPoint

# Measures the engine can score, and the tissue points each one tracks.
MEASURE_POINTS: dict[str, tuple[TrackPoint, ...]] = {
    "mouth_corner": SMILE_POINTS,
}


@dataclass(frozen=True)
class ExerciseSpec:
    """One exercise, as the engine uses it.

    Attributes:
        id: short stable name, e.g. ``"smile"``.
        name: what the patient sees.
        measure: a key of :data:`MEASURE_POINTS`.
        instructions: plain words for the patient.
        reps: repetitions in a set.
        rise_s, hold_s, release_s, rest_s: the cue schedule, seconds.
        on_mm, off_mm: movement that starts and ends a rep, mm.
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
    on_mm: float = 1.0
    off_mm: float = 0.5

    def __post_init__(self) -> None:
        if self.measure not in MEASURE_POINTS:
            raise ValueError(f"measure must be one of {sorted(MEASURE_POINTS)}, got {self.measure!r}")
        if not 0.05 <= self.off_mm < self.on_mm <= 20.0:
            raise ValueError(f"need 0.05 <= off_mm < on_mm <= 20, got off_mm={self.off_mm}, on_mm={self.on_mm}")

    @property
    def points(self) -> tuple[TrackPoint, ...]:
        return MEASURE_POINTS[self.measure]


DEFAULT_SMILE = ExerciseSpec(
    id="smile",
    name="Gentle smile",
    instructions="Smile gently with closed lips, both sides together. Hold, then relax.",
)
