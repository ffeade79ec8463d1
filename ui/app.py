"""FaceCoach app: guided facial exercises, progress, and the therapist's dashboard.

Run with ``streamlit run ui/app.py``. No camera or set-up is needed: a virtual
patient can do the exercises, and the records start with a demo patient.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st  # noqa: E402

from ui import context  # noqa: E402


def main() -> None:
    st.set_page_config(page_title="FaceCoach", page_icon="🙂", layout="wide")
    context.store()
    pages = {
        "Practise": [
            st.Page("views/today.py", title="Today", icon="🏠", default=True),
            st.Page("views/coach.py", title="Coach", icon="🎥"),
            st.Page("views/progress.py", title="My progress", icon="📈"),
            st.Page("views/measure.py", title="Measure a video", icon="📼"),
        ],
        "Therapist": [
            st.Page("views/therapist.py", title="Patients", icon="🩺"),
        ],
    }
    nav = st.navigation(pages)
    st.sidebar.caption("FaceCoach supports therapy; it does not diagnose. Its grades are estimates.")
    context.patient_picker()
    nav.run()


main()
