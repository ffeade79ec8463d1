"""The app, driven by Streamlit's AppTest (no browser, no camera)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")


def test_app_starts_without_a_camera():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "FaceCoach"
    assert [t.label for t in at.tabs] == ["Try the virtual patient", "Measure my video"]


def test_virtual_patient_demo_scores_her_smiles():
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.slider(key="demo_left").set_value(5.0)
    at.slider(key="demo_right").set_value(1.5)
    at.number_input(key="demo_reps").set_value(1)
    at.button(key="demo_run").click().run()
    assert not at.exception
    assert any("1 smile scored" in s.value for s in at.subheader)
    metrics = {m.label: m.value for m in at.metric}
    left = float(metrics["Left side moved"].split()[0])
    right = float(metrics["Right side moved"].split()[0])
    assert left > 3.5 and right < 2.5
    assert any("right** side moved less" in m.value for m in at.markdown)
