"""Guided sessions on virtual patients: reps found, symmetry, synkinesis detection.

    python -m benchmarks.sessions

Every program is performed by a virtual patient who follows the cues (two reps per
exercise, short timings): each exercise with its own weak/strong ratio and weak side,
ocular synkinesis (30 % eye narrowing on the weak side) in every other mouth exercise,
and one skipped rep per program. Prints per-program and total figures; writes
``benchmarks/results/sessions.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")

FAST = {"reps": 2, "rise_s": 0.8, "hold_s": 1.5, "release_s": 0.8, "rest_s": 1.2}
RATIOS = (0.25, 0.5, 0.75, 1.0)


def main(argv: list[str] | None = None) -> int:
    from coach.engine.analysis import tracked
    from coach.engine.model import resolve_model
    from coach.sessions.cues import SessionEngine
    from coach.virtual.phantom import HeadMotion, PhantomRenderer
    from coach.virtual.session_phantom import Performance, session_phantom
    from exercises import load_programs

    ap = argparse.ArgumentParser(prog="python -m benchmarks.sessions")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "sessions.json")
    args = ap.parse_args(argv)
    model = resolve_model()
    rows = []
    totals = {
        "planned": 0,
        "found": 0,
        "invented": 0,
        "sym_err": [],
        "syn_tp": 0,
        "syn_pos": 0,
        "syn_fp": 0,
        "syn_neg": 0,
    }
    t0 = time.perf_counter()
    for k, prog in enumerate(load_programs().values()):
        plan = prog.plan({e: FAST for e, _ in prog.steps})
        perfs = {}
        truth = {}
        for i, ex in enumerate(plan.steps):
            ratio = RATIOS[(i + k) % len(RATIOS)]
            weak = "left" if (i + k) % 2 else "right"
            strong_amt = 60.0 if ex.measure_def.unit == "%" else 4.0
            amt = {weak: strong_amt * ratio, ("right" if weak == "left" else "left"): strong_amt}
            syn = ex.watch == "eye" and i % 2 == 0
            skip = (2,) if i == len(plan.steps) - 1 else ()
            perfs[ex.id] = Performance(
                amt["left"], amt["right"], eye_narrowing_pct={weak: 30.0} if syn else {}, skip_reps=skip
            )
            truth[ex.id] = (100.0 * ratio, syn and ratio < 1.0, skip)
        spec = session_phantom(plan, perfs, head=HeadMotion(roll_deg=(-1) ** k * 6.0, drift_px=4.0), seed=k)
        with SessionEngine(plan, model=model) as eng:
            for t, frame, obs in tracked(PhantomRenderer(spec).frames(), eng.tracker):
                eng.update(frame, t, obs)
            res = eng.result()
        found = invented = 0
        errs = []
        for r in res.reps:
            sym_truth, syn_truth, skip = truth[r.exercise_id]
            if r.index in skip:
                invented += r.completed
                continue
            found += r.completed
            if r.completed and r.symmetry_pct is not None:
                errs.append(abs(r.symmetry_pct - sym_truth))
            if r.synkinesis_kind == "eye" and r.completed:
                if syn_truth:
                    totals["syn_pos"] += 1
                    totals["syn_tp"] += r.synkinesis
                elif perfs[r.exercise_id].eye_narrowing_pct == {}:
                    totals["syn_neg"] += 1
                    totals["syn_fp"] += r.synkinesis
        planned = sum(e.reps for e in plan.steps) - 1
        totals["planned"] += planned
        totals["found"] += found
        totals["invented"] += invented
        totals["sym_err"] += errs
        row = {
            "program": prog.id,
            "reps_done_by_patient": planned,
            "found": found,
            "invented": invented,
            "mean_symmetry_error_pts": round(float(np.mean(errs)), 2),
            "max_symmetry_error_pts": round(float(np.max(errs)), 2),
            "score": res.score,
        }
        rows.append(row)
        print(
            f"{prog.id:20} reps found {found}/{planned}, invented {invented}, symmetry error mean "
            f"{row['mean_symmetry_error_pts']:.2f} max {row['max_symmetry_error_pts']:.1f} pts, score {res.score}",
            flush=True,
        )
    err = totals.pop("sym_err")
    summary = {
        **totals,
        "mean_symmetry_error_pts": round(float(np.mean(err)), 2),
        "max_symmetry_error_pts": round(float(np.max(err)), 2),
        "synkinesis_detected_pct": round(100.0 * totals["syn_tp"] / max(1, totals["syn_pos"]), 1),
        "synkinesis_false_alarm_pct": round(100.0 * totals["syn_fp"] / max(1, totals["syn_neg"]), 1),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(
        f"\ntotal: reps found {summary['found']}/{summary['planned']}, invented {summary['invented']}; "
        f"symmetry error mean {summary['mean_symmetry_error_pts']:.2f} "
        f"max {summary['max_symmetry_error_pts']:.1f} pts; "
        f"synkinesis flagged in {summary['syn_tp']}/{summary['syn_pos']} reps that have it "
        f"({summary['synkinesis_detected_pct']} %) and {summary['syn_fp']}/{summary['syn_neg']} that do not "
        f"({summary['synkinesis_false_alarm_pct']} %)"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"generated_by": "benchmarks/sessions.py", "programs": rows, "total": summary}, indent=1) + "\n"
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
