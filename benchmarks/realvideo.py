"""The measure on real video of real people: coverage, mirror, re-encoding and chimeric truth.

    python -m benchmarks.realvideo            # every real clip (about 15 min on 2 cores)
    python -m benchmarks.realvideo --quick    # the test suite's share

Real clips have no ground truth, but they can still be checked:

- **coverage**: of the frames where a face is seen frontal within 20°, the share that get
  a trusted measurement, and why the others did not (in the words the patient sees);
- **mirror**: the clip flipped left-right must swap the sides and keep each
  repetition's symmetry within 1 point;
- **re-encoding**: the same clip at other sizes and bit rates must agree within 3 points;
- **chimeric truth**: from each real smile, a face made of one half and its mirror image
  (symmetry 100 % by construction) and one whose other half is that half at rest
  (0 %, the still side weaker) — real skin, folds, teeth, light and head motion.

Writes ``benchmarks/results/realvideo[-quick].json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np  # noqa: E402

FRONTAL_DEG = 20.0


@dataclass(frozen=True)
class Coverage:
    """Which frames of a clip got a trusted measurement, and why the others did not."""

    frames: int
    with_face: int
    frontal: int
    trusted_frontal: int
    reasons: dict[str, int]

    @property
    def share(self) -> float | None:
        return None if self.frontal == 0 else self.trusted_frontal / self.frontal


def read_frames(path: Path, mirrored: bool = False, limit_s: float | None = None) -> Iterator[tuple[float, np.ndarray]]:
    from coach.engine.video import VideoReader

    with VideoReader(path, mirrored=mirrored) as video:
        for t, frame in video:
            if limit_s is not None and t > limit_s:
                return
            yield t, frame


def clip(name: str) -> tuple[Path, float]:
    """A real clip's file (fetched and checked) and its frame rate."""
    from benchmarks.media import fetch
    from coach.engine.video import VideoReader

    path = fetch(name)
    with VideoReader(path) as v:
        return path, v.info.fps


def analyse(frames: Iterable[tuple[float, np.ndarray]], source: str, fps: float, model: Any = None):  # noqa: ANN201
    """Measure frames with the smile exercise; returns (AnalysisResult, Coverage)."""
    from coach.engine.analysis import Analyzer
    from coach.engine.measurer import NO_FACE

    frontal = trusted = with_face = n = 0
    reasons: Counter[str] = Counter()
    last = 0.0
    with Analyzer(model=model) as an:
        for t, frame in frames:
            fm, _ = an.update(frame, t)
            n += 1
            last = t
            if fm.status == NO_FACE:
                reasons[fm.status] += 1
                continue
            with_face += 1
            if abs(fm.yaw_deg) > FRONTAL_DEG or abs(fm.pitch_deg - an.measurer.reference_pitch_deg) > FRONTAL_DEG:
                reasons["turned"] += 1
                continue
            frontal += 1
            if fm.ok:
                trusted += 1
            else:
                reasons[fm.reason or fm.status] += 1
        result = an.result(source, fps, last + 1.0 / fps)
    return result, Coverage(n, with_face, frontal, trusted, dict(reasons))


def match_reps(a: Iterable[Any], b: Iterable[Any], min_overlap: float = 0.5) -> list[tuple[Any, Any]]:
    """Pairs of repetitions (from two analyses of the same clip) that overlap in time by at least ``min_overlap``."""
    pairs = []
    b = list(b)
    for ra in a:
        best, best_ov = None, 0.0
        for rb in b:
            inter = min(ra.end_s, rb.end_s) - max(ra.start_s, rb.start_s)
            union = max(ra.end_s, rb.end_s) - min(ra.start_s, rb.start_s)
            ov = inter / union if union > 0 else 0.0
            if ov > best_ov:
                best, best_ov = rb, ov
        if best is not None and best_ov >= min_overlap:
            pairs.append((ra, best))
    return pairs


def reencode(src: Path, dst: Path, scale: float, bit_rate: int) -> Path:
    """Write ``src`` again as H.264 at ``scale`` times its size and ``bit_rate`` bits/s (PyAV)."""
    import av
    import cv2

    from coach.engine.video import VideoReader

    with VideoReader(src) as video, av.open(str(dst), "w") as out:
        w, h = video.info.frame_wh
        ow, oh = 2 * round(w * scale / 2), 2 * round(h * scale / 2)
        stream = out.add_stream("libx264", rate=round(video.info.fps))
        stream.width, stream.height, stream.pix_fmt = ow, oh, "yuv420p"
        stream.bit_rate = bit_rate
        stream.options = {"preset": "veryfast"}
        for _, frame in video:
            img = cv2.resize(frame, (ow, oh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return dst


COVERAGE_CLIPS = ("franck", "cap12", "cap13", "pexels_woman", "feat_man", "carphone")
MIRROR_CLIPS = ("franck", "pexels_woman", "cap12")
REENCODE_CLIP = "franck"
# (scale, bit rate): smaller and blurrier, the original size at a low rate, larger.
REENCODINGS = ((0.75, 500_000), (1.0, 250_000), (1.5, 1_500_000))
QUICK_LIMIT_S = 40.0


def _rep_row(r: Any) -> dict[str, Any]:
    return {
        "start_s": round(r.start_s, 2),
        "end_s": round(r.end_s, 2),
        "symmetry_pct": None if r.symmetry_pct is None else round(r.symmetry_pct, 1),
        "left_mm": round(r.excursion_mm.left, 2),
        "right_mm": round(r.excursion_mm.right, 2),
        "confidence": round(r.confidence, 2),
        "dragged": list(r.dragged),
    }


def weaker(r: Any) -> str:
    return "left" if r.excursion_mm.left < r.excursion_mm.right else "right"


def coverage_of(name: str, limit_s: float | None, model: Any) -> dict[str, Any]:

    path, fps = clip(name)
    result, cov = analyse(read_frames(path, limit_s=limit_s), name, fps, model)
    return {
        "clip": name,
        "frames": cov.frames,
        "with_face": cov.with_face,
        "frontal": cov.frontal,
        "trusted_frontal": cov.trusted_frontal,
        "coverage": None if cov.share is None else round(cov.share, 3),
        "reasons": cov.reasons,
        "reps": [_rep_row(r) for r in result.reps],
        "reps_not_measured": result.extra.get("reps_not_measured", []),
        "warnings": list(result.warnings),
    }


def mirror_check(name: str, limit_s: float | None, model: Any) -> dict[str, Any]:
    """The clip and its mirror image: matched reps, their symmetry difference, sides swapped."""

    path, fps = clip(name)
    plain, _ = analyse(read_frames(path, limit_s=limit_s), name, fps, model)
    flipped, _ = analyse(read_frames(path, mirrored=True, limit_s=limit_s), name + " (mirrored)", fps, model)
    pairs = match_reps(plain.reps, flipped.reps)
    diffs = [abs(a.symmetry_pct - b.symmetry_pct) for a, b in pairs if None not in (a.symmetry_pct, b.symmetry_pct)]
    swapped = sum(1 for a, b in pairs if weaker(a) != weaker(b))
    windows = smile_windows(name, limit_s, model)
    plain_w = measure_windows(read_frames(path, limit_s=limit_s), windows, model)
    flipped_w = measure_windows(read_frames(path, mirrored=True, limit_s=limit_s), windows, model)
    by_window = compare_windows(plain_w, flipped_w, 1.0)
    by_window["weaker_side_not_swapped"] = sum(
        1 for a, b in zip(plain_w, flipped_w, strict=True) if a is not None and b is not None and weaker(a) == weaker(b)
    )
    return {
        "clip": name,
        "reps": len(plain.reps),
        "reps_mirrored": len(flipped.reps),
        "matched": len(pairs),
        "sides_swapped": swapped,
        "mean_diff_pts": None if not diffs else round(float(np.mean(diffs)), 2),
        "max_diff_pts": None if not diffs else round(float(np.max(diffs)), 2),
        "within_1_pt": sum(1 for d in diffs if d <= 1.0),
        "smiles_timed": by_window,
    }


def reencode_check(name: str, limit_s: float | None, model: Any, folder: Path) -> dict[str, Any]:
    """The clip at other sizes and bit rates: matched reps and their symmetry differences."""

    path, fps = clip(name)
    base, _ = analyse(read_frames(path, limit_s=limit_s), name, fps, model)
    windows = smile_windows(name, limit_s, model)
    base_w = measure_windows(read_frames(path, limit_s=limit_s), windows, model)
    out: dict[str, Any] = {"clip": name, "reps": len(base.reps), "smiles": len(windows), "versions": []}
    for scale, rate in REENCODINGS:
        copy = reencode(path, folder / f"{name}-{scale:g}x-{rate // 1000}k.mp4", scale, rate)
        other, _ = analyse(read_frames(copy, limit_s=limit_s), copy.name, fps, model)
        pairs = match_reps(base.reps, other.reps)
        diffs = [abs(a.symmetry_pct - b.symmetry_pct) for a, b in pairs if None not in (a.symmetry_pct, b.symmetry_pct)]
        out["versions"].append(
            {
                "scale": scale,
                "bit_rate": rate,
                "reps": len(other.reps),
                "matched": len(pairs),
                "mean_diff_pts": None if not diffs else round(float(np.mean(diffs)), 2),
                "max_diff_pts": None if not diffs else round(float(np.max(diffs)), 2),
                "within_3_pts": sum(1 for d in diffs if d <= 3.0),
                "smiles_timed": compare_windows(
                    base_w, measure_windows(read_frames(copy, limit_s=limit_s), windows, model), 3.0
                ),
            }
        )
    return out


CHIMERA_CLIPS = ("franck", "cap12", "cap13")
CHIMERA_MAX_JAW = 0.3  # one-sided chimeras of a wide-open mouth get half a dropped jaw: left out


def measure_windows(
    frames: Iterable[tuple[float, np.ndarray]], windows: list[tuple[float, float, float]], model: Any
) -> list[Any]:
    """Measure a clip once and score each (start, peak, end) window as a guided session would: its timing known.

    Conversational smiles rarely return to a still rest within a second, so the
    repetition detector is not what is tested here; the measure is. Returns a
    RepResult per window, or None where the engine abstains as it would on a
    repetition: no frame of the window was trusted against the reference in force at
    its start, the rest just before it was not seen
    (``coach.engine.analysis.measured_from_rest``), or the repetition is less sure than the
    engine's rep gate (``coach.engine.measures.peak.sure_enough``).
    """
    from coach.engine.analysis import Analyzer, measured_from_rest, sample_of, score_window
    from coach.engine.measures.direction import UP_AND_OUT
    from coach.engine.measures.peak import sure_enough
    from coach.engine.reps import RepWindow

    samples = []
    with Analyzer(model=model) as an:
        off = an.detector.off
        for t, frame in frames:
            fm, _ = an.update(frame, t)
            sample = sample_of(fm, an.exercise)
            if sample is not None:
                samples.append(sample)
    out = []
    for k, (start_s, peak_s, end_s) in enumerate(windows):
        # The reference in force when the smile starts; frames measured against one taken
        # later, mid-smile, are not measured from the smile's rest.
        refs = [s.reference_t_s for s in samples if s.reference_t_s is not None and s.reference_t_s <= start_s]
        ref = max(refs) if refs else None
        inside = [s for s in samples if start_s <= s.t_s <= end_s and s.reference_t_s == ref]
        rep = None
        if inside and measured_from_rest(start_s, ref, samples, off):
            rep = score_window(RepWindow(k + 1, start_s, peak_s, end_s, 0.0), inside, None, UP_AND_OUT)
        gated = rep is not None and not sure_enough(rep.confidence, "mouth_corner")  # the engine's rep gate
        out.append(None if gated else rep)
    return out


def measure_window(frames: list[np.ndarray], fps: float, start_s: float, peak_s: float, end_s: float, model: Any):  # noqa: ANN201
    """:func:`measure_windows` for one window of a list of frames at ``fps``."""
    return measure_windows(((i / fps, f) for i, f in enumerate(frames)), [(start_s, peak_s, end_s)], model)[0]


def smile_windows(name: str, limit_s: float | None, model: Any) -> list[tuple[float, float, float]]:
    """Every smile of a real clip as a (start, peak, end) window in seconds (``coach.virtual.chimera.find_smiles``)."""
    from coach.virtual import chimera

    _, observations, fps = tracked_clip(name, limit_s, model)
    return [(s.start / fps, s.peak / fps, s.end / fps) for s in chimera.find_smiles(observations, fps)]


def compare_windows(a: list[Any], b: list[Any], within_pts: float) -> dict[str, Any]:
    """Two measurements of the same smiles: how many both scored, and how far their symmetries differ."""
    both = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    diffs = [abs(x.symmetry_pct - y.symmetry_pct) for x, y in both if None not in (x.symmetry_pct, y.symmetry_pct)]
    return {
        "smiles": len(a),
        "scored": sum(x is not None for x in a),
        "scored_other": sum(y is not None for y in b),
        "scored_both": len(both),
        "mean_diff_pts": None if not diffs else round(float(np.mean(diffs)), 2),
        "max_diff_pts": None if not diffs else round(float(np.max(diffs)), 2),
        f"within_{within_pts:g}_pts": sum(1 for d in diffs if d <= within_pts),
        "pairs_pct": [[round(x.symmetry_pct, 1), round(y.symmetry_pct, 1)] for x, y in both],
        "pairs_confidence": [[round(x.confidence, 2), round(y.confidence, 2)] for x, y in both],
    }


def tracked_clip(name: str, limit_s: float | None, model: Any) -> tuple[list[np.ndarray], list[Any], float]:
    """A real clip's frames, the tracker's observation of each, and its frame rate."""
    from coach.engine.tracking import FaceTracker

    path, fps = clip(name)
    frames, observations = [], []
    with FaceTracker(model) as tracker:
        for t, frame in read_frames(path, limit_s=limit_s):
            frames.append(frame)
            observations.append(tracker.update(frame, t))
    return frames, observations, fps


def chimera_checks(name: str, limit_s: float | None, model: Any, max_smiles: int | None = None) -> list[dict[str, Any]]:
    """Every smile of a real clip as symmetric and one-sided chimeras, each side live: truth against FaceCoach."""
    from coach.virtual import chimera

    frames, observations, fps = tracked_clip(name, limit_s, model)
    rows = []
    smiles = chimera.find_smiles(observations, fps)[:max_smiles]
    for k, seg in enumerate(smiles):
        for kind in chimera.KINDS:
            if kind == "one_sided" and seg.max_jaw_open > CHIMERA_MAX_JAW:
                continue
            for side in ("left", "right"):
                case, clip = chimera.build_case(
                    frames, observations, seg, kind, side, name, fps, lead=int(fps), tail=int(fps)
                )
                s = case.segment
                rep = measure_window(clip, fps, s.start / fps, s.peak / fps, s.end / fps, model)
                row = {
                    "clip": name,
                    "smile": k,
                    "kind": kind,
                    "live": side,
                    "truth_pct": case.truth_symmetry_pct,
                    "truth_weaker": case.weaker_side,
                    "size_mm": round(max(seg.excursion_mm.values()), 1),
                    "symmetry_pct": None if rep is None else round(rep.symmetry_pct, 1),
                    "weaker": None if rep is None else weaker(rep),
                    "landmark_pct": None if rep is None else round(rep.landmark_symmetry_pct, 1),
                    "confidence": None if rep is None else round(rep.confidence, 2),
                    # Real smiles move up and out: a side found pulled the other way is a false alarm.
                    "dragged": None if rep is None else list(rep.dragged),
                }
                rows.append(row)
                print(
                    f"chimera  {name:8} smile {k} {kind:9} live {side:5} truth {row['truth_pct']:5.0f} "
                    f"FaceCoach {row['symmetry_pct']} landmarks {row['landmark_pct']}",
                    flush=True,
                )
    return rows


def chimera_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ("symmetric", "one_sided"):
        mine = [r for r in rows if r["kind"] == kind]
        scored = [r for r in mine if r["symmetry_pct"] is not None]
        err = [abs(r["symmetry_pct"] - r["truth_pct"]) for r in scored]
        lm = [abs(r["landmark_pct"] - r["truth_pct"]) for r in scored]
        wrong = sum(1 for r in scored if r["truth_weaker"] and r["weaker"] != r["truth_weaker"])
        out[kind] = {
            "cases": len(mine),
            "abstained": len(mine) - len(scored),
            "mean_abs_error_pts": None if not err else round(float(np.mean(err)), 1),
            "max_abs_error_pts": None if not err else round(float(np.max(err)), 1),
            "within_5_pts": sum(1 for e in err if e <= 5.0),
            "landmark_mean_abs_error_pts": None if not lm else round(float(np.mean(lm)), 1),
            "weaker_side_wrong": wrong,
            "dragged_false_alarms": sum(1 for r in scored if r.get("dragged")),
        }
    from benchmarks.validity import rep_calibration

    out["rep_calibration_symmetric"] = rep_calibration(
        [
            (r["confidence"], abs(r["symmetry_pct"] - r["truth_pct"]))
            for r in rows
            if r["kind"] == "symmetric" and r["symmetry_pct"] is not None
        ]
    )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.realvideo")
    ap.add_argument("--quick", action="store_true", help="the test suite's share")
    ap.add_argument("--out", type=Path, help="JSON output file")
    args = ap.parse_args(argv)
    import tempfile

    from benchmarks.output import machine, write_json
    from coach.engine.model import resolve_model

    model = resolve_model()
    limit = QUICK_LIMIT_S if args.quick else None
    t0 = time.perf_counter()
    figures: dict[str, Any] = {
        "machine": machine(),
        "generated_by": "benchmarks/realvideo.py" + (" --quick" if args.quick else ""),
    }
    clips = COVERAGE_CLIPS[:2] if args.quick else COVERAGE_CLIPS
    figures["coverage"] = []
    for name in clips:
        row = coverage_of(name, limit, model)
        figures["coverage"].append(row)
        print(
            f"coverage {name:14} {row['trusted_frontal']:5d}/{row['frontal']:5d} frontal frames trusted "
            f"({row['coverage']}); reasons {row['reasons']}; {len(row['reps'])} reps, "
            f"{len(row['reps_not_measured'])} seen but not measured",
            flush=True,
        )
    figures["mirror"] = []
    for name in MIRROR_CLIPS[:1] if args.quick else MIRROR_CLIPS:
        row = mirror_check(name, limit, model)
        figures["mirror"].append(row)
        print(f"mirror   {name:14} {row}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        row = reencode_check(REENCODE_CLIP, limit if args.quick else 60.0, model, Path(tmp))
    figures["reencode"] = row
    print(f"reencode {REENCODE_CLIP:14} {row}", flush=True)
    figures["chimeras"] = []
    for name in CHIMERA_CLIPS[:1] if args.quick else CHIMERA_CLIPS:
        figures["chimeras"] += chimera_checks(name, 60.0 if args.quick else None, model, 2 if args.quick else None)
    figures["chimera_summary"] = chimera_summary(figures["chimeras"])
    print(f"chimeras {figures['chimera_summary']}", flush=True)
    figures["seconds"] = round(time.perf_counter() - t0, 1)
    out = args.out or Path(__file__).parent / "results" / ("realvideo-quick.json" if args.quick else "realvideo.json")
    write_json(out, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
