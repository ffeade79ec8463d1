"""One live practice session, wired to the records: frames in, pictures out, reps saved as they happen.

No Streamlit here: the video callback thread and the demo thread call it, the
page only reads :meth:`LiveRun.snapshot`. So it can be tested without a browser.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from coach.engine.exercise import ExerciseSpec
from coach.engine.model import ModelFile
from coach.live.coach import LiveCoach, LiveSnapshot
from coach.sessions.plan import SessionPlan
from coach.sessions.scoring import RepScore
from coach.sessions.series import RepSeries
from coach.sessions.summary import SessionResult
from coach.store.auth import Forbidden
from coach.store.info import utcnow
from coach.virtual.phantom import PhantomSpec
from coach.virtual.session_phantom import Performance, session_phantom
from ui.overlay import draw_overlay, draw_simple_face

log = logging.getLogger(__name__)

EYE_CLOSURE_MAX_PCT = 90.0  # the virtual patient's firmest eye closure, % (see virtual_patient)
IDLE_AFTER_S = 5.0  # a run that measured no frame for this long is not coaching anyone
RETRY_EVERY_S = 5.0  # while something is unsaved, the video thread tries again at most this often


@dataclass(frozen=True)
class RunSettings:
    """What the patient chose for this session."""

    patient_id: int
    program_id: str
    plan: SessionPlan
    affected_side: str | None
    source: str  # "camera" or "demo"
    overrides: dict[str, dict[str, Any]]
    mirror: bool = True
    simple_face: bool = False
    camera_mirrored: bool = False  # the camera itself sends a mirror image (some virtual cameras do)


class Records(Protocol):
    """Where a live session saves: a :class:`Store`, or (in the app) the signed-in person's
    :class:`coach.store.access.Access`, which checks each write."""

    def start_session(
        self,
        patient_id: int,
        program_id: str,
        source: str = ...,
        affected_side: str | None = ...,
        overrides: dict | None = ...,
        started_at: datetime | None = ...,
    ) -> int: ...

    def add_rep(self, session_id: int, rep: RepScore, series: Any | None = ...) -> int: ...

    def finish_session(self, session_id: int, result: SessionResult | None, stopped: bool = ...) -> None: ...


class LiveRun:
    """A session in progress: the coach, its database session, and the last picture shown.

    The database session is opened with the first frame (pressing start without
    a camera leaves no empty session), each rep is saved the moment it is
    scored, and the session is closed when the program ends or :meth:`stop` is called.

    When the database fails, nothing stops: the reps that could not be written
    (with their series) and the session's end wait in memory, :attr:`save_error`
    says so in plain words, and they are written in order at the next rep, at
    the end, when :meth:`stop` or :meth:`save_pending` is called, or on a later
    frame (at most every ``RETRY_EVERY_S``). Writing a rep twice is harmless
    (the store keeps the first).

    With ``store=None`` nothing is written anywhere (the virtual patient, and the demo
    visitor: practice that is nobody's record); the result is still shown.
    """

    def __init__(self, store: Records | None, settings: RunSettings, model: ModelFile | None = None) -> None:
        self.store = store
        self.rep_rates: list[float] = []  # frames a second the coach measured, per repetition
        self.settings = settings
        self.session_id: int | None = None
        self.save_error: str | None = None
        self._refused: str | None = None  # why saving stopped for good (signed out), if it did
        self._lock = threading.Lock()  # guards the records below (and the store calls)
        self._closed = False
        self._started_at: datetime | None = None
        self._unsaved: list[tuple[RepScore, RepSeries | None]] = []
        self._unsaved_end: tuple[SessionResult, bool] | None = None  # (result, stopped)
        self._last_failure: float | None = None  # time.monotonic() of the last failed write
        self._image: np.ndarray | None = None
        self._thread: threading.Thread | None = None
        self.last_active = time.monotonic()  # the last frame it measured (for the demo's cap)
        self._stop = threading.Event()
        self.coach = LiveCoach(
            settings.plan,
            settings.affected_side,
            model=model,
            on_rep=self._save_rep,
            on_finish=self._save_result,
        )

    # -- records (self._lock is held) ---------------------------------------------------
    def _open(self) -> None:
        if self.session_id is None:
            s = self.settings
            if self._started_at is None:
                self._started_at = utcnow()  # a session opened late still starts when the patient did
            self.session_id = self.store.start_session(
                s.patient_id, s.program_id, s.source, s.affected_side, s.overrides, started_at=self._started_at
            )

    def _flush(self) -> bool:
        """Write what is waiting, oldest first; True when nothing is left unsaved."""
        if self.store is None or self._refused is not None:
            self._unsaved.clear()
            self._unsaved_end = None
            return self._refused is None
        try:
            self._open()
            assert self.session_id is not None
            while self._unsaved:
                rep, series = self._unsaved[0]
                self.store.add_rep(self.session_id, rep, series)
                self._unsaved.pop(0)
            if self._unsaved_end is not None:
                result, stopped = self._unsaved_end
                self.store.finish_session(self.session_id, result, stopped=stopped)
                self._unsaved_end = None
        except Forbidden as err:
            # Signed out, or the sign-in ended (expired, account disabled, password changed):
            # this practice is no longer anyone's to save. Nothing is kept or retried.
            log.info("session %s: saving stopped (%s)", self.session_id, err)
            self._refused = f"{err}."
            self._unsaved.clear()
            self._unsaved_end = None
            self._last_failure = None
            self.save_error = self._refused
            return False
        except Exception:  # noqa: BLE001 - a failed write must not stop the session; it is kept and retried
            log.exception(
                "saving session %s failed; %d rep(s)%s kept for later",
                self.session_id,
                len(self._unsaved),
                " and the session's end" if self._unsaved_end else "",
            )
            self._last_failure = time.monotonic()
            self.save_error = self._unsaved_words()
            return False
        self._last_failure = None
        self.save_error = None
        return True

    def _unsaved_words(self) -> str:
        """What the patient is told while something is unsaved (the details go to the log)."""
        n = len(self._unsaved)
        if n == 1:
            return (
                "We couldn't save your last movement just now. Nothing is lost: it is kept here and we will try again."
            )
        if n:
            return (
                f"We couldn't save your last {n} movements just now. "
                "Nothing is lost: they are kept here and we will try again."
            )
        if self._unsaved_end is not None:
            return "We couldn't save today's results just now. Please keep this page open: we will try again."
        return "We couldn't reach your records just now. Your movements will be saved as soon as we can."

    @property
    def saves(self) -> bool:
        """True when this run's practice goes into a patient's record."""
        return self.store is not None

    def _save_rep(self, rep: RepScore, series: RepSeries) -> None:
        with self._lock:
            if series is not None and len(series) > 1 and series.t_s[-1] > series.t_s[0]:
                self.rep_rates.append((len(series) - 1) / float(series.t_s[-1] - series.t_s[0]))
            self._unsaved.append((rep, series))
            self._flush()

    def _save_result(self, result: SessionResult) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self.session_id is None and not result.reps and not self._unsaved:
                self.save_error, self._last_failure = None, None  # nothing happened: keep no empty session
                return
            self._unsaved_end = (result, not self.coach.engine.done)
            self._flush()

    @property
    def unsaved(self) -> tuple[RepScore, ...]:
        """The reps scored but not in the database yet (oldest first)."""
        with self._lock:
            return tuple(rep for rep, _ in self._unsaved)

    @property
    def all_saved(self) -> bool:
        """Every rep scored so far, and the session's end once it has ended, is in the database."""
        with self._lock:
            return not self._unsaved and self._unsaved_end is None and self.save_error is None

    def save_pending(self) -> bool:
        """Try now to write what could not be written (e.g. a "try again" button). True when all is saved."""
        with self._lock:
            if not self._unsaved and self._unsaved_end is None and self.save_error is None:
                return True
            return self._flush()

    def _retry_if_due(self) -> None:
        """On the video thread: another try when something waits and the last failure is old enough."""
        failed = self._last_failure
        if failed is None or time.monotonic() - failed < RETRY_EVERY_S:
            return
        if self._lock.acquire(blocking=False):  # never wait for another thread's write here
            try:
                if self._last_failure is not None:
                    self._flush()
            finally:
                self._lock.release()

    # -- frames ---------------------------------------------------------------------
    def on_frame(self, frame_rgb: np.ndarray, t_s: float) -> np.ndarray:
        """Process one camera frame (from the video thread) and return what the patient sees."""
        if self.session_id is None and self._started_at is None and not self._closed:
            with self._lock:
                self._started_at = utcnow()
                self._flush()  # if the database is down, the session is opened with the first rep saved
        if self.settings.camera_mirrored:
            # Turned back into what a camera sees, so that left and right are the patient's.
            frame_rgb = np.ascontiguousarray(frame_rgb[:, ::-1])
        self.last_active = time.monotonic()
        self.coach.process(frame_rgb, t_s)
        self._retry_if_due()
        image = self.draw(frame_rgb)
        self._image = image
        return image

    def draw(self, frame_rgb: np.ndarray) -> np.ndarray:
        snap = self.coach.snapshot()
        if self.settings.simple_face:
            h, w = frame_rgb.shape[:2]
            return draw_simple_face(snap, (w, h), mirror=self.settings.mirror)
        return draw_overlay(frame_rgb, snap, mirror=self.settings.mirror)

    @property
    def image(self) -> np.ndarray | None:
        """The last picture shown (for the demo's display)."""
        return self._image

    def snapshot(self) -> LiveSnapshot:
        return self.coach.snapshot()

    @property
    def finished(self) -> bool:
        return self._closed

    def stop(self) -> SessionResult:
        """End now (the patient pressed stop, or the page went away). Safe to call twice."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        result = self.coach.finish()
        self._retry_if_due()
        return result

    # -- the virtual patient ------------------------------------------------------------
    def start_demo(self, spec: PhantomSpec, speed: float = 1.0, on_end: Callable[[], None] | None = None) -> None:
        """Play the virtual patient through this run on a background thread, in real time."""
        from coach.live.play import play_phantom

        def work() -> None:
            try:
                play_phantom(spec, self.coach, self._stop, speed, on_frame=self._demo_frame)
            finally:
                if not self._stop.is_set():
                    self.coach.finish()
                if on_end is not None:
                    on_end()

        with self._lock:
            self._started_at = utcnow()
            self._flush()
        self._thread = threading.Thread(target=work, name="facecoach-demo", daemon=True)
        self._thread.start()

    def _demo_frame(self, frame: np.ndarray, _update: object) -> None:
        self.last_active = time.monotonic()
        self._image = self.draw(frame)

    @property
    def active(self) -> bool:
        """Coaching now: not finished, and a frame measured in the last few seconds (a closed tab's
        camera sends none)."""
        return not self._closed and time.monotonic() - self.last_active < IDLE_AFTER_S

    @property
    def demo_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


class VisitorRuns:
    """The live runs of anonymous demo visitors in this server process, capped.

    Each run costs about a core's worth of measuring at 30 frames a second: without a cap,
    anyone could slow every patient's coaching by opening demo tabs. A run past the cap is
    not started; the visitor is asked to try again in a few minutes.
    """

    def __init__(self, cap: int) -> None:
        self.cap = max(0, int(cap))
        self._runs: weakref.WeakSet[LiveRun] = weakref.WeakSet()
        self._working = 0  # measurements of a video or of the virtual patient under way
        self._lock = threading.Lock()

    def _in_use(self) -> int:
        return sum(1 for r in list(self._runs) if r.active) + self._working

    def busy(self) -> bool:
        with self._lock:
            return self._in_use() >= self.cap

    @contextmanager
    def working(self) -> Iterator[bool]:
        """Around a visitor's measurement (a video, the virtual patient): yields False, past the cap,
        when it must not run; it takes a place of the cap while it runs."""
        with self._lock:
            admitted = self._in_use() < self.cap
            if admitted:
                self._working += 1
        try:
            yield admitted
        finally:
            if admitted:
                with self._lock:
                    self._working -= 1

    def start(self, make: Callable[[], LiveRun]) -> LiveRun | None:
        """A new run from ``make()``, counted in, if there is room; None past the cap.

        The room is checked before the run is made: a run made and then dropped would load
        (and later close) a face tracker for nothing.
        """
        with self._lock:
            if self._in_use() >= self.cap:
                return None
            run = make()
            self._runs.add(run)
            return run


class RunSlot:
    """Holds the current run for this browser tab; the video thread reads it.

    The factory is replaced on every page run with the patient's current choices,
    so a new run (after stop) starts with what the page shows.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.run: LiveRun | None = None
        self.last: LiveRun | None = None
        self.factory = None

    def frame(self, img, t_s: float):
        with self.lock:
            # A finished run stays (showing "All done") until the camera is stopped.
            if self.run is None and self.factory is not None:
                self.run = self.factory()
            run = self.run
        if run is None:
            return img
        return run.on_frame(img, t_s)

    def stop(self) -> None:
        with self.lock:
            run, self.run = self.run, None
        if run is not None:
            run.stop()
            self.last = run


def camera_callback(slot: RunSlot, clock: Callable[[], float] | None = None) -> Callable[[Any], Any]:
    """The camera page's streamlit-webrtc callback: a video frame in, the annotated frame out.

    streamlit-webrtc calls it on its worker thread with the newest camera frame
    only (frames that came while it was busy are skipped, never queued). The
    frame's own timestamp is the coach's clock; ``clock`` (monotonic by default)
    is used only for a frame without one.
    """
    import av

    clock = clock or now_s

    def callback(frame: av.VideoFrame) -> av.VideoFrame:
        img = frame.to_ndarray(format="rgb24")
        t = frame.time if frame.time is not None else clock()
        out = slot.frame(img, float(t))
        return av.VideoFrame.from_ndarray(out, format="rgb24")

    return callback


def quick_plan(ex: ExerciseSpec, reps: int = 3) -> SessionPlan:
    """A session of one exercise, ``reps`` times (the coach page's "One exercise")."""
    return SessionPlan(ex.id, ex.name, (replace(ex, reps=reps),))


def virtual_patient(
    plan: SessionPlan,
    affected_side: str | None,
    ratio: float = 0.5,
    eye_pct: float = 25.0,
    away_first_s: float = 0.0,
) -> PhantomSpec:
    """A virtual patient doing ``plan``: the affected side moves ``ratio`` as much, and its eye narrows a little.

    Amounts are each exercise's target (in its own unit), so the bars fill as the coach intends.

    Args:
        away_first_s: the face is out of the picture for this long first, and the
            patient follows the cues from when it appears (the coach starts its
            resting baseline when it first sees the face). This is how a video
            played as a camera, whose first frames may be lost, stays in step.
    """
    weak = affected_side or "left"
    perfs = {}
    for ex in plan.steps:
        strong = ex.target if ex.target > 0 else 3 * ex.on_level
        if ex.measure == "eye_closure":  # the portrait's lids can close about 93 % of the way
            strong = min(strong, EYE_CLOSURE_MAX_PCT)
        amounts = {weak: strong * ratio, ("right" if weak == "left" else "left"): strong}
        eye = {weak: eye_pct} if ex.watch == "eye" else {}
        perfs[ex.id] = Performance(amounts["left"], amounts["right"], eye_narrowing_pct=eye)
    if away_first_s <= 0:
        return session_phantom(plan, perfs)
    return session_phantom(plan, perfs, shifts={(0, 1): away_first_s}, absent=((0.0, away_first_s),))


def now_s() -> float:
    """A monotonic clock for camera frames that carry no timestamp."""
    return time.monotonic()
