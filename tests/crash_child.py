"""A live session in a process of its own, for ``tests/test_crash_safety.py`` to kill.

    python -m tests.crash_child URL PATIENT_ID REPS STRIDE

Plays the virtual patient (a gentle smile ``REPS`` times, her left side moving half as
much) through :class:`ui.live_run.LiveRun` on the database at ``URL``, as fast as it can,
every ``STRIDE``-th frame (with its own timestamp). Prints one line per event, flushed:

- ``session ID`` once the session is in the database;
- ``rep STEP INDEX REP_ID`` once a rep's transaction has committed;
- ``finished`` when the session has ended (a test that kills the process never sees it).
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("GLOG_minloglevel", "2")

from coach.engine.model import resolve_model  # noqa: E402
from coach.sessions.scoring import RepScore  # noqa: E402
from coach.store import Store  # noqa: E402
from coach.virtual.phantom import PhantomRenderer  # noqa: E402
from exercises import get_exercise  # noqa: E402
from ui.live_run import LiveRun, RunSettings, quick_plan, virtual_patient  # noqa: E402


def say(line: str) -> None:
    print(line, flush=True)


class ReportingStore(Store):
    """A :class:`Store` that says on stdout what it has committed."""

    def start_session(self, *args, **kwargs) -> int:
        sid = super().start_session(*args, **kwargs)
        say(f"session {sid}")
        return sid

    def add_rep(self, session_id: int, rep: RepScore, series=None) -> int:
        rid = super().add_rep(session_id, rep, series)
        say(f"rep {rep.step} {rep.index} {rid}")
        return rid


def main(argv: list[str]) -> int:
    url, patient_id, reps, stride = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    plan = quick_plan(get_exercise("smile"), reps)
    spec = virtual_patient(plan, "left", ratio=0.5)
    store = ReportingStore(url)
    settings = RunSettings(patient_id, "smile", plan, "left", "camera", {"smile": {"reps": reps}})
    run = LiveRun(store, settings, resolve_model())
    renderer = PhantomRenderer(spec)
    for i in range(0, spec.n_frames, stride):
        run.on_frame(renderer.frame(i), i / spec.fps)
    run.stop()
    say("finished")
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
