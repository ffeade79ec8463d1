"""Coach: a guided session, live, with the camera or with the virtual patient.

The camera's frames go from the browser to a worker thread (streamlit-webrtc);
the coach runs there and draws on each frame. This page only reads the coach's
snapshot. Reps are saved as they are scored.
"""

from __future__ import annotations

import html
import json
import statistics

import streamlit as st
import streamlit.components.v1 as components

from coach.errors import FaceCoachError
from coach.live.coach import LiveSnapshot
from coach.sessions.plan import HOLD
from coach.sessions.summary import ExerciseSummary, summarise_exercise
from coach.words import count, was_were
from exercises import get_program, load_library
from ui import camera_link, context
from ui.live_run import LiveRun, RunSettings, RunSlot, camera_callback, quick_plan, virtual_patient
from ui.text import plain

QUICK_REPS = 3
PHONE_ORDER_CSS = """<style>
.facecoach-cue { font-size: 2.1rem; font-weight: 600; line-height: 1.2; }
@media (max-width: 640px) {
  [data-testid="stLayoutWrapper"]:has(> .st-key-coach_settings), .st-key-coach_settings { order: 10; }
  .st-key-coach_settings { margin-top: 1.5rem; }
  .facecoach-cue { font-size: 1.6rem; }
}
</style>"""
SOURCES = {"camera": "My camera", "demo": "The virtual patient (no camera needed)"}


def _slot() -> RunSlot:
    if "coach_slot" not in st.session_state:
        st.session_state["coach_slot"] = RunSlot()
    return st.session_state["coach_slot"]


def _settings(patient, source: str, simple_face: bool, mirror: bool, camera_mirrored: bool) -> RunSettings | None:
    choice = st.session_state.get("coach_plan_choice", "quick")
    assignment = context.access().assignment(patient.id)
    if choice == "program" and assignment is not None:
        try:
            plan = get_program(assignment.program_id).plan(assignment.overrides)
        except FaceCoachError as err:
            st.error(f"Your program could not be loaded ({plain(str(err))}). Please tell your therapist.")
            return None
        return RunSettings(
            patient.id,
            assignment.program_id,
            plan,
            patient.affected_side,
            source,
            assignment.overrides,
            mirror,
            simple_face,
            camera_mirrored,
        )
    lib = load_library()
    ex_id = st.session_state.get("coach_exercise", "smile")
    ex_id = ex_id if ex_id in lib else "smile"
    plan = quick_plan(lib[ex_id], QUICK_REPS)
    return RunSettings(
        patient.id,
        ex_id,
        plan,
        patient.affected_side,
        source,
        {ex_id: {"reps": QUICK_REPS}},
        mirror,
        simple_face,
        camera_mirrored,
    )


def _status(snap: LiveSnapshot, run: LiveRun) -> None:
    """The words under the picture: what to do, how each side is doing, what was scored."""
    cue = snap.cue
    if cue is None:
        st.info("Getting ready… look at the camera.")
        return
    text = html.escape(cue.words)  # the hold's countdown is on the picture only (one clock, never two)
    st.caption(f"{plain(cue.exercise_name)} · {min(cue.rep, cue.reps)} of {cue.reps}")
    st.markdown(f"<div class='facecoach-cue'>{text}</div>", unsafe_allow_html=True)
    fb = snap.feedback
    if fb is not None and fb.progress is not None and cue.phase in ("move", HOLD):
        c1, c2 = st.columns(2)
        c1.progress(min(1.0, max(0.0, fb.progress.left)), text="Left side")
        c2.progress(min(1.0, max(0.0, fb.progress.right)), text="Right side")
    if fb is not None:
        for m in fb.messages:
            st.warning(m)
    if snap.brightness is not None and snap.brightness < 45:
        st.warning("It's a bit dark. More light on your face helps.")
    if run.save_error:
        st.warning(run.save_error)
    done = [r for r in snap.reps if r.completed]
    if snap.reps:
        st.write(f"**{len(done)}** movement{'s' if len(done) != 1 else ''} scored so far.")
    plan = run.settings.plan
    for step in range(min(cue.step, len(plan.steps))):
        e = summarise_exercise(
            plan.steps[step], step, [r for r in snap.reps if r.step == step], 0, run.settings.affected_side
        )
        st.success(_exercise_words(e, context.exercise_names()))
    if st.session_state.get("coach_speak") and cue.phase != HOLD:
        _speak(cue.text)


def _exercise_words(e: ExerciseSummary, names: dict[str, str]) -> str:
    """One exercise's result in plain words."""
    sym = "" if e.symmetry_pct is None else f", {e.symmetry_pct:.0f} % even"
    weaker = f" Your {e.weaker_side} side moved less." if e.weaker_side else " Both sides moved about the same."
    if not e.completed:
        weaker = ""
    extra = f" Your eye or mouth joined in {count(e.synkinesis_reps, 'time')}." if e.synkinesis_reps else ""
    return f"**{plain(names.get(e.exercise_id, e.name))}**: {e.completed} of {e.planned} done{sym}.{weaker}{extra}"


def _speak(text: str) -> None:
    """Say a new cue aloud in the browser (once per cue)."""
    if st.session_state.get("coach_last_spoken") == text:
        return
    st.session_state["coach_last_spoken"] = text
    components.html(
        "<script>const u=new SpeechSynthesisUtterance(" + json.dumps(text) + ");u.rate=0.9;"
        "window.parent.speechSynthesis.cancel();window.parent.speechSynthesis.speak(u);</script>",
        height=0,
    )


def _summary(run: LiveRun) -> None:
    snap = run.snapshot()
    result = snap.result
    if result is None:
        return
    if not run.all_saved:
        st.warning(run.save_error or "Some results are not saved yet.")
        if st.button("Try saving again", key="coach_save_again") and run.save_pending():
            st.success("Saved. Thank you for waiting.")
    names = context.exercise_names()
    st.subheader("Well done!" if result.score is not None else "Session ended")
    if result.score is not None:
        st.metric("Today's score", f"{result.score} / 100")
        for line in result.score_explained:
            st.write("• " + line)
    for e in result.exercises:
        if e.completed:
            st.write(_exercise_words(e, names))
    for w in result.warnings:
        st.info(w)
    quick = sum("too_fast" in r.flags for r in result.reps if r.completed)
    if quick:
        st.info(f"{count(quick, 'movement')} {was_were(quick)} quick. Next time, go slower: slow is what helps.")
    if not result.reps:
        st.info("Nothing was scored this time. Make sure your face is in the picture, then try again.")
    if run.settings.source == "demo":
        if run.rep_rates:  # how smoothly the coach kept up on this computer (a camera sends about 30)
            rate = statistics.median(run.rep_rates)
            st.caption(f"The coach watched the virtual patient {rate:.1f} times a second (a camera sends about 30).")
        st.caption("The virtual patient's practice is not saved in anyone's record.")
    elif not run.saves:
        st.caption("This is the demo: your practice is not saved.")


CAMERA_KEY = "coach-camera"


def _camera(callback):
    """The browser's camera, through streamlit-webrtc, processed by ``callback`` on a worker thread.

    The browser is asked for a steady bit rate from the first frame and, in Chromium, for the
    camera without its encoder's noise filter (``ui/camera_link.py``; ``FACECOACH_CAMERA_TUNING=0``
    leaves the browser's own settings).

    streamlit-webrtc 0.79 resets (stops) a playing stream when Streamlit's run counter
    moved by 2 or more since the component last rendered ("the user left the page").
    That counter is bumped on the event loop when a run finishes, so the quick reruns
    of the connection set-up can read one value twice and the next run sees a jump of
    2 although the component rendered every time: about one START in 10 died after a
    few frames. This page renders the component on every full run, so the check is
    cleared first; a real return to the page still resets, through the fresh
    component reporting "stopped". (``tests/test_live_page.py`` checks the field exists.)
    """
    from streamlit_webrtc import WebRtcMode, webrtc_streamer

    if camera_link.enabled():
        camera_link.install()
        components.html(camera_link.NO_NOISE_FILTER_HTML, height=0)
    ctx = st.session_state.get(CAMERA_KEY)
    if ctx is not None and hasattr(ctx, "_last_rendered_run_count"):
        ctx._last_rendered_run_count = None  # pinned streamlit-webrtc==0.79.0; see above
    return webrtc_streamer(
        key=CAMERA_KEY,
        mode=WebRtcMode.SENDRECV,
        rtc_configuration={"iceServers": []},
        media_stream_constraints={"video": {"width": 640, "height": 480}, "audio": False},
        video_frame_callback=callback,
        async_processing=True,
        video_html_attrs={"style": {"width": "100%"}, "controls": False, "autoPlay": True, "muted": True},
        translations={
            "start": "START",
            "stop": "STOP",
            "select_device": "Choose camera",
            "media_api_not_available": "This browser cannot use a camera here. Try the virtual patient instead.",
            "device_ask_permission": "Please allow FaceCoach to use your camera.",
            "device_not_available": "No camera was found. You can try the virtual patient instead.",
            "device_access_denied": "The camera was not allowed. You can allow it in your browser, "
            "or try the virtual patient instead.",
        },
    )


st.title("Coach")
patient = context.require_patient()
model = context.model()
records = context.access()
slot = _slot()
busy = slot.run is not None and not slot.run.finished

# On a phone the page is one column: the choices go below the picture and the cue, so
# that during a movement the patient sees both without scrolling (issue 14).
st.html(PHONE_ORDER_CSS)
with st.container(key="coach_settings"):
    c1, c2 = st.columns([3, 2])
    with c1:
        st.radio(
            "What to practise",
            ["quick", "program"],
            format_func=lambda c: "Today's program" if c == "program" else "One exercise",
            horizontal=True,
            key="coach_plan_choice",
            disabled=busy,
        )
        if st.session_state.get("coach_plan_choice", "quick") == "quick":
            lib = load_library()
            st.selectbox(
                "Exercise",
                list(lib),
                index=list(lib).index("smile"),
                format_func=lambda e: f"{lib[e].name} ({QUICK_REPS} times)",
                key="coach_exercise",
                disabled=busy,
            )
        source = st.radio(
            "Who is doing it",
            list(SOURCES),
            format_func=SOURCES.get,
            horizontal=True,
            key="coach_source",
            disabled=busy,
        )
    with c2:
        simple_face = st.toggle("Show a simple face instead of my video", key="coach_simple_face")
        mirror = st.toggle("Show as a mirror", value=True, key="coach_mirror")
        camera_mirrored = st.toggle(
            "My camera sends a mirror image",
            key="coach_camera_mirrored",
            disabled=busy or source != "camera",
            help="Turn this on if the coach mixes up your left and right: when you lift your left "
            "mouth corner, the bar marked L should move.",
        )
        st.toggle("Speak the cues", key="coach_speak")

settings = _settings(patient, source, simple_face, mirror, camera_mirrored)
if settings is None:
    st.stop()
# Only a patient's own movements go in their record: not the virtual patient's, and
# nothing from the demo, so a visit never changes what the next visitor sees.
keeps = source == "camera" and not patient.is_demo
visitors = context.visitor_runs() if records.who.is_demo else None  # anonymous visitors' runs are capped


def new_run() -> LiveRun | None:
    def make() -> LiveRun:
        return LiveRun(records if keeps else None, settings, model)

    return make() if visitors is None else visitors.start(make)


slot.factory = new_run
if visitors is not None and visitors.busy() and not (slot.run is not None and slot.run.active):
    st.warning(context.VISITORS_BUSY)

video_col, panel_col = st.columns([3, 2], gap="large")
if source == "camera":
    with video_col:
        st.caption(
            "Press **START** and allow the camera. Sit at arm's length, face the camera, in good light. "
            + (
                "This is the demo: nothing is saved."
                if patient.is_demo
                else "Your video is only used to measure your movements as you make them, then let go: "
                "it is never saved. We keep only the numbers."
            )
        )
        try:
            ctx = _camera(camera_callback(slot))
        except Exception as err:  # the component needs a real browser session
            st.error(
                f"The camera could not start here ({type(err).__name__}). You can try the virtual patient instead."
            )
            st.stop()
    if not ctx.state.playing and slot.run is not None:
        slot.stop()
    playing = ctx.state.playing
else:
    playing = slot.run is not None and slot.run.demo_running
    with video_col:
        picture = st.container()  # above the buttons, as the camera's picture is above its own
        buttons = st.container(horizontal=True)  # side by side, on a phone too
        if buttons.button("Start", type="primary", key="demo_start", disabled=playing, width="stretch"):
            slot.stop()
            run = slot.factory()
            if run is not None:
                slot.run = run
                spec = virtual_patient(settings.plan, settings.affected_side or "left")
                run.start_demo(spec)
                playing = True
        if buttons.button("Stop", key="demo_stop", disabled=not playing, width="stretch"):
            slot.stop()
            playing = False


@st.fragment(run_every=0.25 if playing and source == "demo" else None)
def demo_view() -> None:
    run = slot.run or slot.last
    if run is not None and run.image is not None:
        st.image(run.image, caption="The virtual patient, coached live", width="stretch")
    else:
        st.info("Press Start to watch the virtual patient do the exercise, coached live.")


@st.fragment(run_every=0.5 if playing else None)
def live_panel() -> None:
    run = slot.run or slot.last
    if run is None:
        st.info("When you are ready, press start. Then follow the words here and on the screen.")
        return
    snap = run.snapshot()
    if snap.done or run.finished:
        _summary(run)
        if source == "demo" and slot.run is run and not run.demo_running:
            slot.run, slot.last = None, run
            if playing:
                st.rerun()  # the whole page: the start button comes back
    else:
        _status(snap, run)


if source == "demo":
    with picture:
        demo_view()
with panel_col:
    live_panel()
