"""What the browser's video codec does to the live measurement.

    python -m benchmarks.codec [--reps 5] [--kbps 1200]

In the app, the camera reaches the coach through WebRTC: the browser encodes
each frame with VP8 and the server decodes it. This benchmark puts the same
codec (libvpx, real-time settings) between the virtual patient and the camera
page's own callback (``ui.live_run.camera_callback``), every frame in order,
and compares each rep's symmetry with the truth (the left side moves half as
much: 50 %) and with ``analyze`` on the frames as rendered (what the CI's live check
compares with). Conditions:

- the face still, or swaying gently as people do (±1° tilt, ±1 % size, ±3 px);
- no codec (the frames as rendered), VP8, and VP8 with its temporal noise
  filter on (libvpx's "noise sensitivity", which Chrome's WebRTC turns on for
  camera video).

Prints each rep and the errors; writes ``benchmarks/results/codec.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from benchmarks.output import machine, write_json

os.environ.setdefault("GLOG_minloglevel", "2")

TRUTH_PCT = 50.0  # the virtual patient's weak side moves half as much
FPS = 30
SWAY = {"roll_amp_deg": 1.0, "scale_amp": 0.01, "drift_px": 3.0}


class Codec:
    """VP8 encode then decode, one frame at a time (what the browser and the server do)."""

    def __init__(self, size_wh: tuple[int, int], kbps: int, denoise: bool) -> None:
        import av

        self.enc = av.CodecContext.create("libvpx", "w")
        self.enc.width, self.enc.height = size_wh
        self.enc.pix_fmt = "yuv420p"
        self.enc.time_base = Fraction(1, FPS)
        self.enc.framerate = FPS
        self.enc.bit_rate = kbps * 1000
        self.enc.options = {"deadline": "realtime", "cpu-used": "8", "noise-sensitivity": "1" if denoise else "0"}
        self.dec = av.CodecContext.create("vp8", "r")

    def __call__(self, rgb: Any, index: int) -> list[Any]:
        import av

        vf = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        vf.pts = index
        out = []
        for packet in self.enc.encode(vf):
            for frame in self.dec.decode(packet):
                out.append(frame.to_ndarray(format="rgb24"))
        return out


def run(sway: bool, codec: str, reps: int, kbps: int, model: Any, folder: str) -> dict[str, Any]:
    """One condition: the virtual patient through ``codec`` into the camera callback."""
    import av

    from benchmarks.live import Clinic
    from coach.engine.analysis import Analyzer
    from coach.virtual.phantom import HeadMotion, PhantomRenderer
    from exercises import get_exercise
    from ui.live_run import RunSlot, camera_callback, quick_plan, virtual_patient

    plan = quick_plan(get_exercise("smile"), reps)
    spec = virtual_patient(plan, "left", ratio=TRUTH_PCT / 100.0)
    if sway:
        spec = replace(spec, head=HeadMotion(**SWAY))
    renderer = PhantomRenderer(spec)
    clinic = Clinic(folder)
    slot = RunSlot()
    slot.factory = lambda: clinic.run(plan, model)
    callback = camera_callback(slot)
    coder = None if codec == "none" else Codec(spec.size_wh, kbps, denoise=codec == "vp8+denoise")
    # ``python -m coach analyze`` on the frames as rendered: what the live reps are checked against.
    offline = Analyzer(get_exercise("smile"), "left", model=model)
    shown = 0
    for i in range(spec.n_frames):
        rgb = renderer.frame(i)
        offline.update(rgb, i / FPS)
        for out in [rgb] if coder is None else coder(rgb, i):
            vf = av.VideoFrame.from_ndarray(out, format="rgb24")
            vf.pts, vf.time_base = shown, Fraction(1, FPS)
            callback(vf)
            shown += 1
    run_ = slot.run
    assert run_ is not None
    sym = [None if r.symmetry_pct is None else round(r.symmetry_pct, 1) for r in run_.snapshot().reps]
    slot.stop()
    clinic.store.close()
    analyzed = offline.result("<frames>", FPS, spec.n_frames / FPS, [])
    offline.close()
    ref = [None if r.symmetry_pct is None else round(r.symmetry_pct, 1) for r in analyzed.reps]
    errors = [s - TRUTH_PCT for s in sym if s is not None]
    vs_analyze = (
        [round(a - b, 1) for a, b in zip(sym, ref, strict=True) if a is not None and b is not None]
        if len(ref) == len(sym)
        else []
    )
    return {
        "head": "sway" if sway else "still",
        "codec": codec,
        "reps_symmetry_pct": sym,
        "analyze_symmetry_pct": ref,
        "live_minus_analyze_pts": vs_analyze,
        "live_minus_analyze_sd": round(statistics.pstdev(vs_analyze), 2) if len(vs_analyze) > 1 else None,
        "reps_within_3_of_analyze": sum(abs(d) <= 3 for d in vs_analyze),
        "mean_error_pts": round(statistics.fmean(errors), 2) if errors else None,
        "mean_abs_error_pts": round(statistics.fmean(abs(e) for e in errors), 2) if errors else None,
        "largest_error_pts": round(max(errors, key=abs), 1) if errors else None,
    }


def main(argv: list[str] | None = None) -> int:
    from coach.engine.model import resolve_model

    ap = argparse.ArgumentParser(prog="python -m benchmarks.codec")
    ap.add_argument("--reps", type=int, default=5, help="smiles per condition")
    ap.add_argument("--kbps", type=int, default=1200, help="VP8 bit rate (WebRTC sends about 1–2.5 Mbit/s at 640×480)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "codec.json")
    args = ap.parse_args(argv)

    model = resolve_model()
    rows = []
    print(f"virtual patient, smile ×{args.reps}, left side {TRUTH_PCT:g} % of the right; VP8 at {args.kbps} kbit/s")
    print(
        f"{'head':<6} {'codec':<12} {'mean err':>9} {'mean |err|':>11} {'largest':>8} {'live-analyze SD':>16}"
        f" {'within 3':>9}   reps (symmetry %)"
    )
    with tempfile.TemporaryDirectory() as folder:
        for k, (sway, codec) in enumerate((s, c) for s in (False, True) for c in ("none", "vp8", "vp8+denoise")):
            sub = Path(folder) / str(k)
            sub.mkdir()
            r = run(sway, codec, args.reps, args.kbps, model, str(sub))
            rows.append(r)
            cols = ("mean_error_pts", "mean_abs_error_pts", "largest_error_pts")
            cells = ["–" if r[c] is None else f"{r[c]:+.2f}" for c in cols]
            sd = "–" if r["live_minus_analyze_sd"] is None else f"{r['live_minus_analyze_sd']:.2f}"
            within = f"{r['reps_within_3_of_analyze']}/{len(r['live_minus_analyze_pts'])}"
            print(
                f"{r['head']:<6} {r['codec']:<12} {cells[0]:>9} {cells[1].lstrip('+'):>11} {cells[2]:>8} {sd:>16}"
                f" {within:>9}   {r['reps_symmetry_pct']}",
                flush=True,
            )
    fig = {
        "generated_by": "benchmarks/codec.py",
        "machine": machine(),
        "frames": f"virtual patient, smile x{args.reps}, 640x480, {FPS} fps; truth {TRUTH_PCT:g} %",
        "vp8": {"kbps": args.kbps, "deadline": "realtime", "cpu_used": 8},
        "sway": SWAY,
        "conditions": rows,
    }
    write_json(args.out, fig)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
