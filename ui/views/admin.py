"""Administration: therapists and their logins, every account, and the access log."""

from __future__ import annotations

import streamlit as st

from coach.store.auth import Forbidden, check_password_rules, normal_username
from ui import context

ACTION_WORDS = {
    "view": "opened the record",
    "view_program": "read the program",
    "view_progress": "read the progress",
    "view_sessions": "listed the sessions",
    "view_notes": "read the notes",
    "list_patients": "listed their patients",
    "practise": "practised",
    "export": "downloaded the repetitions",
    "report": "downloaded the report",
    "delete_all": "deleted all the data",
    "add_patient": "added the patient",
    "add_note": "added a note",
    "add_therapist": "added a therapist",
    "view_session": "opened a session",
    "view_rep": "opened a repetition",
    "update_patient": "changed the details",
    "assign_program": "gave a program",
    "set_password": "set a new password for the patient's login",
}


def _patient(e) -> str:
    """Who the entry is about: the name, with the record's number to tell namesakes apart."""
    if e.patient_id is None:
        return "–"
    if e.patient_name is None:
        return f"deleted record {e.patient_id}"
    return f"{e.patient_name} ({e.patient_id})"


def _action(action: str) -> str:
    """What was done, in words (the stored code after a colon says which session, program…)."""
    refused = action.startswith("refused:")
    code = action.removeprefix("refused:")
    head, _, rest = code.partition(":")
    words = ACTION_WORDS.get(head, head.replace("_", " "))
    if rest:
        words += f" ({rest.replace('_', ' ').replace(',', ', ')})"
    return ("REFUSED: " + words) if refused else words


st.title("Accounts")
records = context.access()
if records.who.role != "admin":
    st.info("This page is for the administrator.")
    st.stop()
accounts = context.accounts()

st.subheader("Add a therapist")
with st.form("add_therapist", clear_on_submit=True):
    name = st.text_input("Therapist's name", max_chars=120, key="a_name")
    email = st.text_input("Email (optional)", max_chars=254, key="a_email")
    username = st.text_input("User name", key="a_user")
    password = st.text_input("A first password (at least 10 characters)", type="password", key="a_pw")
    if st.form_submit_button("Add the therapist", type="primary", key="a_go"):
        try:
            normal_username(username)
            check_password_rules(password)  # before the therapist is added: no half-made accounts
            tid = records.add_therapist(name, email or None)
            accounts.create_user(records.who, username, password, "therapist", therapist_id=tid)
            st.success(f"{name.strip()} can now sign in as “{username.strip().lower()}”.")
        except (ValueError, Forbidden) as err:
            st.error(f"{str(err)[:1].upper()}{str(err)[1:]}.")

st.subheader("Accounts")
st.dataframe(
    [{"User name": u, "Role": r} for _, u, r, _, _ in accounts.users(records.who)],
    hide_index=True,
)

st.subheader("Access log")
st.caption("Who opened or changed which patient's records, and when (newest first).")
st.dataframe(
    [
        {
            "When": context.when(e.at),
            "Who": e.username,
            "Role": e.role,
            "What": _action(e.action),
            "Patient": _patient(e),
        }
        for e in records.access_log(500)
    ],
    hide_index=True,
)
