"""Landmark geometry in the face frame (mm, x to the patient's left, y up).

Every function takes landmarks already in face millimetres, shape (478, 2),
and returns :class:`~coach.engine.measures.sides.PerSide` values in mm or degrees.
These are the Emotrics-style measures; for *how much* a side moved, prefer
the pixel-based tissue motion (:mod:`coach.engine.motion.tissue`), because the
landmark model's symmetric prior under-reports one-sided movement.
"""

from __future__ import annotations

import math

import numpy as np

from coach.engine import landmarks as L
from coach.engine.measures.sides import PerSide


def _check(lm_mm: np.ndarray) -> np.ndarray:
    lm = np.asarray(lm_mm, dtype=np.float64)
    if lm.ndim != 2 or lm.shape[0] < L.N_LANDMARKS or lm.shape[1] < 2:
        raise ValueError(f"lm_mm: expected shape (478, 2), got {lm.shape}")
    return lm[:, :2]


def commissure_mm(lm_mm: np.ndarray) -> PerSide[np.ndarray]:
    """Mouth-corner positions, (2,) mm each."""
    lm = _check(lm_mm)
    return PerSide(lm[L.MOUTH_CORNER["left"]].copy(), lm[L.MOUTH_CORNER["right"]].copy())


def outward_up(side: str, d_mm: np.ndarray) -> tuple[float, float]:
    """A face-frame displacement as (outward, up) for ``side``; outward is away from the midline."""
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    sign = 1.0 if side == "left" else -1.0
    return float(sign * d_mm[0]), float(d_mm[1])


def excursion_mm(lm_mm: np.ndarray, base_mm: np.ndarray, index: dict[str, int]) -> PerSide[np.ndarray]:
    """Displacement of one landmark per side from the baseline, (2,) mm (x left, y up)."""
    lm, base = _check(lm_mm), _check(base_mm)
    return PerSide(lm[index["left"]] - base[index["left"]], lm[index["right"]] - base[index["right"]])


def smile_angle_deg(outward_mm: float, up_mm: float) -> float:
    """Direction of a mouth-corner movement: 0° straight out, 90° straight up."""
    if abs(outward_mm) < 1e-9 and abs(up_mm) < 1e-9:
        return 0.0
    return math.degrees(math.atan2(up_mm, outward_mm))


def eye_aperture_mm(lm_mm: np.ndarray) -> PerSide[float]:
    """Palpebral fissure height: upper to lower lid at mid-eye, mm."""
    lm = _check(lm_mm)
    return PerSide(*(float(np.linalg.norm(lm[L.EYE_UPPER_LID[s]] - lm[L.EYE_LOWER_LID[s]])) for s in ("left", "right")))


def brow_height_mm(lm_mm: np.ndarray) -> PerSide[float]:
    """Height of the mid-brow above the pupil centre, mm."""
    lm = _check(lm_mm)
    return PerSide(*(float(lm[L.MID_BROW[s], 1] - lm[L.IRIS_CENTER[s], 1]) for s in ("left", "right")))


def mouth_width_mm(lm_mm: np.ndarray) -> float:
    """Distance between the mouth corners, mm."""
    lm = _check(lm_mm)
    return float(np.linalg.norm(lm[L.MOUTH_CORNER["left"]] - lm[L.MOUTH_CORNER["right"]]))


def corner_to_midline_mm(lm_mm: np.ndarray) -> PerSide[float]:
    """Horizontal distance of each mouth corner from the facial midline (x = 0), mm."""
    c = commissure_mm(lm_mm)
    return PerSide(float(c.left[0]), float(-c.right[0]))


def resting_asymmetry(lm_mm: np.ndarray) -> dict[str, float]:
    """Left minus right at rest, mm: a droop shows as a negative height difference.

    Keys: ``commissure_height_mm``, ``commissure_from_midline_mm``,
    ``eye_aperture_mm``, ``brow_height_mm``.
    """
    c = commissure_mm(lm_mm)
    mid = corner_to_midline_mm(lm_mm)
    eye = eye_aperture_mm(lm_mm)
    brow = brow_height_mm(lm_mm)
    return {
        "commissure_height_mm": float(c.left[1] - c.right[1]),
        "commissure_from_midline_mm": mid.left - mid.right,
        "eye_aperture_mm": eye.left - eye.right,
        "brow_height_mm": brow.left - brow.right,
    }


BLENDSHAPE_PAIRS = {
    "smile": ("mouthSmileLeft", "mouthSmileRight"),
    "blink": ("eyeBlinkLeft", "eyeBlinkRight"),
    "squint": ("eyeSquintLeft", "eyeSquintRight"),
    "brow_outer_up": ("browOuterUpLeft", "browOuterUpRight"),
    "brow_down": ("browDownLeft", "browDownRight"),
    "cheek_squint": ("cheekSquintLeft", "cheekSquintRight"),
    "mouth_stretch": ("mouthStretchLeft", "mouthStretchRight"),
    "nose_sneer": ("noseSneerLeft", "noseSneerRight"),
}


def blendshape_pairs(blendshapes: dict[str, float]) -> dict[str, PerSide[float]]:
    """MediaPipe blendshape scores paired by side (names already use the subject's side)."""
    out = {}
    for name, (left, right) in BLENDSHAPE_PAIRS.items():
        if left in blendshapes and right in blendshapes:
            out[name] = PerSide(float(blendshapes[left]), float(blendshapes[right]))
    return out
