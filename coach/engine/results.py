"""Results that cross the engine's boundary: reps and whole analyses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from coach.engine.measures.sides import PerSide


def _r(x: float | None, nd: int) -> float | None:
    return None if x is None else round(float(x), nd)


def _sides(p: PerSide[float] | None) -> dict[str, float | None] | None:
    return None if p is None else {s: _r(p[s], 2) for s in ("left", "right")}


@dataclass(frozen=True)
class RepResult:
    """One scored repetition.

    Attributes:
        movement: the exercise's movement per side at the hold, in ``unit``: how far
            the measured point moved (mm), or how much the eye closed (per cent of its
            resting opening).
        components_mm: per side (outward, up) movement of the measured point, mm.
        angle_deg: per side direction, 0° outward, 90° up.
        symmetry_pct: see :func:`coach.engine.measures.symmetry.symmetry_pct`.
        landmark_excursion_mm: the landmark-only measure of the same rep.
        confidence: how far the rep's symmetry can be trusted, 0–1 (0.5: it may be
            5 points off; :func:`coach.engine.measures.peak.rep_confidence`).
        frames: frames measured in the rep.
        unit: ``"mm"`` or ``"%"``.
        opposite_mm: per side, the measured point's movement at the hold *against* the
            exercise's expected direction (e.g. a smile's corner pulled in or down), mm;
            never counted in ``movement``. None for measures without a direction.
        dragged: the sides pulled across (:func:`coach.engine.measures.direction.dragged`).
    """

    index: int
    start_s: float
    peak_s: float
    end_s: float
    movement: PerSide[float]
    components_mm: PerSide[tuple[float, float]]
    angle_deg: PerSide[float]
    symmetry_pct: float | None
    landmark_excursion_mm: PerSide[float]
    landmark_symmetry_pct: float | None
    confidence: float
    frames: int
    unit: str = "mm"
    opposite_mm: PerSide[float] | None = None
    dragged: tuple[str, ...] = ()

    @property
    def excursion_mm(self) -> PerSide[float] | None:
        """The movement in millimetres; None for a measure in per cent."""
        return self.movement if self.unit == "mm" else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract. For a measure in per cent (eye closure) the millimetre fields
        of one tracked point (its outward and upward movement, angle, landmark comparison)
        are null: they are not what is measured, and only confuse beside it."""
        mm = self.unit == "mm"

        def per_side(f: Any, nd: int = 2) -> dict[str, float | None] | None:
            return {s: _r(f(s), nd) for s in ("left", "right")} if mm else None

        return {
            "index": self.index,
            "start_s": _r(self.start_s, 3),
            "peak_s": _r(self.peak_s, 3),
            "end_s": _r(self.end_s, 3),
            "movement": {s: _r(self.movement[s], 2) for s in ("left", "right")},
            "unit": self.unit,
            "excursion_mm": _sides(self.excursion_mm),
            "symmetry_pct": _r(self.symmetry_pct, 1),
            "outward_mm": per_side(lambda s: self.components_mm[s][0]),
            "up_mm": per_side(lambda s: self.components_mm[s][1]),
            "angle_deg": per_side(lambda s: self.angle_deg[s], 1),
            "opposite_mm": _sides(self.opposite_mm),
            "dragged": list(self.dragged),
            "landmark_excursion_mm": _sides(self.landmark_excursion_mm) if mm else None,
            "landmark_symmetry_pct": _r(self.landmark_symmetry_pct, 1) if mm else None,
            "confidence": _r(self.confidence, 2),
            "frames": self.frames,
        }


@dataclass(frozen=True)
class Summary:
    """Mean over reps, per side, and what it means (``movement`` in ``unit``, as :class:`RepResult`'s)."""

    movement: PerSide[float] | None
    symmetry_pct: float | None
    weaker_side: str | None
    landmark_excursion_mm: PerSide[float] | None = None
    landmark_symmetry_pct: float | None = None
    unit: str = "mm"

    @property
    def excursion_mm(self) -> PerSide[float] | None:
        """The mean movement in millimetres; None for a measure in per cent."""
        return self.movement if self.unit == "mm" else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "movement": _sides(self.movement),
            "unit": self.unit,
            "excursion_mm": _sides(self.excursion_mm),
            "symmetry_pct": _r(self.symmetry_pct, 1),
            "weaker_side": self.weaker_side,
            "landmark_excursion_mm": _sides(self.landmark_excursion_mm) if self.unit == "mm" else None,
            "landmark_symmetry_pct": _r(self.landmark_symmetry_pct, 1) if self.unit == "mm" else None,
        }


@dataclass(frozen=True)
class AnalysisResult:
    """A whole video analysed for one exercise."""

    source: str
    frames: int
    frames_with_face: int
    frames_scored: int
    fps: float
    duration_s: float
    exercise: str
    affected_side: str | None
    reps: tuple[RepResult, ...]
    summary: Summary
    warnings: tuple[str, ...] = ()
    resting_asymmetry_mm: dict[str, float] | None = None
    baselines: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The CLI's JSON contract (plus extra keys)."""
        return {
            "source": self.source,
            "frames": self.frames,
            "frames_with_face": self.frames_with_face,
            "frames_scored": self.frames_scored,
            "fps": _r(self.fps, 3),
            "duration_s": _r(self.duration_s, 3),
            "exercise": self.exercise,
            "affected_side": self.affected_side,
            "method": "tissue-motion",
            "reps": [r.to_dict() for r in self.reps],
            "summary": self.summary.to_dict(),
            "resting_asymmetry_mm": None
            if self.resting_asymmetry_mm is None
            else {k: _r(v, 2) for k, v in self.resting_asymmetry_mm.items()},
            "baselines": self.baselines,
            "warnings": list(self.warnings),
            **self.extra,
        }
