"""Demo mode: the virtual patient played in real time through the live coach.

The phantom's frames go through exactly the same pipeline as a camera's
(:meth:`LiveCoach.process`). The wall clock is used only to pace playback;
every timestamp the coach sees is the phantom's own.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from coach.live.coach import LiveCoach
from coach.sessions.cues import SessionUpdate
from coach.virtual.phantom import PhantomRenderer, PhantomSpec


class FramePacer:
    """Which frame of a video is due now, when played at ``speed`` × real time.

    Args:
        fps: the video's frame rate (1 to 240).
        speed: playback speed (0.1 to 10; 1 = real time).
        clock: a monotonic clock in seconds (for tests).
    """

    def __init__(self, fps: float, speed: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        if not 1.0 <= fps <= 240.0:
            raise ValueError(f"fps must be 1 to 240, got {fps}")
        if not 0.1 <= speed <= 10.0:
            raise ValueError(f"speed must be 0.1 to 10, got {speed}")
        self.fps = fps
        self.speed = speed
        self._clock = clock
        self._t0 = clock()

    def elapsed_s(self) -> float:
        """Video time reached, seconds."""
        return (self._clock() - self._t0) * self.speed

    def due(self) -> int:
        """Index of the newest frame whose time has come."""
        return math.floor(self.elapsed_s() * self.fps + 1e-9)

    def wait_s(self, index: int) -> float:
        """Wall-clock seconds until frame ``index`` is due (0 if it already is)."""
        return max(0.0, (index / self.fps - self.elapsed_s()) / self.speed)


@dataclass(frozen=True)
class Playback:
    """How a demo playback went.

    Attributes:
        shown: frames rendered and given to the coach.
        skipped: frames passed over because playback had fallen behind.
        stopped: playback was stopped before the video or the session ended.
    """

    shown: int
    skipped: int
    stopped: bool


def play_phantom(
    spec: PhantomSpec,
    coach: LiveCoach,
    stop_event: threading.Event,
    speed: float = 1.0,
    on_frame: Callable[[np.ndarray, SessionUpdate | None], None] | None = None,
) -> Playback:
    """Play a virtual patient to ``coach`` in real time, until its video or session ends.

    When rendering and processing fall behind, frames are skipped (the newest
    due frame is always the one shown); nothing ever queues.

    Args:
        spec: the virtual patient (e.g. from :func:`coach.virtual.session_phantom.session_phantom`).
        coach: the live coach to feed; it is not finished here.
        stop_event: set it (from any thread) to stop playback.
        speed: playback speed (0.1 to 10; 1 = real time).
        on_frame: called with each frame shown and its update (None when the
            coach did not process it), e.g. to display it.
    """
    renderer = PhantomRenderer(spec)
    pacer = FramePacer(spec.fps, speed)
    n = spec.n_frames
    last = -1
    shown = skipped = 0
    while not stop_event.is_set() and not coach.done:
        i = min(pacer.due(), n - 1)
        if i <= last:
            if last >= n - 1:
                break
            stop_event.wait(pacer.wait_s(last + 1))
            continue
        skipped += i - last - 1
        last = i
        frame = renderer.frame(i)
        update = coach.process(frame, i / spec.fps)
        shown += 1
        if on_frame is not None:
            on_frame(frame, update)
    return Playback(shown, skipped, stop_event.is_set())
