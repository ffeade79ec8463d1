"""The live coach: same scores as the engine, reps handed over as they complete, never queueing."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from coach.live.coach import LiveCoach
from coach.live.play import FramePacer, play_phantom
from coach.sessions.cues import SessionEngine
from coach.sessions.plan import SessionPlan
from coach.sessions.series import RepSeries
from coach.virtual.phantom import PhantomRenderer
from coach.virtual.session_phantom import Performance, session_phantom
from exercises import get_exercise

FAST = {"rise_s": 0.8, "hold_s": 1.5, "release_s": 0.8, "rest_s": 1.2}
PLAN = SessionPlan("t", "smile", (replace(get_exercise("smile"), reps=2, **FAST),))
SPEC = session_phantom(PLAN, {"smile": Performance(4.0, 2.0, eye_narrowing_pct={"right": 30.0})}, seed=3)
REP2_START = PLAN.planned_reps()[1][2]


@pytest.fixture(scope="module")
def frames() -> list[tuple[float, np.ndarray]]:
    return list(PhantomRenderer(SPEC).frames())


@pytest.fixture(scope="module")
def direct(frames, model):
    """The engine run straight on the frames: (result, series, updates that completed reps)."""
    with SessionEngine(PLAN, model=model) as eng:
        scored = []
        for t, frame in frames:
            u = eng.update(frame, t)
            assert len(u.completed) == len(u.completed_series)
            if u.completed:
                scored.append(u)
        return eng.result(), list(eng.series), scored


class Recorder:
    """on_rep / on_finish that note what they got and when; on_rep fails the first time."""

    def __init__(self) -> None:
        self.coach: LiveCoach | None = None
        self.reps: list[tuple[object, RepSeries, float, bool]] = []
        self.finished: list[object] = []

    def on_rep(self, rep, series) -> None:
        snap = self.coach.snapshot()
        self.reps.append((rep, series, snap.t_s, snap.done))
        if len(self.reps) == 1:
            raise RuntimeError("disk full")

    def on_finish(self, result) -> None:
        self.finished.append(result)


@pytest.fixture(scope="module")
def live(frames, model):
    rec = Recorder()
    coach = LiveCoach(PLAN, model=model, on_rep=rec.on_rep, on_finish=rec.on_finish)
    rec.coach = coach
    returned = [coach.process(frame, t) for t, frame in frames]
    return coach, rec, returned


def test_live_coach_scores_exactly_like_the_engine(direct, live):
    result, series, _ = direct
    coach, rec, _ = live
    snap = coach.snapshot()
    assert snap.done and snap.result is not None
    assert len(result.reps) == 2
    assert snap.result.reps == result.reps  # the same numbers, not just close
    assert snap.reps == result.reps
    assert snap.result.score == result.score
    assert [s for _, s, _, _ in rec.reps] == series


def test_on_rep_is_called_once_per_rep_in_order_as_it_completes(live):
    coach, rec, _ = live
    assert [(r.exercise_id, r.index) for r, _, _, _ in rec.reps] == [("smile", 1), ("smile", 2)]
    assert all((s.exercise_id, s.step, s.index) == (r.exercise_id, r.step, r.index) for r, s, _, _ in rec.reps)
    first_t, first_done = rec.reps[0][2], rec.reps[0][3]
    assert first_t < REP2_START and not first_done  # the store can save rep 1 while rep 2 is to come
    assert not rec.reps[1][3]  # rep 2 is handed over before the session is reported done


def test_a_failing_on_rep_is_a_warning_and_the_session_goes_on(live):
    coach, rec, _ = live
    snap = coach.snapshot()
    assert len(rec.reps) == 2 and snap.done
    assert snap.warnings == ("on_rep failed: RuntimeError: disk full",)
    assert snap.error == snap.warnings[0]


def test_on_finish_once_then_frames_pass_through(frames, live):
    coach, rec, returned = live
    snap = coach.snapshot()
    assert rec.finished == [snap.result]
    first_none = next(i for i, u in enumerate(returned) if u is None)
    assert returned[first_none - 1].cue.phase == "done"
    assert all(u is None for u in returned[first_none:])  # no engine work once done
    assert snap.frames_processed == first_none
    assert coach.finish() is snap.result and coach.finish() is snap.result
    assert rec.finished == [snap.result]
    t_last, frame = frames[-1]
    assert coach.process(frame, t_last + 1.0) is None
    assert coach.snapshot().frames_processed == snap.frames_processed
    assert snap.fps == pytest.approx(SPEC.fps, rel=0.05)
    assert snap.frames_dropped == 0 and snap.frames_stale == 0


@pytest.fixture
def fresh(model):
    coach = LiveCoach(PLAN, model=model)
    yield coach
    coach.finish()


def test_stale_or_duplicate_timestamps_are_ignored(frames, fresh):
    frame = frames[0][1]
    assert fresh.process(frame, 1.0) is not None
    assert fresh.process(frame, 1.0) is None
    assert fresh.process(frame, 0.5) is None
    assert fresh.process(frame, math.nan) is None
    snap = fresh.snapshot()
    assert (snap.frames_processed, snap.frames_stale, snap.t_s) == (1, 3, 1.0)
    assert fresh.process(frame, 1.04) is not None


def test_a_frame_arriving_mid_processing_is_dropped_not_queued(frames, fresh):
    frame = frames[0][1]
    entered, release = threading.Event(), threading.Event()
    real_update = fresh.engine.update

    def slow_update(*args, **kwargs):
        entered.set()
        release.wait(5.0)
        return real_update(*args, **kwargs)

    fresh.engine.update = slow_update
    other: list[object] = []
    worker = threading.Thread(target=lambda: other.append(fresh.process(frame, 1.0)))
    worker.start()
    assert entered.wait(5.0)
    t0 = time.monotonic()
    assert fresh.process(frame, 1.1) is None
    assert time.monotonic() - t0 < 0.5  # returned at once, did not wait its turn
    release.set()
    worker.join(5.0)
    fresh.engine.update = real_update
    snap = fresh.snapshot()
    assert other[0] is not None
    assert (snap.frames_processed, snap.frames_dropped, snap.t_s) == (1, 1, 1.0)
    assert fresh.process(frame, 1.1) is not None  # a dropped frame's time is still free


def test_finish_early_from_another_thread_keeps_the_reps_done(frames, direct, model):
    finished = []
    coach = LiveCoach(PLAN, model=model, on_finish=finished.append)

    def feed() -> None:
        for t, frame in frames:
            coach.process(frame, t)

    worker = threading.Thread(target=feed)
    worker.start()
    deadline = time.monotonic() + 60.0
    while not coach.snapshot().reps and time.monotonic() < deadline:
        time.sleep(0.01)
    result = coach.finish()  # the patient pressed Stop during rep 2
    worker.join(60.0)
    assert result.reps == direct[0].reps[:1]
    assert result.exercises[0].completed == 1 and result.exercises[0].planned == 2
    assert coach.finish() is result and finished == [result]
    snap = coach.snapshot()
    assert snap.done and snap.result is result and snap.reps == result.reps
    assert snap.frames_processed < len(frames)
    t_last, frame = frames[-1]
    assert coach.process(frame, t_last + 1.0) is None


def test_frame_pacer_follows_a_clock():
    now = [10.0]
    pacer = FramePacer(30.0, speed=2.0, clock=lambda: now[0])
    assert pacer.due() == 0
    now[0] += 0.5
    assert pacer.due() == 30  # 1 s of video in 0.5 s
    assert pacer.wait_s(36) == pytest.approx(0.1)
    assert pacer.wait_s(10) == 0.0
    with pytest.raises(ValueError, match="speed"):
        FramePacer(30.0, speed=0.0)


def test_demo_playback_keeps_real_time_by_skipping_frames(model):
    shown: list[float] = []
    stop = threading.Event()
    coach = LiveCoach(PLAN, model=model)
    speed = 4.0  # frames are due faster than they can be processed: some must be skipped
    played = play_phantom(SPEC, coach, stop, speed=speed, on_frame=lambda f, u: shown.append(coach.snapshot().t_s))
    coach.finish()
    assert played.shown + played.skipped <= SPEC.n_frames
    assert not played.stopped and played.skipped > 0
    assert played.shown == len(shown) and all(b > a for a, b in zip(shown, shown[1:], strict=False))
    snap = coach.snapshot()
    assert snap.frames_processed == played.shown and snap.frames_dropped == 0 and snap.frames_stale == 0


def test_demo_playback_stops_when_asked(model):
    stop = threading.Event()
    seen = []

    def on_frame(frame, update):
        seen.append(update)
        if len(seen) == 5:
            stop.set()

    with LiveCoach(PLAN, model=model) as coach:
        played = play_phantom(SPEC, coach, stop, on_frame=on_frame)
    assert played.stopped and played.shown == 5 and all(u is not None for u in seen)


# -- rep series ----------------------------------------------------------------------------------


def test_the_engine_keeps_one_series_per_scored_rep(direct):
    result, series, scored = direct
    assert [(s.exercise_id, s.step, s.index) for s in series] == [(r.exercise_id, r.step, r.index) for r in result.reps]
    assert [u.completed_series for u in scored] == [(s,) for s in series]
    for rep, s in zip(result.reps, series, strict=True):
        assert s.unit == "mm" and len(s) == rep.frames
        assert 0.0 <= s.t_s[0] < 0.05 and np.all(np.diff(s.t_s) > 0)
        hold = (s.t_s > FAST["rise_s"] + 0.3) & (s.t_s < FAST["rise_s"] + FAST["hold_s"])
        assert np.nanmedian(s.left[hold]) == pytest.approx(rep.peak.left, abs=0.3)
        assert np.nanmedian(s.eye_right[hold]) > 15.0  # the watched eye narrows on the right


def test_rep_series_round_trip_and_size(direct):
    series = direct[1]
    per_frame = []
    for s in series:
        packed = s.to_bytes()
        back = RepSeries.from_bytes(packed)
        assert (back.exercise_id, back.step, back.index, back.unit) == (s.exercise_id, s.step, s.index, s.unit)
        np.testing.assert_allclose(back.t_s, s.t_s, atol=0.0006)
        for name in ("left", "right", "eye_left", "eye_right"):
            np.testing.assert_allclose(getattr(back, name), getattr(s, name), rtol=1e-3, atol=1e-3)
        assert back.to_bytes() == packed and RepSeries.from_bytes(packed) == back
        per_frame.append(len(packed) / len(s))
    per_minute_30fps = float(np.mean(per_frame)) * 30 * 60
    assert per_minute_30fps < 16_000  # documented in RepSeries.to_bytes: about 13 kB


@pytest.mark.parametrize(
    "n",
    [0, 1, 5],
    ids=["empty", "one", "five"],
)
def test_rep_series_with_gaps_round_trips(n):
    t = np.arange(n) * 40 / 1000.0  # whole milliseconds: stored exactly
    left = np.where(np.arange(n) % 2 == 0, np.nan, 1.5).astype(np.float32)
    s = RepSeries("brow_raise", 3, 2, t, left, left * 2, np.full(n, np.nan), np.full(n, np.nan), "mm")
    back = RepSeries.from_bytes(s.to_bytes())
    assert back == s and len(back) == n
    assert np.isnan(back.eye_left).all()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: b"", "not a packed rep series"),
        (lambda b: b"PNG" + b[3:], "not a packed rep series"),
        (lambda b: b[:4] + b"\x09" + b[5:], "version 9"),
        (lambda b: b[:-3], "damaged"),
        (lambda b: b[:12] + bytes([b[12] ^ 0xFF]) + b[13:], "damaged"),
    ],
    ids=["empty", "magic", "version", "truncated", "flipped"],
)
def test_damaged_rep_series_bytes_are_refused(damage, message):
    ramp = np.linspace(0, 4, 40)
    s = RepSeries("smile", 0, 1, np.arange(40) / 30, ramp, ramp / 2, [0] * 40, [1] * 40, "mm")
    with pytest.raises(ValueError, match=message):
        RepSeries.from_bytes(damage(s.to_bytes()))


def test_rep_series_checks_its_arrays():
    with pytest.raises(ValueError, match=r"right: expected shape \(3,\)"):
        RepSeries("smile", 0, 1, [0, 1, 2], [0, 0, 0], [0, 0], [0, 0, 0], [0, 0, 0], "mm")
