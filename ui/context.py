"""What every page shares: the database, the face model, names, and who is signed in."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import streamlit as st

from coach.engine.model import ModelFile, resolve_model
from coach.errors import FaceCoachError
from coach.store import Store, default_url
from coach.store.access import Access
from coach.store.auth import Accounts, AuthError, Forbidden, Principal
from coach.store.demo import seed_demo
from coach.store.info import PatientInfo
from exercises import get_program, load_library, load_programs

log = logging.getLogger(__name__)
DEMO_PROGRAM = "bells_palsy"
SIDE_WORDS = {None: "not set", "left": "left", "right": "right"}


@st.cache_resource(show_spinner="Opening your records…")
def _open_store(url: str) -> Store:
    store = Store(url)
    seed_demo(store, get_program(DEMO_PROGRAM).plan(), DEMO_PROGRAM, assessment=get_program("assessment").plan())
    gone = store.forget_practice_outside_records()
    if gone:
        log.info("deleted %d sessions that were nobody's own practice (virtual patient or demo visitors)", gone)
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


@st.cache_resource(show_spinner=False)
def _accounts(url: str) -> Accounts:
    return Accounts(_open_store(url))


def accounts() -> Accounts:
    """Sign-in and account management for the app's database."""
    store()
    return _accounts(default_url())


def principal() -> Principal | None:
    """Who is signed in (or trying the demo), still valid now; None when nobody is."""
    who = st.session_state.get("who")
    if who is None:
        return None
    try:
        who = accounts().check(who)
    except AuthError as err:
        st.session_state.pop("who", None)
        st.session_state["signin_flash"] = str(err) + "."
        return None
    st.session_state["who"] = who
    return who


def sign_in(who: Principal) -> None:
    for key in list(st.session_state):
        if key != "who":
            del st.session_state[key]  # nothing of the last person's stays
    st.session_state["who"] = who


def sign_out(message: str | None = None) -> None:
    slot = st.session_state.get("coach_slot")
    if slot is not None:
        slot.stop()
    for key in list(st.session_state):
        del st.session_state[key]
    if message:
        st.session_state["signin_flash"] = message


def access() -> Access:
    """The records as the signed-in person may see them; the page stops if nobody is signed in."""
    who = principal()
    if who is None:
        st.warning("Please sign in first.")
        st.stop()
        raise AssertionError("unreachable")
    return Access(store(), who)


def current_patient() -> PatientInfo | None:
    """The patient practising: the signed-in patient, or the demo patient for the demo visitor."""
    a = access()
    if a.who.role == "patient" and a.who.patient_id is not None:
        return a.patient(a.who.patient_id)
    if a.who.is_demo:
        return a.demo_patient()
    return None


def require_patient() -> PatientInfo:
    """The patient practising; the page stops with a kind word when there is none."""
    patient = current_patient()
    if patient is None:
        st.info("This page is for patients. Sign in with a patient's account, or try the demo.")
        st.stop()
        raise AssertionError("unreachable")
    if patient.is_demo:
        st.caption(f"**{patient.name}** is an example patient: the practice history you see is made up.")
    return patient


def download_buttons(
    records: Access, patient: PatientInfo, csv_label: str, report_label: str, key: str, columns: bool = False
) -> None:
    """Two downloads of one patient's records: every repetition (CSV) and a printable report (HTML).

    The file names are made from the patient's name, letters and digits only.
    """
    safe = "".join(c if c.isalnum() else "_" for c in patient.name)[:40] or "patient"
    where = st.columns(2) if columns else (st, st)
    where[0].download_button(
        csv_label, records.export_csv(patient.id), file_name=f"facecoach_{safe}.csv", mime="text/csv", key=f"{key}_csv"
    )
    where[1].download_button(
        report_label,
        records.report_html(patient.id, names()),
        file_name=f"facecoach_report_{safe}.html",
        mime="text/html",
        key=f"{key}_report",
    )


def forbidden(err: Forbidden) -> None:
    """A refused action, said kindly."""
    st.info(str(err) + ".")


def local_time(utc: datetime) -> datetime:
    """A stored UTC time in this computer's time zone."""
    return utc.replace(tzinfo=UTC).astimezone()


def when(utc: datetime | None) -> str:
    if utc is None:
        return "never"
    return f"{local_time(utc):%a %d %b %Y, %H:%M}"
