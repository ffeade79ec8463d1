"""Accounts and roles: sign-in, throttling, expiry, and every forbidden access refused (and logged)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
from argon2 import PasswordHasher

from coach.sessions.scoring import score_rep
from coach.store import Store
from coach.store.access import Access
from coach.store.auth import Accounts, AuthError, Forbidden, demo_principal
from coach.store.demo import performance_frames, seed_demo
from exercises import get_exercise, get_program

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # tests only; the app uses the defaults
PASSWORD = "correct horse battery"
T0 = datetime(2026, 11, 24, 9, 0)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def clinic(request, tmp_path_factory):
    """Two therapists, each with a patient; logins for everyone; the demo clinic (one per database, per module)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('access') / 'a.db'}"
    else:
        url = request.getfixturevalue("postgres_module_url")
    store = Store(url)
    acc = Accounts(store, hasher=CHEAP)
    seed_demo(store, get_program("bells_palsy").plan(), "bells_palsy", 5)
    acc.create_admin("admin", PASSWORD)
    admin = acc.login("admin", PASSWORD, T0)
    t1, t2 = (Access(store, admin).add_therapist(n) for n in ("Dr One", "Dr Two"))
    acc.create_user(admin, "one", PASSWORD, "therapist", therapist_id=t1)
    acc.create_user(admin, "two", PASSWORD, "therapist", therapist_id=t2)
    one = acc.login("one", PASSWORD, T0)
    two = acc.login("two", PASSWORD, T0)
    p1 = Access(store, one).add_patient("Pat One", "left")
    p2 = Access(store, two).add_patient("Pat Two", "right")
    acc.create_user(one, "pat1", PASSWORD, "patient", patient_id=p1)
    acc.create_user(two, "pat2", PASSWORD, "patient", patient_id=p2)
    who = {
        "admin": admin,
        "one": one,
        "two": two,
        "pat1": acc.login("pat1", PASSWORD, T0),
        "pat2": acc.login("pat2", PASSWORD, T0),
        "demo": demo_principal(T0),
    }
    yield store, acc, who, {"p1": p1, "p2": p2, "demo": store.demo_patient().id}
    store.close()


def a_session(store, pid):
    ex = get_exercise("smile")
    rep = score_rep(ex, 0, 1, 0.0, performance_frames(ex, 4.0, 0.5, "left", 0.1, 0.0, np.random.default_rng(0)), None)
    sid = store.start_session(pid, "smile", "camera")
    rid = store.add_rep(sid, rep)
    return sid, rid


READS = [
    ("patient", lambda a, pid, sid, rid: a.patient(pid)),
    ("history", lambda a, pid, sid, rid: a.history(pid)),
    ("sessions", lambda a, pid, sid, rid: a.sessions(pid)),
    ("session", lambda a, pid, sid, rid: a.session(sid)),
    ("rep_series", lambda a, pid, sid, rid: a.rep_series(rid)),
    ("practice_days", lambda a, pid, sid, rid: a.practice_days(pid)),
    ("assignment", lambda a, pid, sid, rid: a.assignment(pid)),
    ("export", lambda a, pid, sid, rid: a.export_csv(pid)),
    ("report", lambda a, pid, sid, rid: a.report_html(pid)),
    ("start_session", lambda a, pid, sid, rid: a.start_session(pid, "smile")),
    ("finish_session", lambda a, pid, sid, rid: a.finish_session(sid, None)),
]


@pytest.mark.parametrize("what, call", READS, ids=[r[0] for r in READS])
@pytest.mark.parametrize(
    "who, whose",
    [
        ("pat1", "p2"),  # a patient → another patient
        ("pat2", "p1"),
        ("one", "p2"),  # a therapist → a patient not assigned to them
        ("two", "p1"),
        ("admin", "p1"),  # an admin sees no health records
        ("demo", "p1"),  # the anonymous demo visitor → a real patient
        ("pat1", "demo"),
    ],
)
def test_forbidden_access_is_refused_and_logged(clinic, who, whose, what, call):
    store, _, principals, pids = clinic
    pid = pids[whose]
    sid, rid = a_session(store, pid)
    before = len(store.access_log(patient_id=pid))
    with pytest.raises(Forbidden):
        call(Access(store, principals[who]), pid, sid, rid)
    assert len(store.access_log(patient_id=pid)) >= before  # refusals on a known patient are logged


@pytest.mark.parametrize("who, whose", [("pat1", "p1"), ("one", "p1"), ("pat2", "p2"), ("two", "p2"), ("demo", "demo")])
def test_allowed_access_works(clinic, who, whose):
    store, _, principals, pids = clinic
    pid = pids[whose]
    sid, rid = a_session(store, pid)
    a = Access(store, principals[who])
    for _what, call in READS[:-2]:
        call(a, pid, sid, rid)
    if who == "demo":
        return  # the demo visitor's practice is not saved: test_practice_is_saved_only_when_it_is_a_patients_own
    new = a.start_session(pid, "smile")
    a.finish_session(new, None, stopped=True)


def test_practice_is_saved_only_when_it_is_a_patients_own(clinic):
    """Issue 14: the demo visitor's practice, and the virtual patient's, never land in a record."""
    store, _, w, pids = clinic
    before = {k: len(store.sessions(pid)) for k, pid in pids.items()}
    demo = Access(store, w["demo"])
    with pytest.raises(Forbidden, match="demo"):
        demo.start_session(pids["demo"], "smile", "camera")
    shared = store.sessions(pids["demo"])[0].id  # the demo's made-up history
    with pytest.raises(Forbidden, match="demo"):
        demo.add_rep(shared, None)
    with pytest.raises(Forbidden, match="demo"):
        demo.finish_session(shared, None)
    for source in ("demo", "virtual"):
        with pytest.raises(Forbidden):
            Access(store, w["pat1"]).start_session(pids["p1"], "smile", source)
    assert {k: len(store.sessions(pid)) for k, pid in pids.items()} == before
    for source in ("camera", "video"):  # a patient's own movements, live or from a video
        sid = Access(store, w["pat1"]).start_session(pids["p1"], "smile", source)
        assert store.session(sid).session.source == source


def test_lists_show_only_ones_own(clinic):
    store, _, w, pids = clinic
    assert [p.id for p in Access(store, w["one"]).patients()] == [pids["p1"]]
    assert [o.patient.id for o in Access(store, w["two"]).overview()] == [pids["p2"]]
    assert [p.id for p in Access(store, w["pat1"]).patients()] == [pids["p1"]]
    assert [p.id for p in Access(store, w["demo"]).patients()] == [pids["demo"]]
    with pytest.raises(Forbidden):
        Access(store, w["admin"]).patients()
    with pytest.raises(Forbidden):
        Access(store, w["pat1"]).overview()


@pytest.mark.parametrize(
    "who, call",
    [
        ("demo", lambda a, p: a.add_note(p["demo"], "hi")),
        ("demo", lambda a, p: a.add_patient("Someone")),
        ("pat1", lambda a, p: a.add_note(p["p1"], "hi")),
        ("pat1", lambda a, p: a.assign_program(p["p1"], "smile")),
        ("pat1", lambda a, p: a.notes(p["p1"])),
        ("one", lambda a, p: a.update_patient(p["p2"], condition="x")),
        ("one", lambda a, p: a.update_patient(p["p1"], therapist_id=None)),
        ("one", lambda a, p: a.delete_all(p["p1"])),
        ("pat2", lambda a, p: a.delete_all(p["p1"])),
        ("one", lambda a, p: a.access_log()),
        ("one", lambda a, p: a.add_therapist("Dr Three")),
    ],
)
def test_forbidden_changes_are_refused(clinic, who, call):
    store, _, w, pids = clinic
    with pytest.raises(Forbidden):
        call(Access(store, w[who]), pids)


def test_therapist_reads_are_in_the_access_log(clinic):
    store, _, w, pids = clinic
    a = Access(store, w["one"])
    a.history(pids["p1"])
    a.export_csv(pids["p1"])
    log, _ = Access(store, w["admin"]).access_log()
    mine = [(e.username, e.action, e.patient_id) for e in log if e.username == "one"]
    assert ("one", "view_progress", pids["p1"]) in mine and ("one", "export", pids["p1"]) in mine
    assert all(e.at is not None for e in log)


def test_one_page_view_logs_each_read_once_but_every_change(clinic):
    store, _, w, pids = clinic
    p1 = pids["p1"]

    def rows(action):
        return [e for e in store.access_log(patient_id=p1) if e.username == "one" and e.action == action]

    before = len(rows("view_progress")), len(rows("add_note"))
    view = Access(store, w["one"])  # the app makes one Access per page view
    for _ in range(3):  # the page draws the chart, the table and the calendar from the same reads
        view.history(p1)
    view.add_note(p1, "first")
    view.add_note(p1, "second")
    assert len(rows("view_progress")) == before[0] + 1
    assert len(rows("add_note")) == before[1] + 2
    Access(store, w["one"]).history(p1)  # the next page view is logged again
    assert len(rows("view_progress")) == before[0] + 2


def test_a_patient_can_delete_everything(clinic):
    store, acc, w, pids = clinic
    p3 = Access(store, w["one"]).add_patient("Pat Three", "left")
    acc.create_user(w["one"], "pat3", PASSWORD, "patient", patient_id=p3)
    pat3 = acc.login("pat3", PASSWORD, T0)
    sid, rid = a_session(store, p3)
    Access(store, w["one"]).add_note(p3, "a note")
    Access(store, pat3).delete_all(p3)
    with pytest.raises(KeyError):
        store.patient(p3)
    assert store.session_owner(sid) is None and store.rep_owner(rid) is None and store.rep_series(rid) is None
    assert store.notes(p3) == []
    with pytest.raises(AuthError):
        acc.check(pat3, T0)  # their login went too
    assert store.patient(pids["p1"]) and store.sessions(pids["p1"])  # nobody else's


def test_passwords_are_hashed_with_argon2(clinic):
    store, _, _, _ = clinic
    from sqlalchemy import select

    from coach.store import models as m

    with store._sessions() as db:
        hashes = db.scalars(select(m.User.password_hash)).all()
    assert hashes and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)


def test_sign_in_is_throttled_after_failures(clinic):
    store, _, _, _ = clinic
    acc = Accounts(store, max_failures=3, window_s=600, lock_s=600, hasher=CHEAP)
    t = T0 + timedelta(days=1)  # clear of other tests' sign-ins
    for i in range(3):
        with pytest.raises(AuthError, match="do not match"):
            acc.login("two", "wrong password!", t + timedelta(seconds=i))
    with pytest.raises(AuthError, match="Too many attempts"):
        acc.login("two", PASSWORD, t + timedelta(seconds=5))  # even the right password, for now
    assert acc.login("two", PASSWORD, t + timedelta(minutes=11)).username == "two"
    for i in range(3):  # unknown names are throttled the same way, with the same message
        with pytest.raises(AuthError, match="do not match"):
            acc.login("nobody", "whatever pass", t + timedelta(seconds=i))
    with pytest.raises(AuthError, match="Too many attempts"):
        acc.login("nobody", "whatever pass", t + timedelta(seconds=5))


def test_sign_ins_expire(clinic):
    store, _, w, _ = clinic
    acc = Accounts(store, idle_s=600, max_age_s=3600, hasher=CHEAP)
    p = acc.check(w["one"], T0 + timedelta(minutes=9))
    p = acc.check(p, T0 + timedelta(minutes=18))  # activity keeps it alive
    with pytest.raises(AuthError, match="without activity"):
        acc.check(p, T0 + timedelta(minutes=29))
    q = w["one"]
    for minutes in range(9, 60, 9):
        q = acc.check(q, T0 + timedelta(minutes=minutes))
    with pytest.raises(AuthError, match="expired"):
        acc.check(q, T0 + timedelta(minutes=61))


def test_only_one_first_admin_and_roles_create_only_what_they_may(clinic):
    store, acc, w, pids = clinic
    assert not acc.needs_first_admin()
    with pytest.raises(Forbidden):
        acc.create_first_admin("second", PASSWORD, "any-code")
    with pytest.raises(Forbidden):
        acc.create_user(w["one"], "x_therapist", PASSWORD, "therapist", therapist_id=1)
    with pytest.raises(Forbidden):
        acc.create_user(w["one"], "steal", PASSWORD, "patient", patient_id=pids["p2"])
    with pytest.raises(Forbidden):
        acc.create_user(w["pat1"], "friend", PASSWORD, "patient", patient_id=pids["p1"])
    with pytest.raises(ValueError, match="password must be"):
        acc.create_user(w["admin"], "shorty", "short", "admin")
    with pytest.raises(ValueError, match="taken"):
        acc.create_user(w["admin"], "ONE", PASSWORD, "admin")


def test_the_access_log_never_names_a_later_patient_who_got_a_deleted_patients_number(tmp_path):
    """SQLite gives a new patient the number of the newest deleted one; the log must not then
    put the new patient's name on the deleted patient's entries."""
    store = Store(f"sqlite:///{tmp_path / 'reuse.db'}")
    try:
        ann = store.add_patient("Ann")
        store.log_access(None, "one", "therapist", "view", ann)
        store.delete_patient(ann)
        bob = store.add_patient("Bob")
        store.log_access(None, "one", "therapist", "view", bob)
        newest, oldest = store.access_log()
        assert (newest.patient_id, newest.patient_name) == (bob, "Bob")
        assert (oldest.patient_id, oldest.patient_name) == (ann, None)  # "deleted record", not Bob
    finally:
        store.close()
