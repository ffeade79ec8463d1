"""Before and after: the measures' cost at two or more revisions, on this machine.

    python -m benchmarks.compare [REV ...]   (default: dc61576, before the speed-ups, and HEAD)

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
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", rev], check=True, capture_output=True, text=True
    ).stdout.strip()
    return {"rev": rev, "commit": commit, **json.loads(line)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.compare")
    ap.add_argument("revs", nargs="*", default=[BEFORE_SPEED_UPS, "HEAD"], help="git revisions, oldest first")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each timing; the median is reported")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "compare.json")
    args = ap.parse_args(argv)
    rows = [at_revision(rev, args.repeat) for rev in args.revs]
    first = rows[0]
    print(f"{'revision':>12}  {'measures µs/frame':>18}  {'whole frame µs':>15}  rep symmetry %")
    for r in rows:
        r["measures_vs_first"] = round(first["measures_us_per_frame"] / r["measures_us_per_frame"], 2)
        r["whole_vs_first"] = round(first["one_thread_us_per_frame"] / r["one_thread_us_per_frame"], 2)
        print(
            f"{r['commit']:>12}  {r['measures_us_per_frame']:>10} (×{r['measures_vs_first']:.2f})"
            f"  {r['one_thread_us_per_frame']:>7} (×{r['whole_vs_first']:.2f})  {r['rep_symmetry_pct']}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"generated_by": "benchmarks/compare.py", "revisions": rows}, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
