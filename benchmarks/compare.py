"""Before and after: the measures' cost at two or more revisions, on this machine.

    python -m benchmarks.compare [REV ...]   (default: dc61576, before the speed-ups, and each speed-up)

Each revision is checked out into a temporary git worktree and
``benchmarks/measure_cost.py`` (from this checkout) is run against it, one
revision after the other, with the same frames. Prints each revision's figures
and the ratios to the first; writes ``benchmarks/results/compare.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE_SPEED_UPS = "dc61576"
# The commits of this round that changed the per-frame work, in order.
SPEED_UPS = ("6aa5443", "4708485")


def at_revision(rev: str, repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        add = ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev]
        subprocess.run(add, check=True, capture_output=True)
        try:
            env = {**os.environ, "PYTHONPATH": str(tree), "GLOG_minloglevel": "2"}
            done = subprocess.run(
                [sys.executable, str(ROOT / "benchmarks" / "measure_cost.py"), str(repeat)],
                cwd=tree,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("{")][-1]
    commit, subject = subprocess.run(
        ["git", "-C", str(ROOT), "log", "-1", "--format=%h%n%s", rev], check=True, capture_output=True, text=True
    ).stdout.splitlines()[:2]
    return {"rev": rev, "commit": commit, "subject": subject, **json.loads(line)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.compare")
    ap.add_argument("revs", nargs="*", default=[BEFORE_SPEED_UPS, *SPEED_UPS], help="git revisions, oldest first")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each timing; the median is reported")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "compare.json")
    args = ap.parse_args(argv)
    rows = [at_revision(rev, args.repeat) for rev in args.revs]
    first = rows[0]
    sizes = ("640x480", "1280x720")
    print(f"{'revision':>10}  " + "  ".join(f"{sz + ' measures / whole frame, µs':>44}" for sz in sizes))
    for r in rows:
        cells = []
        for sz in sizes:
            a, b = r[sz], first[sz]
            a["measures_vs_first"] = round(b["measures_us_per_frame"] / a["measures_us_per_frame"], 2)
            a["whole_vs_first"] = round(b["one_thread_us_per_frame"] / a["one_thread_us_per_frame"], 2)
            cells.append(
                f"{a['measures_us_per_frame']:>8} (×{a['measures_vs_first']:.2f}) / "
                f"{a['one_thread_us_per_frame']:>6} (×{a['whole_vs_first']:.2f})"
            )
        print(f"{r['commit']:>10}  " + "  ".join(f"{c:>44}" for c in cells) + f"   {r['subject'][:60]}")
        print(f"{'':>10}  rep symmetry %: " + "; ".join(f"{sz} {r[sz]['rep_symmetry_pct']}" for sz in sizes))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"generated_by": "benchmarks/compare.py", "revisions": rows}, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
