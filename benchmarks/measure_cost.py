"""The measures' cost per frame, for whichever FaceCoach is first on the import path.

Run by ``python -m benchmarks.compare`` inside a checkout of another revision
(so it imports only ``coach``, ``ui`` and ``exercises``, which every revision
has). Prints one JSON line: microseconds per frame of the session engine on
recorded observations (the measures alone), of the whole per-frame work on
one thread, and the reps' symmetry (to see whether a speed-up changed numbers).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

os.environ.setdefault("GLOG_minloglevel", "2")


def main() -> int:
    from coach.model import resolve_model
    from coach.phantom import PhantomRenderer
    from coach.session import SessionEngine
    from coach.tracking import FaceTracker
    from exercises import get_exercise
    from ui.live_run import quick_plan, virtual_patient

    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    plan = quick_plan(get_exercise("smile"), 3)
    spec = virtual_patient(plan, "left", ratio=0.5)
    renderer = PhantomRenderer(spec)
    frames = [renderer.frame(i) for i in range(spec.n_frames)]
    times = [i / spec.fps for i in range(len(frames))]
    model = resolve_model()
    with FaceTracker(model) as tr:
        observations = [tr.update(f, t) for t, f in zip(times, frames, strict=True)]

    def measures() -> list[float | None]:
        with SessionEngine(plan, "left", model=model) as eng:
            for t, f, obs in zip(times, frames, observations, strict=True):
                eng.update(f, t, observation=obs)
            return [r.symmetry_pct for r in eng.reps]

    def whole() -> None:
        with SessionEngine(plan, "left", model=model) as eng:
            for t, f in zip(times, frames, strict=True):
                eng.update(f, t)

    def timed(fn) -> float:  # noqa: ANN001
        runs = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - t0)
        return statistics.median(runs)

    n = len(frames)
    out = {
        "frames": n,
        "measures_us_per_frame": round(timed(measures) / n * 1e6),
        "one_thread_us_per_frame": round(timed(whole) / n * 1e6),
        "rep_symmetry_pct": [None if s is None else round(s, 2) for s in measures()],
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
