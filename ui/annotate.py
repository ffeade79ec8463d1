"""Draw measures on a frame for people to see (the engine never draws)."""

from __future__ import annotations

import cv2
import numpy as np

from coach.landmarks import MOUTH_CORNER
from coach.measurer import FrameMeasures
from coach.observation import FaceObservation

LEFT_COLOUR = (40, 150, 255)  # RGB, patient's left
RIGHT_COLOUR = (255, 140, 40)  # RGB, patient's right


def annotate(
    frame_rgb: np.ndarray,
    obs: FaceObservation | None,
    fm: FrameMeasures | None,
    mirror: bool = True,
    full_scale_mm: float = 10.0,
) -> np.ndarray:
    """Mark both mouth corners and show each side's movement as a bar.

    Args:
        frame_rgb: (H, W, 3) uint8 unmirrored frame.
        obs: the face found in it, if any.
        fm: its measures, if any.
        mirror: show it as a mirror (the patient's left on the screen's left).
        full_scale_mm: movement that fills a bar.

    Returns:
        A new (H, W, 3) uint8 image.
    """
    img = np.ascontiguousarray(frame_rgb.copy())
    h, w = img.shape[:2]
    if obs is not None:
        for side, colour in (("left", LEFT_COLOUR), ("right", RIGHT_COLOUR)):
            x, y = obs.xy[MOUTH_CORNER[side]]
            cv2.circle(img, (int(round(x)), int(round(y))), max(3, w // 160), colour, -1, cv2.LINE_AA)
    if mirror:
        img = np.ascontiguousarray(img[:, ::-1])
    exc = fm.excursion_mm() if fm is not None and fm.ok else None
    bar_h = int(h * 0.6)
    top = int(h * 0.2)
    for side, colour in (("left", LEFT_COLOUR), ("right", RIGHT_COLOUR)):
        # In a mirror view the patient's left is on the screen's left.
        on_left = (side == "left") == mirror
        x0 = int(w * 0.03) if on_left else int(w * 0.97) - 24
        cv2.rectangle(img, (x0, top), (x0 + 24, top + bar_h), (255, 255, 255), 2)
        if exc is not None:
            frac = min(1.0, exc[side] / full_scale_mm)
            cv2.rectangle(img, (x0 + 3, top + bar_h - int(frac * bar_h)), (x0 + 21, top + bar_h - 3), colour, -1)
        label = "L" if side == "left" else "R"
        cv2.putText(img, label, (x0 + 4, top - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2, cv2.LINE_AA)
    return img
