"""My progress: each exercise over the weeks, and how regularly I practise."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from coach.store import streak_days
from ui import charts, context

st.title("My progress")
patient = context.require_patient()
s = context.access()

today = date.today()
days = s.practice_days(patient.id, today - timedelta(days=83))
c1, c2 = st.columns(2)
c1.metric("Days in a row", streak_days(days, today))
c2.metric("Days practised in the last 4 weeks", sum(1 for d in days if d > today - timedelta(days=28)))
st.subheader("When you practised")
st.altair_chart(charts.calendar(days, today, weeks=12), width="content")

history = s.history(patient.id)
if not history:
    st.info("Your progress will appear here after your first session.")
    st.stop()
names = context.exercise_names()
exercises = sorted({h.exercise_id for h in history}, key=lambda e: (e != "smile", names.get(e, e)))
choice = st.selectbox("Exercise", exercises, format_func=lambda e: names.get(e, e), key="progress_exercise")
points = [h for h in history if h.exercise_id == choice]
side = patient.affected_side
st.subheader("How even your two sides are")
st.caption(
    (
        "Your affected side's movement as a share of the other side's. "
        if side
        else "The weaker side as a share of the stronger. "
    )
    + "The green band is where most healthy faces are (79–98 %)."
)
st.altair_chart(charts.symmetry_trend(points), width="stretch")
st.subheader("How far each side moves")
st.altair_chart(charts.sides_trend(points), width="stretch")
last = points[-1]
unit = last.unit
if last.symmetry_pct is not None:
    st.write(
        f"Last time, your left side moved **{last.mean_left:.1f} {unit}** and your right "
        f"**{last.mean_right:.1f} {unit}**: "
        f"**{last.symmetry_pct:.0f} %** even."
    )
