"""The therapist's dashboard: patients at a glance, one patient in depth, programs, notes, export."""

from __future__ import annotations

from datetime import date

import numpy as np
import streamlit as st

from coach.errors import FaceCoachError
from coach.sessions.series import RepSeries
from coach.store.access import Access
from coach.store.auth import Forbidden
from coach.store.info import PatientInfo
from exercises import get_program, load_programs
from exercises.programs import TUNABLE
from ui import charts, context
from ui.text import plain

SIDES = [None, "left", "right"]
TREND_WORDS = {"better": "↗ more even", "worse": "↘ less even", "steady": "→ steady", None: "–"}
TUNE_LABELS = {
    "reps": "Repetitions",
    "hold_s": "Hold (s)",
    "rise_s": "Move (s)",
    "release_s": "Relax (s)",
    "rest_s": "Rest (s)",
}


def _shown(value: float | None, decimals: int) -> str:
    """A number as the table shows it; "–" when not measured (a repetition not done), never "None"."""
    return "–" if value is None else f"{value:.{decimals}f}"


def _side(x: str | None) -> str:
    return context.SIDE_WORDS.get(x, x or "not set")


def patient_list(s: Access) -> list[PatientInfo]:
    rows = s.overview(today=date.today())
    st.subheader(f"Your patients ({len(rows)})")
    st.dataframe(
        [
            {
                "Patient": r.patient.name,
                "Condition": r.patient.condition or "–",
                "Affected side": _side(r.patient.affected_side),
                "Last session": context.when(r.last_session_at),
                "Days practised (4 weeks)": f"{r.days_practised_28} of 28",
                "Symmetry (last 2 weeks)": None if r.symmetry_recent is None else round(r.symmetry_recent),
                "Trend": TREND_WORDS.get(r.trend, "–"),
            }
            for r in rows
        ],
        hide_index=True,
        column_config={
            "Symmetry (last 2 weeks)": st.column_config.ProgressColumn(
                "Symmetry (last 2 weeks)", min_value=0, max_value=100, format="%d %%"
            )
        },
    )
    return [r.patient for r in rows]


def add_patient_form(s: Access) -> None:
    with st.expander("Add a patient"):
        with st.form("add_patient", clear_on_submit=True):
            name = st.text_input("Name", max_chars=120, key="new_name")
            side = st.radio("Affected side", SIDES, format_func=_side, horizontal=True, key="new_side")
            condition = st.text_input("Condition", placeholder="e.g. Bell's palsy", max_chars=120, key="new_condition")
            surgery = st.text_input(
                "Surgery (if any)", placeholder="e.g. masseteric nerve transfer", max_chars=160, key="new_surgery"
            )
            surgery_date = st.date_input("Date of surgery", value=None)
            programs = load_programs()
            # A practice program first; the assessment is a session now and then, not the default.
            order = sorted(programs, key=lambda p: (p == "assessment", programs[p].name))
            program = st.selectbox("Program", order, format_func=lambda p: programs[p].name, key="new_program")
            if st.form_submit_button("Add patient", type="primary", key="new_add"):
                if not name.strip():
                    st.error("Please give the patient's name.")
                    return
                try:
                    pid = s.add_patient(name, side, condition, surgery=surgery or None, surgery_date=surgery_date)
                    s.assign_program(pid, program)
                except Forbidden as err:
                    context.forbidden(err)
                    return
                st.session_state["therapist_patient"] = pid
                st.session_state["t_patient"] = pid  # the new patient is the one opened
                st.session_state["t_flash"] = (
                    f"{plain(name)} was added with the program “{plain(programs[program].name)}”."
                )
                st.rerun()


def progress_tab(s: Access, p: PatientInfo) -> None:
    history = s.history(p.id)
    if not history:
        st.info("No completed exercises yet.")
        return
    names = context.exercise_names()
    exercises = sorted({h.exercise_id for h in history}, key=lambda e: (e != "smile", names.get(e, e)))
    choice = st.selectbox("Exercise", exercises, format_func=lambda e: names.get(e, e), key="t_progress_exercise")
    pts = [h for h in history if h.exercise_id == choice]
    c1, c2 = st.columns(2)
    with c1:
        st.caption("Symmetry per session (green: healthy range 79–98 %)")
        st.altair_chart(charts.symmetry_trend(pts), width="stretch")
    with c2:
        st.caption("Movement per side per session")
        st.altair_chart(charts.sides_trend(pts), width="stretch")
    syn = sum(h.synkinesis_reps for h in pts)
    st.write(f"{len(pts)} sessions with this exercise; synkinesis flagged in {syn} repetitions.")


def sessions_tab(s: Access, p: PatientInfo) -> None:
    sessions = s.sessions(p.id, limit=200)
    if not sessions:
        st.info("No sessions yet.")
        return
    names = context.names()
    labels = {
        x.id: f"{context.when(x.started_at)} · {names.get(x.program_id, x.program_id)} · "
        + _source(x.source, p)
        + ("not finished" if x.status == "in_progress" else x.status)
        + ("" if x.score is None else f" · score {x.score}")
        for x in sessions
    }
    sid = st.selectbox("Session", list(labels), format_func=labels.get, key="t_session")
    d = s.session(sid)
    if d.session.status == "in_progress":
        st.warning("This session was not finished (the app was closed or stopped). The repetitions saved are shown.")
    if d.session.score is not None:
        st.metric("Session score", f"{d.session.score} / 100")
        if d.session.score_parts:
            st.write(_score_parts(d.session.score_parts))
    elif d.session.source == "video":
        st.caption("Measured from a video the patient filmed: it has no session score.")
    if not d.reps:
        st.info("No repetitions were saved in this session.")
        return
    st.dataframe(
        [
            {
                "Exercise": names.get(r.exercise_id, r.exercise_id),
                "Rep": r.rep_index,
                "Done": "yes" if r.completed else "no",
                "Left": _shown(r.peak_left, 1),
                "Right": _shown(r.peak_right, 1),
                "Unit": r.unit,
                "Symmetry (%)": _shown(r.symmetry_pct, 0),
                "Start lag (s)": _shown(r.onset_lag_s, 2),
                "Synkinesis": "⚠ " + _synk(r) if r.synkinesis else "–",
                "Notes": ", ".join(f.replace("_", " ") for f in r.flags) or "–",
            }
            for r in d.reps
        ],
        hide_index=True,
    )
    with_series = [r for r in d.reps if r.has_series]
    if with_series:
        rid = st.selectbox(
            "Look at one repetition",
            [r.id for r in with_series],
            format_func=lambda i: next(
                f"{names.get(r.exercise_id, r.exercise_id)} #{r.rep_index}" for r in with_series if r.id == i
            ),
            key="t_rep",
        )
        raw = s.rep_series(rid)
        try:
            series = RepSeries.from_bytes(raw) if raw else None
        except ValueError:
            series = None
        if series is None:
            st.info("The movement curve of this repetition is not available.")
        else:
            st.caption("Left and right movement during the repetition")
            st.altair_chart(charts.rep_curves(series.t_s, series.left, series.right, series.unit), width="stretch")
            if np.isfinite(series.eye_left).any():
                st.caption("Eye narrowing (%) — synkinesis shows as the affected eye closing during the movement")
                eyes = charts.rep_curves(series.t_s, series.eye_left, series.eye_right, "%", title="Eye narrowing (%)")
                st.altair_chart(eyes, width="stretch")


SOURCE_WORDS = {"camera": "", "video": "from a video · ", "demo": "virtual patient · "}
PART_WORDS = {
    "completion": ("movements done", 30),
    "symmetry": ("sides alike", 40),
    "control": ("started together", 15),
    "still": ("rest of the face still", 15),
}


def _source(source: str, p: PatientInfo) -> str:
    """How a session was recorded, as its label says it (an example patient's history is all made up)."""
    return "" if p.is_demo else SOURCE_WORDS.get(source, f"{source} · ")


def _score_parts(parts: dict[str, float]) -> str:
    """The session score's points, for the therapist (the patient reads them as "You did…")."""
    said = [f"{PART_WORDS[k][0]} {v:.0f} of {PART_WORDS[k][1]}" for k, v in parts.items() if k in PART_WORDS]
    return "Points: " + " · ".join(said) + "."


def _synk(r) -> str:
    if r.synkinesis_kind == "eye":
        return f"{r.synkinesis_side} eye narrowed {r.synkinesis_value:.0f} %"
    if r.synkinesis_kind == "mouth":
        return f"{r.synkinesis_side} mouth moved {r.synkinesis_value:.1f} mm"
    return "yes"


def eface_measured(grades: dict) -> float | None:
    """The eFACE-like mean over the measured items (older records have only the dynamic score)."""
    ef = grades.get("eface_like") or {}
    return ef.get("measured_items_mean", ef.get("dynamic_score"))


def assessment_tab(s: Access, p: PatientInfo) -> None:
    graded = [x for x in s.sessions(p.id) if x.grades]
    if not graded:
        st.info("No assessment yet. Assign the assessment program for a session to get these estimates.")
        return
    st.caption(
        "Estimates from FaceCoach's measurements, not a clinician's grading. eFACE-like: the mean of "
        'eFACE\'s dynamic items that FaceCoach measures (not the lower lip in "EEE"). Sunnybrook-like '
        "scores are shown only when all five expressions were measured."
    )
    st.dataframe(
        [
            {
                "Date": context.when(x.started_at),
                "eFACE-like (measured items)": eface_measured(x.grades),
                "Sunnybrook-like voluntary": (x.grades.get("sunnybrook_like") or {}).get("voluntary_score"),
                "Synkinesis": (x.grades.get("sunnybrook_like") or {}).get("synkinesis_score"),
                "Composite": (x.grades.get("sunnybrook_like") or {}).get("composite"),
            }
            for x in graded
        ],
        hide_index=True,
    )
    latest = graded[0].grades
    with st.expander("How the latest estimates were worked out"):
        st.json(latest)


def program_tab(s: Access, p: PatientInfo) -> None:
    programs = load_programs()
    current = s.assignment(p.id)
    ids = list(programs)
    index = ids.index(current.program_id) if current and current.program_id in ids else 0
    pid = st.selectbox("Program", ids, index=index, format_func=lambda i: programs[i].name, key=f"t_prog_{p.id}")
    prog = get_program(pid)
    st.caption(plain(prog.description))
    overrides = dict(current.overrides) if current and current.program_id == pid else {}
    base = prog.plan()
    tuned: dict[str, dict[str, float | int]] = {}
    for ex in base.steps:
        st.markdown(f"**{plain(ex.name)}**")
        cols = st.columns(len(TUNABLE))
        mine = overrides.get(ex.id, {})
        for col, field in zip(cols, TUNABLE, strict=True):
            default = getattr(ex, field)
            value = mine.get(field, default)
            if field == "reps":
                v = col.number_input(TUNE_LABELS[field], 1, 30, int(value), key=f"t_{p.id}_{pid}_{ex.id}_{field}")
            else:
                v = col.number_input(
                    TUNE_LABELS[field], 0.5, 30.0, float(value), 0.5, key=f"t_{p.id}_{pid}_{ex.id}_{field}"
                )
            if v != default:
                tuned.setdefault(ex.id, {})[field] = v
    if st.button("Save program", type="primary", key="t_save_program"):
        try:
            prog.plan(tuned)
        except (FaceCoachError, ValueError) as err:
            st.error(f"That tuning cannot be used: {err}")
            return
        try:
            s.assign_program(p.id, pid, tuned)
        except Forbidden as err:
            context.forbidden(err)
            return
        st.success(f"{plain(p.name)} will now do “{plain(prog.name)}”" + (" with your changes." if tuned else "."))


def details_tab(s: Access, p: PatientInfo) -> None:
    with st.form(f"details_{p.id}"):
        side = st.radio("Affected side", SIDES, index=SIDES.index(p.affected_side), format_func=_side, horizontal=True)
        condition = st.text_input("Condition", p.condition, max_chars=120)
        surgery = st.text_input("Surgery", p.surgery or "", max_chars=160)
        surgery_date = st.date_input("Date of surgery", value=p.surgery_date)
        if st.form_submit_button("Save details"):
            try:
                s.update_patient(
                    p.id, affected_side=side, condition=condition, surgery=surgery, surgery_date=surgery_date
                )
                st.success("Saved.")
            except Forbidden as err:
                context.forbidden(err)
    st.subheader("Notes")
    with st.form(f"note_{p.id}", clear_on_submit=True):
        text = st.text_area("New note", max_chars=5000)
        if st.form_submit_button("Add note") and text.strip():
            try:
                s.add_note(p.id, text)
            except Forbidden as err:
                context.forbidden(err)
    for n in s.notes(p.id):
        st.caption(f"{context.when(n.created_at)} · {plain(n.therapist_name or 'unknown')}")
        st.text(n.text)


def login_tab(s: Access, p: PatientInfo) -> None:
    """The patient's own login: one per patient, made by their therapist; paused, given a new password,
    and the patient's records deleted when they have no login."""
    st.caption("So they can practise at home and see their own progress (and nobody else's).")
    if s.who.role != "therapist":
        st.info("This is the demo: a therapist gives each patient a login here.")
        return
    accounts = context.accounts()
    flash = st.session_state.pop(f"t_login_flash_{p.id}", None)
    if flash:
        st.success(flash)
    login = accounts.patient_account(s.who, p.id)
    if login is not None:
        state = "paused: they cannot sign in" if login.disabled else "active"
        st.write(f"{plain(p.name)} signs in as “{plain(login.username)}” (login {state}).")
        if login.must_change_password:
            st.caption("They will choose their own password when they next sign in.")
        with st.form(f"password_{p.id}", clear_on_submit=True):
            st.caption(
                f"If {plain(p.name)} forgot the password, give them a new one here. They choose their own after."
            )
            password = st.text_input("A new password (at least 10 characters)", type="password")
            if st.form_submit_button("Set the new password"):
                try:
                    accounts.set_patient_password(s.who, p.id, password)
                except (ValueError, Forbidden) as err:
                    st.error(plain(f"{str(err)[:1].upper()}{str(err)[1:]}."))
                    return
                st.session_state[f"t_login_flash_{p.id}"] = (
                    f"{plain(p.name)}'s new password is set. Give it to them yourself, not by e-mail."
                )
                st.rerun()
        label = "Let them sign in again" if login.disabled else "Pause this login"
        if st.button(label, key=f"t_login_toggle_{p.id}"):
            try:
                accounts.set_disabled(s.who, login.id, not login.disabled)
            except Forbidden as err:
                context.forbidden(err)
                return
            st.session_state[f"t_login_flash_{p.id}"] = (
                f"{plain(p.name)} can sign in again."
                if login.disabled
                else f"{plain(p.name)} cannot sign in until you allow it."
            )
            st.rerun()
        return
    with st.form(f"login_{p.id}", clear_on_submit=True):
        username = st.text_input("User name for the patient", key=f"t_login_name_{p.id}")
        password = st.text_input("A first password (at least 10 characters)", type="password")
        st.caption("They choose their own password the first time they sign in.")
        if st.form_submit_button("Create the login", type="primary"):
            try:
                accounts.create_user(s.who, username, password, "patient", patient_id=p.id)
            except (ValueError, Forbidden) as err:
                st.error(plain(f"{str(err)[:1].upper()}{str(err)[1:]}."))
                return
            st.session_state[f"t_login_flash_{p.id}"] = (
                f"{plain(p.name)} can now sign in as “{plain(username.strip().lower())}”. "
                "Give them the user name and the password yourself, not by e-mail."
            )
            st.rerun()
    with st.expander("Delete this patient's records"):
        st.write(
            f"{plain(p.name)} has no login, so you can delete everything FaceCoach keeps about them "
            "(details, sessions, notes), for good. Download it first from Export if the clinic must keep it."
        )
        confirm = st.text_input("To confirm, type DELETE", key=f"t_delete_confirm_{p.id}")
        if st.button("Delete for good", key=f"t_delete_{p.id}", disabled=confirm.strip() != "DELETE"):
            try:
                s.delete_all(p.id)
            except Forbidden as err:
                context.forbidden(err)
                return
            st.session_state.pop("therapist_patient", None)
            st.session_state.pop("t_patient", None)
            st.session_state["t_flash"] = f"{plain(p.name)}'s records were deleted."
            st.rerun()


def export_tab(s: Access, p: PatientInfo) -> None:
    st.write(
        "For the clinical record: every repetition as a spreadsheet, a report to print or save as PDF "
        "(with your notes), or everything kept (sessions, grades, each movement frame by frame)."
    )
    context.download_buttons(
        s,
        p,
        "Download all repetitions (CSV)",
        "Download printable report (HTML)",
        "t",
        everything_label="Download everything (ZIP)",
    )


st.title("Patients")
store = context.access()
if store.who.role not in ("therapist", "demo"):
    st.info("This page is for therapists.")
    st.stop()
if "t_flash" in st.session_state:
    st.success(st.session_state.pop("t_flash"))
patients = patient_list(store)
add_patient_form(store)
if not patients:
    st.stop()
by_id = {p.id: p for p in patients}
ids = list(by_id)
chosen = st.session_state.get("therapist_patient")
pid = st.selectbox(
    "Open a patient",
    ids,
    index=ids.index(chosen) if chosen in by_id else 0,
    format_func=lambda i: by_id[i].name,
    key="t_patient",
)
patient = by_id[pid]
st.header(plain(patient.name))
bits = [patient.condition or "condition not set", f"affected side: {_side(patient.affected_side)}"]
if patient.surgery:
    bits.append(patient.surgery + (f" ({patient.surgery_date:%d %b %Y})" if patient.surgery_date else ""))
st.caption(" · ".join(plain(b) for b in bits) + (" · example patient" if patient.is_demo else ""))
TABS = {
    "Progress": progress_tab,
    "Sessions": sessions_tab,
    "Assessment": assessment_tab,
    "Program": program_tab,
    "Details & notes": details_tab,
    "Login": login_tab,
    "Export": export_tab,
}
# The tab chosen stays chosen when a form in it is sent (before, the page went back to
# Progress). Every tab is drawn, so what is typed in one (a program being tuned) is kept
# while another is looked at.
for tab, fn in zip(st.tabs(list(TABS), key="t_tab", on_change="rerun"), TABS.values(), strict=True):
    with tab:
        fn(store, patient)
