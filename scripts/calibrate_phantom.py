"""Measure the virtual patient's anchors on the neutral portrait.

    python scripts/calibrate_phantom.py

Prints the constants at the top of ``coach/virtual/phantom.py`` (landmark positions on
``skimage.data.astronaut()`` as MediaPipe sees them). The phantom's truth does
not depend on them being exact: they only say where each movement is applied.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from skimage import data  # noqa: E402

from coach.engine import landmarks as L  # noqa: E402
from coach.engine.face_frame import eye_centers_px, iris_diameter_px  # noqa: E402
from coach.engine.tracking import FaceTracker  # noqa: E402

ANCHORS = {
    "mouth_corner": L.MOUTH_CORNER,
    "upper_lid": L.EYE_UPPER_LID,
    "lower_lid": L.EYE_LOWER_LID,
    "mid_brow": L.MID_BROW,
    "nose_ala": L.NOSE_ALA,
}


def main() -> int:
    img = np.ascontiguousarray(data.astronaut())
    with FaceTracker() as tracker:
        obs = tracker.update(img, 0.0)
    if obs is None:
        print("no face found", file=sys.stderr)
        return 1
    xy = obs.xy
    print(f"SOURCE_PX_PER_MM = {iris_diameter_px(xy):.2f} / 11.7")
    for name, idx in ANCHORS.items():
        sides = ", ".join(f'"{s}": ({xy[idx[s], 0]:.1f}, {xy[idx[s], 1]:.1f})' for s in ("right", "left"))
        print(f'"{name}": {{{sides}}},')
    eyes = eye_centers_px(xy)
    inner = (xy[L.EYE_INNER["left"]] + xy[L.EYE_INNER["right"]]) / 2
    print(f"SOURCE_EYE_MID_PX = ({inner[0]:.2f}, {inner[1]:.2f})")
    print(f"eye centres: right {eyes['right'].round(1)}, left {eyes['left'].round(1)}")
    print(f"SOURCE_FACE_WIDTH_PX = {xy[:, 0].max() - xy[:, 0].min():.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
