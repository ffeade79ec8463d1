"""The virtual patient on the Coach page, with a real browser watching it (issue 14, item 1).

While a browser shows the live page, Streamlit reruns its fragments several times a second
(the picture 4 times, the side panel twice). After each rerun Streamlit ran a full garbage
collection (``gc.collect(2)``) holding the interpreter, and the virtual patient, coached on
the server, got about 1 frame a second: repetitions of 5-20 points, flagged "too fast", a
score anywhere from 55 to 74. AppTest, with no browser rerunning the page, saw 30. The app's
``.streamlit/config.toml`` turns that collection off (``runner.postScriptGC = false``).
"""

from __future__ import annotations

import json

import numpy as np

from coach.phantom import Schedule, smile_phantom, write_video
from coach.series import RepSeries
from coach.store import Store
from tests.e2e.conftest import REPO, enter_demo, open_page, wait_for_text, wait_until

MIN_FPS = 25.0  # the bar, measured in the frames the session saved


def test_the_virtual_patient_keeps_its_frame_rate_while_a_browser_watches(tmp_path, streamlit_app, fake_camera_browser):
    database_url = f"sqlite:///{tmp_path / 'virtual.db'}"
    base_url = streamlit_app(database_url)
    # The browser needs a camera file to start; the virtual patient does not use it.
    still = write_video(smile_phantom(0.0, 0.0, schedule=Schedule(lead_in_s=1.0, reps=0)), tmp_path / "unused.y4m")
    page = fake_camera_browser(still)
    enter_demo(page, base_url)
    open_page(page, "Coach")
    page.get_by_text("The virtual patient (no camera needed)").click()
    store = Store(database_url)
    try:
        before = {s.id for s in store.sessions(store.demo_patient().id)}  # the demo's made-up history
        page.get_by_role("button", name="Start", exact=True).click()

        def sessions():
            return [s for s in store.sessions(store.demo_patient().id) if s.id not in before]

        wait_until(page, lambda: bool(sessions()) and sessions()[0].status == "completed", 150, "the session to end")
        wait_for_text(page, "Today's score", timeout_s=30)
        (session,) = sessions()
        detail = store.session(session.id)
        series = [RepSeries.from_bytes(store.rep_series(r.id)) for r in detail.reps]
    finally:
        store.close()
    rates = [(len(s) - 1) / float(s.t_s[-1] - s.t_s[0]) for s in series if len(s) > 1]
    (REPO / "artifacts").mkdir(exist_ok=True)
    with open(REPO / "artifacts" / "e2e_virtual_patient.jsonl", "a") as f:
        f.write(json.dumps({"fps_per_rep": [round(r, 1) for r in rates], "score": session.score}) + "\n")
    assert len(rates) == len(detail.reps) >= 3, rates
    assert float(np.median(rates)) >= MIN_FPS, f"frames a second per repetition: {[round(r, 1) for r in rates]}"
    assert all(r.completed for r in detail.reps)
    assert not any("too_fast" in r.flags for r in detail.reps)
