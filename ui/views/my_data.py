"""My data: everything FaceCoach keeps about me, to take away or to delete."""

from __future__ import annotations

import streamlit as st

from coach.store.auth import Forbidden
from ui import context

st.title("My data")
patient = context.require_patient()
records = context.access()
st.write(
    "FaceCoach keeps your measurements — how far each side of your face moved, your scores, "
    "and when you practised. It never keeps video or pictures of you."
)
context.download_buttons(
    records,
    patient,
    "Download all my repetitions (CSV)",
    "Download my report (HTML, to print)",
    "me",
    columns=True,
    everything_label="Download everything kept about me (ZIP)",
)

st.subheader("Delete everything")
st.write(
    "This deletes all your sessions, scores, notes and your login, for good. "
    "Your therapist will no longer see them. Download them first if you want to keep a copy."
)
confirm = st.text_input("To confirm, type DELETE", key="me_confirm")
if st.button("Delete all my data", type="primary", key="me_delete", disabled=confirm.strip() != "DELETE"):
    try:
        records.delete_all(patient.id)
    except Forbidden as err:
        context.forbidden(err)
        st.stop()
    context.sign_out("All your data was deleted. Take care!")
    st.rerun()
