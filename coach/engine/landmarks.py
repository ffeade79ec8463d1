"""MediaPipe landmark indices by anatomy, keyed by the patient's side.

In an unmirrored camera image the patient's right side is on the image's left:
the patient's right mouth corner is landmark 61, the left is 291. Sides here are
always the patient's own ("anatomical"); mirroring is a display choice in ``ui/``.
"""

from __future__ import annotations

SIDES = ("left", "right")

MOUTH_CORNER = {"right": 61, "left": 291}
EYE_OUTER = {"right": 33, "left": 263}
EYE_INNER = {"right": 133, "left": 362}
EYE_UPPER_LID = {"right": 159, "left": 386}
EYE_LOWER_LID = {"right": 145, "left": 374}
IRIS_CENTER = {"right": 468, "left": 473}
# Horizontal ends of each iris ring (the ring is centre + 4 points).
IRIS_HORIZONTAL = {"right": (469, 471), "left": (474, 476)}
MID_BROW = {"right": 105, "left": 334}
UPPER_LIP_OUTER = 0
LOWER_LIP_OUTER = 17
UPPER_LIP_INNER = 13
LOWER_LIP_INNER = 14
# Outer edge of each nostril wing (the snarl lifts it).
NOSE_ALA = {"right": 129, "left": 358}
NOSE_TIP = 1
NOSE_BRIDGE = 6

# Mean horizontal visible iris diameter of adults (Rüfer 2005: 11.7 ± 0.4 mm).
IRIS_DIAMETER_MM = 11.7

N_LANDMARKS = 478

# Closed outlines for drawing a schematic face (MediaPipe Face Mesh contours),
# each in order around the shape; eyes and brows keyed by the patient's side.
# fmt: off
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)
# fmt: on
LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
LIPS_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)
EYE_CONTOUR = {
    "right": (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
    "left": (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466),
}
BROW_CONTOUR = {
    "right": (70, 63, 105, 66, 107, 55, 65, 52, 53, 46),
    "left": (300, 293, 334, 296, 336, 285, 295, 282, 283, 276),
}
NOSE_LINE = (168, 6, 197, 195, 5, 4)
NOSE_BASE = (129, 98, 97, 2, 326, 327, 358)
