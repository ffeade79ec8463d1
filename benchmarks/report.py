"""The performance tables of docs/performance.md, made from the benchmarks' JSON results.

    python -m benchmarks.report           # print the tables
    python -m benchmarks.report --write   # put them in docs/performance.md, between the perf markers

``tests/test_benchmarks.py`` fails when the page's tables and the committed
results disagree, so the docs never show figures no script produced.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PAGE = ROOT / "docs" / "performance.md"
BEGIN = "<!-- perf:begin (made by `python -m benchmarks.report --write` from benchmarks/results/) -->"
END = "<!-- perf:end -->"


def _load(name: str) -> dict[str, Any]:
    return json.loads((RESULTS / name).read_text())


def render() -> str:
    live, mem, speed = _load("live.json"), _load("memory.json"), _load("speed.json")
    dash = {"SQLite": _load("dashboard.json"), "PostgreSQL": _load("dashboard-postgresql.json")}
    cmp = _load("compare.json")["revisions"]
    tp = live["throughput"]
    out = [
        f"Machine: {live['machine']}. Frames: {live['frames']}.",
        "",
        f"**Throughput** on the same {tp['frames']} frames (`python -m benchmarks.live`, median of 3 runs):",
        "",
        "| pipeline | frames/s | × bare MediaPipe |",
        "|---|---|---|",
        f"| bare MediaPipe Face Landmarker (FaceCoach's options) | {tp['bare_mediapipe_fps']} | 1.00 |",
        f"| FaceCoach full pipeline, tracking and measuring on two threads (files, `analyze`) "
        f"| {tp['full_pipeline_fps']} | {tp['full_pipeline_vs_bare']:.2f} |",
        f"| FaceCoach full pipeline on one thread (the live callback) "
        f"| {tp['full_one_thread_fps']} | {tp['full_one_thread_vs_bare']:.2f} |",
        "",
        f"The measures and session engine alone cost {tp['measures_and_session_us_per_frame']} µs per frame.",
        "",
        "**Live callback**, frame in → annotated frame out (conversion, coach, overlay, reps saved to SQLite):",
        "",
        "| camera | p50 | p95 | p99 | max | frames/s it could keep up with |",
        "|---|---|---|---|---|---|",
    ]
    for r in live["callback_latency"]:
        out.append(
            f"| {r['size']} | {r['p50_ms']} ms | {r['p95_ms']} ms | {r['p99_ms']} ms | {r['max_ms']} ms "
            f"| {r['capacity_fps']} |"
        )
    out += [
        "",
        "**Falling behind**: a 30 fps camera in real time through streamlit-webrtc's own asynchronous track:",
        "",
        "| laptop | frames worked on | deepest queue while running (at start) | picture age p50 / p95 "
        "| reps, against every frame |",
        "|---|---|---|---|---|",
    ]
    for r in live["falling_behind"]:
        who = "this machine" if not r["extra_ms_per_frame"] else f"{r['extra_ms_per_frame']:g} ms slower per frame"
        chk = r["against_all_frames"]
        same = (
            f"{chk['reps']} of {chk['reps_all_frames']}; times within {chk['largest_time_shift_s']} s, "
            f"symmetry within {chk['largest_symmetry_change_pts']} points"
            if "largest_time_shift_s" in chk
            else f"{chk['reps']} of {chk['reps_all_frames']}"
        )
        out.append(
            f"| {who} | {r['frames_processed']} of {r['frames_offered']} ({r['processed_fps']}/s) "
            f"| {r['deepest_input_queue']} ({r['deepest_input_queue_at_start']}) "
            f"| {r['picture_age']['p50_ms']:.0f} / {r['picture_age']['p95_ms']:.0f} ms "
            f"| {same} |"
        )
    out += [
        "",
        f"**Memory** over a long session ({mem['video']}; `python -m benchmarks.memory`, "
        f"{mem['reps_scored']} reps scored and saved): {mem['rss_after_warm_up_mb']:.0f} MB after 2 minutes' warm-up, "
        f"{mem['rss_end_mb']:.0f} MB at the end: growth {mem['growth_after_warm_up_mb']:+.1f} MB "
        f"(peak {mem['peak_growth_after_warm_up_mb']:+.1f} MB, trend {mem['slope_mb_per_hour']:+.1f} MB an hour). "
        f"Stored per-frame series: {mem['series_bytes_per_minute_of_reps'] / 1000:.1f} kB per minute of movement, "
        f"{mem['series_bytes_per_minute_of_session'] / 1000:.1f} kB per minute of session; the whole SQLite file "
        f"grows {mem['database_bytes_per_minute_of_session'] / 1000:.0f} kB per minute of session.",
        "",
        f"**Video files** (`python -m benchmarks.speed`, {speed['video']}, start-up included): "
        f"`analyze` runs {speed['facecoach_vs_real_time']}× faster than real time, "
        f"{speed['facecoach_vs_bare_mediapipe']}× the speed of decoding + bare MediaPipe.",
        "",
        "**Clinic scale** (`python -m benchmarks.dashboard [--url ...]`): one therapist, 200 patients, "
        f"a year of sessions ({dash['SQLite']['sessions']:,} sessions, {dash['SQLite']['reps']:,} reps); "
        "the data behind each page, 20 loads after a warm-up:",
        "",
        "| database | patient list p50 / p95 | one patient's page p50 / p95 |",
        "|---|---|---|",
    ]
    for name, d in dash.items():
        out.append(
            f"| {name} | {d['patient_list']['p50_ms']} / {d['patient_list']['p95_ms']} ms "
            f"| {d['patient_page']['p50_ms']} / {d['patient_page']['p95_ms']} ms |"
        )
    out += [
        "",
        "**Speed-ups, before and after** (`python -m benchmarks.compare`: the same frames, each revision in "
        "turn; µs per frame, and × the speed before):",
        "",
        "| revision | change | measures, 640×480 | whole frame, 640×480 | measures, 1280×720 "
        "| whole frame, 1280×720 | rep symmetry % (640×480; 1280×720) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in cmp:
        cells = []
        for sz in ("640x480", "1280x720"):
            a = r[sz]
            cells.append(f"{a['measures_us_per_frame']} (×{a['measures_vs_first']:.2f})")
            cells.append(f"{a['one_thread_us_per_frame']} (×{a['whole_vs_first']:.2f})")
        sym = "; ".join(
            ", ".join(f"{v:.1f}" for v in r[sz]["rep_symmetry_pct"] if v is not None) for sz in ("640x480", "1280x720")
        )
        change = "before" if r is cmp[0] else r["subject"].split(";")[0]
        out.append(f"| {r['commit']} | {change} | {' | '.join(cells)} | {sym} |")
    return "\n".join(out) + "\n"


def page_block(text: str) -> str | None:
    """The page's generated block (without the markers), or None when the markers are missing."""
    if BEGIN not in text or END not in text:
        return None
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.report")
    ap.add_argument("--write", action="store_true", help="replace the block in docs/performance.md")
    args = ap.parse_args(argv)
    block = render()
    if not args.write:
        print(block, end="")
        return 0
    text = PAGE.read_text()
    if page_block(text) is None:
        print(f"docs/performance.md has no {BEGIN!r} … {END!r} block", file=sys.stderr)
        return 1
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    PAGE.write_text(f"{head}{BEGIN}\n{block}{END}{tail}")
    print("docs/performance.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
