"""FaceCoach app: guided facial exercises, progress, and the therapist's dashboard.

Run with ``streamlit run ui/app.py``. No camera or set-up is needed: "Try the demo"
opens an example patient's records, and a virtual patient can do the exercises.
The pages a person sees depend on their role; every record they open is checked
again when it is read (``coach.store.access``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st  # noqa: E402

from ui import context  # noqa: E402

ROLE_WORDS = {"patient": "patient", "therapist": "therapist", "admin": "administrator"}


def pages_for(role: str | None) -> dict[str, list]:
    if role is None:
        return {"": [st.Page("views/signin.py", title="Sign in", icon="🔑", default=True)]}
    practise = [
        st.Page("views/today.py", title="Today", icon="🏠", default=True),
        st.Page("views/coach.py", title="Coach", icon="🎥"),
        st.Page("views/progress.py", title="My progress", icon="📈"),
        st.Page("views/measure.py", title="Measure a video", icon="📼"),
    ]
    if role == "patient":
        return {"Practise": practise, "Me": [st.Page("views/my_data.py", title="My data", icon="🗂️")]}
    if role == "demo":
        return {"Practise": practise, "Therapist": [st.Page("views/therapist.py", title="Patients", icon="🩺")]}
    if role == "therapist":
        return {
            "Therapist": [
                st.Page("views/therapist.py", title="Patients", icon="🩺", default=True),
                st.Page("views/measure.py", title="Measure a video", icon="📼"),
            ]
        }
    return {"Administration": [st.Page("views/admin.py", title="Accounts", icon="🛡️", default=True)]}


def sidebar(who) -> None:
    st.sidebar.caption("FaceCoach supports therapy; it does not diagnose. Its grades are estimates.")
    if who is None:
        return
    if who.is_demo:
        st.sidebar.info("You are trying the demo, with an example patient's made-up records.")
        label = "Leave the demo"
    else:
        st.sidebar.write(f"Signed in as **{who.username}** ({ROLE_WORDS.get(who.role, who.role)})")
        label = "Sign out"
    if st.sidebar.button(label, key="sign_out"):
        context.sign_out()
        st.rerun()


def main() -> None:
    st.set_page_config(page_title="FaceCoach", page_icon="🙂", layout="wide")
    context.store()
    who = context.principal()
    nav = st.navigation(pages_for(None if who is None else who.role))
    sidebar(who)
    nav.run()


main()
