"""What every page shares: the database, the face model, names, and who is practising."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from coach.errors import FaceCoachError
from coach.model import ModelFile, resolve_model
from coach.store import Store, default_url
from coach.store.demo import seed_demo
from coach.store.repo import PatientInfo
from exercises import get_program, load_library, load_programs

DEMO_PROGRAM = "bells_palsy"
SIDE_WORDS = {None: "not set", "left": "left", "right": "right"}


@st.cache_resource(show_spinner="Opening your records…")
def _open_store(url: str) -> Store:
    store = Store(url)
    seed_demo(store, get_program(DEMO_PROGRAM).plan(), DEMO_PROGRAM, assessment=get_program("assessment").plan())
    return store


def store() -> Store:
    """The app's database (``DATABASE_URL``, else SQLite in the user's data folder), with the demo clinic."""
    try:
        return _open_store(default_url())
    except FaceCoachError as err:
        st.error(f"We could not open the records. {err}.")
        st.stop()
        raise


@st.cache_resource(show_spinner=False)
def _model() -> ModelFile:
    return resolve_model()


def model() -> ModelFile:
    """The face model, checked; a friendly stop if it is missing."""
    try:
        return _model()
    except FaceCoachError as err:
        st.error(str(err))
        st.stop()
        raise


@st.cache_data(show_spinner=False)
def exercise_names() -> dict[str, str]:
    return {k: v.name for k, v in load_library().items()}


@st.cache_data(show_spinner=False)
def program_names() -> dict[str, str]:
    return {k: v.name for k, v in load_programs().items()}


def names() -> dict[str, str]:
    """Exercise and program id → display name."""
    return {**exercise_names(), **program_names()}


def current_patient() -> PatientInfo | None:
    """The patient chosen in the sidebar (the demo patient by default)."""
    s = store()
    pid = st.session_state.get("patient_id")
    if pid is not None:
        try:
            return s.patient(int(pid))
        except KeyError:
            st.session_state.pop("patient_id", None)
    demo = s.demo_patient()
    if demo is not None:
        st.session_state["patient_id"] = demo.id
    return demo


def require_patient() -> PatientInfo:
    """The patient practising; the page stops with a kind word when there is none yet."""
    patient = current_patient()
    if patient is None:
        st.info("There are no patients yet. A therapist can add one on the **Patients** page.")
        st.stop()
        raise AssertionError("unreachable")
    if patient.is_demo:
        st.caption(f"**{patient.name}** is an example patient: the practice history you see is made up.")
    return patient


def patient_picker() -> PatientInfo | None:
    """The sidebar's "who is practising" choice."""
    s = store()
    patients = s.patients()
    if not patients:
        return None
    current = current_patient()
    ids = [p.id for p in patients]
    by_id = {p.id: p for p in patients}
    index = ids.index(current.id) if current is not None and current.id in ids else 0
    chosen = st.sidebar.selectbox(
        "Who is practising?",
        ids,
        index=index,
        format_func=lambda i: by_id[i].name,
        key="patient_picker",
    )
    st.session_state["patient_id"] = chosen
    return by_id[chosen]


def local_time(utc: datetime) -> datetime:
    """A stored UTC time in this computer's time zone."""
    return utc.replace(tzinfo=UTC).astimezone()


def when(utc: datetime | None) -> str:
    if utc is None:
        return "never"
    return f"{local_time(utc):%a %d %b %Y, %H:%M}"
