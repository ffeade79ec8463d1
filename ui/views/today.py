"""Today: the patient's program, what to do, and how the week is going."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from coach.errors import FaceCoachError
from coach.store import streak_days
from exercises import get_program
from ui import context
from ui.text import plain

st.title("Today")
patient = context.require_patient()
s = context.access()
assignment = s.assignment(patient.id)
if assignment is None:
    st.info(
        "Your therapist has not given you a program yet. Until then you can try the gentle smile on the Coach page."
    )
    st.stop()
try:
    program = get_program(assignment.program_id)
    plan = program.plan(assignment.overrides)
except FaceCoachError as err:
    st.error(f"Your program could not be loaded ({plain(str(err))}). Please tell your therapist.")
    st.stop()

today = date.today()
days = {d: n for d, n in s.practice_days(patient.id, today - timedelta(days=60)).items()}
streak = streak_days(days, today)
week = sum(1 for d in days if d > today - timedelta(days=7))
c1, c2, c3 = st.columns(3)
c1.metric("Done today", "Yes 🎉" if today in days else "Not yet")
c2.metric("Days in a row", streak)
c3.metric("Days this week", f"{week} of 7")

st.subheader(plain(program.name))
st.write(plain(program.description))
minutes = max(1, round(plan.duration_s / 60))
st.write(f"About **{minutes} minute{'s' if minutes != 1 else ''}**, {len(plan.steps)} exercises. Go slowly and gently.")
for i, ex in enumerate(plan.steps, 1):
    with st.expander(f"{i}. {plain(ex.name)} — {ex.reps} times, hold {ex.hold_s:g} s"):
        st.write(plain(ex.instructions))
        if ex.good_rep:
            st.write(f"**A good one:** {plain(ex.good_rep)}")
if st.button("Start today's session", type="primary", key="start_today"):
    st.session_state["coach_plan_choice"] = "program"
    st.switch_page("views/coach.py")
