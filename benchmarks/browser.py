"""The live reading through a real browser: the end-to-end live test, repeated.

    python -m benchmarks.browser [--runs 6] [--browser-defaults]

Runs ``tests/e2e/test_live_coach.py``'s live test ``--runs`` times. Each run, headless
Chromium plays the virtual patient as its camera and the app coaches it live: the still
face twice (SQLite and PostgreSQL, as in CI) and, with ``FACECOACH_E2E_SWAY=1`` (set here),
the face swaying ±1° tilt, ±1 % size, ±3 px. The test appends every session's reps to
``artifacts/e2e_live_vs_analyze.jsonl`` before it checks them, so failed runs count too.
This script reads the sessions its own runs added and prints, for each face, how the live
reps compare with ``python -m coach analyze`` on the same video and with the truth (the
left side moves half as much: 50 %), the share of reps within 3 points of analyze's, and the
chance that the CI check (the still face's 6 reps each within 5 points) fails a correct
build, from the measured spread. Writes ``benchmarks/results/browser.json``, under "tuned"
(the app as it is: ``ui/camera_link.py``'s bit rate and camera without the noise filter)
or, with ``--browser-defaults``, under "defaults" (``FACECOACH_CAMERA_TUNING=0``: Chrome's
own settings for a camera); the other entry is kept.

Needs what the browser tests need: Chromium and PostgreSQL
(``source scripts/e2e_services.sh``). About 3.5 minutes a run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.output import machine, write_json
from ui.camera_link import TUNING_ENV

REPO = Path(__file__).resolve().parents[1]
RECORD = REPO / "artifacts" / "e2e_live_vs_analyze.jsonl"
TEST = "tests/e2e/test_live_coach.py::test_live_page_scores_the_camera_like_analyze_and_saves_every_rep"
TRUTH_PCT = 50.0


def _records() -> list[dict[str, Any]]:
    if not RECORD.exists():
        return []
    return [json.loads(line) for line in RECORD.read_text().splitlines() if line.strip()]


CI_REPS = 6  # the CI check: the still face, 3 reps, on SQLite and on PostgreSQL
CI_TOLERANCE_PTS = 5.0  # each live rep within this of analyze's


def _normal_tail(z: float) -> float:
    """P(|Z| > z) for a standard normal Z."""
    return math.erfc(z / math.sqrt(2.0))


def ci_failure_chance(diffs: list[float], reps: int = CI_REPS, tol: float = CI_TOLERANCE_PTS) -> dict[str, Any]:
    """Chance that the CI check fails a correct build, from the measured live-minus-analyze spread.

    Each rep's difference is taken as normal with the measured mean and SD; the check fails
    when any of its ``reps`` is more than ``tol`` off. ``upper`` uses the SD's one-sided 90 %
    upper bound (chi-square, Wilson–Hilferty), since a few dozen reps pin the SD down only so far.
    """
    n = len(diffs)
    if n < 3:
        return {"reps_measured": n, "estimate": None, "upper": None}
    mean, sd = statistics.fmean(diffs), statistics.stdev(diffs)
    k = n - 1
    chi2_low = k * (1 - 2 / (9 * k) - 1.2816 * math.sqrt(2 / (9 * k))) ** 3  # 10th percentile
    sd_up = sd * math.sqrt(k / chi2_low)

    def chance(s: float) -> float:
        p = 0.5 * (_normal_tail((tol - mean) / s) + _normal_tail((tol + mean) / s))
        return 1 - (1 - p) ** reps

    return {
        "reps_measured": n,
        "estimate": chance(sd),
        "upper": chance(sd_up),
        "sd_upper_pts": round(sd_up, 2),
    }


def _scored_pairs(sessions: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """(live, analyze) symmetry of every rep both scored, in ``sessions`` (the test's records)."""
    return [
        (live, offline)
        for s in sessions
        for live, offline in zip(s["live_symmetry_pct"], s["analyze_symmetry_pct"], strict=True)
        if live is not None and offline is not None
    ]


def summarise(sessions: list[dict[str, Any]], truth_pct: float = TRUTH_PCT) -> dict[str, Any]:
    """Live-minus-analyze and live-minus-truth figures of ``sessions`` (the test's records), points."""
    pairs = _scored_pairs(sessions)
    vs_analyze = [live - offline for live, offline in pairs]
    vs_truth = [live - truth_pct for live, _ in pairs]

    def figures(d: list[float]) -> dict[str, float | None]:
        if not d:
            return {"mean": None, "sd": None, "largest": None}
        return {
            "mean": round(statistics.fmean(d), 2),
            "sd": round(statistics.pstdev(d), 2),
            "largest": round(max(d, key=abs), 1),
        }

    frames = [n for s in sessions for n in s.get("live_frames", []) if n is not None]
    return {
        "sessions": len(sessions),
        "reps": len(vs_analyze),
        "reps_within_3_of_analyze_pct": round(100 * sum(abs(d) <= 3 for d in vs_analyze) / len(vs_analyze), 1)
        if vs_analyze
        else None,
        "reps_over_5_from_analyze": sum(abs(d) > 5 for d in vs_analyze),
        "live_frames_per_rep_median": statistics.median(frames) if frames else None,
        "live_minus_analyze_pts": figures(vs_analyze),
        "live_minus_truth_pts": figures(vs_truth),
        "analyze_symmetry_pct": sessions[0]["analyze_symmetry_pct"] if sessions else None,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=6, help="runs of the live test (each: 3 sessions)")
    parser.add_argument(
        "--browser-defaults",
        action="store_true",
        help="the browser's own camera settings (FACECOACH_CAMERA_TUNING=0) instead of ui/camera_link.py's",
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "browser.json")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)

    before = len(_records())
    failed_runs = 0
    settings = "defaults" if args.browser_defaults else "tuned"
    env = {**os.environ, "FACECOACH_E2E_REQUIRED": "1", "FACECOACH_E2E_SWAY": "1"}
    env[TUNING_ENV] = "0" if args.browser_defaults else "1"
    for i in range(args.runs):
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        )
        failed_runs += done.returncode != 0
        last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
        print(f"run {i + 1}/{args.runs}: {last}", flush=True)
    new = _records()[before:]

    mode: dict[str, Any] = {
        "machine": machine(),
        "browser": subprocess.run(["chromium", "--version"], capture_output=True, text=True).stdout.strip(),
        "runs": args.runs,
        "failed_runs": failed_runs,
        "faces": {},
    }
    if new:
        mode["all_faces"] = summarise(new)
        still = [r for r in new if r.get("head", "still") == "still"]
        mode["ci_check_failure_chance"] = c = ci_failure_chance([a - b for a, b in _scored_pairs(still)])
        a = mode["all_faces"]
        print(
            f"{settings}, all faces: {a['reps']} reps, {a['reps_within_3_of_analyze_pct']} % within 3 points of analyze"
        )
        if c["estimate"] is not None:
            print(
                f"CI check ({CI_REPS} still-face reps within {CI_TOLERANCE_PTS:g}): fails a correct build "
                f"1 in {1 / max(c['estimate'], 1e-12):,.0f} "
                f"(SD's 90 % upper bound: 1 in {1 / max(c['upper'], 1e-12):,.0f})"
            )
    for head in sorted({r.get("head", "still") for r in new}):
        sessions = [r for r in new if r.get("head", "still") == head]
        mode["faces"][head] = f = summarise(sessions)
        a, t = f["live_minus_analyze_pts"], f["live_minus_truth_pts"]
        print(
            f"{settings}, {head}: {f['reps']} reps in {f['sessions']} sessions; live - analyze mean "
            f"{a['mean']:+.2f}, SD {a['sd']:.2f}, largest {a['largest']:+.1f}; live - truth mean "
            f"{t['mean']:+.2f}, SD {t['sd']:.2f}, largest {t['largest']:+.1f}; "
            f"over 5 from analyze: {f['reps_over_5_from_analyze']}"
        )
    fig = json.loads(args.out.read_text()) if args.out.exists() else {}
    fig.update({"generated_by": "benchmarks/browser.py", "truth_pct": TRUTH_PCT})
    fig.setdefault("settings", {})[settings] = mode
    write_json(args.out, fig)
    return fig


if __name__ == "__main__":
    main()
