"""Is the head fit's standard error honest on real video, and how long do its errors last?

    python -m benchmarks.rigid_split               # the real clips, 45 s each at most
    python -m benchmarks.rigid_split --seconds 20

Real video has no truth for the head's motion, but it has two independent witnesses:
the firm points split into two interleaved halves (each half has nose, forehead and a
temple). Each half is fitted on its own and predicts the head's motion at the mouth
corner; the two predictions differ by the two fits' errors. If the standard errors the
engine reports are honest, the difference's size matches √(SE_A² + SE_B²) (ratio ≈ 1),
and the whole fit's own standard error (what the confidence uses) is believable.

The same differences, frame after frame, show how long an error lasts: their
autocorrelation at a lag of 1, 3, 10, 30, 48 and 60 frames. This is what
``coach.engine.measures.peak.ERROR_MEMORY_S`` stands on: a hold averages out head-fit errors
only as fast as they change.

Writes ``benchmarks/results/rigid_split.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np  # noqa: E402

CLIPS = ("franck", "cap12", "cap13", "pexels_woman", "feat_man")
LAGS = (1, 3, 10, 30, 48, 60)


@contextmanager
def _split_fits(rows: list[dict[str, Any]]):  # noqa: ANN202
    """While active, every tissue measurement also fits each half of the firm points on its own."""
    import coach.engine.motion.tissue as tissue

    motion = tissue.TissueMotion
    orig_fit, orig_set, orig_measure = tissue.fit_head_pose3d, motion.set_reference, motion.measure
    seen: dict[str, Any] = {}

    def fit(p, z, q, centre, distance, point_scale=None):  # noqa: ANN001, ANN202
        seen["args"] = (p, z, q, centre, distance, point_scale)
        return orig_fit(p, z, q, centre, distance, point_scale=point_scale)

    def set_reference(self, frames, landmarks_mm, depth_mm=None):  # noqa: ANN001, ANN202
        orig_set(self, frames, landmarks_mm, depth_mm)
        ids = list(self.rigid_landmarks)
        at = self._geom.mm_to_crop(np.asarray(landmarks_mm, dtype=np.float64)[ids, :2])
        nearest = np.linalg.norm(self._rigid_px[:, None, :] - at[None], axis=2).argmin(1)
        self._split_half = nearest % 2 == 0  # every other firm landmark (list order interleaves regions)

    def measure(self, gray, ff):  # noqa: ANN001, ANN202
        seen["args"] = None
        sample = orig_measure(self, gray, ff)
        if seen["args"] is None:
            return sample  # no 3-D head fit this frame
        p, z, q, centre, distance, scale = seen["args"]
        half = self._split_half
        if len(half) != len(p) or half.sum() < 9 or (~half).sum() < 9:
            return sample  # some firm points left the picture this frame
        ppm = self._geom.px_per_mm
        lo, hi = self._point_spans[0]  # the first tracked point: a mouth corner
        pts, zz = self._all_point_px[lo:hi], self._all_point_z[lo:hi]
        a = orig_fit(p[half], z[half], q[half], centre, distance, point_scale=scale[half])
        b = orig_fit(p[~half], z[~half], q[~half], centre, distance, point_scale=scale[~half])
        corr = tissue.RIGID_POINTS_PER_PATCH
        se = [float(np.median(f.prediction_se_px(pts, zz, correlation=corr))) / ppm for f in (a, b)]
        first = self.points[0]
        rows.append(
            {
                "diff": np.median(a.apply(pts, zz) - b.apply(pts, zz), axis=0) / ppm,
                "se_a": se[0],
                "se_b": se[1],
                "se_full": sample.quality[(first.name, first.side)].rigid_se_mm,
                "residual_mm": sample.rigid.residual_px / ppm,
                "px_per_mm": ff.px_per_mm,
            }
        )
        return sample

    tissue.fit_head_pose3d, motion.set_reference, motion.measure = fit, set_reference, measure
    try:
        yield
    finally:
        tissue.fit_head_pose3d, motion.set_reference, motion.measure = orig_fit, orig_set, orig_measure


def check_clip(name: str, seconds: float | None, model: Any = None) -> dict[str, Any]:
    """Split-half figures of one real clip (every frame measured, the scoring gate open)."""
    import coach.engine.measurer as measurer
    from benchmarks.realvideo import clip, read_frames
    from coach.engine.analysis import Analyzer

    path, fps = clip(name)
    rows: list[dict[str, Any]] = []
    gate = measurer.MIN_CONFIDENCE
    measurer.MIN_CONFIDENCE = 0.0
    try:
        with _split_fits(rows), Analyzer(model=model) as an:
            for t, frame in read_frames(path, limit_s=seconds):
                an.update(frame, t)
    finally:
        measurer.MIN_CONFIDENCE = gate
    if len(rows) < 2 * max(LAGS):
        return {"clip": name, "frames": len(rows)}
    diff = np.array([r["diff"] for r in rows])
    size = np.linalg.norm(diff, axis=1)
    predicted = np.hypot([r["se_a"] for r in rows], [r["se_b"] for r in rows])
    centred = diff - diff.mean(axis=0)
    auto = {
        str(lag): round(float(np.mean([np.corrcoef(centred[:-lag, k], centred[lag:, k])[0, 1] for k in (0, 1)])), 2)
        for lag in LAGS
    }
    return {
        "clip": name,
        "fps": fps,
        "frames": len(rows),
        "face_px_per_mm": round(float(np.median([r["px_per_mm"] for r in rows])), 2),
        "halves_differ_mm_median": round(float(np.median(size)), 2),
        "halves_differ_mm_p90": round(float(np.percentile(size, 90)), 2),
        "predicted_mm_median": round(float(np.median(predicted)), 2),
        "honesty_ratio": round(float(np.median(size / np.maximum(predicted, 1e-9))), 2),
        "full_fit_se_mm_median": round(float(np.median([r["se_full"] for r in rows])), 2),
        "firm_point_residual_mm_median": round(float(np.median([r["residual_mm"] for r in rows])), 2),
        "autocorrelation_by_lag_frames": auto,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.rigid_split")
    ap.add_argument("--seconds", type=float, default=45.0, help="seconds of each clip (default 45)")
    ap.add_argument("--clips", nargs="+", default=list(CLIPS), help="clips from benchmarks.media")
    ap.add_argument("--out", type=Path, help="JSON output file")
    args = ap.parse_args(argv)
    from benchmarks.output import machine, write_json

    t0 = time.perf_counter()
    clips = []
    print("clip            px/mm  halves differ (median, p90)  predicted  ratio  full-fit SE  autocorr 1/3/10/30/48/60")
    for name in args.clips:
        row = check_clip(name, args.seconds)
        clips.append(row)
        if "honesty_ratio" not in row:
            print(f"{name:14}  too few frames ({row['frames']})", flush=True)
            continue
        auto = " ".join(f"{v:5.2f}" for v in row["autocorrelation_by_lag_frames"].values())
        print(
            f"{name:14} {row['face_px_per_mm']:5.2f}  {row['halves_differ_mm_median']:5.2f} "
            f"{row['halves_differ_mm_p90']:5.2f} mm               {row['predicted_mm_median']:5.2f} mm "
            f"{row['honesty_ratio']:5.2f}  {row['full_fit_se_mm_median']:5.2f} mm     {auto}",
            flush=True,
        )
    figures = {
        "generated_by": "benchmarks/rigid_split.py",
        "machine": machine(),
        "seconds_per_clip": args.seconds,
        "clips": clips,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    out = args.out or Path(__file__).parent / "results" / "rigid_split.json"
    write_json(out, figures)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
