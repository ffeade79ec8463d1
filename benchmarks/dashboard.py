"""Dashboard speed at clinic scale: 200 patients × a year of daily sessions.

Builds the database in bulk (one therapist, 200 patients, a session most days for a
year, each with its reps), then times what the therapist's pages load: the patient
list (``Store.overview``) and one patient's page (history, sessions, practice days,
one session's detail). Prints figures and writes them to
``benchmarks/results/dashboard.json``.

Usage:
    python -m benchmarks.dashboard [--patients 200] [--days 365] [--url DATABASE_URL] [--repeats 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select

from coach.store import Store
from coach.store import models as m

RESULTS = Path(__file__).parent / "results" / "dashboard.json"
EXERCISES = (("brow_raise", "mm"), ("gentle_eye_closure", "%"), ("smile", "mm"), ("pucker", "mm"), ("snarl", "mm"))
REPS_PER_EXERCISE = 3


def build(store: Store, patients: int, days: int, seed: int = 0) -> dict[str, int]:
    """Fill an empty store; returns counts."""
    rng = np.random.default_rng(seed)
    tid = store.add_therapist("Dr Scale")
    now = datetime(2026, 11, 24, 18, 0)
    pids = [store.add_patient(f"Patient {i:03d}", "left", "Bell's palsy", therapist_id=tid) for i in range(patients)]
    n_sessions = n_reps = 0
    with store.engine.begin() as conn:
        for pid in pids:
            sessions = []
            for d in range(days, 0, -1):
                if rng.random() < 0.2:
                    continue
                sessions.append(
                    {
                        "patient_id": pid,
                        "program_id": "bells_palsy",
                        "source": "camera",
                        "affected_side": "left",
                        "overrides": {},
                        "started_at": now - timedelta(days=d, minutes=int(rng.integers(0, 600))),
                        "ended_at": None,
                        "status": "completed",
                        "score": int(rng.integers(40, 95)),
                        "frames": 0,
                        "frames_with_face": 0,
                        "reps_completed": len(EXERCISES) * REPS_PER_EXERCISE,
                        "mean_symmetry_pct": float(rng.uniform(30, 95)),
                    }
                )
            conn.execute(insert(m.Session), sessions)
            sids = conn.execute(select(m.Session.id).where(m.Session.patient_id == pid)).scalars().all()
            reps = []
            for sid in sids:
                for step, (ex, unit) in enumerate(EXERCISES):
                    for index in range(1, REPS_PER_EXERCISE + 1):
                        left, right = float(rng.uniform(1, 4)), float(rng.uniform(3, 5))
                        reps.append(
                            {
                                "session_id": sid,
                                "step": step,
                                "rep_index": index,
                                "exercise_id": ex,
                                "completed": True,
                                "unit": unit,
                                "start_s": 0.0,
                                "end_s": 8.0,
                                "peak_left": left,
                                "peak_right": right,
                                "symmetry_pct": 100 * left / right,
                                "synkinesis": False,
                                "synkinesis_kind": "eye",
                                "flags": [],
                                "confidence": 0.9,
                                "detail": {},
                                "created_at": now,
                            }
                        )
            conn.execute(insert(m.Rep), reps)
            n_sessions += len(sids)
            n_reps += len(reps)
    return {"therapist_id": tid, "patients": patients, "sessions": n_sessions, "reps": n_reps, "patient_id": pids[0]}


def timed(fn, repeats: int) -> dict[str, float]:
    fn()  # warm-up
    ms = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ms.append(1000 * (time.perf_counter() - t0))
    ms.sort()
    return {
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 1),
        "max_ms": round(ms[-1], 1),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=200)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--url", default=None, help="an empty database (default: a new SQLite file)")
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'scale.db'}"
        store = Store(url)
        t0 = time.perf_counter()
        counts = build(store, args.patients, args.days)
        build_s = time.perf_counter() - t0
        tid, pid = counts["therapist_id"], counts["patient_id"]
        newest = store.sessions(pid, limit=1)[0].id

        def patient_page() -> None:
            store.patient(pid)
            store.assignment(pid)
            store.history(pid)
            store.sessions(pid, limit=200)
            store.practice_days(pid)
            store.session(newest)

        figures = {
            "generated_by": "benchmarks/dashboard.py",
            "backend": store.backend,
            **{k: v for k, v in counts.items() if k not in ("therapist_id", "patient_id")},
            "build_s": round(build_s, 1),
            "patient_list": timed(lambda: store.overview(tid), args.repeats),
            "patient_page": timed(patient_page, args.repeats),
        }
        store.close()
    print(
        f"{figures['backend']}: {figures['patients']} patients, {figures['sessions']} sessions, "
        f"{figures['reps']} reps (built in {figures['build_s']} s)"
    )
    for k in ("patient_list", "patient_page"):
        f = figures[k]
        print(f"  {k:13s} p50 {f['p50_ms']:7.1f} ms   p95 {f['p95_ms']:7.1f} ms   max {f['max_ms']:7.1f} ms")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    out = RESULTS if figures["backend"] == "sqlite" else RESULTS.with_name(f"dashboard-{figures['backend']}.json")
    out.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
