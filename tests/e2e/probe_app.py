"""A minimal live-video page for tests/e2e/test_harness.py: counts the frames that reach the server.

Run by ``streamlit run``, which puts this folder on ``sys.path`` (hence ``import pattern``).
The camera pattern is the one the real app should use (see :func:`camera`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import av
import streamlit as st
from pattern import read_index
from streamlit_webrtc import WebRtcMode, WebRtcStreamerContext, webrtc_streamer

KEY = "probe-camera"


class FrameTally:
    """What the worker thread received; the page reads it under the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._indices: set[int] = set()
        self._last_time_s: float | None = None

    def __call__(self, frame: av.VideoFrame) -> av.VideoFrame:
        index = read_index(frame.to_ndarray(format="gray"))
        with self._lock:
            self._count += 1
            if index is not None:
                self._indices.add(index)
            self._last_time_s = frame.time
        return frame

    def snapshot(self) -> tuple[int, int, float | None]:
        """(frames received, distinct file frames recognised, last frame.time in s)."""
        with self._lock:
            return self._count, len(self._indices), self._last_time_s


def camera(key: str, callback: Callable[[av.VideoFrame], av.VideoFrame]) -> WebRtcStreamerContext:
    """``webrtc_streamer`` for a local page, robust to streamlit-webrtc 0.79's stale-context reset.

    0.79 resets (and stops) a playing stream when Streamlit's script-run counter has
    moved by 2 or more since the component last rendered, meaning "the user left the
    page and came back". The counter is bumped on the event-loop thread when a run's
    "finished" message is sent, so two quick full reruns (the SDP answer, ICE candidates)
    can both read the same value, and the next run sees a jump of 2 although the
    component rendered every time: one START in 7 to 12 died after 0 to 30 frames.
    The page renders the component on every full run, so the heuristic is cleared; a
    real return to the page still resets, through the fresh iframe reporting "stopped".
    """
    ctx = st.session_state.get(key)
    if ctx is not None:
        ctx._last_rendered_run_count = None  # pinned streamlit-webrtc==0.79.0; see the docstring
    return webrtc_streamer(
        key=key,
        mode=WebRtcMode.SENDRECV,
        rtc_configuration={"iceServers": []},  # local: no STUN servers to wait for
        media_stream_constraints={"video": True, "audio": False},
        video_frame_callback=callback,
        async_processing=True,
    )


if "tally" not in st.session_state:
    st.session_state["tally"] = FrameTally()
tally: FrameTally = st.session_state["tally"]

st.title("Camera probe")
camera(KEY, tally)


@st.fragment(run_every=0.5)
def counts() -> None:
    n, distinct, last_t = tally.snapshot()
    st.write(f"frames received: {n}")
    st.write(f"file frames recognised: {distinct}")
    st.write(f"last frame time: {last_t if last_t is None else round(last_t, 3)} s")


counts()
