"""Memory over a long live session, and the size of what is stored.

    python -m benchmarks.memory [--minutes 30]

A virtual patient works through a long program (smile, brow raise, pucker,
gentle eye closure and snarl, ten of each, over and over) for ``--minutes`` of
30 fps video at 640×480. Every frame goes through the camera page's own
callback (``ui.live_run.camera_callback``: the live coach, the overlay, each rep
and its series saved to SQLite), as fast as this machine allows; only the
frames' timestamps say 30 fps.

Every 30 s of video the process's resident memory (RSS) and Python's live
object count are sampled. The first 2 minutes are warm-up (models, caches,
first database writes). Reports growth after warm-up, its slope, and the
stored per-frame series in bytes per minute. Writes
``benchmarks/results/memory.json``.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from benchmarks.output import machine, write_json

os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np  # noqa: E402

FPS = 30.0
WARM_UP_S = 120.0
SAMPLE_EVERY_S = 30.0
PROGRAM = ("smile", "brow_raise", "pucker", "gentle_eye_closure", "snarl")


def rss_mb() -> float:
    """Resident memory of this process, MB (Linux /proc; falls back to the peak from ``resource``)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def long_plan(minutes: float) -> tuple[Any, Any]:
    """A program long enough for ``minutes`` of video, and the virtual patient doing it."""
    from dataclasses import replace

    from coach.sessions.plan import SessionPlan
    from exercises import get_exercise
    from ui.live_run import virtual_patient

    steps: list[Any] = []
    while True:
        steps.extend(replace(get_exercise(e), reps=10) for e in PROGRAM)
        plan = SessionPlan("long", "Long benchmark program", tuple(steps))
        spec = virtual_patient(plan, "left", ratio=0.5)
        if spec.n_frames / spec.fps >= minutes * 60:
            return plan, spec


def main(argv: list[str] | None = None) -> int:
    import av

    from coach.engine.model import resolve_model
    from coach.store import Store
    from coach.virtual.phantom import PhantomRenderer
    from ui.live_run import LiveRun, RunSettings, RunSlot, camera_callback

    ap = argparse.ArgumentParser(prog="python -m benchmarks.memory")
    ap.add_argument("--minutes", type=float, default=30.0, help="video length, minutes (at least 3)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "memory.json")
    args = ap.parse_args(argv)
    if args.minutes < 3:
        ap.error("--minutes must be at least 3 (2 of them are warm-up)")

    plan, spec = long_plan(args.minutes)
    n = int(args.minutes * 60 * FPS)
    stored: list[tuple[int, float]] = []  # (bytes, seconds) of each saved rep series

    class CountingStore(Store):
        def add_rep(self, session_id: int, rep: Any, series: Any | None = None) -> int:
            if series is not None:
                stored.append((len(series.to_bytes()), series.duration_s))
            return super().add_rep(session_id, rep, series)

    model = resolve_model()
    samples: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "memory.db"
        store = CountingStore(f"sqlite:///{db}")
        pid = store.add_patient("Benchmark patient", affected_side="left")
        settings = RunSettings(pid, plan.id, plan, "left", "camera", {})
        slot = RunSlot()
        slot.factory = lambda: LiveRun(store, settings, model)
        callback = camera_callback(slot)
        renderer = PhantomRenderer(spec)
        started = time.perf_counter()
        next_sample = 0.0
        print(f"{args.minutes:g} min of 640x480 video at {FPS:g} fps ({n} frames), {len(plan.steps)} exercises planned")
        for i in range(n):
            t = i / FPS
            frame = av.VideoFrame.from_ndarray(renderer.frame(i), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, int(FPS))
            callback(frame)
            if t >= next_sample:
                gc.collect()
                samples.append({"video_s": t, "rss_mb": round(rss_mb(), 2), "python_objects": len(gc.get_objects())})
                next_sample += SAMPLE_EVERY_S
                if len(samples) % 10 == 1:
                    run = slot.run
                    reps = len(run.snapshot().reps) if run is not None else 0
                    print(
                        f"  video {t / 60:5.1f} min  RSS {samples[-1]['rss_mb']:7.1f} MB"
                        f"  objects {samples[-1]['python_objects']:8d}  reps {reps:4d}"
                        f"  ({time.perf_counter() - started:6.0f} s)"
                    )
        gc.collect()
        samples.append({"video_s": n / FPS, "rss_mb": round(rss_mb(), 2), "python_objects": len(gc.get_objects())})
        run = slot.run
        assert run is not None
        snap = run.snapshot()
        slot.stop()
        all_saved = run.all_saved
        store.close()
        db_bytes = db.stat().st_size
    elapsed = time.perf_counter() - started

    warm = [s for s in samples if s["video_s"] >= WARM_UP_S]
    base = warm[0]
    t = np.array([s["video_s"] for s in warm]) / 3600.0
    rss = np.array([s["rss_mb"] for s in warm])
    slope = float(np.polyfit(t, rss, 1)[0]) if len(warm) >= 3 else 0.0
    series_bytes = sum(b for b, _ in stored)
    series_s = sum(s for _, s in stored)
    video_min = n / FPS / 60
    fig = {
        "generated_by": "benchmarks/memory.py",
        "machine": machine(),
        "video": f"{video_min:g} min, 640x480, {FPS:g} fps, {n} frames, virtual patient",
        "program": f"{', '.join(PROGRAM)}; 10 reps each, repeated",
        "seconds": round(elapsed, 1),
        "frames_dropped": snap.frames_dropped,
        "reps_scored": len(snap.reps),
        "all_saved": all_saved,
        "rss_after_warm_up_mb": base["rss_mb"],
        "rss_end_mb": samples[-1]["rss_mb"],
        "rss_peak_after_warm_up_mb": float(rss.max()),
        "growth_after_warm_up_mb": round(samples[-1]["rss_mb"] - base["rss_mb"], 2),
        "peak_growth_after_warm_up_mb": round(float(rss.max()) - base["rss_mb"], 2),
        "slope_mb_per_hour": round(slope, 2),
        "python_objects_after_warm_up": base["python_objects"],
        "python_objects_end": samples[-1]["python_objects"],
        "series_bytes_per_minute_of_reps": round(series_bytes / (series_s / 60)) if series_s else None,
        "series_bytes_per_minute_of_session": round(series_bytes / video_min),
        "database_bytes_per_minute_of_session": round(db_bytes / video_min),
        "samples": samples,
    }
    print(
        f"RSS after warm-up {fig['rss_after_warm_up_mb']:.1f} MB, at the end {fig['rss_end_mb']:.1f} MB:"
        f" growth {fig['growth_after_warm_up_mb']:+.2f} MB (peak {fig['peak_growth_after_warm_up_mb']:+.2f}),"
        f" slope {fig['slope_mb_per_hour']:+.2f} MB/hour"
    )
    objs = (fig["python_objects_after_warm_up"], fig["python_objects_end"])
    print(f"Python objects: {objs[0]} after warm-up, {objs[1]} at the end")
    print(
        f"{fig['reps_scored']} reps, all saved: {all_saved}; series {fig['series_bytes_per_minute_of_reps']} bytes"
        f" per minute of reps, {fig['series_bytes_per_minute_of_session']} per minute of session;"
        f" database {fig['database_bytes_per_minute_of_session']} bytes per minute"
    )
    write_json(args.out, fig)
    print(f"wrote {args.out} ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
