"""Crash safety: a killed session keeps every rep it reported, two patients never mix,
a database that fails mid-session loses nothing, and half-written sessions read well.

The live session runs the virtual patient through :class:`ui.live_run.LiveRun` as fast as
the machine allows, every ``STRIDE``-th frame with its own timestamp (the engine is driven
by timestamps only, so this is a 15 fps camera).
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import event, text
from streamlit.testing.v1 import AppTest

import ui.live_run as live_run
from coach.sessions.plan import SessionPlan
from coach.sessions.scoring import rep_series, score_rep
from coach.sessions.series import RepSeries
from coach.store import Store
from coach.store.auth import Accounts
from coach.store.demo import performance_frames
from coach.store.export import patient_csv, patient_report_html
from coach.store.info import utcnow
from coach.virtual.phantom import PhantomRenderer, PhantomSpec
from exercises import get_exercise
from ui.live_run import LiveRun, RunSettings, quick_plan, virtual_patient

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "ui" / "app.py")
STRIDE = 2  # every 2nd frame of the 30 fps virtual patient
CHILD_TIMEOUT_S = 45.0
KILL_AFTER_REPS = 2


# -- helpers -------------------------------------------------------------------------------------


def plan_of(reps: int) -> SessionPlan:
    return quick_plan(get_exercise("smile"), reps)


def settings_for(store: Store, name: str, side: str, plan: SessionPlan) -> RunSettings:
    pid = store.add_patient(name, side)
    reps = plan.steps[0].reps
    return RunSettings(pid, "smile", plan, side, "camera", {"smile": {"reps": reps}})


class Player:
    """Feeds a virtual patient to a run, every ``STRIDE``-th frame; can pause and carry on."""

    def __init__(self, run: LiveRun, spec: PhantomSpec) -> None:
        self.run, self.spec = run, spec
        self.renderer = PhantomRenderer(spec)
        self.i = 0

    def play(self, until: Callable[[], bool] | None = None) -> None:
        """Play until ``until()`` is true after a frame, or to the end of the video."""
        while self.i < self.spec.n_frames:
            self.run.on_frame(self.renderer.frame(self.i), self.i / self.spec.fps)
            self.i += STRIDE
            if until is not None and until():
                return

    def until_reps(self, n: int) -> None:
        self.play(lambda: len(self.run.snapshot().reps) >= n)
        assert len(self.run.snapshot().reps) >= n, f"the video ended with {len(self.run.snapshot().reps)} reps"


@contextmanager
def read_only(store: Store) -> Iterator[None]:
    """The database refuses every write (reads still work) until the block ends, as a full or locked-down disk would.

    Every connection of the store is replaced by one in read-only mode: SQLite's
    ``query_only``, PostgreSQL's ``default_transaction_read_only``.
    """
    stmt = "PRAGMA query_only = ON" if store.backend == "sqlite" else "SET default_transaction_read_only = on"

    def on_connect(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(stmt)
        cur.close()
        dbapi_conn.commit()

    store.engine.dispose()
    event.listen(store.engine, "connect", on_connect)
    try:
        yield
    finally:
        event.remove(store.engine, "connect", on_connect)
        store.engine.dispose()


def patient_words(msg: str | None) -> bool:
    """A message a patient can read: says nothing is lost, no technical words."""
    return (
        bool(msg)
        and "Nothing is lost" in msg
        and not any(w in msg.lower() for w in ("error", "sql", "exception", "database", "transaction"))
    )


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'facecoach.db'}")
    yield s
    s.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request, tmp_path) -> Iterator[Store]:
    url = (
        f"sqlite:///{tmp_path / 'facecoach.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    s = Store(url)
    yield s
    s.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def app_db(request, tmp_path, monkeypatch) -> str:
    """The app's database for this test (what ``ui/app.py`` will open): its URL."""
    monkeypatch.setenv("FACECOACH_DATA_DIR", str(tmp_path))
    if request.param == "sqlite":
        monkeypatch.delenv("DATABASE_URL", raising=False)
        return f"sqlite:///{tmp_path / 'facecoach.db'}"
    url = request.getfixturevalue("postgres_url")
    monkeypatch.setenv("DATABASE_URL", url)
    return url


# -- 1. killed mid-session -------------------------------------------------------------------------


def run_child_and_kill(url: str, patient_id: int, log_path: Path) -> list[str]:
    """Start ``tests/crash_child.py``, SIGKILL it once it has reported ``KILL_AFTER_REPS`` reps; its lines."""
    lines: queue.Queue[str | None] = queue.Queue()
    with open(log_path, "w") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.crash_child", url, str(patient_id), "5", str(STRIDE)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**os.environ, "GLOG_minloglevel": "2"},
        )

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            lines.put(line.strip())
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + CHILD_TIMEOUT_S
        while sum(x.startswith("rep ") for x in seen) < KILL_AFTER_REPS:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(
                    f"no rep {len(seen)} within {CHILD_TIMEOUT_S} s; child log:\n{log_path.read_text()[-3000:]}"
                )
            if line is None:
                pytest.fail(f"the child ended by itself ({child.wait()}); log:\n{log_path.read_text()[-3000:]}")
            seen.append(line)
        child.send_signal(signal.SIGKILL)  # no finally, no atexit, no flush: as a crash or a pulled plug of the app
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    reader.join(timeout=5)
    while not lines.empty():  # lines written before the kill landed
        line = lines.get()
        if line is not None:
            seen.append(line)
    assert "finished" not in seen
    return seen


PASSWORD = "a long password 1"


def clinic_with_logins(url: str) -> int:
    """A therapist with one patient, both with logins (``drcrash``, ``kim``); the patient's id."""
    store = Store(url)
    try:
        tid = store.add_therapist("Dr Crash")
        pid = store.add_patient("Kim Crash", "left", "Bell's palsy", therapist_id=tid)
        acc = Accounts(store)
        acc.create_admin("admin", PASSWORD)
        acc.create_user(
            acc.login("admin", PASSWORD), "drcrash", PASSWORD, "therapist", therapist_id=tid, first_password=False
        )
        acc.create_user(
            acc.login("drcrash", PASSWORD), "kim", PASSWORD, "patient", patient_id=pid, first_password=False
        )
        return pid
    finally:
        store.close()


def signed_in(username: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input(key="signin_name").input(username)
    at.text_input(key="signin_pw").input(PASSWORD)
    at.button(key="signin_go").click().run()
    assert not at.exception, at.exception
    return at


def test_a_session_killed_mid_way_keeps_every_rep_it_reported(app_db, tmp_path):
    pid = clinic_with_logins(app_db)

    seen = run_child_and_kill(app_db, pid, tmp_path / "child.log")
    [sid] = [int(x.split()[1]) for x in seen if x.startswith("session ")]
    reported = {(int(st), int(ix)): int(rid) for _, st, ix, rid in (x.split() for x in seen if x.startswith("rep "))}
    assert len(reported) >= KILL_AFTER_REPS

    store = Store(app_db)  # a fresh start, as the app after the crash
    try:
        if store.backend == "sqlite":
            with store.engine.connect() as conn:
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        [info] = store.sessions(pid)
        assert info.id == sid
        assert info.status == "in_progress" and info.ended_at is None and info.score is None
        detail = store.session(sid)
        saved = {(r.step, r.rep_index): r for r in detail.reps}
        assert set(reported) <= set(saved), f"reported {sorted(reported)}, found {sorted(saved)}"
        for key, rid in reported.items():
            r = saved[key]
            assert r.id == rid and r.completed and r.symmetry_pct == pytest.approx(50, abs=10)
        # Every rep in the database is whole (a rep committed after its line was read, too).
        for r in detail.reps:
            assert r.has_series
            series = RepSeries.from_bytes(store.rep_series(r.id))
            assert (series.step, series.index) == (r.step, r.rep_index) and np.isfinite(series.left).sum() > 10
        assert info.reps_completed == len(detail.reps) and detail.exercises == ()
        print(f"\n[{store.backend}] {len(reported)} reps reported, {len(detail.reps)} found after SIGKILL")

        # The therapist's queries read the half-written session.
        row = next(o for o in store.overview() if o.patient.id == pid)
        assert row.sessions_total == 1 and row.last_session_at == info.started_at and row.days_practised_28 == 1
        assert row.symmetry_recent == pytest.approx(info.mean_symmetry_pct)
        [point] = store.history(pid)
        assert point.session_id == sid and point.reps == len(detail.reps) and point.mean_left < point.mean_right
        assert len(patient_csv(store, pid).splitlines()) == 1 + len(detail.reps)
        assert "Kim Crash" in patient_report_html(store, pid)
    finally:
        store.close()

    # The therapist's page, and the patient's own pages, show it as not finished.
    at = signed_in("drcrash")
    assert at.title[0].value == "Patients"
    at.selectbox(key="t_patient").set_value(pid).run()
    assert not at.exception, at.exception
    overview = at.dataframe[0].value
    assert list(overview.loc[overview["Patient"] == "Kim Crash", "Days practised (4 weeks)"]) == ["1 of 28"]
    box = at.selectbox(key="t_session")
    assert box.value == sid and "not finished" in box.options[box.index]
    assert any("This session was not finished" in w.value for w in at.warning)
    assert not any(m.label == "Session score" for m in at.metric)
    assert len(at.dataframe[1].value) == len(detail.reps)
    at = signed_in("kim")
    for page in ("views/today.py", "views/progress.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)


# -- 2. two patients at once -----------------------------------------------------------------------


def test_two_patients_at_once_never_mix(store, model):
    plan = plan_of(2)
    patients = {
        "Ann": (settings_for(store, "Ann", "left", plan), virtual_patient(plan, "left", ratio=0.5), 50.0),
        "Ben": (settings_for(store, "Ben", "right", plan), virtual_patient(plan, "right", ratio=0.8), 80.0),
    }
    runs = {name: LiveRun(store, s, model) for name, (s, _, _) in patients.items()}
    start = threading.Barrier(len(runs))
    spans: dict[str, tuple[float, float]] = {}
    errors: list[BaseException] = []

    def play(name: str) -> None:
        try:
            start.wait(timeout=30)
            t0 = time.monotonic()
            Player(runs[name], patients[name][1]).play()
            spans[name] = (t0, time.monotonic())
        except BaseException as err:  # noqa: BLE001 - reported by the test thread
            errors.append(err)

    threads = [threading.Thread(target=play, args=(name,), name=name) for name in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)
    (a0, a1), (b0, b1) = spans["Ann"], spans["Ben"]
    assert max(a0, b0) < min(a1, b1), "the two sessions did not run at the same time"

    assert runs["Ann"].session_id != runs["Ben"].session_id
    for name, run in runs.items():
        settings, _, truth = patients[name]
        assert run.finished and run.all_saved
        [info] = store.sessions(settings.patient_id)
        assert info.id == run.session_id and info.status == "completed"
        detail = store.session(run.session_id)
        mine = run.snapshot().reps
        assert [r.rep_index for r in detail.reps] == [r.index for r in mine] == [1, 2]
        for saved, scored in zip(detail.reps, mine, strict=True):
            assert saved.peak_left == pytest.approx(scored.peak.left)
            assert saved.peak_right == pytest.approx(scored.peak.right)
            assert saved.symmetry_pct == pytest.approx(truth, abs=8), name
            weak, strong = (
                (saved.peak_left, saved.peak_right)
                if settings.affected_side == "left"
                else (saved.peak_right, saved.peak_left)
            )
            assert weak < strong, name
            assert RepSeries.from_bytes(store.rep_series(saved.id)).index == saved.rep_index
        assert detail.session.score == run.snapshot().result.score


# -- 3. the database fails during a session --------------------------------------------------------


def test_a_rep_that_cannot_be_saved_waits_and_is_saved_with_the_next(store, model):
    plan = plan_of(3)
    run = LiveRun(store, settings_for(store, "Dee", "left", plan), model)
    player = Player(run, virtual_patient(plan, "left", ratio=0.5))
    player.until_reps(1)
    sid = run.session_id
    assert run.all_saved and [r.rep_index for r in store.session(sid).reps] == [1]

    with read_only(store):
        player.until_reps(2)
        snap = run.snapshot()
        assert [r.index for r in snap.reps] == [1, 2] and not snap.done  # on screen, and the session goes on
        assert [r.index for r in run.unsaved] == [2] and not run.all_saved
        assert patient_words(run.save_error), run.save_error
        assert snap.warnings == () and snap.error is None  # handled by the run, not a failed callback
        d = store.session(sid)
        assert d.session.status == "in_progress" and [(r.rep_index, r.has_series) for r in d.reps] == [(1, True)]

    player.until_reps(3)  # the database is back: rep 3 brings rep 2 with it
    assert run.unsaved == () and run.save_error is None and run.all_saved
    d = store.session(sid)
    assert [(r.rep_index, r.has_series) for r in d.reps] == [(1, True), (2, True), (3, True)]
    for saved, scored in zip(d.reps, run.snapshot().reps, strict=True):
        assert saved.peak_left == pytest.approx(scored.peak.left) and saved.peak_right == pytest.approx(
            scored.peak.right
        )
    player.play()
    assert run.finished
    d = store.session(sid)
    assert d.session.status == "completed" and d.session.score == run.snapshot().result.score
    assert d.exercises[0].completed == 3


def test_the_end_of_a_session_waits_for_the_database(any_store, model, monkeypatch):
    store = any_store
    plan = plan_of(2)
    run = LiveRun(store, settings_for(store, "Eve", "left", plan), model)
    player = Player(run, virtual_patient(plan, "left", ratio=0.5))
    player.until_reps(1)
    sid = run.session_id

    with read_only(store):
        player.play()  # to the end: rep 2 and the session's end cannot be written
        assert run.finished and run.snapshot().done
        result = run.snapshot().result
        assert [r.index for r in result.reps] == [1, 2] and result.score is not None  # still shown
        assert [r.index for r in run.unsaved] == [2] and not run.all_saved
        assert patient_words(run.save_error), run.save_error
        d = store.session(sid)
        assert d.session.status == "in_progress" and [r.rep_index for r in d.reps] == [1]
        assert run.save_pending() is False  # still down: a try changes nothing
        assert [r.index for r in run.unsaved] == [2]

    # Back: a finished run still gets the camera's frames until the camera stops; one of them saves it all.
    monkeypatch.setattr(live_run, "RETRY_EVERY_S", 0.0)
    run.on_frame(PhantomRenderer(player.spec).frame(0), player.spec.n_frames / player.spec.fps + 1)
    assert run.all_saved and run.save_error is None and run.unsaved == ()
    d = store.session(sid)
    assert d.session.status == "completed" and d.session.score == result.score
    assert [(r.rep_index, r.has_series) for r in d.reps] == [(1, True), (2, True)]
    assert d.exercises[0].completed == 2 and len(d.exercises) == 1


def test_a_database_down_from_the_first_frame_does_not_stop_the_coach(store, model):
    plan = plan_of(2)
    settings = settings_for(store, "Fay", "left", plan)
    run = LiveRun(store, settings, model)
    player = Player(run, virtual_patient(plan, "left", ratio=0.5))
    before = utcnow()
    with read_only(store):
        player.until_reps(1)  # no frame raised
        assert run.session_id is None and store.sessions(settings.patient_id) == []
        assert [r.index for r in run.unsaved] == [1] and patient_words(run.save_error)
        assert run.snapshot().warnings == ()
    run.stop()  # the patient stops; the database is back: the session, its rep and its end are written
    [info] = store.sessions(settings.patient_id)
    assert info.status == "stopped" and run.all_saved
    assert before <= info.started_at <= before + timedelta(seconds=5)  # when the patient started, not when saved
    d = store.session(info.id)
    assert [(r.rep_index, r.has_series) for r in d.reps] == [(1, True)]


def test_a_failed_open_with_nothing_scored_leaves_no_session(store, model):
    plan = plan_of(2)
    settings = settings_for(store, "Gus", "left", plan)
    run = LiveRun(store, settings, model)
    with read_only(store):
        run.on_frame(PhantomRenderer(virtual_patient(plan, "left")).frame(0), 0.0)
        assert run.session_id is None and run.save_error
    run.stop()
    assert store.sessions(settings.patient_id) == [] and run.all_saved and run.save_error is None


# -- 4. half-written sessions in the store's queries ------------------------------------------------


def a_rep(index: int, seed: int):
    ex = get_exercise("smile")
    frames = performance_frames(ex, 4.0, 0.5, "left", 0.1, 0.0, np.random.default_rng(seed))
    return score_rep(ex, 0, index, 0.0, frames, "left"), rep_series(ex, 0, index, 0.0, frames)


def test_a_half_written_session_is_in_progress_and_counted(any_store):
    store = any_store
    pid = store.add_patient("Hal", "left")
    now = utcnow()
    empty = store.start_session(pid, "smile", "camera", "left", started_at=now - timedelta(days=1))  # no rep ever
    half = store.start_session(pid, "smile", "camera", "left", started_at=now - timedelta(hours=1))
    reps = [a_rep(i, seed=i) for i in (1, 2)]
    for rep, series in reps:
        store.add_rep(half, rep, series)

    sessions = store.sessions(pid)
    assert [s.id for s in sessions] == [half, empty]
    for s in sessions:
        assert s.status == "in_progress" and s.ended_at is None and s.score is None and s.score_parts is None
    assert sessions[0].reps_completed == 2 and sessions[1].reps_completed == 0
    mean_sym = np.mean([r.symmetry_pct for r, _ in reps])
    assert sessions[0].mean_symmetry_pct == pytest.approx(mean_sym)

    d = store.session(half)
    assert [r.rep_index for r in d.reps] == [1, 2] and all(r.has_series for r in d.reps) and d.exercises == ()
    assert store.session(empty).reps == ()

    [row] = [o for o in store.overview() if o.patient.id == pid]
    assert row.sessions_total == 2 and row.last_session_at == now - timedelta(hours=1)
    assert row.days_practised_28 == 1  # a session with no rep is not a day practised
    assert row.symmetry_recent == pytest.approx(mean_sym) and row.trend is None
    [point] = store.history(pid)
    assert point.session_id == half and point.reps == 2
    assert store.practice_days(pid) == {(now - timedelta(hours=1)).date(): 1}
    assert len(patient_csv(store, pid).splitlines()) == 3
    assert "Hal" in patient_report_html(store, pid)


def test_practice_stops_saving_the_moment_the_sign_in_ends(store, model):
    """Issue 16: a live session kept running and saving after its sign-in expired. Now each save
    asks whether the sign-in still holds; once it does not, nothing more is saved or retried."""
    from coach.store.access import Access
    from coach.store.auth import Principal

    plan = plan_of(3)
    settings = settings_for(store, "Sue", "left", plan)
    now = utcnow()
    signed_in = {"yes": True}
    patient = Principal(None, "sue", "patient", None, settings.patient_id, now, now)
    run = LiveRun(Access(store, patient, still_signed_in=lambda: signed_in["yes"]), settings, model)
    player = Player(run, virtual_patient(plan, "left", ratio=0.5))
    player.until_reps(1)
    sid = run.session_id
    assert [r.rep_index for r in store.session(sid).reps] == [1]
    signed_in["yes"] = False  # signed out in another tab, expired, or the account paused
    player.until_reps(2)
    assert "signed out" in run.save_error and run.unsaved == ()  # said once, nothing kept to retry
    player.play()
    assert [r.rep_index for r in store.session(sid).reps] == [1]
    assert store.session(sid).session.status == "in_progress"  # its end was not written either
