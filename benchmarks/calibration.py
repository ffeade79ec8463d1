"""Is the confidence honest? Per-frame confidence against the real error, on material with truth.

    python -m benchmarks.calibration            # real chimeras of every smile + 3-D virtual patients
    python -m benchmarks.calibration --quick    # fewer of each

Every frame's tissue-motion confidence (``coach/engine/motion/trust.py``) is compared with the
error it actually made, with the scoring gate open so that doubtful frames are seen too:

- **symmetric chimeras** of real smiles (``coach/virtual/chimera.py``): the two corners are
  mirror images, so the error of a frame is how far apart their (outward, up)
  movements are, ÷ √2;
- **3-D virtual patients** of several real people (``coach/virtual/phantom3d.py``) with head
  turns, nods and sway: the error is the distance from the true movement.

Prints, per confidence band, the frames, their median and 90th-percentile error, and the
share of frames the gate (confidence ≥ 0.3) lets through; writes
``benchmarks/results/calibration[-quick].json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np  # noqa: E402

BANDS = ((0.0, 0.1), (0.1, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.01))
PEOPLE = ("astronaut", "grace_hopper", "obama", "webcam_man")


class _Tap:
    """Keeps the last tissue sample the engine measured (the gate is opened meanwhile)."""

    def __init__(self) -> None:
        import coach.engine.measurer as measurer
        import coach.engine.motion.tissue as tissue

        self._tissue, self._measurer = tissue, measurer
        self.last = None
        self._orig = tissue.TissueMotion.measure
        self._gate = measurer.MIN_CONFIDENCE

    def __enter__(self) -> _Tap:
        tap = self

        def measure(motion, gray, ff):  # noqa: ANN001, ANN202
            tap.last = tap._orig(motion, gray, ff)
            return tap.last

        self._tissue.TissueMotion.measure = measure
        self._measurer.MIN_CONFIDENCE = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self._tissue.TissueMotion.measure = self._orig
        self._measurer.MIN_CONFIDENCE = self._gate


def chimera_frames(
    name: str, limit_s: float | None, max_smiles: int | None, model: Any
) -> list[tuple[float, float, float]]:
    """(confidence, error mm, movement mm) of every frame of every symmetric chimera of a clip."""
    from benchmarks.realvideo import tracked_clip
    from coach.engine.analysis import Analyzer
    from coach.engine.measures import landmark as lmm
    from coach.virtual import chimera

    frames, observations, fps = tracked_clip(name, limit_s, model)
    rows = []
    for seg in chimera.find_smiles(observations, fps)[:max_smiles]:
        for side in ("left", "right"):
            _, clip = chimera.build_case(frames, observations, seg, "symmetric", side, name, fps, int(fps), int(fps))
            with _Tap() as tap, Analyzer(model=model) as an:
                for i, frame in enumerate(clip):
                    tap.last = None
                    an.update(frame, i / fps)
                    if tap.last is None:
                        continue
                    d = tap.last.displacement_mm
                    left = np.asarray(lmm.outward_up("left", d[("mouth_corner", "left")]))
                    right = np.asarray(lmm.outward_up("right", d[("mouth_corner", "right")]))
                    err = float(np.linalg.norm(left - right)) / np.sqrt(2.0)
                    rows.append((tap.last.confidence, err, float(np.linalg.norm(left) + np.linalg.norm(right)) / 2))
    return rows


def phantom_frames(person: str, k: int, model: Any) -> list[tuple[float, float, float]]:
    """(confidence, error mm, movement mm) per side and frame of a 3-D virtual patient of a real photo."""
    import cv2

    from benchmarks.media import fetch
    from coach.engine.analysis import Analyzer
    from coach.virtual.phantom import Schedule
    from coach.virtual.phantom3d import FaceModel3D, HeadMotion3D, smile_phantom_3d

    img = cv2.cvtColor(cv2.imread(str(fetch(person))), cv2.COLOR_BGR2RGB)
    face = FaceModel3D.from_image(img)
    heads = (
        HeadMotion3D(natural=1.0, phase_seed=k + 1),
        HeadMotion3D(yaw_swing_deg=10.0, yaw_period_s=6.0, natural=1.0, phase_seed=k + 2),
        HeadMotion3D(pitch_swing_deg=8.0, pitch_period_s=5.0, natural=1.0, phase_seed=k + 3),
    )
    schedule = Schedule(lead_in_s=1.2, rise_s=0.8, hold_s=1.5, release_s=0.8, rest_s=1.2, reps=2)
    rows = []
    for j, head in enumerate(heads):
        left, right = ((4.0, 2.0), (0.0, 5.0), (6.0, 6.0))[j]
        spec = smile_phantom_3d(face, left, right, schedule=schedule, head=head, face_width_px=200.0, seed=k)
        with _Tap() as tap, Analyzer(model=model) as an:
            nb, ref = 0, None
            for t, frame in spec.frames():
                tap.last = None
                an.update(frame, t)
                if an.measurer.baselines != nb:
                    nb, ref = an.measurer.baselines, spec.truth_mm(t)
                if tap.last is None or ref is None:
                    continue
                truth = spec.truth_mm(t)
                for side in ("left", "right"):
                    true = np.asarray(truth[side]) - np.asarray(ref[side])
                    err = float(np.linalg.norm(tap.last.displacement_mm[("mouth_corner", side)] - true))
                    rows.append((tap.last.confidence, err, float(np.linalg.norm(true))))
    return rows


def bands(rows: list[tuple[float, float, float]]) -> list[dict[str, Any]]:
    """Per confidence band: frames, median and 90th-percentile error (mm)."""
    a = np.asarray(rows, dtype=np.float64).reshape(-1, 3)
    out = []
    for lo, hi in BANDS:
        m = (a[:, 0] >= lo) & (a[:, 0] < hi)
        e = a[m, 1]
        out.append(
            {
                "confidence": f"{lo:.1f}–{min(hi, 1.0):.1f}",
                "frames": int(m.sum()),
                "median_error_mm": None if not m.any() else round(float(np.median(e)), 2),
                "p90_error_mm": None if not m.any() else round(float(np.percentile(e, 90)), 2),
            }
        )
    return out


def summary(rows: list[tuple[float, float, float]], gate: float) -> dict[str, Any]:
    a = np.asarray(rows, dtype=np.float64).reshape(-1, 3)
    passed = a[:, 0] >= gate
    return {
        "frames": len(a),
        "trusted_share": round(float(passed.mean()), 3) if len(a) else None,
        "trusted_median_error_mm": round(float(np.median(a[passed, 1])), 2) if passed.any() else None,
        "trusted_p90_error_mm": round(float(np.percentile(a[passed, 1], 90)), 2) if passed.any() else None,
        "doubted_median_error_mm": round(float(np.median(a[~passed, 1])), 2) if (~passed).any() else None,
        "bands": bands(rows),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.calibration")
    ap.add_argument("--quick", action="store_true", help="fewer smiles and virtual patients")
    ap.add_argument("--out", type=Path, help="JSON output file")
    args = ap.parse_args(argv)
    from benchmarks.output import machine, write_json
    from coach.engine.measurer import MIN_CONFIDENCE
    from coach.engine.model import resolve_model

    model = resolve_model()
    t0 = time.perf_counter()
    real: list[tuple[float, float, float]] = []
    for name in ("franck",) if args.quick else ("franck", "cap12", "cap13"):
        real += chimera_frames(name, 60.0 if args.quick else None, 2 if args.quick else None, model)
        print(f"chimeras of {name}: {len(real)} frames so far", flush=True)
    virtual: list[tuple[float, float, float]] = []
    for k, person in enumerate(PEOPLE[:1] if args.quick else PEOPLE):
        virtual += phantom_frames(person, k, model)
        print(f"3-D virtual patient {person}: {len(virtual)} frames so far", flush=True)
    figures = {
        "machine": machine(),
        "generated_by": "benchmarks/calibration.py" + (" --quick" if args.quick else ""),
        "gate": MIN_CONFIDENCE,
        "real_symmetric_chimeras": summary(real, MIN_CONFIDENCE),
        "virtual_3d": summary(virtual, MIN_CONFIDENCE),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    for key in ("real_symmetric_chimeras", "virtual_3d"):
        f = figures[key]
        print(f"\n{key}: {f['frames']} frames; the gate trusts {f['trusted_share']}")
        print(f"{'confidence':12} {'frames':>7} {'median mm':>10} {'p90 mm':>8}")
        for b in f["bands"]:
            print(f"{b['confidence']:12} {b['frames']:7d} {b['median_error_mm']!s:>10} {b['p90_error_mm']!s:>8}")
    out = args.out or Path(__file__).parent / "results" / (
        "calibration-quick.json" if args.quick else "calibration.json"
    )
    write_json(out, figures)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
