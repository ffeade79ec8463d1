"""Every page that needs no camera, driven by Streamlit's AppTest (no browser), on a fresh database."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coach.store import Store

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A fresh, empty data folder: the app makes its SQLite database and demo clinic there."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("FACECOACH_DATA_DIR", str(tmp_path))
    return tmp_path


def app(timeout: float = 60) -> AppTest:
    return AppTest.from_file(APP, default_timeout=timeout)


def texts(at: AppTest) -> str:
    return "\n".join(
        [m.value for m in at.markdown]
        + [c.value for c in at.caption]
        + [i.value for i in at.info]
        + [w.value for w in at.warning]
    )


def test_first_start_opens_today_with_the_demo_patient(data_dir):
    at = app().run()
    assert not at.exception
    assert (data_dir / "facecoach.db").exists()
    assert at.title[0].value == "Today"
    assert at.selectbox(key="patient_picker").value is not None
    assert "example patient" in texts(at)
    assert at.subheader[0].value == "Bell's palsy recovery"
    assert {m.label for m in at.metric} == {"Done today", "Days in a row", "Days this week"}
    assert at.button(key="start_today")


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
    at = app()
    at.session_state["coach_source"] = "demo"
    at.run().switch_page(page).run()
    assert not at.exception, at.exception
    assert at.title[0].value == title
    assert not at.error


def test_progress_page_shows_charts_and_the_practice_calendar(data_dir):
    at = app().run().switch_page("views/progress.py").run()
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


def test_the_virtual_patient_is_coached_live_and_her_reps_saved(data_dir):
    at = app(timeout=120)
    at.session_state["coach_source"] = "demo"
    at.run().switch_page("views/coach.py").run()
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
    assert "Your left side moved less" in summary  # her left moves half as much
    store = Store(f"sqlite:///{data_dir / 'facecoach.db'}")
    try:
        detail = store.session(run.session_id)
        assert detail.session.status == "completed" and detail.session.source == "demo"
        assert [r.rep_index for r in detail.reps] == [1, 2, 3]
        for r in detail.reps:
            assert r.completed and r.has_series
            assert r.symmetry_pct == pytest.approx(50, abs=10)
    finally:
        store.close()


def test_therapist_adds_a_patient_tunes_a_program_and_writes_a_safe_note(data_dir):
    at = app().run().switch_page("views/therapist.py").run()
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
    at.selectbox(key="t_patient").set_value(pid).run()
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
    note_area = next(t for t in at.text_area if t.label == "New note")
    note_area.input("<script>alert('x')</script> smile looks better")
    next(b for b in at.button if b.label == "Add note").click().run()
    assert not at.exception
    assert any("<script>alert('x')</script> smile looks better" == t.value for t in at.text)
    assert not any("<script>" in m.value for m in at.markdown)


def test_therapist_drills_into_a_session_and_exports(data_dir):
    at = app().run().switch_page("views/therapist.py").run()
    assert not at.exception
    overview = at.dataframe[0].value
    assert "Alex Demo (example patient)" in list(overview["Patient"])
    assert "of 28" in overview["Days practised (4 weeks)"][0]
    # The newest demo session, its reps, and one rep's curves.
    assert at.selectbox(key="t_session").value is not None
    assert any(m.label == "Session score" for m in at.metric)
    reps_table = at.dataframe[1].value
    assert len(reps_table) == 15 and set(reps_table["Done"]) == {"yes"}
    at.selectbox(key="t_rep").set_value(at.selectbox(key="t_rep").options[-1]).run()
    assert not at.exception
    charts = at.get("vega_lite_chart")
    assert len(charts) >= 3  # progress (2) + the rep's left/right curves
    grades = next(d.value for d in at.dataframe if "eFACE-like dynamic" in d.value.columns)
    assert len(grades) >= 2 and grades["Sunnybrook-like voluntary"].notna().all()  # the grades over time
    buttons = {b.label for b in at.get("download_button")}
    assert buttons == {"Download all repetitions (CSV)", "Download printable report (HTML)"}


def test_measure_a_video_scores_the_virtual_patient(data_dir):
    at = app(timeout=180).run().switch_page("views/measure.py").run()
    at.slider(key="demo_left").set_value(5.0)
    at.slider(key="demo_right").set_value(1.5)
    at.number_input(key="demo_reps").set_value(1)
    at.button(key="demo_run").click().run()
    assert not at.exception
    assert any("1 smile scored" in s.value for s in at.subheader)
    metrics = {m.label: m.value for m in at.metric}
    left = float(metrics["Left side moved"].split()[0])
    right = float(metrics["Right side moved"].split()[0])
    assert left > 3.5 and right < 2.5
    assert any("right** side moved less" in m.value for m in at.markdown)


def test_a_broken_database_address_gives_a_clear_message(data_dir, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody:wrong@127.0.0.1:1/none")
    at = app().run()
    assert not at.exception
    assert any("could not open the records" in e.value for e in at.error)
