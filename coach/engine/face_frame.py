"""The face frame: pose-free, millimetres, anatomical left and right.

Axes (a convention that must never drift):

* origin: midway between the inner eye corners;
* ``x`` points toward the patient's **left**, ``y`` points **up**;
* unit: millimetres, from the iris (11.7 mm mean horizontal diameter).

Head roll, scale and translation are removed exactly by a similarity transform.
Yaw and pitch come from MediaPipe's pose matrix; they cannot be undone in 2D, so
frames turned beyond :data:`MAX_YAW_DEG` / :data:`MAX_PITCH_CHANGE_DEG` are
flagged and not scored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from coach.engine import landmarks as L

MAX_YAW_DEG = 20.0
MAX_PITCH_CHANGE_DEG = 20.0


@dataclass(frozen=True)
class FaceFrame:
    """A similarity transform from image pixels to face millimetres.

    Attributes:
        origin_px: (2,) image position of the origin, pixels.
        x_axis: (2,) unit vector in the image pointing to the patient's left.
        px_per_mm: image pixels per millimetre at the face.
        yaw_deg, pitch_deg: head rotation from the pose matrix (0 when unknown).
    """

    origin_px: np.ndarray
    x_axis: np.ndarray
    px_per_mm: float
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0

    @property
    def roll_deg(self) -> float:
        """In-plane head tilt: positive when the patient's left eye is lower."""
        return math.degrees(math.atan2(self.x_axis[1], self.x_axis[0]))

    @property
    def y_axis(self) -> np.ndarray:
        """(2,) unit vector in the image pointing up the face."""
        return np.array([self.x_axis[1], -self.x_axis[0]])

    def to_mm(self, xy_px: np.ndarray) -> np.ndarray:
        """Image pixels (n, 2) → face millimetres (n, 2)."""
        d = np.asarray(xy_px, dtype=np.float64) - self.origin_px
        return np.stack([d @ self.x_axis, d @ self.y_axis], axis=-1) / self.px_per_mm

    def to_px(self, xy_mm: np.ndarray) -> np.ndarray:
        """Face millimetres (n, 2) → image pixels (n, 2)."""
        p = np.asarray(xy_mm, dtype=np.float64) * self.px_per_mm
        return self.origin_px + p[..., :1] * self.x_axis + p[..., 1:2] * self.y_axis

    def vector_to_mm(self, d_px: np.ndarray) -> np.ndarray:
        """A displacement in image pixels (n, 2) → face millimetres (n, 2)."""
        d = np.asarray(d_px, dtype=np.float64)
        return np.stack([d @ self.x_axis, d @ self.y_axis], axis=-1) / self.px_per_mm

    def turned_away(self, reference_pitch_deg: float = 0.0) -> bool:
        """True when yaw or pitch (from the reference) is too large to score."""
        return abs(self.yaw_deg) > MAX_YAW_DEG or abs(self.pitch_deg - reference_pitch_deg) > MAX_PITCH_CHANGE_DEG


def eye_centers_px(xy_px: np.ndarray) -> dict[str, np.ndarray]:
    """Centre of each eye (mean of its corners), pixels, keyed by patient side."""
    return {s: (xy_px[L.EYE_INNER[s], :2] + xy_px[L.EYE_OUTER[s], :2]) / 2.0 for s in L.SIDES}


def iris_diameter_px(xy_px: np.ndarray) -> float:
    """Mean horizontal iris diameter of both eyes, pixels."""
    d = iris_diameters_px(xy_px)
    return 0.5 * (d["left"] + d["right"])


def iris_diameters_px(xy_px: np.ndarray) -> dict[str, float]:
    """Horizontal iris diameter of each eye (anatomical sides), pixels."""
    return {s: float(np.linalg.norm(xy_px[a, :2] - xy_px[b, :2])) for s, (a, b) in L.IRIS_HORIZONTAL.items()}


def eye_openings_px(xy_px: np.ndarray) -> dict[str, float]:
    """Upper to lower lid at mid-eye, per eye, pixels."""
    return {s: float(np.linalg.norm(xy_px[L.EYE_UPPER_LID[s], :2] - xy_px[L.EYE_LOWER_LID[s], :2])) for s in L.SIDES}


def pose_angles_deg(pose: np.ndarray | None) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from a 4×4 facial transformation matrix."""
    if pose is None or not np.isfinite(pose).all():
        return 0.0, 0.0, 0.0
    r = np.asarray(pose, dtype=np.float64)[:3, :3]
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, -r[2, 0]))))
    pitch = math.degrees(math.atan2(r[2, 1], r[2, 2]))
    roll = math.degrees(math.atan2(r[1, 0], r[0, 0]))
    return yaw, pitch, roll


def face_frame(
    landmarks_px: np.ndarray,
    pose: np.ndarray | None = None,
    px_per_mm: float | None = None,
) -> FaceFrame:
    """Build the face frame of one observation.

    Args:
        landmarks_px: (478, 2|3) landmarks in image pixels.
        pose: optional 4×4 pose matrix for yaw and pitch.
        px_per_mm: scale to use; measured from the iris when omitted. Callers
            that track a face over time pass a steadier scale (see
            :class:`coach.engine.measurer.FaceMeasurer`).

    Raises:
        ValueError: the landmarks are not finite or the eyes coincide.
    """
    arr = np.asarray(landmarks_px, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < L.N_LANDMARKS or arr.shape[1] not in (2, 3):
        raise ValueError(f"landmarks_px: expected shape (478, 2) or (478, 3), got {arr.shape}")
    xy = arr[:, :2]
    if not np.isfinite(xy).all():
        raise ValueError("landmarks_px: not all landmarks are finite")
    eyes = eye_centers_px(xy)
    axis = eyes["left"] - eyes["right"]
    norm = float(np.linalg.norm(axis))
    if norm < 1e-6:
        raise ValueError("landmarks_px: the eyes coincide; the face has collapsed")
    origin = (xy[L.EYE_INNER["left"]] + xy[L.EYE_INNER["right"]]) / 2.0
    if px_per_mm is None:
        px_per_mm = iris_diameter_px(xy) / L.IRIS_DIAMETER_MM
    if not px_per_mm > 0:
        raise ValueError(f"px_per_mm must be > 0, got {px_per_mm}")
    yaw, pitch, _ = pose_angles_deg(pose)
    return FaceFrame(origin, axis / norm, float(px_per_mm), yaw, pitch)
