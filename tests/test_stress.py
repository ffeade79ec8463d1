"""Stress: the engine never dies by a signal on videos with random, strong head motion.

A face whose scale keeps changing changes the size of the stabilised crop now and then;
OpenCV's DIS optical flow used to read out of bounds then and kill the process (a
segmentation fault in about half the runs of ``analyze`` on such videos). Each video is
measured in a process of its own, so a native crash is seen as what it is: a signal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from coach.virtual.phantom import HeadMotion, Schedule, smile_phantom, write_video

ROOT = Path(__file__).resolve().parents[1]
N_VIDEOS = 32
SHORT = Schedule(lead_in_s=1.0, rise_s=0.6, hold_s=0.8, release_s=0.6, rest_s=1.0, reps=2)


def stress_spec(k: int):
    """Video ``k``: a random smile, face size, and natural sway up to 2.5 times the reference model."""
    rng = np.random.default_rng([k, 90210])
    left, right = (float(v) for v in rng.uniform(0.0, 5.0, 2))
    # 220–320 px wide at 640×480: the crop's scale then follows the face's, so its size changes.
    head = HeadMotion(natural=float(rng.uniform(1.0, 2.5)), natural_seed=k + 1, scale_amp=float(rng.uniform(0, 0.05)))
    return smile_phantom(
        left, right, schedule=SHORT, head=head, face_width_px=float(rng.uniform(220, 320)), seed=k, noise_sigma=3.0
    )


def run_analyze(path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GLOG_minloglevel": "2", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "coach", "analyze", str(path), "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_stress_spec_really_moves_the_head():
    spec = stress_spec(0)
    rolls = [spec.head.at(t, spec.face_width_px)[0] for t in np.arange(0, spec.length_s, 0.1)]
    assert max(rolls) - min(rolls) > 4.0
    assert len({stress_spec(k) for k in range(N_VIDEOS)}) == N_VIDEOS


@pytest.mark.slow
def test_no_video_with_head_motion_kills_the_engine(tmp_path):
    paths = [write_video(stress_spec(k), tmp_path / f"sway{k:02d}.avi") for k in range(N_VIDEOS)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(run_analyze, paths))
    died = [(p.name, -r.returncode, r.stderr[-400:]) for p, r in zip(paths, runs, strict=True) if r.returncode < 0]
    assert not died, f"killed by a signal (video, signal, stderr): {died}"
    failed = [(p.name, r.returncode, r.stderr[-400:]) for p, r in zip(paths, runs, strict=True) if r.returncode != 0]
    assert not failed, f"analyze failed: {failed}"
    for r in runs:
        assert json.loads(r.stdout)["frames_with_face"] > 0
