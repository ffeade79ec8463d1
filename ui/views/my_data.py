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
safe = "".join(c if c.isalnum() else "_" for c in patient.name)[:40] or "patient"
c1, c2 = st.columns(2)
c1.download_button(
    "Download all my repetitions (CSV)",
    records.export_csv(patient.id),
    file_name=f"facecoach_{safe}.csv",
    mime="text/csv",
    key="me_csv",
)
c2.download_button(
    "Download my report (HTML, to print)",
    records.report_html(patient.id, context.names()),
    file_name=f"facecoach_report_{safe}.html",
    mime="text/html",
    key="me_report",
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
