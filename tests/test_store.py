"""The records: schema migrations, reps saved as they complete, progress queries, export; SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from coach.sessions.scoring import rep_series, score_rep
from coach.sessions.series import RepSeries
from coach.sessions.summary import build_result
from coach.store import Store, StoreError, streak_days
from coach.store.db import current_tables
from coach.store.demo import performance_frames, seed_demo
from coach.store.export import patient_csv, patient_report_html
from coach.store.models import Base
from exercises import get_exercise, get_program

TABLES = {
    "alembic_version",
    "therapists",
    "patients",
    "assignments",
    "sessions",
    "exercise_results",
    "reps",
    "rep_series",
    "notes",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'facecoach.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(url):
    s = Store(url)
    yield s
    s.close()


def a_rep(ex_id="smile", left=4.0, ratio=0.5, step=0, index=1, affected="left", eye=0.0, seed=0):
    ex = get_exercise(ex_id)
    frames = performance_frames(ex, left, ratio, affected, 0.1, eye, np.random.default_rng(seed))
    return score_rep(ex, step, index, 0.0, frames, affected), rep_series(ex, step, index, 0.0, frames)


def test_migrations_build_the_schema_and_match_the_models(store, url):
    assert TABLES <= current_tables(store.engine)
    Store(url).close()  # a second start migrates nothing and breaks nothing
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_a_rep_is_on_disk_the_moment_it_is_scored(store, url):
    pid = store.add_patient("Ann", "left", "Bell's palsy")
    sid = store.start_session(pid, "smile", "camera", "left")
    rep, series = a_rep()
    rid = store.add_rep(sid, rep, series)
    other = Store(url)  # another connection, as after a crash and restart
    try:
        detail = other.session(sid)
        assert detail.session.status == "in_progress"
        assert [r.id for r in detail.reps] == [rid]
        saved = detail.reps[0]
        assert saved.peak_left == pytest.approx(rep.peak.left)
        assert saved.peak_right == pytest.approx(rep.peak.right)
        assert saved.symmetry_pct == pytest.approx(rep.symmetry_pct)
        assert RepSeries.from_bytes(other.rep_series(rid)) == RepSeries.from_bytes(series.to_bytes())
        assert detail.session.reps_completed == 1
    finally:
        other.close()
    assert store.add_rep(sid, rep, series) == rid  # saving twice keeps one


def test_finishing_stores_the_summary_score_and_keeps_saved_reps(store):
    plan = get_program("bells_palsy").plan({"smile": {"reps": 2}})
    pid = store.add_patient("Ben", "right")
    sid = store.start_session(pid, "bells_palsy", "demo", "right")
    step = next(i for i, ex in enumerate(plan.steps) if ex.id == "smile")
    reps = [a_rep(step=step, index=i, affected="right", seed=i)[0] for i in (1, 2)]
    store.add_rep(sid, reps[0])
    result = build_result(plan, reps, [], "right", 100, 100)
    store.finish_session(sid, result, stopped=True)
    d = store.session(sid)
    assert d.session.status == "stopped"
    assert d.session.score == result.score
    assert list(d.session.score_explained) == list(result.score_explained)
    assert len(d.reps) == 2
    smile = next(e for e in d.exercises if e.exercise_id == "smile")
    assert smile.completed == 2 and smile.planned == 2
    assert smile.symmetry_pct == pytest.approx(result.exercises[step].symmetry_pct)


def test_history_overview_and_adherence(store):
    tid = store.add_therapist("Dr Lee")
    pid = store.add_patient("Cat", "left", therapist_id=tid)
    today = date(2026, 11, 24)
    # Four weeks ago the left side moved 30 % as much; these two weeks, 80 %.
    for days_ago, ratio in [(25, 0.3), (20, 0.3), (10, 0.8), (3, 0.8), (1, 0.8)]:
        when = datetime.combine(today - timedelta(days=days_ago), datetime.min.time()) + timedelta(hours=9)
        sid = store.start_session(pid, "smile", "camera", "left", started_at=when)
        store.add_rep(sid, a_rep(ratio=ratio, seed=days_ago)[0])
    unfinished = store.start_session(pid, "smile", "camera", "left", started_at=datetime(2026, 11, 24, 8))
    store.add_rep(unfinished, a_rep(ratio=0.8, seed=99)[0])  # never finished: still counts for what it did
    hist = store.history(pid, "smile")
    assert len(hist) == 6
    assert hist[0].symmetry_pct == pytest.approx(30, abs=8)
    assert hist[-1].symmetry_pct == pytest.approx(80, abs=8)
    assert hist[-1].mean_left < hist[-1].mean_right
    (row,) = store.overview(tid, today=today)
    assert row.days_practised_28 == 6
    assert row.trend == "better"
    assert row.last_session_at == datetime(2026, 11, 24, 8)
    assert store.overview(store.add_therapist("Nobody"), today=today) == []
    days = store.practice_days(pid)
    assert streak_days(days, today) == 2  # yesterday and today


@pytest.mark.parametrize(
    "days, today, expected",
    [
        ([], date(2026, 1, 10), 0),
        ([date(2026, 1, 10)], date(2026, 1, 10), 1),
        ([date(2026, 1, 9), date(2026, 1, 8)], date(2026, 1, 10), 2),  # today not done yet
        ([date(2026, 1, 10), date(2026, 1, 8)], date(2026, 1, 10), 1),
    ],
)
def test_streak_days(days, today, expected):
    assert streak_days(days, today) == expected


def test_programs_notes_and_patient_details(store):
    pid = store.add_patient("Dee")
    assert store.assignment(pid) is None
    store.assign_program(pid, "masseteric", {"bite_smile": {"reps": 3}})
    store.assign_program(pid, "cfng_gracilis")
    a = store.assignment(pid)
    assert a.program_id == "cfng_gracilis" and a.overrides == {}
    p = store.update_patient(pid, affected_side="right", surgery="Masseteric transfer", surgery_date=date(2026, 3, 1))
    assert (p.affected_side, p.surgery, p.surgery_date) == ("right", "Masseteric transfer", date(2026, 3, 1))
    store.add_note(pid, "First note")
    store.add_note(pid, "Second note")
    assert [n.text for n in store.notes(pid)] == ["Second note", "First note"]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s: s.add_patient(""), "name must not be empty"),
        (lambda s: s.add_patient("Eve", affected_side="both"), "affected_side must be"),
        (lambda s: s.add_patient("x" * 121), "at most 120"),
        (lambda s: s.start_session(s.add_patient("Fay"), "smile", source="tape"), "source must be one of"),
        (lambda s: s.update_patient(s.add_patient("Gus"), password="x"), "cannot change password"),
    ],
)
def test_bad_values_are_refused_with_a_reason(store, call, message):
    with pytest.raises(ValueError, match=message):
        call(store)


def test_an_unusable_database_gives_one_clear_sentence(tmp_path):
    with pytest.raises(StoreError, match="DATABASE_URL"):
        Store("not a url")
    with pytest.raises(StoreError, match="Cannot open the database"):
        Store("postgresql+psycopg://nobody:wrong@127.0.0.1:1/none")


def test_csv_export_has_every_rep_and_no_formulas(store):
    pid = store.add_patient("=HYPERLINK(1)", "left")
    sid = store.start_session(pid, "=cmd|calc", "camera", "left")
    for i in (1, 2):
        store.add_rep(sid, a_rep(index=i, seed=i)[0])
    rows = list(csv.DictReader(io.StringIO(patient_csv(store, pid))))
    assert [r["rep"] for r in rows] == ["1", "2"]
    assert rows[0]["program"] == "'=cmd|calc"
    assert float(rows[0]["left"]) < float(rows[0]["right"])


def test_report_is_print_ready_and_escapes_what_people_typed(store):
    pid = store.add_patient("<script>alert(1)</script>", "left", condition="<b>x</b>")
    store.add_note(pid, "<img src=x onerror=alert(2)>")
    sid = store.start_session(pid, "smile", "camera", "left")
    store.add_rep(sid, a_rep()[0])
    page = patient_report_html(store, pid, {"smile": "Gentle smile"})
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Gentle smile" in page and page.startswith("<!doctype html>")


def test_demo_clinic_is_seeded_once_with_engine_scored_history(store):
    plan = get_program("bells_palsy").plan()
    battery = get_program("assessment").plan()
    pid = seed_demo(store, plan, "bells_palsy", days=14, today=date(2026, 11, 24), assessment=battery)
    assert seed_demo(store, plan, "bells_palsy", days=14) == pid
    p = store.patient(pid)
    assert p.is_demo and p.affected_side == "left"
    sessions = store.sessions(pid)
    assert 6 <= len(sessions) <= 14
    assert all(s.source == "demo" and s.status == "completed" and s.score is not None for s in sessions)
    hist = store.history(pid, "smile")
    assert hist[-1].symmetry_pct > hist[0].symmetry_pct  # the example patient recovers
    graded = [s for s in sessions if s.grades]
    assert graded and all(s.program_id == "assessment" for s in graded)
    assert graded[-1].grades["sunnybrook_like"]["voluntary_score"] is not None


def test_practice_that_is_nobodys_own_is_forgotten(tmp_path):
    """Issue 14: before, the virtual patient's practice was saved in real patients' records and
    demo visitors' practice in the shared demo record; the app removes both when it starts."""
    from coach.sessions.plan import SessionPlan
    from exercises import get_exercise

    store = Store(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        plan = SessionPlan("smile", "Smile", (get_exercise("smile"),))
        seed_demo(store, plan, "smile", 5)
        demo = store.demo_patient().id
        made_up = {s.id for s in store.sessions(demo)}
        kim = store.add_patient("Kim", "right")
        own = store.start_session(kim, "smile", "camera")
        video = store.start_session(kim, "smile", "video")
        store.start_session(kim, "smile", "demo")  # the virtual patient, in Kim's record
        store.start_session(demo, "smile", "camera")  # a demo visitor's camera practice
        assert store.forget_practice_outside_records() == 2
        assert {s.id for s in store.sessions(kim)} == {own, video}
        assert {s.id for s in store.sessions(demo)} == made_up
        assert store.forget_practice_outside_records() == 0
    finally:
        store.close()
