"""Issue 16: the holes a careful reviewer found, each closed, on SQLite and PostgreSQL.

1 first run (setup code, one locked transaction, bound address, clinic mode); 2 notes
out of the patient's report; 3 the demo in its own database, switchable; 4 throttling
per name, per address and per both, counted atomically, Argon2 outside transactions;
5 the access log; 6 the account lifecycle; 7 safe defaults; 8 delete-my-data; 9 the
smaller ones. (The Streamlit pages are driven in tests/test_app.py; the export files in
tests/test_export.py.)
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import tomllib
import zipfile
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from coach.cli import main as cli
from coach.sessions.scoring import score_rep
from coach.store import Store, StoreError, default_url
from coach.store import models as m
from coach.store.access import Access
from coach.store.auth import Accounts, AuthError, Forbidden, check_password_rules, demo_principal
from coach.store.demo import demo_store, performance_frames, seed_demo
from coach.store.info import utcnow
from exercises import get_exercise, get_program

ROOT = Path(__file__).resolve().parents[1]
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # tests only; the app uses the defaults
PASSWORD = "correct horse battery"
OTHER = "purple walrus evening tram"
T0 = datetime(2026, 12, 3, 9, 0)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sec.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(url):
    s = Store(url)
    yield s
    s.close()


@pytest.fixture
def clinic(store):
    """An admin, a therapist with two patients (one with a login), and everyone signed in."""
    acc = Accounts(store, hasher=CHEAP)
    acc.create_admin("admin", PASSWORD)
    admin = acc.login("admin", PASSWORD, T0)
    tid = Access(store, admin).add_therapist("Dr One")
    acc.create_user(admin, "one", PASSWORD, "therapist", therapist_id=tid)
    one = acc.login("one", PASSWORD, T0)
    p1 = Access(store, one).add_patient("Pat Marker-Zebra-7", "left")
    p2 = Access(store, one).add_patient("No Login", "right")
    acc.create_user(one, "pat1", PASSWORD, "patient", patient_id=p1)
    return store, acc, {"admin": admin, "one": one, "pat1": acc.login("pat1", PASSWORD, T0)}, {"p1": p1, "p2": p2}


def a_rep():
    ex = get_exercise("smile")
    return score_rep(ex, 0, 1, 0.0, performance_frames(ex, 4.0, 0.5, "left", 0.1, 0.0, np.random.default_rng(0)), None)


def actions(store, **kw) -> list[str]:
    return [e.action for e in store.access_log(10_000, **kw)]


# -- 1. the first run -----------------------------------------------------------------------------


def test_the_first_administrator_needs_the_setup_code_and_it_works_once(store):
    acc = Accounts(store, hasher=CHEAP)
    with pytest.raises(Forbidden, match="setup code"):
        acc.create_first_admin("boss", PASSWORD, "")  # before any code was printed: none works
    code = acc.issue_setup_code()
    assert code is not None and len(code) == 19 and code.count("-") == 3
    with pytest.raises(Forbidden, match="setup code is not right"):
        acc.create_first_admin("boss", PASSWORD, "AAAA-BBBB-CCCC-DDDD")
    assert acc.needs_first_admin()
    acc.create_first_admin("boss", PASSWORD, code.lower().replace("-", " "))  # typed loosely, still the code
    assert not acc.needs_first_admin()
    with pytest.raises(Forbidden, match="already exists"):
        acc.create_first_admin("boss2", PASSWORD, code)
    assert acc.issue_setup_code() is None  # no more codes once there is an administrator
    with store._sessions() as db:
        assert db.scalars(select(m.SetupCode)).all() == []


def test_a_setup_code_expires_after_a_day(store):
    acc = Accounts(store, hasher=CHEAP)
    code = acc.issue_setup_code(now=utcnow() - timedelta(hours=25))
    with pytest.raises(Forbidden):
        acc.create_first_admin("boss", PASSWORD, code)


@pytest.mark.parametrize("same_code", [True, False], ids=["same code", "two replicas' codes"])
def test_two_visitors_racing_get_one_administrator(url, same_code):
    """The check and the insert are one locked transaction: of visitors racing, exactly one
    becomes administrator (before, two racing visitors both did)."""
    stores = [Store(url) for _ in range(4)]  # separate connections, like separate servers
    try:
        codes = [Accounts(s, hasher=CHEAP).issue_setup_code() for s in stores]
        if same_code:
            codes = [codes[0]] * len(codes)
        barrier = threading.Barrier(len(stores))
        results: list[object] = [None] * len(stores)

        def visit(i: int) -> None:
            acc = Accounts(stores[i], hasher=CHEAP)
            barrier.wait()
            try:
                results[i] = acc.create_first_admin(f"boss{i}", PASSWORD, codes[i])
            except Exception as err:  # noqa: BLE001 - each visitor's outcome is checked below
                results[i] = err

        threads = [threading.Thread(target=visit, args=(i,)) for i in range(len(stores))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        made = [r for r in results if isinstance(r, int)]
        assert len(made) == 1, results
        assert all(isinstance(r, int | Forbidden) or "locked" in str(r) for r in results), results
        with stores[0]._sessions() as db:
            assert db.scalar(select(m.User.username).where(m.User.role == "admin")).startswith("boss")
            assert len(db.scalars(select(m.User).where(m.User.role == "admin")).all()) == 1
    finally:
        for s in stores:
            s.close()


def test_the_app_script_listens_only_on_this_computer_unless_told(tmp_path):
    """scripts/run_app.sh passes 127.0.0.1 to Streamlit (it listened on every interface before),
    and FACECOACH_ADDRESS changes it; it runs the preflight before the server."""
    fake = tmp_path / "python"
    calls = tmp_path / "calls"
    fake.write_text(f'#!/usr/bin/env bash\necho "$*" >> {calls}\n')
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "FACECOACH_ADDRESS"} | {"PYTHON": str(fake)}
    subprocess.run(["bash", str(ROOT / "scripts/run_app.sh")], env=env, check=True, timeout=30)
    lines = calls.read_text().splitlines()
    assert lines[1] == "-m coach preflight"
    assert lines[2] == "-m streamlit run ui/app.py --server.address 127.0.0.1"
    calls.unlink()
    subprocess.run(
        ["bash", str(ROOT / "scripts/run_app.sh"), "--server.port", "9000"],
        env=env | {"FACECOACH_ADDRESS": "0.0.0.0"},
        check=True,
        timeout=30,
    )
    assert calls.read_text().splitlines()[2] == "-m streamlit run ui/app.py --server.address 0.0.0.0 --server.port 9000"


def test_streamlit_settings_are_safe_for_a_server():
    cfg = tomllib.loads((ROOT / ".streamlit/config.toml").read_text())
    assert cfg["server"]["address"] == "127.0.0.1"
    assert cfg["client"]["showErrorDetails"] == "none"  # no tracebacks with SQL in the browser
    assert cfg["client"]["toolbarMode"] == "minimal"  # no "Deploy" for patients


def test_a_clinic_server_without_a_database_stops_with_one_sentence(monkeypatch, tmp_path):
    monkeypatch.setenv("FACECOACH_ENV", "clinic")
    monkeypatch.setenv("FACECOACH_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(StoreError, match="DATABASE_URL is not set"):
        default_url()
    monkeypatch.setenv("DATABASE_URL", "   ")
    out, err = io.StringIO(), io.StringIO()
    assert cli(["preflight"], out, err) == 2
    assert err.getvalue().count("\n") == 1 and "DATABASE_URL is not set" in err.getvalue()
    assert not list(tmp_path.iterdir())  # no fresh SQLite file made behind the clinic's back
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:x@127.0.0.1:1/none")
    assert cli(["preflight"], out, err := io.StringIO()) == 2
    assert "Cannot open the database" in err.getvalue() and "built-in" not in err.getvalue()
    monkeypatch.delenv("FACECOACH_ENV")
    monkeypatch.delenv("DATABASE_URL")
    assert default_url().startswith("sqlite:///")  # at home the built-in database is the default


def test_the_server_commands_make_an_administrator_and_recover_a_lost_one(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("FACECOACH_DATA_DIR", str(tmp_path))
    out, err = io.StringIO(), io.StringIO()
    assert cli(["preflight"], out, err) == 0
    assert "setup code" in out.getvalue()
    monkeypatch.setattr(sys, "stdin", io.StringIO("password\n"))
    assert cli(["admin", "create", "boss", "--password-stdin"], out, err := io.StringIO()) == 2
    assert "common" in err.getvalue() or "10 to 256" in err.getvalue()
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert cli(["admin", "create", "boss", "--password-stdin"], out, io.StringIO()) == 0
    store = Store(f"sqlite:///{tmp_path / 'facecoach.db'}")
    try:
        acc = Accounts(store)
        assert not acc.needs_first_admin()
        who = acc.login("boss", PASSWORD)
        acc.create_user(who, "second", OTHER, "admin")
        acc.set_disabled(who, acc.login("second", OTHER, client="x").user_id, True)  # the other one, paused
        monkeypatch.setattr(sys, "stdin", io.StringIO("lost lantern harbour fog\n"))
        assert cli(["admin", "reset-password", "second", "--password-stdin"], out, io.StringIO()) == 0
        again = acc.login("second", "lost lantern harbour fog")
        assert again.role == "admin" and again.must_change_password  # enabled again, must choose their own
        assert "reset_password" in actions(store)
    finally:
        store.close()


# -- 2. notes ----------------------------------------------------------------------------------------


def test_the_patients_report_leaves_out_the_therapists_notes(clinic):
    store, _, w, p = clinic
    Access(store, w["one"]).add_note(p["p1"], "Private: NOTE-7c1e on the patient's mood")
    assert "NOTE-7c1e" not in Access(store, w["pat1"]).report_html(p["p1"])
    with zipfile.ZipFile(io.BytesIO(Access(store, w["pat1"]).export_zip(p["p1"]))) as z:
        assert len(z.namelist()) == 5
        assert not any("NOTE-7c1e" in z.read(name).decode() for name in z.namelist())
    assert "NOTE-7c1e" in Access(store, w["one"]).report_html(p["p1"])  # the therapist's own copy


# -- 3. the demo -----------------------------------------------------------------------------------


def test_the_demo_lives_in_its_own_database_never_the_clinics(clinic):
    store, _, w, p = clinic
    seed_demo(store, get_program("bells_palsy").plan(), "bells_palsy", 3)  # what older versions did
    assert store.demo_patient() is not None
    assert store.forget_demo_records() == 1
    assert store.demo_patient() is None and not any(t.is_demo for t in store.therapists())
    assert sorted(x.id for x in store.patients()) == sorted([p["p1"], p["p2"]])  # nobody real went
    demo = demo_store(get_program("bells_palsy").plan(), "bells_palsy")
    try:
        assert "mode=memory" in demo.url  # in memory, nowhere on disk
        visitor = Access(demo, demo_principal())
        (only,) = visitor.patients()
        assert only.is_demo and visitor.history(only.id)
        before = demo.access_log_count()
        with pytest.raises(Forbidden):
            visitor.start_session(only.id, "smile")
        visitor.export_csv(only.id)
        assert demo.access_log_count() == before  # an anonymous visit writes nothing, not even a log line
    finally:
        demo.close()


def test_a_visitor_cannot_make_a_real_patient_visible_to_the_demo(clinic):
    store, _, w, _ = clinic
    with pytest.raises(Forbidden):
        Access(store, w["one"]).add_patient("Sneaky", is_demo=True)
    with pytest.raises(Forbidden):
        Access(store, w["one"]).add_patient("Sneaky", therapist_id=99)
    assert not any(x.is_demo for x in store.patients())


# -- 4. throttling ---------------------------------------------------------------------------------


def test_a_guesser_elsewhere_cannot_lock_a_therapist_out(clinic):
    store, _, _, _ = clinic
    acc = Accounts(store, hasher=CHEAP)
    t = T0 + timedelta(days=1)
    for i in range(8):
        with pytest.raises(AuthError):
            acc.login("one", f"guess number {i}", t + timedelta(seconds=i), client="203.0.113.9")
    with pytest.raises(AuthError, match="Too many attempts"):
        acc.login("one", PASSWORD, t + timedelta(seconds=9), client="203.0.113.9")  # the guesser waits
    who = acc.login("one", PASSWORD, t + timedelta(seconds=10), client="198.51.100.4")  # the therapist does not
    assert who.username == "one"


def test_waits_grow_with_each_failure(clinic):
    store, _, _, _ = clinic
    acc = Accounts(store, hasher=CHEAP, max_failures=3, delay_s=30, lock_s=900)
    t = T0 + timedelta(days=2)

    def attempt(at_s: float, password: str = "wrong wrong wrong") -> str:
        try:
            acc.login("pat1", password, t + timedelta(seconds=at_s), client="c1")
            return "in"
        except AuthError as err:
            return "wait" if "Too many" in str(err) else "no"

    assert [attempt(s) for s in (0, 1, 2)] == ["no"] * 3  # three are free
    assert attempt(3) == "wait" and attempt(31) == "wait"  # then 30 s after the last failure…
    assert attempt(33) == "no"
    assert attempt(90) == "wait" and attempt(94) == "no"  # …then 60 s…
    assert attempt(210, PASSWORD) == "wait"  # …then 120 s, even for the right password
    assert attempt(215, PASSWORD) == "in"


def test_one_common_password_tried_on_many_names_is_slowed(clinic):
    store, _, _, _ = clinic
    acc = Accounts(store, hasher=CHEAP, address_failures=10)
    t = T0 + timedelta(days=3)
    outcomes = []
    for i in range(14):
        try:
            acc.login(f"name{i}", "Summer2026!", t + timedelta(seconds=i), client="192.0.2.66")
        except AuthError as err:
            outcomes.append("wait" if "Too many" in str(err) else "no")
    assert outcomes[:10] == ["no"] * 10 and set(outcomes[10:]) == {"wait"}
    assert acc.login("one", PASSWORD, t + timedelta(seconds=20), client="192.0.2.7").username == "one"


def test_guesses_sent_in_parallel_are_counted(clinic):
    """Each attempt is written down before its password is checked: a burst of 12 parallel
    guesses gets no more than ``max_failures`` checks (before, all 12 passed the count)."""
    store, _, _, _ = clinic
    checked = []
    slow = PasswordHasher(time_cost=2, memory_cost=2**14, parallelism=1)

    class Counting(PasswordHasher):
        def verify(self, h, p):
            checked.append(p)
            return slow.verify(h, p)

    acc = Accounts(store, hasher=Counting(time_cost=1, memory_cost=8, parallelism=1), max_failures=4)
    acc._dummy = slow.hash("not a real password")
    t = T0 + timedelta(days=4)
    barrier = threading.Barrier(12)

    def guess(i: int) -> None:
        barrier.wait()
        try:
            acc.login("one", f"burst guess {i}", t, client="198.51.100.99")
        except AuthError:
            pass

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert 1 <= len(checked) <= 4, len(checked)


def test_the_password_hash_is_checked_outside_any_transaction(clinic):
    store, _, _, _ = clinic
    held = []

    class Watching(PasswordHasher):
        def verify(self, h, p):
            held.append(store.engine.pool.checkedout())
            return CHEAP.verify(h, p)

    acc = Accounts(store, hasher=Watching(time_cost=1, memory_cost=8, parallelism=1))
    acc.login("one", PASSWORD, T0 + timedelta(days=5))
    with pytest.raises(AuthError):
        acc.login("one", "not the password", T0 + timedelta(days=5))
    assert held == [0, 0]  # no connection (so no transaction, no lock) held while Argon2 works


# -- 5. the access log -----------------------------------------------------------------------------


def test_sign_ins_failures_account_changes_and_log_reads_are_logged(clinic):
    store, acc, w, p = clinic
    with pytest.raises(AuthError):
        acc.login("one", "wrong password here", T0 + timedelta(days=6), client="203.0.113.5")
    acc.login("one", PASSWORD, T0 + timedelta(days=6), client="203.0.113.5")
    done = actions(store)
    for action in ("sign_in", "sign_in_failed", "create_account"):
        assert action in done, action
    failed = store.access_log(1, action="sign_in_failed")[0]
    assert (failed.username, failed.role, failed.detail) == ("one", "visitor", "from 203.0.113.5")
    assert store.access_log(1, username="one", action="sign_in_failed")  # the administrator finds it by name
    admin = Access(store, w["admin"])
    rows, total = admin.access_log(limit=2)
    assert len(rows) == 2 and total >= 5
    assert actions(store)[0] == "read_log"
    admin.access_log(limit=2)  # the same page view again: one line
    assert actions(store)[:2].count("read_log") == 1


def test_the_log_is_paged_filtered_and_kept_only_as_long_as_set(clinic):
    store, _, w, p = clinic
    for _ in range(30):
        store.log_access(w["one"].user_id, "one", "therapist", "view_progress", p["p1"])
    admin = Access(store, w["admin"])
    first, total = admin.access_log(limit=10, username="ONE", action="view")
    second, _ = admin.access_log(limit=10, offset=10, username="one", action="view")
    assert total >= 30 and len(first) == len(second) == 10
    both, _ = admin.access_log(limit=20, username="one", action="view")
    assert first + second == both  # two pages are the first twenty, in order, without overlap
    assert all(e.username == "one" and e.action.startswith("view") for e in first + second)
    assert [e.at for e in first] == sorted((e.at for e in first), reverse=True)
    assert admin.access_log(since=utcnow() + timedelta(days=1))[1] == 0
    assert store.forget_access_log_before(utcnow() + timedelta(seconds=1)) >= 30
    assert store.access_log_count() == 0


def test_downloads_are_logged_when_made_not_when_a_page_is_drawn(clinic):
    store, _, w, p = clinic
    me = Access(store, w["pat1"])
    me.patient(p["p1"])
    assert "export" not in actions(store, patient_id=p["p1"])
    me.export_csv(p["p1"])
    me.export_zip(p["p1"])
    me.report_html(p["p1"])
    logged = actions(store, patient_id=p["p1"])
    assert logged.count("export") == 1 and logged.count("export_all") == 1 and logged.count("report") == 1


# -- 6. the account lifecycle ------------------------------------------------------------------------


def test_an_account_can_be_paused_and_allowed_again(clinic):
    store, acc, w, p = clinic
    one = w["one"]
    acc.set_disabled(w["admin"], one.user_id, True)
    with pytest.raises(AuthError, match="no longer active"):
        acc.check(one, T0 + timedelta(minutes=1))  # signed out at once
    with pytest.raises(AuthError, match="do not match"):
        acc.login("one", PASSWORD, T0 + timedelta(days=7))
    acc.set_disabled(w["admin"], one.user_id, False)
    assert acc.login("one", PASSWORD, T0 + timedelta(days=7, minutes=1)).username == "one"
    # A therapist pauses their own patient's login; nobody pauses an account they do not manage.
    acc.set_disabled(one, w["pat1"].user_id, True)
    acc.set_disabled(one, w["pat1"].user_id, False)
    with pytest.raises(Forbidden):
        acc.set_disabled(w["pat1"], one.user_id, True)
    with pytest.raises(Forbidden):
        acc.set_disabled(one, w["admin"].user_id, True)
    with pytest.raises(Forbidden):
        acc.set_disabled(w["admin"], w["admin"].user_id, True)  # not oneself (nor the last administrator)
    assert {"disable_account", "enable_account"} <= set(actions(store))


def test_a_first_password_must_be_changed_and_a_change_ends_other_sign_ins(clinic):
    store, acc, w, _ = clinic
    t = T0 + timedelta(days=8)
    first = acc.login("pat1", PASSWORD, t)
    assert first.must_change_password  # chosen by the therapist
    elsewhere = acc.login("pat1", PASSWORD, t, client="another device")
    with pytest.raises(AuthError, match="not right"):
        acc.change_password(first, "wrong current one", OTHER, t)
    with pytest.raises(ValueError, match="common"):
        acc.change_password(first, PASSWORD, "password1234", t)
    with pytest.raises(ValueError, match="different"):
        acc.change_password(first, PASSWORD, PASSWORD, t)
    mine = acc.change_password(first, PASSWORD, OTHER, t)
    assert not mine.must_change_password and acc.check(mine, t).username == "pat1"
    with pytest.raises(AuthError, match="password was changed"):
        acc.check(elsewhere, t)  # the other device is signed out
    assert not acc.login("pat1", OTHER, t).must_change_password


def test_passwords_are_reset_by_whoever_manages_the_account(clinic):
    store, acc, w, p = clinic
    t = T0 + timedelta(days=9)
    acc.reset_password(w["admin"], w["one"].user_id, OTHER)  # the administrator, for a therapist
    again = acc.login("one", OTHER, t)
    assert again.must_change_password
    acc.set_patient_password(again, p["p1"], "fresh start window seat")  # the therapist, for their patient
    assert acc.login("pat1", "fresh start window seat", t).must_change_password
    with pytest.raises(Forbidden):
        acc.reset_password(w["pat1"], w["one"].user_id, OTHER)
    with pytest.raises(Forbidden):
        acc.reset_password(again, w["admin"].user_id, OTHER)


@pytest.mark.parametrize(
    "password, why",
    [
        ("short", "10 to 256"),
        ("password123456", "common"),
        ("qwertyuiop123", "common|guess"),
        ("iloveyou2024", "common|guess"),
        ("therapist-one-2026", "user name"),
    ],
)
def test_easy_passwords_are_refused(password, why):
    with pytest.raises(ValueError, match=why):
        check_password_rules(password, "therapist-one")


def test_good_passwords_are_accepted():
    for good in (PASSWORD, OTHER, "a long password 1", "Kettle-Orbit-Snow-52"):
        check_password_rules(good, "kim")


# -- 8. delete my data ----------------------------------------------------------------------------------


def test_deleting_a_patient_anonymises_the_log_and_leaves_no_trace_in_the_sqlite_file(tmp_path):
    path = tmp_path / "erase.db"
    store = Store(f"sqlite:///{path}")
    try:
        acc = Accounts(store, hasher=CHEAP)
        acc.create_admin("admin", PASSWORD)
        admin = acc.login("admin", PASSWORD)
        tid = Access(store, admin).add_therapist("Dr Wipe")
        acc.create_user(admin, "wipe", PASSWORD, "therapist", therapist_id=tid)
        dr = acc.login("wipe", PASSWORD)
        pid = Access(store, dr).add_patient("Quetzal Marker-Name", "left", "Condition-Marker-Q")
        acc.create_user(dr, "quetzal.marker", PASSWORD, "patient", patient_id=pid)
        with pytest.raises(AuthError):
            acc.login("quetzal.marker", "not the password!", client="x")
        me = acc.login("quetzal.marker", PASSWORD)
        Access(store, dr).add_note(pid, "Note-Marker-Q about the patient")
        sid = Access(store, me).start_session(pid, "smile")
        Access(store, me).add_rep(sid, a_rep())
        Access(store, me).delete_all(pid)
        for e in store.access_log(10_000):
            assert "quetzal" not in f"{e.username} {e.detail}".lower()
        assert "delete_all" in actions(store)  # that it happened is kept, not who it was
        with store._sessions() as db:
            assert db.scalars(select(m.LoginFailure).where(m.LoginFailure.username == "quetzal.marker")).all() == []
        store.engine.dispose()
        raw = b"".join(f.read_bytes() for f in tmp_path.iterdir() if f.name.startswith("erase.db"))
        for marker in (b"Quetzal", b"quetzal", b"Condition-Marker-Q", b"Note-Marker-Q"):
            assert marker not in raw, marker
    finally:
        store.close()


def test_a_therapist_deletes_a_patient_who_has_no_login_only(clinic):
    store, _, w, p = clinic
    one = Access(store, w["one"])
    with pytest.raises(Forbidden, match="has a login"):
        one.delete_all(p["p1"])
    one.delete_all(p["p2"])
    with pytest.raises(KeyError):
        store.patient(p["p2"])
    assert store.patient(p["p1"])


# -- 9. the smaller ones -----------------------------------------------------------------------------------


def test_the_log_never_names_a_patients_program(clinic):
    store, _, w, p = clinic
    Access(store, w["one"]).assign_program(p["p1"], "masseteric")
    assert "assign_program" in actions(store)
    assert not any("masseteric" in f"{e.action} {e.detail}" for e in store.access_log(10_000))


def test_practice_stops_saving_when_the_sign_in_ends(clinic):
    store, _, w, p = clinic
    signed_in = {"yes": True}
    me = Access(store, w["pat1"], still_signed_in=lambda: signed_in["yes"])
    sid = me.start_session(p["p1"], "smile")
    me.add_rep(sid, a_rep())
    signed_in["yes"] = False  # signed out in another tab, expired, or the account paused
    with pytest.raises(Forbidden, match="signed out"):
        me.add_rep(sid, a_rep())
    with pytest.raises(Forbidden, match="signed out"):
        me.finish_session(sid, None)
    with pytest.raises(Forbidden, match="signed out"):
        me.start_session(p["p1"], "smile")
    assert len(store.session(sid).reps) == 1


def test_the_apps_sign_in_check_ends_on_expiry_pause_and_sign_out(clinic):
    """ui.context.SignIn, which every save of a live session and every download asks."""
    from ui.context import SignIn

    store, _, w, _ = clinic
    acc = Accounts(store, hasher=CHEAP, idle_s=600)
    box = SignIn(acc)
    box.who = acc.login("pat1", PASSWORD)
    assert box.still_valid()
    box.who = replace(box.who, last_seen=utcnow() - timedelta(minutes=11))  # idle too long
    assert not box.still_valid() and box.who is None
    box.who = acc.login("pat1", PASSWORD)
    acc.set_disabled(w["one"], box.who.user_id, True)
    assert not box.still_valid()
    acc.set_disabled(w["one"], w["pat1"].user_id, False)
    box.who = acc.login("pat1", PASSWORD)
    box.end()  # signed out
    assert not box.still_valid()


def test_downloads_refuse_once_the_sign_in_has_ended(clinic):
    """A download button can be pressed long after its page was drawn."""
    store, _, w, p = clinic
    signed_in = {"yes": True}
    therapist = Access(store, w["one"], still_signed_in=lambda: signed_in["yes"])
    therapist.export_csv(p["p1"])
    signed_in["yes"] = False  # paused by the administrator, or timed out, since
    for make in (therapist.export_csv, therapist.export_zip, therapist.report_html):
        with pytest.raises(Forbidden, match="signed out"):
            make(p["p1"])


def test_many_guessers_cannot_keep_out_someone_who_types_their_password_right(clinic):
    store, _, _, _ = clinic
    acc = Accounts(store, hasher=CHEAP, name_failures=10)
    t = T0 + timedelta(days=10)
    for i in range(30):  # a botnet: every guess from another address
        with pytest.raises(AuthError):
            acc.login("one", f"guess {i} of many", t + timedelta(seconds=i), client=f"203.0.113.{i}")
    assert acc.login("one", PASSWORD, t + timedelta(seconds=31), client="198.51.100.20").username == "one"
    # An address that has guessed at the name itself is held to the limit for the name as a whole.
    with pytest.raises(AuthError, match="do not match"):
        acc.login("one", "one more guess", t + timedelta(seconds=32), client="203.0.113.250")
    with pytest.raises(AuthError, match="Too many"):
        acc.login("one", PASSWORD, t + timedelta(seconds=33), client="203.0.113.250")


def test_one_ipv6_home_counts_as_one_address():
    from coach.store.auth import client_key

    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("203.0.113.5") == "203.0.113.5" and client_key("::ffff:203.0.113.5") == "203.0.113.5"
    assert client_key("") == "" and client_key("not an address") == "not an address"


@pytest.mark.parametrize(
    "lines, behind, seen",
    [
        ([], True, "10.0.0.2"),  # no header: the peer
        (["1.2.3.4, 198.51.100.7"], True, "198.51.100.7"),
        (["6.6.6.6", "198.51.100.7"], True, "198.51.100.7"),  # the visitor's own line first, the proxy's added
        (["198.51.100.7"], False, "10.0.0.2"),  # not behind a proxy: the header is the visitor's word only
    ],
)
def test_the_visitors_address_is_the_one_the_proxy_added_last(lines, behind, seen):
    from ui.context import forwarded_client

    assert forwarded_client("10.0.0.2", lines, behind) == seen


def test_guessing_the_current_password_at_an_open_session_is_throttled(clinic):
    store, _, _, _ = clinic
    acc = Accounts(store, hasher=CHEAP, max_failures=3)
    t = T0 + timedelta(days=11)
    me = acc.login("pat1", PASSWORD, t)
    for i in range(3):
        with pytest.raises(AuthError, match="not right"):
            acc.change_password(me, f"guess {i}", OTHER, t)
    with pytest.raises(AuthError, match="Too many"):
        acc.change_password(me, PASSWORD, OTHER, t)
    assert "change_password_failed" in actions(store)


def test_wrong_setup_codes_are_throttled_and_logged(store):
    acc = Accounts(store, hasher=CHEAP, max_failures=3)
    code = acc.issue_setup_code()
    for i in range(3):
        with pytest.raises(Forbidden, match="not right"):
            acc.create_first_admin("boss", PASSWORD, f"WRONG-{i}", client="192.0.2.1")
    with pytest.raises(AuthError, match="Too many"):
        acc.create_first_admin("boss", PASSWORD, code, client="192.0.2.1")  # the guesser waits, even with it
    assert actions(store).count("setup_code_refused") == 3
    acc.create_first_admin("boss", PASSWORD, code, client="192.0.2.9")  # the person with the log does not


def test_a_new_therapists_account_is_checked_before_their_record_is_made(clinic):
    store, acc, _, _ = clinic
    with pytest.raises(ValueError, match="taken"):
        acc.check_new_account("one", OTHER)
    with pytest.raises(ValueError, match="user name"):
        acc.check_new_account("newdoc", "newdoc-is-my-password")
    assert acc.check_new_account("NewDoc", OTHER) == "newdoc"


def test_deleting_a_patient_leaves_other_peoples_log_entries_alone(clinic):
    """The anonymisation matches the patient's own entries exactly (a LIKE '%ann%' emptied others')."""
    store, acc, w, p = clinic
    one = w["one"]
    ann = Access(store, one).add_patient("Ann", "left")
    acc.create_user(one, "ann", PASSWORD, "patient", patient_id=ann)
    tid = Access(store, w["admin"]).add_therapist("Annabel")
    acc.create_user(w["admin"], "annabel", PASSWORD, "therapist", therapist_id=tid)
    for who in ("ann", "annabel", "a_n"):
        with pytest.raises(AuthError):
            acc.login(who, "not the password!", client="198.51.100.3")
    acc.login("ann", PASSWORD)
    before = [(e.username, e.detail) for e in store.access_log(10_000) if "annabel" in f"{e.username} {e.detail}"]
    Access(store, acc.login("ann", PASSWORD)).delete_all(ann)
    after = [(e.username, e.detail) for e in store.access_log(10_000) if "annabel" in f"{e.username} {e.detail}"]
    assert after == before and len(before) >= 2
    assert any(e.username == "a_n" for e in store.access_log(10_000))
    assert not any(e.username == "ann" for e in store.access_log(10_000))


def test_a_visitors_measurement_takes_a_place_of_the_cap():
    from ui.live_run import VisitorRuns

    runs = VisitorRuns(1)
    with runs.working() as first:
        assert first and runs.busy()
        with runs.working() as second:
            assert not second  # a second visitor's video waits
    assert not runs.busy()
