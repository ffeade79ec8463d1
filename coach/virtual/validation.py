"""Accuracy against virtual patients with known truth.

Builds the standard grid of smile phantoms (weak/strong ratio 0–1, either side
weak, small to full movements, head roll up to ±15°, small to large faces,
still and moving heads), writes each as a video, analyses it, and compares the
tissue-motion method with the landmark-only (Emotrics-style) method on the
same reps. Used by ``benchmarks/accuracy.py`` and by the tests.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from coach.engine.analysis import analyze_video
from coach.engine.model import ModelFile
from coach.virtual.phantom import HeadMotion, PhantomSpec, Schedule, smile_phantom, write_video

EVAL_SCHEDULE = Schedule(lead_in_s=1.2, rise_s=0.8, hold_s=1.5, release_s=0.8, rest_s=1.2, reps=2)
ROLLS_DEG = (-15.0, -8.0, 0.0, 6.0, 15.0)


@dataclass(frozen=True)
class Case:
    """One virtual patient."""

    strong_mm: float
    ratio: float
    weak_side: str
    face_width_px: float
    roll_deg: float
    moving_head: bool
    seed: int = 0

    @property
    def name(self) -> str:
        head = "moving" if self.moving_head else "still"
        return (
            f"{self.strong_mm:g}mm-r{self.ratio:g}-{self.weak_side}weak-{self.face_width_px:g}px-"
            f"roll{self.roll_deg:+g}-{head}"
        )

    @property
    def truth_symmetry_pct(self) -> float:
        return 100.0 * self.ratio

    @property
    def truth_weaker(self) -> str | None:
        return None if self.ratio >= 1.0 else self.weak_side

    def spec(self) -> PhantomSpec:
        weak = self.strong_mm * self.ratio
        left, right = (weak, self.strong_mm) if self.weak_side == "left" else (self.strong_mm, weak)
        head = (
            HeadMotion(roll_deg=self.roll_deg, roll_amp_deg=2.0, scale_amp=0.03, drift_px=6.0)
            if self.moving_head
            else HeadMotion(roll_deg=self.roll_deg)
        )
        return smile_phantom(
            left, right, schedule=EVAL_SCHEDULE, head=head, face_width_px=self.face_width_px, seed=self.seed
        )


def standard_cases(quick: bool = False) -> list[Case]:
    """The grid. ``quick`` keeps the extremes and a spread of the rest (for the test suite)."""
    cases: list[Case] = []
    i = 0
    strongs = (3.0, 10.0) if quick else (3.0, 5.0, 10.0)
    sizes = (120.0, 320.0) if quick else (120.0, 200.0, 320.0)
    ratios = (0.0, 0.25, 0.5, 0.75, 1.0)
    for strong in strongs:
        for size in sizes:
            for ratio in ratios:
                for side in ("left", "right") if ratio < 1.0 else ("left",):
                    i += 1
                    if quick and (i % 2 == 0 and ratio not in (0.0, 1.0)):
                        continue
                    cases.append(Case(strong, ratio, side, size, ROLLS_DEG[i % 5], i % 2 == 1, seed=i))
    return cases


@dataclass(frozen=True)
class CaseResult:
    case: Case
    reps_found: int
    reps_truth: int
    symmetry_pct: float | None
    weaker_side: str | None
    landmark_symmetry_pct: float | None
    landmark_weaker_side: str | None
    excursion_mm: dict[str, float] | None
    truth_mm: dict[str, float]

    @property
    def error(self) -> float:
        return _err(self.symmetry_pct, self.case.truth_symmetry_pct)

    @property
    def landmark_error(self) -> float:
        return _err(self.landmark_symmetry_pct, self.case.truth_symmetry_pct)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["case"] = self.case.name
        d["truth_symmetry_pct"] = self.case.truth_symmetry_pct
        d["error"] = round(self.error, 2)
        d["landmark_error"] = round(self.landmark_error, 2)
        return d


def _err(measured: float | None, truth: float) -> float:
    return 100.0 if measured is None else abs(measured - truth)


def _landmark_weaker(lm: dict[str, float] | None) -> str | None:
    from coach.engine.measures.symmetry import weaker_side

    return None if lm is None else weaker_side(lm["left"], lm["right"])


def evaluate_case(case: Case, workdir: Path, model: ModelFile | None = None) -> CaseResult:
    """Write the case's video, analyse it, compare with the truth."""
    spec = case.spec()
    path = write_video(spec, workdir / f"{case.name}.avi")
    result = analyze_video(path, model=model).to_dict()
    path.unlink()
    s = result["summary"]
    return CaseResult(
        case=case,
        reps_found=len(result["reps"]),
        reps_truth=spec.schedule.reps,
        symmetry_pct=s["symmetry_pct"],
        weaker_side=s["weaker_side"],
        landmark_symmetry_pct=s["landmark_symmetry_pct"],
        landmark_weaker_side=_landmark_weaker(s["landmark_excursion_mm"]),
        excursion_mm=s["excursion_mm"],
        truth_mm=spec.amplitude_mm(),
    )


def evaluate(cases: Iterable[Case], model: ModelFile | None = None, progress: Any = None) -> list[CaseResult]:
    """Evaluate every case (videos go to a temporary folder and are deleted)."""
    out = []
    with tempfile.TemporaryDirectory(prefix="facecoach-eval-") as tmp:
        for case in cases:
            r = evaluate_case(case, Path(tmp), model)
            out.append(r)
            if progress is not None:
                progress(r)
    return out


def report(results: list[CaseResult]) -> dict[str, Any]:
    """Aggregate figures for both methods."""

    def method(err: list[float], weaker: list[str | None]) -> dict[str, Any]:
        asym = [(w, r.case.truth_weaker) for w, r in zip(weaker, results, strict=True) if r.case.ratio < 1.0]
        return {
            "mean_abs_error_pts": round(float(np.mean(err)), 2),
            "max_abs_error_pts": round(float(np.max(err)), 2),
            "weaker_side_wrong": sum(1 for w, t in asym if w != t),
            "asymmetric_cases": len(asym),
        }

    return {
        "cases": len(results),
        "reps_exact": sum(r.reps_found == r.reps_truth for r in results),
        "tissue_motion": method([r.error for r in results], [r.weaker_side for r in results]),
        "landmark_only": method([r.landmark_error for r in results], [r.landmark_weaker_side for r in results]),
    }
