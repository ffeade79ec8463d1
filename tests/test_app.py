"""Every page that needs no camera, driven by Streamlit's AppTest (no browser), on a fresh database."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coach.store import Store
from coach.store.access import Access
from coach.store.auth import Accounts

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A fresh, empty data folder: the app makes its SQLite database and demo clinic there."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("FACECOACH_DATA_DIR", str(tmp_path))
    return tmp_path


def app(timeout: float = 60) -> AppTest:
    return AppTest.from_file(APP, default_timeout=timeout)


def demo(timeout: float = 60) -> AppTest:
    """The app, with the visitor trying the demo (no account)."""
    at = app(timeout).run()
    at.button(key="try_demo").click().run()
    assert not at.exception
    return at


PASSWORD = "a long password 1"


def accounts(data_dir: Path) -> dict[str, int]:
    """An admin, a therapist with one patient, and the patient's login, in the app's database."""
    store = Store(f"sqlite:///{data_dir / 'facecoach.db'}")
    try:
        acc = Accounts(store)
        acc.create_admin("admin", PASSWORD)
        admin = acc.login("admin", PASSWORD)
        tid = Access(store, admin).add_therapist("Dr Lee")
        acc.create_user(admin, "lee", PASSWORD, "therapist", therapist_id=tid, first_password=False)
        pid = Access(store, acc.login("lee", PASSWORD)).add_patient("Kim", "right", "Bell's palsy")
        acc.create_user(acc.login("lee", PASSWORD), "kim", PASSWORD, "patient", patient_id=pid, first_password=False)
        return {"therapist": tid, "patient": pid}
    finally:
        store.close()


def signed_in(username: str, password: str = PASSWORD, timeout: float = 60) -> AppTest:
    at = app(timeout).run()
    at.text_input(key="signin_name").input(username)
    at.text_input(key="signin_pw").input(password)
    at.button(key="signin_go").click().run()
    assert not at.exception
    return at


def tab(at: AppTest, label: str) -> AppTest:
    """Open one of the therapist's tabs (only the open tab is drawn)."""
    at.session_state["t_tab"] = label
    at.run()
    assert not at.exception
    return at


def texts(at: AppTest) -> str:
    return "\n".join(
        [m.value for m in at.markdown]
        + [c.value for c in at.caption]
        + [i.value for i in at.info]
        + [w.value for w in at.warning]
    )


def test_first_run_creates_the_administrator_then_signs_in(data_dir):
    at = app().run()
    assert not at.exception
    assert (data_dir / "facecoach.db").exists()
    assert at.subheader[0].value == "Welcome! Set up FaceCoach"
    at.text_input(key="first_name").input("boss")
    at.text_input(key="first_pw").input(PASSWORD)
    at.text_input(key="first_pw2").input(PASSWORD)
    at.text_input(key="first_code").input("WRON-GCOD-EEEE-EEEE")
    at.button(key="first_go").click().run()
    assert "That setup code is not right" in at.error[0].value  # anyone who reaches it first is not enough
    store = Store(f"sqlite:///{data_dir / 'facecoach.db'}")
    code = Accounts(store).issue_setup_code()  # what the server printed in its log (any code it printed works)
    store.close()
    at.text_input(key="first_pw").input(PASSWORD)
    at.text_input(key="first_pw2").input(PASSWORD)
    at.text_input(key="first_code").input(code)
    at.button(key="first_go").click().run()
    assert not at.exception
    assert at.title[0].value == "Accounts"
    assert "Signed in as **boss** (administrator)" in texts(at)
    # The administrator adds a therapist with a login; the access log is there.
    at.text_input(key="a_name").input("Dr Rivers")
    at.text_input(key="a_user").input("rivers")
    at.text_input(key="a_pw").input(PASSWORD)
    at.button(key="a_go").click().run()
    assert not at.exception
    assert any("can now sign in as “rivers”" in s.value for s in at.success)
    fresh = app().run()  # the first-run form is gone for good
    assert fresh.subheader[0].value == "Sign in"


def test_the_demo_opens_today_with_the_example_patient(data_dir):
    at = demo()
    assert at.title[0].value == "Today"
    assert "example patient" in texts(at)
    assert at.subheader[0].value == "Bell's palsy recovery"
    assert {m.label for m in at.metric} == {"Done today", "Days in a row", "Days this week"}
    assert at.button(key="start_today")


def test_wrong_password_is_refused_kindly(data_dir):
    accounts(data_dir)
    at = signed_in("lee", "not the password")
    assert [e.value for e in at.error] == ["That user name and password do not match."]
    assert at.title[0].value == "FaceCoach"


def test_each_role_sees_only_its_pages(data_dir):
    accounts(data_dir)
    patient = signed_in("kim")
    assert patient.title[0].value == "Today"
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        patient.switch_page("views/therapist.py").run()  # not in a patient's app at all
    therapist = signed_in("lee")
    assert therapist.title[0].value == "Patients"
    assert list(therapist.dataframe[0].value["Patient"]) == ["Kim"]  # not the demo patient, nobody else's


@pytest.mark.parametrize(
    "page, title",
    [
        ("views/today.py", "Today"),
        ("views/coach.py", "Coach"),
        ("views/progress.py", "My progress"),
        ("views/measure.py", "Measure a video"),
        ("views/therapist.py", "Patients"),
    ],
)
def test_every_page_opens(data_dir, page, title):
    at = demo()
    at.session_state["coach_source"] = "demo"
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert at.title[0].value == title
    assert not at.error


def test_progress_page_shows_charts_and_the_practice_calendar(data_dir):
    at = demo().switch_page("views/progress.py").run()
    assert not at.exception
    assert [s.value for s in at.subheader] == [
        "When you practised",
        "How even your two sides are",
        "How far each side moves",
    ]
    assert len(at.get("vega_lite_chart")) == 3
    at.selectbox(key="progress_exercise").set_value("brow_raise").run()
    assert not at.exception
    assert "Last time, your left side moved" in texts(at)


def test_the_virtual_patient_is_coached_live_and_kept_out_of_the_patients_record(data_dir):
    """Issue 14: practice with the virtual patient was saved as the signed-in patient's own."""
    ids = accounts(data_dir)
    at = signed_in("kim", timeout=120)
    at.session_state["coach_source"] = "demo"
    at.switch_page("views/coach.py").run()
    at.button(key="demo_start").click().run()
    assert not at.exception
    slot = at.session_state["coach_slot"]
    run = slot.run
    deadline = time.monotonic() + 150
    while not run.finished and time.monotonic() < deadline:
        time.sleep(2)
    assert run.finished, "the virtual patient's session did not end"
    at.run()
    assert not at.exception
    assert any(m.label == "Today's score" for m in at.metric)
    summary = texts(at)
    assert "Your right side moved less" in summary  # she takes Kim's affected side, moving half as much
    assert "not saved in anyone's record" in summary
    reps = run.snapshot().reps
    assert [r.index for r in reps] == [1, 2, 3]
    for r in reps:
        assert r.completed
        assert r.symmetry_pct == pytest.approx(50, abs=10)
    assert len(run.rep_rates) == 3 and run.session_id is None
    store = Store(f"sqlite:///{data_dir / 'facecoach.db'}")
    try:
        assert store.sessions(ids["patient"]) == []  # Kim's record holds only Kim
    finally:
        store.close()


def test_therapist_adds_a_patient_tunes_a_program_and_writes_a_safe_note(data_dir):
    accounts(data_dir)
    at = signed_in("lee")
    assert not at.exception
    at.text_input(key="new_name").input("<b>Robin</b>")
    at.radio(key="new_side").set_value("right")
    at.text_input(key="new_condition").input("Masseteric transfer")
    at.selectbox(key="new_program").set_value("masseteric")
    at.button(key="new_add").click().run()
    assert not at.exception
    assert any("was added" in s.value for s in at.success)
    names = [r for r in at.dataframe[0].value["Patient"]]
    assert "<b>Robin</b>" in names
    # Open the new patient and tune the bite-smile to 7 reps.
    pid = at.session_state["therapist_patient"]
    at.selectbox(key="t_patient").set_value(pid)
    tab(at, "Program")
    key = f"t_{pid}_masseteric_bite_smile_reps"
    at.number_input(key=key).set_value(7).run()
    at.button(key="t_save_program").click().run()
    assert not at.exception
    store = Store(f"sqlite:///{data_dir / 'facecoach.db'}")
    try:
        a = store.assignment(pid)
        assert a.program_id == "masseteric" and a.overrides == {"bite_smile": {"reps": 7}}
        assert store.patient(pid).affected_side == "right"
    finally:
        store.close()
    # A note with HTML in it is shown as text, never as markup.
    tab(at, "Details & notes")
    note_area = next(t for t in at.text_area if t.label == "New note")
    note_area.input("<script>alert('x')</script> smile looks better")
    next(b for b in at.button if b.label == "Add note").click().run()
    assert not at.exception
    assert any("<script>alert('x')</script> smile looks better" == t.value for t in at.text)
    assert not any("<script>" in m.value for m in at.markdown)


def test_therapist_drills_into_a_session_and_exports(data_dir):
    at = demo().switch_page("views/therapist.py").run()  # the demo's therapist view, read-only
    assert not at.exception
    overview = at.dataframe[0].value
    assert "Alex Demo (example patient)" in list(overview["Patient"])
    assert "of 28" in overview["Days practised (4 weeks)"][0]
    assert len(at.get("vega_lite_chart")) >= 3  # progress (symmetry, each side) and a repetition's curves
    # The newest demo session, its reps, and one rep's curves.
    tab(at, "Sessions")
    assert at.selectbox(key="t_session").value is not None
    assert any(m.label == "Session score" for m in at.metric)
    assert any(m.value.startswith("Points: movements done") for m in at.markdown)  # not "You did…"
    reps_table = at.dataframe[1].value
    assert len(reps_table) == 15 and set(reps_table["Done"]) == {"yes"}
    at.selectbox(key="t_rep").set_value(at.selectbox(key="t_rep").options[-1]).run()
    assert not at.exception
    tab(at, "Assessment")
    grades = next(d.value for d in at.dataframe if "eFACE-like (measured items)" in d.value.columns)
    assert len(grades) >= 2 and grades["Sunnybrook-like voluntary"].notna().all()  # the grades over time
    tab(at, "Export")
    buttons = {b.label for b in at.get("download_button")}
    assert buttons == {
        "Download all repetitions (CSV)",
        "Download printable report (HTML)",
        "Download everything (ZIP)",
    }


def test_a_therapist_gives_a_patient_one_login_and_stays_on_that_tab(data_dir):
    """Issue 14: the login form was under Details & notes, the page jumped back to Progress
    with no word, and a patient could be given two logins."""
    ids = accounts(data_dir)  # Kim already has a login: "kim"
    at = signed_in("lee")
    tab(at, "Login")
    assert "Kim signs in as “kim” (login active)." in texts(at)
    assert not any((t.key or "").startswith("t_login_name_") for t in at.text_input)  # no second login
    # Kim forgot her password: her therapist sets a new one (one login, a new password).
    next(t for t in at.text_input if t.label.startswith("A new password")).input("a new long password 2")
    next(b for b in at.button if b.label == "Set the new password").click().run()
    assert not at.exception
    assert at.session_state["t_tab"] == "Login"
    assert any("Kim's new password is set" in s.value for s in at.success)
    kim = signed_in("kim", "a new long password 2")
    assert kim.title[0].value == "Choose your own password"  # set by her therapist: she picks her own first
    assert [p.title for p in kim.get("page_link")] == [] and "Today" not in texts(kim)
    kim.text_input(key="acct_current").input("a new long password 2")
    kim.text_input(key="acct_new").input("river stones under moonlight")
    kim.text_input(key="acct_again").input("river stones under moonlight")
    kim.button(key="acct_go").click().run()
    assert not kim.exception
    assert kim.title[0].value == "Today"
    at.text_input(key="new_name").input("Sam")
    at.button(key="new_add").click().run()
    assert not at.exception
    tab(at, "Login")
    at.text_input(key=f"t_login_name_{at.session_state['therapist_patient']}").input("sam")
    next(t for t in at.text_input if "first password" in t.label).input(PASSWORD)
    next(b for b in at.button if b.label == "Create the login").click().run()
    assert not at.exception
    assert at.session_state["t_tab"] == "Login"
    assert any("Sam can now sign in as “sam”" in s.value for s in at.success)
    assert "Sam signs in as “sam” (login active)." in texts(at)
    assert signed_in("sam").title[0].value == "Choose your own password"
    store = Store(f"sqlite:///{data_dir / 'facecoach.db'}")
    try:
        sam = next(p for p in store.patients(ids["therapist"]) if p.name == "Sam")
        assert store.assignment(sam.id).program_id == "bells_palsy"  # a practice program, not the assessment
    finally:
        store.close()


def test_measure_a_video_scores_the_virtual_patient(data_dir):
    at = demo(timeout=180).switch_page("views/measure.py").run()
    at.slider(key="demo_left").set_value(5.0)
    at.slider(key="demo_right").set_value(1.5)
    at.number_input(key="demo_reps").set_value(1)
    at.button(key="demo_run").click().run()
    assert not at.exception
    assert any("1 smile scored" in s.value for s in at.subheader)
    metrics = {m.label: m.value for m in at.metric}
    left = float(metrics["Left side, up and out"].split()[0])
    right = float(metrics["Right side, up and out"].split()[0])
    assert left > 3.5 and right < 2.5
    assert any("right** side moved less" in m.value for m in at.markdown)


def test_a_broken_database_address_gives_a_clear_message(data_dir, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody:wrong@127.0.0.1:1/none")
    at = app().run()
    assert not at.exception
    assert any("cannot open its records" in e.value for e in at.error)


def test_a_patient_downloads_and_deletes_all_their_data(data_dir):
    ids = accounts(data_dir)
    at = signed_in("kim").switch_page("views/my_data.py").run()
    assert not at.exception
    labels = {b.label for b in at.get("download_button")}
    assert labels == {
        "Download all my repetitions (CSV)",
        "Download my report (HTML, to print)",
        "Download everything kept about me (ZIP)",
    }
    store = Store(f"sqlite:///{data_dir / 'facecoach.db'}")
    try:  # drawing the page makes no file: the log has a download only when one is made (issue 16)
        assert not {"export", "export_all", "report"} & {e.action for e in store.access_log(patient_id=ids["patient"])}
    finally:
        store.close()
    assert at.button(key="me_delete").disabled
    at.text_input(key="me_confirm").input("DELETE").run()
    at.button(key="me_delete").click().run()
    assert not at.exception
    assert "All your data was deleted" in texts(at)
    store = Store(f"sqlite:///{data_dir / 'facecoach.db'}")
    try:
        with pytest.raises(KeyError):
            store.patient(ids["patient"])
        assert [e.action for e in store.access_log(patient_id=ids["patient"])][:1] == ["delete_all"]
    finally:
        store.close()
    assert signed_in("kim").error  # the login went with the data


def test_the_demo_cannot_change_records(data_dir):
    at = demo().switch_page("views/therapist.py").run()
    at.text_input(key="new_name").input("Someone")
    at.button(key="new_add").click().run()
    assert not at.exception
    assert any("sign in as a therapist" in i.value for i in at.info)


def _smile_video(tmp_path: Path, suffix: str = ".y4m") -> bytes:
    """Two smiles, her left side weaker: raw (.y4m, about 120 MB) or MJPEG (.avi, about 8 MB)."""
    from coach.virtual.phantom import Schedule, smile_phantom, write_video

    spec = smile_phantom(
        2.0, 4.5, schedule=Schedule(lead_in_s=1.2, rise_s=0.8, hold_s=1.5, release_s=0.8, rest_s=1.0, reps=2)
    )
    return write_video(spec, tmp_path / f"my_smiles{suffix}").read_bytes()


def _upload(at: AppTest, video: bytes) -> AppTest:
    at.file_uploader(key="upload").set_value(("my_smiles.y4m", video, "video/x-yuv4mpeg")).run()
    assert not at.exception
    (sides,) = [r for r in at.radio if r.key.startswith("sides_")]
    sides.set_value("Yes").run()  # the phantom is not mirrored: its left is written on its left
    assert not at.exception
    return at


def test_a_patient_saves_their_measured_video_to_their_record(data_dir, tmp_path):
    """Issue 14: a patient's own uploaded video could be measured but never kept."""
    ids = accounts(data_dir)
    at = signed_in("kim", timeout=240).switch_page("views/measure.py").run()
    assert at.radio(key="affected").value == "Right"  # the side on Kim's record, not "Not sure"
    _upload(at, _smile_video(tmp_path))
    assert any("2 smiles scored" in s.value for s in at.subheader)
    at.button(key="save_upload").click().run()
    assert not at.exception
    assert any("Saved to your record" in s.value for s in at.success)
    assert "save_upload" not in [b.key for b in at.button]  # once per video
    store = Store(f"sqlite:///{data_dir / 'facecoach.db'}")
    try:
        (session,) = store.sessions(ids["patient"])
        assert (session.source, session.status, session.reps_completed) == ("video", "completed", 2)
        assert session.score is None  # a free video is measured, not scored
        (smile,) = store.session(session.id).exercises
        assert smile.weaker_side == "left" and smile.completed == 2
        assert [h.exercise_id for h in store.history(ids["patient"])] == ["smile"]
    finally:
        store.close()


def test_the_demo_measures_a_video_but_keeps_nothing(data_dir, tmp_path):
    at = demo(timeout=240).switch_page("views/measure.py").run()
    _upload(at, _smile_video(tmp_path, ".avi"))  # under the demo's 20 MB
    assert any("2 smiles scored" in s.value for s in at.subheader)
    assert "save_upload" not in [b.key for b in at.button]
    assert "the numbers are shown, not saved" in texts(at)


def test_the_access_log_names_the_patient_and_says_what_was_done(data_dir):
    """Issue 14: the administrator read a patient as a number and actions as codes."""
    ids = accounts(data_dir)
    signed_in("lee")  # the therapist's list opens Kim's record
    at = signed_in("admin")
    log = next(d.value for d in at.dataframe if "Patient" in d.value.columns)
    kim = log[log["Patient"] == f"Kim ({ids['patient']})"]
    assert len(kim) and "read the progress" in set(kim["What"]), log  # the Progress tab, open first
    assert set(kim["Who"]) == {"lee"}


def test_the_demo_measures_small_videos_only(data_dir, tmp_path):
    """Issue 16: an anonymous demo visitor could have the server measure videos of up to 200 MB."""
    accounts(data_dir)
    at = demo().switch_page("views/measure.py").run()
    uploader = at.file_uploader(key="upload")
    assert uploader.proto.max_upload_size_mb == 20  # what the browser is told
    uploader.set_value(("my_smiles.y4m", _smile_video(tmp_path), "video/x-yuv4mpeg")).run()  # a browser may not check
    assert not at.exception
    assert "The demo measures videos up to 20 MB. Sign in to measure longer ones." in [i.value for i in at.info]
    assert not at.error and not at.get("image") and not [r for r in at.radio if (r.key or "").startswith("sides_")]
    signed = signed_in("kim").switch_page("views/measure.py").run()
    assert signed.file_uploader(key="upload").proto.max_upload_size_mb == 200


def test_the_demo_leaves_the_clinics_records_alone(data_dir):
    """Issue 16: the demo has its own database in memory; a visit writes nothing to the clinic's."""
    at = demo().switch_page("views/therapist.py").run()
    assert not at.exception
    assert "Alex Demo (example patient)" in list(at.dataframe[0].value["Patient"])
    at.switch_page("views/progress.py").run()
    assert not at.exception
    store = Store(f"sqlite:///{data_dir / 'facecoach.db'}")
    try:
        assert store.patients() == [] and store.therapists() == []
        assert store.access_log_count() == 0
    finally:
        store.close()


def test_the_demo_can_be_switched_off(data_dir, monkeypatch):
    at = demo()  # a visitor in the demo when the clinic switches it off
    monkeypatch.setenv("FACECOACH_DEMO", "off")
    at.run()
    assert not at.exception
    assert "The demo is switched off here." in texts(at)
    assert "try_demo" not in [b.key for b in at.button]
    assert at.subheader[0].value in ("Sign in", "Welcome! Set up FaceCoach")


def test_a_clinic_server_turns_the_demo_off_by_default(data_dir, monkeypatch):
    monkeypatch.setenv("FACECOACH_ENV", "clinic")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{data_dir / 'clinic.db'}")
    at = app().run()
    assert not at.exception
    assert "try_demo" not in [b.key for b in at.button]
    monkeypatch.setenv("FACECOACH_DEMO", "on")
    assert "try_demo" in [b.key for b in app().run().button]


def test_demo_visitors_live_runs_are_capped(data_dir, monkeypatch):
    """Anonymous visitors cannot take the server's cores: past the cap the virtual patient does not start."""
    monkeypatch.setenv("FACECOACH_DEMO_LIVE_CAP", "0")
    from ui import context

    context.visitor_runs.clear()
    try:
        at = demo().switch_page("views/coach.py").run()
        at.radio(key="coach_source").set_value("demo").run()
        assert any("The demo is busy just now" in w.value for w in at.warning)
        at.button(key="demo_start").click().run()
        assert not at.exception
        assert "demo_stop" in [b.key for b in at.button] and at.button(key="demo_stop").disabled  # not started
    finally:
        context.visitor_runs.clear()


def test_an_unexpected_error_shows_a_kind_message_and_no_details():
    script = """
from ui import context

class Broken:
    def run(self):
        raise RuntimeError("SELECT password_hash FROM users WHERE username = 'kim'")

context.run_page(Broken())
"""
    at = AppTest.from_string(script, default_timeout=30).run()
    assert not at.exception  # caught: no traceback reaches the browser
    (error,) = at.error
    assert error.value.startswith("Sorry, something went wrong on our side. Your saved records are safe.")
    assert "SELECT" not in error.value and "kim" not in error.value


def test_the_administrator_reads_the_log_a_page_at_a_time(data_dir):
    accounts(data_dir)
    for _ in range(3):
        signed_in("lee")  # sign-ins are in the log
    at = signed_in("admin")
    assert at.title[0].value == "Accounts"
    at.selectbox(key="log_kind").set_value("Sign-ins").run()
    assert not at.exception
    log = at.dataframe[-1].value
    assert len(log) >= 4 and set(log["What"]) == {"signed in"}
    assert any("Page (of 1;" in n.label for n in at.number_input)
    store = Store(f"sqlite:///{data_dir / 'facecoach.db'}")
    try:
        assert store.access_log(1, action="read_log")[0].username == "admin"  # reading the log is logged
    finally:
        store.close()


def test_the_visitors_cap_counts_only_runs_that_are_coaching():
    from ui.live_run import VisitorRuns

    class Run:
        active = True

    made = []
    runs = VisitorRuns(2)

    def make():
        made.append(Run())
        return made[-1]

    first, second = runs.start(make), runs.start(make)
    assert first is not None and second is not None and runs.busy()
    assert runs.start(make) is None and len(made) == 2  # past the cap nothing is even made
    first.active = False  # finished, or its tab was closed (no frame for a few seconds)
    assert not runs.busy() and runs.start(make) is made[2]
