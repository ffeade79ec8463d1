"""What the tracker saw in one frame."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class FaceObservation:
    """One face in one frame, in image pixels of the frame given to the tracker.

    Attributes:
        t_s: frame timestamp, seconds.
        landmarks_px: (478, 3) float64; x, y in pixels, z in pixels (MediaPipe's
            depth scaled like x). Indices follow MediaPipe: 0–467 mesh, 468–477 iris.
        blendshapes: name → score in [0, 1]; names use the subject's side.
        pose: (4, 4) facial transformation matrix (canonical face → camera), or
            ``None`` when the model gave none.
        image_wh: (width, height) of the frame, pixels.
        faces_seen: how many faces the tracker found; the largest is this one.
    """

    t_s: float
    landmarks_px: np.ndarray
    blendshapes: dict[str, float] = field(default_factory=dict)
    pose: np.ndarray | None = None
    image_wh: tuple[int, int] = (0, 0)
    faces_seen: int = 1

    def __post_init__(self) -> None:
        lm = np.asarray(self.landmarks_px, dtype=np.float64)
        if lm.ndim != 2 or lm.shape[0] < 478 or lm.shape[1] not in (2, 3):
            raise ValueError(f"landmarks_px: expected shape (478, 3), got {lm.shape}")
        if lm.shape[1] == 2:
            lm = np.concatenate([lm, np.zeros((lm.shape[0], 1))], axis=1)
        lm.setflags(write=False)
        object.__setattr__(self, "landmarks_px", lm)

    @property
    def xy(self) -> np.ndarray:
        """(478, 2) landmark positions in pixels."""
        return self.landmarks_px[:, :2]

    @property
    def finite(self) -> bool:
        """True when every landmark is a finite number."""
        return bool(np.isfinite(self.landmarks_px).all())

    def width_px(self) -> float:
        """Face width: horizontal extent of the landmarks, pixels."""
        x = self.landmarks_px[:, 0]
        return float(x.max() - x.min())
