"""The measures' cost per frame, for whichever FaceCoach is first on the import path.

Run by ``python -m benchmarks.compare`` inside a checkout of another revision
(so it imports only ``coach``, ``ui`` and ``exercises``, which every revision
has). Prints one JSON line: microseconds per frame of the session engine on
recorded observations (the measures alone), of the whole per-frame work on
one thread, and the reps' symmetry (to see whether a speed-up changed numbers),
at 640×480 and at 1280×720 (the same frames enlarged, as an HD webcam sees a
face at the same distance).
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("GLOG_minloglevel", "2")


def main() -> int:
    import cv2
    from timing import median_seconds  # benchmarks/timing.py beside this file (see its docstring)

    from coach.engine.model import resolve_model
    from coach.engine.tracking import FaceTracker
    from coach.sessions.cues import SessionEngine
    from coach.virtual.phantom import PhantomRenderer
    from exercises import get_exercise
    from ui.live_run import quick_plan, virtual_patient

    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    plan = quick_plan(get_exercise("smile"), 2)
    spec = virtual_patient(plan, "left", ratio=0.5)
    renderer = PhantomRenderer(spec)
    base = [renderer.frame(i) for i in range(spec.n_frames)]
    times = [i / spec.fps for i in range(len(base))]
    model = resolve_model()

    out: dict[str, object] = {"frames": len(base)}
    for w, h in ((640, 480), (1280, 720)):
        # A bigger camera picture of the same scene: the face is bigger in pixels too.
        frames = base if (w, h) == (640, 480) else [cv2.resize(f, (w, h)) for f in base]
        with FaceTracker(model) as tr:
            observations = [tr.update(f, t) for t, f in zip(times, frames, strict=True)]

        def measures(frames=frames, observations=observations) -> list[float | None]:  # noqa: ANN001
            with SessionEngine(plan, "left", model=model) as eng:
                for t, f, obs in zip(times, frames, observations, strict=True):
                    eng.update(f, t, observation=obs)
                return [r.symmetry_pct for r in eng.reps]

        def whole(frames=frames) -> None:  # noqa: ANN001
            with SessionEngine(plan, "left", model=model) as eng:
                for t, f in zip(times, frames, strict=True):
                    eng.update(f, t)

        n = len(frames)
        out[f"{w}x{h}"] = {
            "measures_us_per_frame": round(median_seconds(measures, repeat) / n * 1e6),
            "one_thread_us_per_frame": round(median_seconds(whole, repeat) / n * 1e6),
            "rep_symmetry_pct": [None if v is None else round(v, 2) for v in measures()],
        }
        del frames, observations
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
