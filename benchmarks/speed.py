"""Analysis speed on this machine: is FaceCoach faster than real time?

    python -m benchmarks.speed [--seconds 20]

Writes a 640×480, 30 fps virtual-patient video, then times on the same file:
decoding alone, decoding + bare MediaPipe Face Landmarker, and FaceCoach's full
analysis (`analyze_video`: tracker + face frame + tissue motion + reps).
Each timing is the median of ``--repeat`` runs (default 3), start-up included
(opening the file and the model). Prints frames per second and ratios; writes
``benchmarks/results/speed.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from benchmarks.output import machine, write_json

os.environ.setdefault("GLOG_minloglevel", "2")


def main(argv: list[str] | None = None) -> int:
    from benchmarks.timing import median_seconds
    from coach.engine.analysis import analyze_video
    from coach.engine.model import resolve_model
    from coach.engine.tracking import FaceTracker
    from coach.engine.video import VideoReader
    from coach.virtual.phantom import HeadMotion, Schedule, smile_phantom, write_video

    ap = argparse.ArgumentParser(prog="python -m benchmarks.speed")
    ap.add_argument("--seconds", type=float, default=20.0, help="length of the test video")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each timing; the median is reported")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "speed.json")
    args = ap.parse_args(argv)
    reps = max(1, int((args.seconds - 1.5) // 5.5))
    spec = smile_phantom(4.0, 2.0, schedule=Schedule(reps=reps), head=HeadMotion(roll_deg=5, drift_px=5))
    model = resolve_model()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_video(spec, Path(tmp) / "speed.avi")
        n = spec.n_frames
        video_s = n / spec.fps

        def decode() -> None:
            with VideoReader(path) as v:
                for _ in v:
                    pass

        def bare() -> None:
            with VideoReader(path) as v, FaceTracker(model) as tr:
                for t, f in v:
                    tr.update(f, t)

        def full() -> None:
            analyze_video(path, model=model)

        # Interleaved runs would share caches unevenly; each timing is its own block.
        decode_s = median_seconds(decode, args.repeat)
        bare_s = median_seconds(bare, args.repeat)
        full_s = median_seconds(full, args.repeat)

    fig = {
        "generated_by": "benchmarks/speed.py",
        "machine": machine(),
        "video": f"{spec.size_wh[0]}x{spec.size_wh[1]}, {spec.fps:g} fps, {n} frames, {video_s:.1f} s, MJPEG",
        "repeats": args.repeat,
        "decode_fps": round(n / decode_s, 1),
        "decode_plus_mediapipe_fps": round(n / bare_s, 1),
        "facecoach_analysis_fps": round(n / full_s, 1),
        "facecoach_vs_real_time": round(video_s / full_s, 2),
        "facecoach_vs_bare_mediapipe": round(bare_s / full_s, 2),
    }
    print(f"video:                       {fig['video']}")
    print(f"decode only:                 {fig['decode_fps']:7.1f} frames/s")
    print(f"decode + bare MediaPipe:     {fig['decode_plus_mediapipe_fps']:7.1f} frames/s")
    print(f"FaceCoach analyze_video:     {fig['facecoach_analysis_fps']:7.1f} frames/s")
    print(f"  × real time:               {fig['facecoach_vs_real_time']:7.2f}")
    print(f"  × bare MediaPipe:          {fig['facecoach_vs_bare_mediapipe']:7.2f}")
    write_json(args.out, fig)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
