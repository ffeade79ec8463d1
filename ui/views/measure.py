"""Measure a video: a recorded smile (yours, or the virtual patient's) measured side by side.

The video is only held while it is measured (in memory on Linux, else in a private
temporary folder: ``ui/upload_copy.py``) and let go straight after; only the numbers are shown.
"""

from __future__ import annotations

import logging

import numpy as np
import streamlit as st

from coach.engine.analysis import Analyzer
from coach.engine.measures.peak import how_sure
from coach.engine.results import AnalysisResult
from coach.engine.tracking import FaceTracker
from coach.engine.video import CONTAINER_SUFFIX, HEAD_BYTES, VideoReader, check_upload, display_name
from coach.errors import FaceCoachError, VideoError
from coach.live.coach import frame_brightness
from coach.sessions.summary import video_session
from coach.store.auth import Forbidden
from coach.virtual.phantom import PhantomRenderer, Schedule, smile_phantom
from exercises import get_exercise
from ui import charts, context
from ui.annotate import annotate, label_sides
from ui.overlay import TOO_DARK
from ui.upload_copy import private_copy, remove_stale_folders_once

MAX_UPLOAD_MB = 200
DEMO_UPLOAD_MB = 20  # an anonymous demo visitor's videos: enough for a short clip
DEMO_TOO_LARGE = f"The demo measures videos up to {DEMO_UPLOAD_MB} MB. Sign in to measure longer ones."
# What the file picker offers; the content is checked whatever the name says.
log = logging.getLogger(__name__)
UPLOAD_TYPES = ["mp4", "mov", "m4v", "avi", "webm", "mkv", "y4m", "ogv"]


def run_analysis(
    frames, n_frames: int, fps: float, source: str, affected: str | None, mirrored: bool | None = None
) -> tuple[AnalysisResult, np.ndarray | None]:
    """Score a stream of frames, showing progress and the strongest moment; returns the result and
    that moment's picture (None when no face moved)."""
    exercise = get_exercise("smile")
    bar = st.progress(0.0, text="Watching the video…")
    best = (-1.0, None)
    brightness = []
    with Analyzer(exercise, affected, model=context.model()) as an:
        last_t = 0.0
        for i, (t, frame) in enumerate(frames):
            if i % 10 == 0:
                brightness.append(frame_brightness(frame))
            fm, _ = an.update(frame, t)
            last_t = t
            exc = fm.along_mm()
            if exc is not None and max(exc.left, exc.right) > best[0]:
                best = (max(exc.left, exc.right), annotate(frame, an.last_observation, fm))
            if n_frames and i % 10 == 0:
                bar.progress(min(1.0, i / n_frames), text="Watching the video…")
        result = an.result(source, fps, last_t + 1.0 / fps if an.frames else 0.0, mirrored=mirrored)
    bar.empty()
    if brightness and float(np.median(brightness)) < TOO_DARK:
        # Very dark, noisy video can make the weaker side look weaker than it is.
        st.warning(
            "This video is quite dark, so the numbers may be less accurate. "
            "Next time, film with a light in front of you."
        )
    if best[1] is not None:
        st.image(best[1], caption="The biggest moment of your smile (shown as a mirror).", width=480)
    return result, best[1]


SIDES_RIGHT = "Yes"
SIDES_SWAPPED = "No, they are the wrong way round (my video is mirrored)"
STILL_SEARCH_S = 5.0  # how far into a video to look for a face to label


def labelled_still(video: VideoReader) -> np.ndarray | None:
    """The first frame with a face in the first seconds, its left and right written on it (None if none)."""
    with FaceTracker(context.model()) as tracker:
        for t, frame in video:
            if t > STILL_SEARCH_S:
                return None
            obs = tracker.update(frame, t)
            if obs is not None:
                return label_sides(frame, obs)
    return None


def show_result(result: AnalysisResult) -> None:
    s = result.summary
    if not result.reps:
        st.warning("No smiles were found to score. " + " ".join(result.warnings))
        return
    st.subheader(f"{len(result.reps)} smile{'s' if len(result.reps) != 1 else ''} scored")
    c1, c2, c3 = st.columns(3)
    c1.metric("Left side, up and out", f"{s.excursion_mm.left:.1f} mm")
    c2.metric("Right side, up and out", f"{s.excursion_mm.right:.1f} mm")
    c3.metric("Symmetry", "–" if s.symmetry_pct is None else f"{s.symmetry_pct:.0f} %")
    if s.weaker_side:
        st.write(f"Your **{s.weaker_side}** side moved less. Small, slow, even smiles help it catch up.")
    else:
        st.write("Both sides moved about the same. Well done.")
    rows = [
        {
            "Smile": r.index,
            "From (s)": round(r.start_s, 1),
            "To (s)": round(r.end_s, 1),
            "Left (mm)": round(r.excursion_mm.left, 1),
            "Right (mm)": round(r.excursion_mm.right, 1),
            "Symmetry (%)": None if r.symmetry_pct is None else round(r.symmetry_pct),
            "How sure": how_sure(r.confidence),
        }
        for r in result.reps
    ]
    st.dataframe(rows, hide_index=True)
    st.altair_chart(
        charts.rep_bars(
            [r["Smile"] for r in rows], [r["Left (mm)"] for r in rows], [r["Right (mm)"] for r in rows], "mm"
        ),
        width="stretch",
    )
    for w in result.warnings:
        st.info(w)


def demo_tab() -> None:
    st.write(
        "Meet our virtual patient. Choose how much each side of her mouth moves, "
        "and FaceCoach will measure it the same way it measures you."
    )
    c1, c2, c3 = st.columns(3)
    left = c1.slider("Her left side (mm)", 0.0, 10.0, 4.0, 0.5, key="demo_left")
    right = c2.slider("Her right side (mm)", 0.0, 10.0, 2.0, 0.5, key="demo_right")
    reps = c3.number_input("Smiles", 1, 5, 2, key="demo_reps")
    if st.button("Watch her smile", type="primary", key="demo_run"):
        spec = smile_phantom(
            left, right, schedule=Schedule(lead_in_s=1.2, rise_s=0.8, hold_s=1.5, release_s=0.8, rest_s=1.0, reps=reps)
        )
        with context.visitor_work() as admitted:
            if admitted:
                frames = PhantomRenderer(spec).frames()
                result, _ = run_analysis(frames, spec.n_frames, spec.fps, "virtual patient", None)
                st.session_state["demo_result"] = result
            else:
                st.warning(context.VISITORS_BUSY)
    if "demo_result" in st.session_state:
        show_result(st.session_state["demo_result"])


def upload_tab() -> None:
    who = context.principal()
    patient = context.current_patient() if who is not None else None
    keeps = patient is not None and not patient.is_demo
    demo = who is None or who.is_demo
    st.write(
        "Film yourself facing the camera: rest for a second, then smile gently a few times, "
        "relaxing in between. Your video is only used to measure your smiles, then let go: it is never saved. "
        + ("Only the numbers are kept, if you save them." if keeps else "Nothing is kept.")
    )
    sides = ["Not sure", "Left", "Right"]
    on_record = patient.affected_side if patient is not None else None
    affected = st.radio(
        "Which side is affected?",
        sides,
        index=sides.index(on_record.capitalize()) if on_record else 0,
        horizontal=True,
        key="affected",
    )
    up = st.file_uploader("Your video", type=UPLOAD_TYPES, key="upload", max_upload_size=upload_limit_mb(demo))
    if up is None:
        return
    # The name the browser sent is only ever shown, as plain text; what the file
    # is comes from its first bytes, and its size is checked before it is written.
    shown = display_name(up.name)
    st.text(f"Your video: {shown}")
    side = None if affected == "Not sure" else affected.lower()
    measured = measure_upload(up, shown, side, demo)
    if measured is None:
        return
    key, (result, fps_guessed, fps) = measured
    if fps_guessed:
        st.info(f"The video did not say how many frames it has per second; we assumed {fps:g}.")
    show_result(result)
    if result.reps and keeps:
        save_upload(patient, result, key, side)
    elif result.reps and patient is not None and patient.is_demo:
        st.caption("This is the demo: the numbers are shown, not saved.")


def upload_limit_mb(demo: bool) -> int:
    """The largest video measured, MB: the anonymous demo's is small."""
    return DEMO_UPLOAD_MB if demo else MAX_UPLOAD_MB


def measure_upload(
    up, shown: str, side: str | None, demo: bool
) -> tuple[tuple, tuple[AnalysisResult, bool, float]] | None:
    """(key, (result, fps guessed, fps)) of the upload, measured once per file, side and
    left-right answer: a rerun (a click anywhere) shows the same numbers without reading
    the video again. A file over the limit is refused here too (not every browser checks)."""
    data = up.getbuffer()
    size, limit = max(up.size, len(data)), upload_limit_mb(demo) * 2**20
    if demo and size > limit:
        st.info(DEMO_TOO_LARGE)
        return None
    try:
        container = check_upload(bytes(data[:HEAD_BYTES]), size, limit)
    except VideoError as err:
        st.error(f"{err}.")
        return None
    suffix = CONTAINER_SUFFIX[container]
    try:
        found = st.session_state.get("upload_still")
        if found is None or found[0] != up.file_id:
            with private_copy(data, suffix) as path, VideoReader(path, name="This file") as video:
                found = (up.file_id, labelled_still(video))
            st.session_state["upload_still"] = found
        still = found[1]
        if still is not None:
            # Phones often save front-camera videos as a mirror image: then left and
            # right would swap. The person checks before any number is shown.
            st.image(still, caption="Where FaceCoach sees your left and right.", width=480)
            answer = st.radio(
                "Is **your left** written on your left cheek?",
                [SIDES_RIGHT, SIDES_SWAPPED],
                index=None,
                key=f"sides_{up.file_id}",
            )
            if answer is None:
                st.info("Please check the picture and answer; then your numbers are shown.")
                return None
            mirrored = answer == SIDES_SWAPPED
        else:
            st.info("We could not find your face in the first seconds to check left and right.")
            mirrored = False
        key = (up.file_id, side, mirrored)
        kept = st.session_state.get("measured_upload")
        if kept is not None and kept[0] == key:
            if kept[2] is not None:
                st.image(kept[2], caption="The biggest moment of your smile (shown as a mirror).", width=480)
            return key, kept[1]
        with context.visitor_work() as admitted:
            if not admitted:
                st.warning(context.VISITORS_BUSY)
                return None
            with private_copy(data, suffix) as path, VideoReader(path, name="This file", mirrored=mirrored) as video:
                info = video.info
                result, biggest = run_analysis(iter(video), info.frame_count, info.fps, shown, side, mirrored)
    except FaceCoachError as err:
        st.error(f"Sorry, we could not use that video. {err}.")
        return None
    measured = (result, info.fps_was_guessed, info.fps)
    st.session_state["measured_upload"] = (key, measured, biggest)
    return key, measured


def save_upload(patient, result: AnalysisResult, key: tuple, side: str | None) -> None:
    """Offer to keep the numbers (never the video) in the patient's record, once per measurement
    (the same file measured with another side or left-right answer is another measurement)."""
    saved = st.session_state.setdefault("saved_uploads", {})
    if key in saved:
        st.success("Saved to your record. You will see it on *My progress*.")
        return
    if st.button("Save these numbers to my record", type="primary", key="save_upload"):
        exercise = get_exercise("smile")
        records = context.access()
        opened = st.session_state.setdefault("opened_uploads", {})  # a session opened, not yet closed
        try:
            if key not in opened:
                planned = {exercise.id: {"reps": len(result.reps)}}
                opened[key] = records.start_session(patient.id, exercise.id, "video", side, planned)
            records.finish_session(opened[key], video_session(result, exercise))
        except Forbidden as err:
            context.forbidden(err)
            return
        except Exception:  # noqa: BLE001 - the database failed: say so kindly, keep the numbers on screen
            log.exception("saving a measured video failed")
            st.warning("We couldn't save this just now. Please try again in a moment.")
            return
        saved[key] = opened.pop(key)
        st.rerun()  # the button goes; the page says it is saved


st.title("Measure a video")
st.caption("Gentle, even facial exercises, measured side by side.")
remove_stale_folders_once()  # uploads' folders left by a FaceCoach stopped while measuring one
context.model()
demo, mine = st.tabs(["Try the virtual patient", "Measure my video"])
with demo:
    demo_tab()
with mine:
    upload_tab()
