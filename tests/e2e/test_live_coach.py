"""The whole live path: a virtual patient played as the browser's camera, coached and saved.

Headless Chromium plays a y4m as its webcam; the app (a real Streamlit server) runs the
coach on the frames streamlit-webrtc hands it, draws the overlay, and saves each rep the
moment it is scored. The reps found live must match ``python -m coach analyze`` on the
same video, on SQLite and on PostgreSQL. ``python -m benchmarks.browser`` repeats it, with a
face that sways a little too (FACECOACH_E2E_SWAY=1) and with the camera tuning on or off.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from coach.sessions.series import RepSeries
from coach.store import Store
from coach.virtual.phantom import HeadMotion, write_video
from exercises import get_exercise
from tests.e2e.conftest import (
    REPO,
    SCREENSHOTS,
    WEBRTC_IFRAME,
    click_webrtc_start,
    open_page,
    patient_account,
    sign_in,
    wait_for_text,
    wait_until,
)
from ui import camera_link
from ui.live_run import quick_plan, virtual_patient

AWAY_FIRST_S = 3.0  # the face appears after 3 s; the coach's baseline starts when it does
REPS = 3
MIN_FPS = 25.0  # frames a second the coach measures live, median over the reps (issue 14)
AFFECTED = "left"  # the patient's affected side
HEADS = {
    "still": HeadMotion(),
    # the sway of benchmarks/codec.py: ±1° tilt, ±1 % size, ±3 px
    "swaying": HeadMotion(roll_amp_deg=1.0, scale_amp=0.01, drift_px=3.0),
}


def _largest_gap(series: RepSeries) -> float | None:
    """Seconds between the two most distant consecutive frames of a rep's series."""
    return round(float(max(series.t_s[1:] - series.t_s[:-1])), 3) if len(series) > 1 else None


def _rate(series: RepSeries) -> float | None:
    """Frames a second the coach measured in a rep."""
    span = float(series.t_s[-1] - series.t_s[0]) if len(series) > 1 else 0.0
    return round((len(series) - 1) / span, 1) if span > 0 else None


@pytest.fixture(scope="module")
def camera(request, tmp_path_factory) -> tuple[str, Path, dict]:
    """(head, video, analyze's JSON): the virtual patient doing "Gentle smile, 3 times" as the coach page cues it."""
    head = request.param
    plan = quick_plan(get_exercise("smile"), REPS)
    spec = dataclasses.replace(virtual_patient(plan, AFFECTED, away_first_s=AWAY_FIRST_S), head=HEADS[head])
    path = write_video(spec, tmp_path_factory.mktemp("camera") / f"patient_{head}.y4m")
    out = subprocess.run(
        [sys.executable, "-m", "coach", "analyze", str(path), "--affected-side", AFFECTED, "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    return head, path, json.loads(out.stdout)


@pytest.fixture
def database(request, tmp_path) -> tuple[str, str]:
    """(backend, SQLAlchemy URL) of a fresh database for the app."""
    if request.param == "sqlite":
        return "sqlite", f"sqlite:///{tmp_path / 'e2e.db'}"
    return "postgresql", request.getfixturevalue("postgres_url")


# Both stores with the still face. The swaying face is for ``python -m benchmarks.browser``
# (FACECOACH_E2E_SWAY=1), not CI: it reads about a point lower live than in analyze, and
# people sway more than it does (benchmarks/results/browser.json, docs/real-faces.md).
CASES = [("still", "sqlite"), ("still", "postgresql")]
if os.environ.get("FACECOACH_E2E_SWAY") == "1":
    CASES.append(("swaying", "sqlite"))


@pytest.mark.parametrize(("camera", "database"), CASES, indirect=True)
def test_live_page_scores_the_camera_like_analyze_and_saves_every_rep(
    camera, database, streamlit_app, fake_camera_browser
):
    head, video, analyzed = camera
    backend, database_url = database
    assert len(analyzed["reps"]) == REPS
    base_url = streamlit_app(database_url)
    patient_id, username = patient_account(database_url, "Kim", AFFECTED)
    page = fake_camera_browser(video)
    sign_in(page, base_url, username)
    open_page(page, "Coach")
    wait_for_text(page, "Press START and allow the camera", timeout_s=60)
    camera_frame = page.wait_for_selector(WEBRTC_IFRAME, timeout=60_000).content_frame()
    if camera_link.enabled():
        wait_until(
            page,
            lambda: camera_frame.evaluate("() => navigator.mediaDevices.facecoachWrapped === true"),
            30,
            "the camera frame asking for the camera without the noise filter",
        )
    click_webrtc_start(page)
    if camera_link.enabled():

        def quiet() -> list:
            """[cameras opened without the noise filter, why the last request fell back]"""
            return camera_frame.evaluate(
                "() => [navigator.mediaDevices.facecoachQuiet, navigator.mediaDevices.facecoachQuietError || null]"
            )

        wait_until(page, lambda: quiet() != [0, None], 30, "the camera opened")
        assert quiet() == [1, None]  # opened once, in Chromium's form without the noise filter

    store = Store(database_url)
    try:

        def sessions():
            return store.sessions(patient_id)

        wait_until(page, lambda: any(s.reps_completed >= 1 for s in sessions()), 90, "the first rep in the database")
        saved_early = sessions()[0]
        assert saved_early.status == "in_progress"  # saved as it completed, not at the end
        page.wait_for_timeout(5500)  # into the hold of the second smile
        if head == "still":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"coach_live_{backend}.png"), full_page=True)
        wait_until(page, lambda: sessions()[0].status == "completed", 90, "the session to end")
        wait_for_text(page, "Today's score", timeout_s=30)
        (session,) = sessions()
        detail = store.session(session.id)
        series = [store.rep_series(r.id) for r in detail.reps]
    finally:
        store.close()

    record = {
        "backend": backend,
        "head": head,
        "browser_settings": "tuned" if camera_link.enabled() else "defaults",
        "live_symmetry_pct": [None if r.symmetry_pct is None else round(r.symmetry_pct, 1) for r in detail.reps],
        "analyze_symmetry_pct": [r["symmetry_pct"] for r in analyzed["reps"]],
        # What reached the coach: frames measured per rep and the largest gap between two
        # (the camera sends 30 a second; a slow server skips frames), to tell apart the
        # codec's effect on the measure from frames the server never saw.
        "live_frames": [None if b is None else len(RepSeries.from_bytes(b)) for b in series],
        "live_largest_gap_s": [None if b is None else _largest_gap(RepSeries.from_bytes(b)) for b in series],
        "live_fps": [None if b is None else _rate(RepSeries.from_bytes(b)) for b in series],
        "post_script_gc": os.environ.get("STREAMLIT_RUNNER_POST_SCRIPT_GC") or "false (.streamlit/config.toml)",
    }
    with open(REPO / "artifacts" / "e2e_live_vs_analyze.jsonl", "a") as f:
        f.write(json.dumps(record) + "\n")
    # Issue 14: the camera's 30 frames a second reach the coach while the browser reruns the
    # page (with Streamlit's collection after each rerun: 22-24 and gaps of 0.2 s).
    rates = sorted(r for r in record["live_fps"] if r is not None)
    assert rates and rates[len(rates) // 2] >= MIN_FPS, record["live_fps"]
    assert session.score is not None and session.program_id == "smile"
    assert [r.rep_index for r in detail.reps] == [1, 2, 3]
    assert all(r.completed and r.has_series for r in detail.reps)
    for live, offline in zip(detail.reps, analyzed["reps"], strict=True):
        assert live.symmetry_pct == pytest.approx(offline["symmetry_pct"], abs=5), (live, offline)
        assert live.peak_left < live.peak_right  # her left is the weaker side
    (smile,) = detail.exercises
    assert smile.completed == REPS and smile.weaker_side == AFFECTED
