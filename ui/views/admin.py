"""Administration: therapists and their logins, every account (paused, given a new password), and the
access log (paged, filtered)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from coach.store.auth import Forbidden
from ui import context
from ui.text import plain, sentence

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
    "reset_password": "set a new password",
    "export_all": "downloaded everything kept",
    "sign_in": "signed in",
    "sign_in_failed": "failed to sign in",
    "sign_in_throttled": "was made to wait before signing in",
    "create_account": "created an account",
    "create_first_admin": "set up FaceCoach (first administrator)",
    "disable_account": "paused an account",
    "enable_account": "let an account sign in again",
    "change_password": "changed their password",
    "change_password_failed": "gave a wrong current password",
    "read_log": "read the access log",
    "setup_code_refused": "gave a wrong setup code",
}
# The filter's choices: (words, the action codes' beginning).
FILTERS = {
    "Everything": None,
    "Sign-ins": "sign_in",
    "Reading records": "view",
    "Downloads": "export",
    "Reports": "report",
    "Deletions": "delete_all",
    "Account changes": (
        "create_",
        "disable_account",
        "enable_account",
        "reset_password",
        "change_password",
        "set_password",
    ),
    "Setup codes": "setup_code",
    "Refusals": "refused",
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
            accounts.check_new_account(username, password)  # before the therapist is added: no half-made accounts
            tid = records.add_therapist(name, email or None)
            accounts.create_user(records.who, username, password, "therapist", therapist_id=tid)
            st.success(f"{plain(name)} can now sign in as “{plain(username.strip().lower())}”.")
        except (ValueError, Forbidden) as err:
            st.error(sentence(err))

st.subheader("Accounts")
users = accounts.users(records.who)
st.dataframe(
    [
        {
            "User name": u.username,
            "Role": u.role,
            "State": "paused" if u.disabled else ("must choose a password" if u.must_change_password else "active"),
        }
        for u in users
    ],
    hide_index=True,
)
managed = [u for u in users if u.role in ("admin", "therapist") and u.id != records.who.user_id]
if managed:
    with st.expander("Pause an account, or give it a new password"):
        st.caption("Patients' logins are managed by their therapist.")
        by_id = {u.id: u for u in managed}
        uid = st.selectbox("Account", list(by_id), format_func=lambda i: by_id[i].username, key="a_manage")
        chosen = by_id[uid]
        if st.button("Let it sign in again" if chosen.disabled else "Pause it (it cannot sign in)", key="a_toggle"):
            try:
                accounts.set_disabled(records.who, chosen.id, not chosen.disabled)
                st.rerun()
            except Forbidden as err:
                context.forbidden(err)
        with st.form("a_reset", clear_on_submit=True):
            new = st.text_input("A new password (they choose their own after)", type="password", key="a_reset_pw")
            if st.form_submit_button("Set the new password", key="a_reset_go"):
                try:
                    accounts.reset_password(records.who, chosen.id, new)
                    st.success(f"The new password is set for “{plain(chosen.username)}”. Give it to them yourself.")
                except (ValueError, Forbidden) as err:
                    st.error(sentence(err))

st.subheader("Access log")
st.caption(
    "Who signed in, and who opened, changed, downloaded or deleted which patient's records, and when "
    "(newest first). Reading the log is logged too."
)
c1, c2, c3 = st.columns(3)
kind = c1.selectbox("What", list(FILTERS), key="log_kind")
who_filter = c2.text_input("Who (user name)", key="log_who")
days = c3.date_input("From – to", value=(), key="log_days")
since = until = None
if isinstance(days, tuple | list) and days:
    # The days are this computer's; the log's times are UTC.
    since = datetime.combine(days[0], time.min).astimezone(UTC).replace(tzinfo=None)
    until = (datetime.combine(days[-1], time.min) + timedelta(days=1)).astimezone(UTC).replace(tzinfo=None)
page_size = 100
page = st.session_state.get("log_page", 1)
rows, total = records.access_log(
    limit=page_size,
    offset=(page - 1) * page_size,
    username=who_filter.strip() or None,
    action=FILTERS[kind],
    since=since,
    until=until,
)
pages = max(1, -(-total // page_size))
if page > pages:
    st.session_state["log_page"] = pages
    st.rerun()
st.dataframe(
    [
        {
            "When": context.when(e.at),
            "Who": e.username,
            "Role": e.role,
            "What": _action(e.action),
            "Patient": _patient(e),
            "Details": e.detail,
        }
        for e in rows
    ],
    hide_index=True,
)
st.number_input(f"Page (of {pages}; {total} entries)", min_value=1, max_value=pages, step=1, key="log_page")
