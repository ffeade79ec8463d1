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
