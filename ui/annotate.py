"""Draw measures on a frame for people to see (the engine never draws)."""

from __future__ import annotations

import cv2
import numpy as np

from coach.engine.landmarks import MOUTH_CORNER
from coach.engine.measurer import FrameMeasures
from coach.engine.observation import FaceObservation

LEFT_COLOUR = (40, 150, 255)  # RGB, patient's left
RIGHT_COLOUR = (255, 140, 40)  # RGB, patient's right


def annotate(
    frame_rgb: np.ndarray,
    obs: FaceObservation | None,
    fm: FrameMeasures | None,
    mirror: bool = True,
    full_scale_mm: float = 10.0,
) -> np.ndarray:
    """Mark both mouth corners and show each side's movement up and out as a bar.

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
    exc = fm.along_mm() if fm is not None and fm.ok else None  # up and out: what counts as a smile
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


def label_sides(frame_rgb: np.ndarray, obs: FaceObservation) -> np.ndarray:
    """The frame as it is, with "your left" and "your right" written on the cheeks FaceCoach takes for them.

    For a person to check the sides before any number is shown: if the words sit on the
    wrong cheeks, the video is mirrored.

    Args:
        frame_rgb: (H, W, 3) uint8 frame, as the engine reads it.
        obs: the face found in it (anatomical sides).
    """
    img = np.ascontiguousarray(frame_rgb.copy())
    h, w = img.shape[:2]
    scale = max(0.5, w / 900)
    corners = {s: obs.xy[MOUTH_CORNER[s]] for s in ("left", "right")}
    span = float(np.linalg.norm(corners["left"] - corners["right"]))
    for side, colour in (("left", LEFT_COLOUR), ("right", RIGHT_COLOUR)):
        x, y = corners[side]
        other = corners["right" if side == "left" else "left"]
        out = 1.0 if x >= other[0] else -1.0  # away from the other corner
        text = f"your {side}"
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
        tx = int(x + out * 0.5 * span) - (0 if out > 0 else tw)
        tx = min(max(tx, 2), w - tw - 2)
        ty = int(min(max(y, th + 2), h - 4))
        cv2.circle(img, (int(round(x)), int(round(y))), max(3, w // 160), colour, -1, cv2.LINE_AA)
        cv2.putText(img, text, (tx, ty), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 5, cv2.LINE_AA)
        cv2.putText(img, text, (tx, ty), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 2, cv2.LINE_AA)
    return img
