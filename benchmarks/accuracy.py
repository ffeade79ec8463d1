"""Accuracy of per-side smile measurement on virtual patients.

    python -m benchmarks.accuracy            # full grid (81 phantoms, ~15 min)
    python -m benchmarks.accuracy --quick    # the test suite's subset

Prints one line per phantom and the totals for the tissue-motion method and the
landmark-only method on the same videos; writes them to
``benchmarks/results/accuracy[-quick].json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")


def main(argv: list[str] | None = None) -> int:
    from coach.engine.model import resolve_model
    from coach.virtual.validation import evaluate, report, standard_cases

    ap = argparse.ArgumentParser(prog="python -m benchmarks.accuracy")
    ap.add_argument("--quick", action="store_true", help="the smaller grid used by the tests")
    ap.add_argument("--out", type=Path, help="JSON output file")
    args = ap.parse_args(argv)
    cases = standard_cases(quick=args.quick)
    model = resolve_model()
    print(f"{len(cases)} phantoms; truth = weak/strong × 100")
    print(f"{'phantom':58} {'truth':>6} {'tissue':>7} {'weaker':>7} {'landmk':>7} {'weaker':>7} reps")
    t0 = time.perf_counter()

    def line(r):  # noqa: ANN001
        def f(x):  # noqa: ANN001
            return "  none" if x is None else f"{x:6.1f}"

        print(
            f"{r.case.name:58} {r.case.truth_symmetry_pct:6.1f} {f(r.symmetry_pct):>7} {str(r.weaker_side):>7} "
            f"{f(r.landmark_symmetry_pct):>7} {str(r.landmark_weaker_side):>7} {r.reps_found}/{r.reps_truth}",
            flush=True,
        )

    results = evaluate(cases, model=model, progress=line)
    rep = report(results)
    rep["seconds"] = round(time.perf_counter() - t0, 1)
    print()
    for name in ("tissue_motion", "landmark_only"):
        m = rep[name]
        print(
            f"{name:14} mean |error| {m['mean_abs_error_pts']:5.2f} pts   max {m['max_abs_error_pts']:6.2f} pts   "
            f"weaker side wrong in {m['weaker_side_wrong']} of {m['asymmetric_cases']} asymmetric phantoms"
        )
    print(f"reps exact in {rep['reps_exact']} of {rep['cases']} phantoms; {rep['seconds']} s")
    out = args.out or Path(__file__).parent / "results" / ("accuracy-quick.json" if args.quick else "accuracy.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    rep["generated_by"] = "benchmarks/accuracy.py" + (" --quick" if args.quick else "")
    rep["phantoms"] = [r.to_dict() for r in results]
    out.write_text(json.dumps(rep, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
