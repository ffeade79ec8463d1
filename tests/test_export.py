"""What leaves the records: the report (patient's and therapist's copies), CSV cells that are never
formulas, and the ZIP of everything kept (issue 16)."""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from datetime import datetime

import numpy as np
import pytest

from coach.sessions.scoring import rep_series, score_rep
from coach.sessions.series import RepSeries
from coach.sessions.summary import build_result
from coach.store import Store
from coach.store.demo import performance_frames
from coach.store.export import (
    ARCHIVE_FILES,
    CSV_COLUMNS,
    _cell,
    patient_archive_zip,
    patient_csv,
    patient_report_html,
)
from exercises import get_exercise, get_program

MARKER = "private-note-marker-7f3a9c"
T0 = datetime(2026, 11, 24, 9, 0)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('export') / 'x.db'}"
    else:
        url = request.getfixturevalue("postgres_module_url")
    s = Store(url)
    yield s
    s.close()


def a_patient(store: Store, name: str = "Robin Test", smile_program: str = "smile") -> tuple[int, dict[int, RepSeries]]:
    """A patient with a note, a graded assessment (every rep with its series, one frame unmeasured)
    and a later smile session whose rep has no series. Returns the id and the stored series by rep id."""
    tid = store.add_therapist("Dr Export")
    pid = store.add_patient(name, "left", condition="Bell's palsy", surgery="Nerve graft", therapist_id=tid)
    store.assign_program(pid, "assessment", {"smile": {"reps": 3}}, therapist_id=tid)
    store.add_note(pid, f"{MARKER} <b>watch the left eye</b>", therapist_id=tid)
    plan = get_program("assessment").plan()
    rng = np.random.default_rng(16)
    sid = store.start_session(pid, plan.id, "camera", "left", started_at=T0)
    reps, series = [], {}
    for step, ex in enumerate(plan.steps):
        for index in range(1, ex.reps + 1):
            frames = performance_frames(ex, min(ex.target, 90.0), 0.6, "left", 0.2, 20.0, rng)
            frames[3].values = None  # a frame the camera could not measure
            rep = score_rep(ex, step, index, 0.0, frames, "left")
            reps.append(rep)
            ser = rep_series(ex, step, index, 0.0, frames)
            series[store.add_rep(sid, rep, ser)] = ser
    n = sum(r.frames for r in reps)
    store.finish_session(sid, build_result(plan, reps, [], "left", n, n))
    ex = get_exercise("smile")
    frames = performance_frames(ex, 4.0, 0.5, "left", 0.1, 0.0, rng)
    later = store.start_session(pid, smile_program, "camera", "left", started_at=T0.replace(day=25))
    store.add_rep(later, score_rep(ex, 0, 1, 0.0, frames, "left"))
    return pid, series


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def unzip(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        return {i.filename: zf.read(i).decode("utf-8") for i in zf.infolist()}


# -- the report -----------------------------------------------------------------------------


def test_patients_copy_of_the_report_has_no_notes(store):
    pid, _ = a_patient(store)
    page = patient_report_html(store, pid)
    assert page.startswith("<!doctype html>") and "Robin Test" in page
    assert MARKER not in page
    assert "Notes" not in page and "No notes" not in page


def test_therapists_copy_has_the_notes_escaped(store):
    pid, _ = a_patient(store)
    page = patient_report_html(store, pid, include_notes=True)
    assert "<h2>Notes</h2>" in page and MARKER in page
    assert "&lt;b&gt;watch the left eye&lt;/b&gt;" in page and "<b>watch" not in page


# -- CSV cells ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, written",
    [
        ("", ""),
        (None, ""),
        (float("nan"), ""),
        (float("inf"), ""),
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\r=1", "'\r=1"),
        ("Robin", "Robin"),
        ("a=b", "a=b"),
        (-1.23456, -1.235),  # negative numbers stay numbers
        (-3, -3),
        (0.0, 0.0),
    ],
)
def test_a_cell_is_never_a_formula(value, written):
    assert _cell(value) == written


def test_formula_like_text_comes_out_neutralised_in_every_file(store):
    pid, _ = a_patient(store, name='=HYPERLINK("http://x","y")', smile_program="\tx")
    store.start_session(pid, "\r=1", "camera", "left", started_at=T0.replace(day=26))
    files = unzip(patient_archive_zip(store, pid))
    assert rows_of(files["patient.csv"])[0]["name"] == '\'=HYPERLINK("http://x","y")'
    assert [r["program"] for r in rows_of(files["sessions.csv"])] == ["assessment", "'\tx", "'\r=1"]
    assert rows_of(files["repetitions.csv"])[-1]["program"] == "'\tx"
    assert rows_of(patient_csv(store, pid))[-1]["program"] == "'\tx"
    for row in rows_of(files["repetitions.csv"]):  # numbers, negative ones too, stay numbers
        for col in ("left", "right", "symmetry_pct", "onset_lag_s", "release_lag_s", "confidence", "start_s"):
            assert row[col] == "" or math.isfinite(float(row[col])), (col, row[col])


# -- the ZIP of everything kept -------------------------------------------------------------


def test_archive_holds_the_five_files_and_says_what_they_are(store):
    pid, _ = a_patient(store)
    data = patient_archive_zip(store, pid, {"assessment": "Assessment battery"})
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == list(ARCHIVE_FILES)
    assert all(i.compress_type == zipfile.ZIP_DEFLATED and i.date_time == (1980, 1, 1, 0, 0, 0) for i in infos)
    files = unzip(data)
    assert all("\r\n" not in text for text in files.values())
    readme = files["README.txt"]
    for said in ("patient's own sides", "UTC", "No video and no pictures", *ARCHIVE_FILES[1:]):
        assert said in readme
    (patient,) = rows_of(files["patient.csv"])
    assert patient["name"] == "Robin Test" and patient["affected_side"] == "left"
    assert patient["condition"] == "Bell's palsy" and patient["surgery"] == "Nerve graft"
    assert patient["therapist"] == "Dr Export" and patient["program"] == "assessment"
    assert patient["program_name"] == "Assessment battery"
    assert json.loads(patient["program_changes"]) == {"smile": {"reps": 3}}


def test_archive_is_the_same_bytes_for_the_same_records(store):
    pid, _ = a_patient(store)
    assert patient_archive_zip(store, pid) == patient_archive_zip(store, pid)


def test_repetitions_are_todays_csv_plus_id_times_and_detail(store):
    pid, _ = a_patient(store)
    reps = rows_of(unzip(patient_archive_zip(store, pid))["repetitions.csv"])
    today = rows_of(patient_csv(store, pid))
    assert [{k: r[k] for k in CSV_COLUMNS} for r in reps] == today
    assert list(reps[0]) == ["rep_id", *CSV_COLUMNS, "start_s", "end_s", "detail"]
    ids = {(s.id, r.step, r.rep_index): r.id for s, r in store.reps(pid)}
    for row in reps:
        assert int(row["rep_id"]) == ids[int(row["session_id"]), int(row["step"]), int(row["rep"])]
        detail = json.loads(row["detail"])
        assert (detail["exercise"], detail["step"], detail["index"]) == (
            row["exercise"],
            int(row["step"]),
            int(row["rep"]),
        )
        assert float(row["end_s"]) > float(row["start_s"]) == detail["start_s"]


def test_series_has_one_row_per_stored_frame_with_its_values(store):
    pid, stored = a_patient(store)
    rows = rows_of(unzip(patient_archive_zip(store, pid))["series.csv"])
    assert len(rows) == sum(len(s) for s in stored.values())
    assert {int(r["rep_id"]) for r in rows} == set(stored)  # the rep without a series has no rows
    sids = {r.id: s.id for s, r in store.reps(pid)}
    for rep_id in stored:
        mine = [r for r in rows if int(r["rep_id"]) == rep_id]
        ser = RepSeries.from_bytes(store.rep_series(rep_id))
        assert len(mine) == len(ser)
        assert {(r["session_id"], r["exercise"], r["step"], r["rep"], r["unit"]) for r in mine} == {
            (str(sids[rep_id]), ser.exercise_id, str(ser.step), str(ser.index), ser.unit)
        }
        for col in ("t_s", "left", "right", "eye_left", "eye_right"):
            want = [round(float(v), 3) if math.isfinite(v) else None for v in getattr(ser, col)]
            assert [float(r[col]) if r[col] else None for r in mine] == want, col
        assert mine[3]["left"] == mine[3]["right"] == ""  # the unmeasured frame is written empty
        original = stored[rep_id]
        np.testing.assert_allclose([float(r["t_s"]) for r in mine], original.t_s, atol=1e-3)


def test_sessions_carry_score_parts_and_the_assessments_grades(store):
    pid, _ = a_patient(store)
    rows = rows_of(unzip(patient_archive_zip(store, pid))["sessions.csv"])
    graded, later = rows  # oldest first
    info = {s.id: s for s in store.sessions(pid)}
    g = info[int(graded["session_id"])].grades
    assert g and graded["program"] == "assessment" and graded["status"] == "completed"
    assert graded["started_utc"] == T0.isoformat(timespec="seconds") and graded["ended_utc"]
    measured = g["eface_like"]["measured_items_mean"]
    assert float(graded["grades.eface_like.measured_items_mean"]) == pytest.approx(measured, abs=1e-3)
    if g["sunnybrook_like"]["voluntary_score"] is not None:
        assert float(graded["grades.sunnybrook_like.voluntary_score"]) == g["sunnybrook_like"]["voluntary_score"]
    assert json.loads(graded["grades.sunnybrook_like.missing"]) == g["sunnybrook_like"]["missing"]
    parts = info[int(graded["session_id"])].score_parts
    assert {k: float(graded[f"score_parts.{k}"]) for k in parts} == pytest.approx(parts, abs=1e-3)
    assert int(graded["score"]) == info[int(graded["session_id"])].score and "movements" in graded["score_explained"]
    # the later session was never finished: no score, no grades, its rep counted
    assert later["status"] == "in_progress" and later["score"] == "" and later["ended_utc"] == ""
    assert all(v == "" for k, v in later.items() if k.startswith(("grades.", "score_parts.")))
    assert later["reps_completed"] == str(info[int(later["session_id"])].reps_completed)
