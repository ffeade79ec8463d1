"""Live coaching speed on this machine: throughput, callback latency, falling behind.

    python -m benchmarks.live [--seconds 20] [--repeat 3] [--slow-ms 45]

All parts use the virtual patient doing "Smile" (left side half as strong) at
640×480, rendered into memory once, so every timing sees the same frames.

1. Throughput, the median of ``--repeat`` runs:
   - bare MediaPipe: the Face Landmarker alone, with FaceCoach's options;
   - FaceCoach's full per-frame pipeline (tracker + face frame + all measures +
     session engine), as files are analysed: MediaPipe on one thread while the
     measures of the frame before run on the other (``coach.engine.analysis.tracked``);
   - the same work in one thread, as the live callback does it;
   - the measures and session engine alone, on observations recorded once (µs/frame).
2. Live-callback latency, frame in → annotated frame out, at 640×480 and
   1280×720: the camera page's own callback (``ui.live_run.camera_callback``:
   conversion, the live coach, the overlay, each rep saved to SQLite), every
   frame of a 3-rep session, one after another.
3. Falling behind: a 30 fps camera through streamlit-webrtc's own asynchronous
   track (``AsyncVideoProcessTrack``), in real time. Once as this machine is, and
   once as a laptop ``--slow-ms`` slower per frame (the callback also sleeps),
   which cannot keep up. Reports frames processed and skipped, the deepest
   queue, how old each shown picture is, and the session's reps and timing
   against the all-frames run of part 2.

Prints figures and ratios; writes ``benchmarks/results/live.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from benchmarks.output import machine, write_json

os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np  # noqa: E402

FPS = 30.0


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) of ``values``, linear interpolation."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def _ms(values_s: list[float]) -> dict[str, float]:
    ms = [v * 1000.0 for v in values_s]
    return {
        "p50_ms": round(pct(ms, 50), 1),
        "p95_ms": round(pct(ms, 95), 1),
        "p99_ms": round(pct(ms, 99), 1),
        "max_ms": round(max(ms), 1),
        "mean_ms": round(statistics.fmean(ms), 1),
    }


class Frames:
    """The virtual patient's frames, rendered once."""

    def __init__(self, reps: int) -> None:
        from coach.virtual.phantom import PhantomRenderer
        from exercises import get_exercise
        from ui.live_run import quick_plan, virtual_patient

        self.plan = quick_plan(get_exercise("smile"), reps)
        self.spec = virtual_patient(self.plan, "left", ratio=0.5)
        renderer = PhantomRenderer(self.spec)
        self.frames = [renderer.frame(i) for i in range(self.spec.n_frames)]


# -- 1. throughput ---------------------------------------------------------------------


def throughput(frames: list[np.ndarray], plan: Any, repeat: int) -> dict[str, Any]:
    import mediapipe as mp

    from benchmarks.timing import median_seconds
    from coach.engine.analysis import tracked
    from coach.engine.model import resolve_model
    from coach.engine.tracking import FaceTracker, create_landmarker
    from coach.sessions.cues import SessionEngine

    model = resolve_model()
    times = [i / FPS for i in range(len(frames))]

    def bare() -> None:
        lm = create_landmarker(model)
        try:
            for t, f in zip(times, frames, strict=True):
                lm.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=f), int(round(t * 1000)))
        finally:
            lm.close()

    def full_pipelined() -> None:
        with SessionEngine(plan, "left", model=model) as eng:
            for t, f, obs in tracked(zip(times, frames, strict=True), eng.tracker):
                eng.update(f, t, observation=obs)

    def full_one_thread() -> None:
        with SessionEngine(plan, "left", model=model) as eng:
            for t, f in zip(times, frames, strict=True):
                eng.update(f, t)

    with FaceTracker(model) as tr:
        observations = [tr.update(f, t) for t, f in zip(times, frames, strict=True)]

    def measures_only() -> None:
        with SessionEngine(plan, "left", model=model) as eng:
            for t, f, obs in zip(times, frames, observations, strict=True):
                eng.update(f, t, observation=obs)

    n = len(frames)
    bare_s = median_seconds(bare, repeat)
    piped_s = median_seconds(full_pipelined, repeat)
    serial_s = median_seconds(full_one_thread, repeat)
    measures_s = median_seconds(measures_only, repeat)
    return {
        "frames": n,
        "bare_mediapipe_fps": round(n / bare_s, 1),
        "full_pipeline_fps": round(n / piped_s, 1),
        "full_pipeline_vs_bare": round(bare_s / piped_s, 2),
        "full_one_thread_fps": round(n / serial_s, 1),
        "full_one_thread_vs_bare": round(bare_s / serial_s, 2),
        "measures_and_session_us_per_frame": round(measures_s / n * 1e6),
    }


# -- 2. callback latency -------------------------------------------------------------------


class Clinic:
    """A throwaway SQLite clinic with one patient, for LiveRuns that save like the app."""

    def __init__(self, folder: str) -> None:
        from coach.store import Store

        self.store = Store(f"sqlite:///{folder}/bench.db")
        self.patient_id = self.store.add_patient("Benchmark patient", affected_side="left")

    def run(self, plan: Any, model: Any) -> Any:
        from ui.live_run import LiveRun, RunSettings

        settings = RunSettings(self.patient_id, "smile", plan, "left", "camera", {})
        return LiveRun(self.store, settings, model)


def _video_frame(rgb: np.ndarray, index: int) -> Any:
    import av

    vf = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    vf.pts = index
    vf.time_base = Fraction(1, int(FPS))
    return vf


def _rep_summary(reps: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [
        {
            "start_s": round(r.start_s, 2),
            "end_s": round(r.end_s, 2),
            "symmetry_pct": None if r.symmetry_pct is None else round(r.symmetry_pct, 1),
        }
        for r in reps
    ]


def latency(source: Frames, size_wh: tuple[int, int], clinic: Clinic, model: Any) -> dict[str, Any]:
    import cv2

    from ui.live_run import RunSlot, camera_callback

    slot = RunSlot()
    slot.factory = lambda: clinic.run(source.plan, model)
    callback = camera_callback(slot)
    durations = []
    for i, rgb in enumerate(source.frames):
        if rgb.shape[1::-1] != size_wh:
            rgb = cv2.resize(rgb, size_wh, interpolation=cv2.INTER_LINEAR)
        vf = _video_frame(rgb, i)
        t0 = time.perf_counter()
        callback(vf)
        durations.append(time.perf_counter() - t0)
    run = slot.run
    assert run is not None
    snap = run.snapshot()
    slot.stop()
    return {
        "size": f"{size_wh[0]}x{size_wh[1]}",
        "frames": len(durations),
        **_ms(durations),
        "capacity_fps": round(1.0 / statistics.fmean(durations), 1),
        "frames_dropped_by_coach": snap.frames_dropped,
        "reps": _rep_summary(snap.reps),
        "all_saved": run.all_saved,
    }


# -- 3. falling behind ---------------------------------------------------------------------------


def behind(source: Frames, clinic: Clinic, model: Any, slow_ms: float) -> dict[str, Any]:
    """A real-time 30 fps camera through streamlit-webrtc's asynchronous processing track."""
    from aiortc import MediaStreamTrack
    from streamlit_webrtc.models import CallbackAttachableProcessor
    from streamlit_webrtc.process import AsyncVideoProcessTrack

    from ui.live_run import RunSlot, camera_callback

    slot = RunSlot()
    slot.factory = lambda: clinic.run(source.plan, model)
    inner = camera_callback(slot)
    captured: dict[int, float] = {}  # frame index → wall time it was captured
    shown: list[tuple[int, float, float]] = []  # (frame index, started, finished) of each processed frame
    lock = threading.Lock()

    def callback(frame: Any) -> Any:
        started = time.perf_counter()
        out = inner(frame)
        if slow_ms > 0:
            time.sleep(slow_ms / 1000.0)
        with lock:
            shown.append((int(frame.pts), started, time.perf_counter()))
        return out

    n = len(source.frames)

    class Camera(MediaStreamTrack):
        kind = "video"

        def __init__(self) -> None:
            super().__init__()
            self.i = 0
            self.t0: float | None = None

        async def recv(self) -> Any:
            if self.i >= n:
                self.stop()
                raise asyncio.CancelledError
            if self.t0 is None:
                self.t0 = time.perf_counter()
            due = self.t0 + self.i / FPS
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            vf = _video_frame(source.frames[self.i], self.i)
            captured[self.i] = time.perf_counter()
            self.i += 1
            return vf

    camera = Camera()
    track = AsyncVideoProcessTrack(camera, CallbackAttachableProcessor(callback, None, None))
    depth: list[tuple[float, int]] = []  # (wall time, frames waiting for the worker) after each camera frame

    async def send() -> None:  # what aiortc's sender does: pull a frame whenever the camera has one
        while camera.i < n:
            try:
                await track.recv()
            except asyncio.CancelledError:
                break
            q = getattr(track, "_in_queue", None)  # streamlit-webrtc 0.79's input queue; -1 if it is renamed
            depth.append((time.perf_counter(), q.qsize() if q is not None else -1))

    asyncio.run(send())
    time.sleep(0.5)  # let the worker finish its last frame
    track.stop()
    run = slot.run
    assert run is not None
    snap = run.snapshot()
    slot.stop()
    ages = [finished - captured[i] for i, _, finished in shown]
    gaps = [b[1] - a[1] for a, b in zip(shown, shown[1:], strict=False)]
    return {
        "camera": f"640x480 at {FPS:g} fps, {n} frames, real time",
        "extra_ms_per_frame": slow_ms,
        "frames_offered": n,
        "frames_processed": len(shown),
        "frames_skipped": n - len(shown),
        "processed_fps": round((len(shown) - 1) / (shown[-1][1] - shown[0][1]), 1) if len(shown) > 1 else 0.0,
        # The first frame also builds the coach (model, tracker, records), so frames wait
        # longer then; from the first finished frame on, the queue must stay short.
        "deepest_input_queue": max((d for t, d in depth if shown and t > shown[0][2]), default=0),
        "deepest_input_queue_at_start": max((d for t, d in depth if not shown or t <= shown[0][2]), default=0),
        "picture_age": _ms(ages),
        "worst_gap_ms": round(max(gaps) * 1000, 1) if gaps else 0.0,
        "last_frame_processed": shown[-1][0] if shown else None,
        "reps": _rep_summary(snap.reps),
        "all_saved": run.all_saved,
    }


def timing_check(reference: list[dict[str, Any]], other: list[dict[str, Any]]) -> dict[str, Any]:
    """How far a run's reps are from the all-frames run's: count, times and symmetry."""
    out: dict[str, Any] = {"reps": len(other), "reps_all_frames": len(reference)}
    if len(reference) == len(other) and reference:
        pairs = list(zip(reference, other, strict=True))
        shifts = [max(abs(a["start_s"] - b["start_s"]), abs(a["end_s"] - b["end_s"])) for a, b in pairs]
        out["largest_time_shift_s"] = round(max(shifts), 2)
        sym = [
            abs(a["symmetry_pct"] - b["symmetry_pct"])
            for a, b in pairs
            if a["symmetry_pct"] is not None and b["symmetry_pct"] is not None
        ]
        out["largest_symmetry_change_pts"] = round(max(sym), 1) if sym else None
    return out


def main(argv: list[str] | None = None) -> int:
    from coach.engine.model import resolve_model

    ap = argparse.ArgumentParser(prog="python -m benchmarks.live")
    ap.add_argument("--seconds", type=float, default=20.0, help="frames for the throughput part, seconds of video")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each throughput timing; the median is reported")
    ap.add_argument("--reps", type=int, default=3, help="smiles in the latency and falling-behind sessions")
    ap.add_argument("--slow-ms", type=float, default=45.0, help="extra time per frame of the slow laptop")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "live.json")
    args = ap.parse_args(argv)

    model = resolve_model()
    source = Frames(args.reps)
    n_tp = min(len(source.frames), int(args.seconds * FPS))
    print(f"virtual patient: {len(source.frames)} frames at 640x480, {len(source.frames) / FPS:.1f} s")

    tp = throughput(source.frames[:n_tp], source.plan, args.repeat)
    print(f"\n1. throughput on the same {tp['frames']} frames (median of {args.repeat})")
    print(f"   bare MediaPipe Face Landmarker:        {tp['bare_mediapipe_fps']:7.1f} frames/s")
    print(
        f"   FaceCoach full pipeline (2 threads):   {tp['full_pipeline_fps']:7.1f} frames/s"
        f"   × bare: {tp['full_pipeline_vs_bare']:.2f}"
    )
    print(
        f"   FaceCoach full pipeline (1 thread):    {tp['full_one_thread_fps']:7.1f} frames/s"
        f"   × bare: {tp['full_one_thread_vs_bare']:.2f}"
    )
    print(f"   measures + session engine alone:       {tp['measures_and_session_us_per_frame']:7d} µs/frame")

    lat = []
    with tempfile.TemporaryDirectory() as folder:
        clinic = Clinic(folder)
        print("\n2. live callback, frame in → annotated frame out (every frame, one after another)")
        for size in ((640, 480), (1280, 720)):
            r = latency(source, size, clinic, model)
            lat.append(r)
            print(
                f"   {r['size']:>9}: p50 {r['p50_ms']:5.1f}  p95 {r['p95_ms']:5.1f}  p99 {r['p99_ms']:5.1f}"
                f"  max {r['max_ms']:6.1f} ms   → {r['capacity_fps']:5.1f} frames/s;"
                f" {len(r['reps'])} reps, all saved: {r['all_saved']}"
            )
        print("\n3. a 30 fps camera in real time, through streamlit-webrtc's asynchronous track")
        falls = []
        for extra in (0.0, args.slow_ms):
            r = behind(source, clinic, model, extra)
            r["against_all_frames"] = timing_check(lat[0]["reps"], r["reps"])
            falls.append(r)
            label = "this machine" if extra == 0 else f"+{extra:g} ms/frame"
            chk = r["against_all_frames"]
            print(
                f"   {label:>16}: processed {r['frames_processed']}/{r['frames_offered']}"
                f" ({r['processed_fps']:.1f}/s), deepest queue {r['deepest_input_queue']},"
                f" picture age p50 {r['picture_age']['p50_ms']:.0f} / p95 {r['picture_age']['p95_ms']:.0f} ms;"
                f" reps {chk['reps']}/{chk['reps_all_frames']},"
                f" times within {chk.get('largest_time_shift_s', '–')} s,"
                f" symmetry within {chk.get('largest_symmetry_change_pts', '–')} pts"
            )
        clinic.store.close()

    fig = {
        "generated_by": "benchmarks/live.py",
        "machine": machine(),
        "frames": f"virtual patient, smile, 640x480, {FPS:g} fps",
        "throughput": tp,
        "callback_latency": lat,
        "falling_behind": falls,
    }
    write_json(args.out, fig)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
