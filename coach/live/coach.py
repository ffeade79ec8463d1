"""The live coach: the one thread boundary between a video callback and the page.

A video callback (streamlit-webrtc's worker, or the demo player) calls
:meth:`LiveCoach.process` with each frame as it arrives; the page reads
:meth:`LiveCoach.snapshot` whenever it redraws. Only the newest frame is worked
on: a frame that arrives while another is being processed is dropped, never
queued. Time comes from the frame timestamps only, so the same frames give the
same scores live as offline.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from coach.engine.exercise import ExerciseSpec
from coach.engine.model import ModelFile
from coach.engine.observation import FaceObservation
from coach.sessions.cues import Cue, LiveFeedback, SessionEngine, SessionUpdate
from coach.sessions.plan import SessionPlan
from coach.sessions.scoring import RepScore
from coach.sessions.series import RepSeries
from coach.sessions.summary import SessionResult

log = logging.getLogger(__name__)

FPS_WINDOW_S = 2.0  # processing rate is measured over this much stream time
MAX_WARNINGS = 20


@dataclass(frozen=True)
class LiveSnapshot:
    """What the page may show, copied under the coach's lock. Never changes once made.

    Attributes:
        cue: the last cue, or None before the first frame.
        feedback: the last frame's live feedback, or None.
        status: the last frame's measure status (``"ok"``, ``"no_face"``, ``"turned"``…), or None.
        exercise: the exercise the cue is about (its target, unit and measure), or None.
        reps: every rep scored so far, in order.
        done: the session has ended (all reps done, or :meth:`LiveCoach.finish` called).
        result: the session result once done, else None.
        t_s: timestamp of the last processed frame, seconds, or None.
        frames_processed: frames the engine worked on.
        frames_dropped: frames skipped because another frame was still being processed.
        frames_stale: frames ignored because their timestamp did not increase.
        fps: processed frames per second of stream time, over the last 2 s, or None.
        brightness: mean grey level (0–255) of the last processed frame, or None.
        error: the last error message (a failed frame or callback), or None.
        warnings: messages about failed callbacks (the newest 20), oldest first.
        last_update: the last frame's full update (for drawing), or None.
        last_observation: the face found in the last processed frame, or None.
    """

    cue: Cue | None = None
    feedback: LiveFeedback | None = None
    status: str | None = None
    exercise: ExerciseSpec | None = None
    reps: tuple[RepScore, ...] = ()
    done: bool = False
    result: SessionResult | None = None
    t_s: float | None = None
    frames_processed: int = 0
    frames_dropped: int = 0
    frames_stale: int = 0
    fps: float | None = None
    brightness: float | None = None
    error: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)
    last_update: SessionUpdate | None = None
    last_observation: FaceObservation | None = None


def frame_brightness(frame_rgb: np.ndarray) -> float:
    """Mean grey level (0–255) of an (H, W, 3) RGB frame, from every 8th pixel."""
    sample = np.asarray(frame_rgb)[::8, ::8]
    if sample.size == 0:
        return 0.0
    rgb = sample.reshape(-1, sample.shape[-1])[:, :3].astype(np.float32)
    return float((rgb @ np.array([0.299, 0.587, 0.114], np.float32)).mean())


class LiveCoach:
    """Runs a session plan on frames that arrive in real time, from any thread.

    Args:
        plan: the session to run.
        affected_side: the patient's affected side, if known.
        model: the landmark model (resolved when omitted); the coach makes its own tracker.
        on_rep: called on the processing thread with each rep and its series as
            soon as it is scored (e.g. to save it). Its exceptions are caught and
            shown in the snapshot's warnings.
        on_finish: called once with the session result when the session ends.
    """

    def __init__(
        self,
        plan: SessionPlan,
        affected_side: str | None = None,
        model: ModelFile | None = None,
        on_rep: Callable[[RepScore, RepSeries], None] | None = None,
        on_finish: Callable[[SessionResult], None] | None = None,
    ) -> None:
        self.engine = SessionEngine(plan, affected_side, model=model)
        self._on_rep = on_rep
        self._on_finish = on_finish
        # _work: held while a frame (or finish) runs; _state: guards the snapshot only.
        self._work = threading.Lock()
        self._state = threading.Lock()
        self._worker: int | None = None
        self._last_t: float | None = None
        self._times: deque[float] = deque()
        self._finished = False
        self._stopping = False  # finish() was called: frames from now on are not worked on
        self._result: SessionResult | None = None
        self._snap = LiveSnapshot(exercise=self.engine.exercise)

    # -- the video thread -----------------------------------------------------------
    def process(self, frame_rgb: np.ndarray, t_s: float) -> SessionUpdate | None:
        """Work on one frame, on the caller's (video) thread.

        Args:
            frame_rgb: (H, W, 3) uint8 RGB frame, unmirrored.
            t_s: its timestamp, seconds; must be later than the last processed frame's.

        Returns:
            The frame's update, or None when the frame was not worked on: another
            frame is being processed (dropped), the timestamp did not increase
            (stale), the session is over, or the frame failed (see ``error``).
        """
        if not self._work.acquire(blocking=False):
            self._count("frames_dropped")
            return None
        try:
            self._worker = threading.get_ident()
            return self._process(frame_rgb, float(t_s))
        finally:
            self._worker = None
            self._work.release()

    def _process(self, frame_rgb: np.ndarray, t_s: float) -> SessionUpdate | None:
        if self._finished or self._stopping:
            return None
        if not math.isfinite(t_s) or (self._last_t is not None and t_s <= self._last_t):
            self._count("frames_stale")
            return None
        self._last_t = t_s  # the tracker has seen this time even if the frame fails
        try:
            update = self.engine.update(frame_rgb, t_s)
        except Exception as err:  # noqa: BLE001 - a bad frame must not stop the video thread
            log.exception("frame at %.3f s failed", t_s)
            self._set(error=f"A frame could not be processed ({type(err).__name__}: {err})")
            return None
        self._times.append(t_s)
        while self._times and t_s - self._times[0] > FPS_WINDOW_S:
            self._times.popleft()
        span = self._times[-1] - self._times[0]
        self._set(
            cue=update.cue,
            feedback=update.feedback,
            status=update.measures.status,
            exercise=self.engine.exercise,
            reps=tuple(self.engine.reps),
            t_s=t_s,
            frames_processed=self._snap.frames_processed + 1,
            fps=(len(self._times) - 1) / span if span > 0 else None,
            brightness=frame_brightness(frame_rgb),
            last_update=update,
            last_observation=self.engine.last_observation,
        )
        for rep, series in zip(update.completed, update.completed_series, strict=True):
            self._call("on_rep", self._on_rep, rep, series)
        if self.engine.done and not self._finished:
            self._finish()
        return update

    # -- the page thread ------------------------------------------------------------
    def snapshot(self) -> LiveSnapshot:
        """The latest state, safe to read from any thread."""
        with self._state:
            return self._snap

    @property
    def done(self) -> bool:
        return self.snapshot().done

    def finish(self) -> SessionResult:
        """End the session now (or return its result if it has ended).

        Scores what was done (a rep in progress is not counted), calls
        ``on_finish`` if not called yet, and releases the tracker. Safe to call
        more than once, from any thread, and from inside ``on_rep``.
        """
        if self._worker == threading.get_ident():  # called from a callback on the video thread
            return self._finish()
        # A busy video thread must not keep the lock from us: it stops working on frames now.
        self._stopping = True
        with self._work:
            return self._finish()

    def close(self) -> None:
        """Same as :meth:`finish`, for ``with`` blocks."""
        self.finish()

    def __enter__(self) -> LiveCoach:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers (the work lock is held) -------------------------------------------
    def _finish(self) -> SessionResult:
        if self._finished:
            assert self._result is not None
            return self._result
        self._finished = True
        self._result = self.engine.result()
        self.engine.close()
        self._set(done=True, result=self._result, reps=tuple(self.engine.reps))
        self._call("on_finish", self._on_finish, self._result)
        return self._result

    def _call(self, name: str, fn: Callable[..., None] | None, *args: object) -> None:
        if fn is None:
            return
        try:
            fn(*args)
        except Exception as err:  # noqa: BLE001 - the video thread must survive a failing callback
            log.exception("%s failed", name)
            msg = f"{name} failed: {type(err).__name__}: {err}"
            self._set(error=msg, warnings=(*self._snap.warnings, msg)[-MAX_WARNINGS:])

    def _count(self, name: str) -> None:
        with self._state:
            self._snap = replace(self._snap, **{name: getattr(self._snap, name) + 1})

    def _set(self, **changes: object) -> None:
        with self._state:
            self._snap = replace(self._snap, **changes)  # type: ignore[arg-type]
