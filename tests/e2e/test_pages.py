"""Every page in a real browser on a fresh install, with a screenshot of each (artifacts/screenshots/)."""

from __future__ import annotations

import pytest

from coach.phantom import write_video
from tests.e2e.conftest import SCREENSHOTS, enter_demo, open_page, wait_for_text
from ui.live_run import quick_plan, virtual_patient

PAGES = [
    ("Today", "Bell's palsy recovery", "page_today"),
    ("My progress", "How even your two sides are", "page_progress"),
    ("Patients", "Your patients", "page_therapist"),
    ("Measure a video", "Try the virtual patient", "page_measure"),
]


@pytest.fixture(scope="module")
def any_camera(tmp_path_factory):
    from exercises import get_exercise

    spec = virtual_patient(quick_plan(get_exercise("smile"), 1), "left")
    return write_video(spec, tmp_path_factory.mktemp("cam") / "still.y4m")


def test_every_page_renders_in_a_browser(any_camera, streamlit_app, fake_camera_browser):
    base_url = streamlit_app()
    page = fake_camera_browser(any_camera)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(base_url)
    wait_for_text(page, "Welcome! Set up FaceCoach", timeout_s=60)  # a fresh install: the first run
    page.screenshot(path=str(SCREENSHOTS / "page_signin.png"))
    enter_demo(page, base_url)
    for title, text, name in PAGES:
        open_page(page, title)
        wait_for_text(page, text, timeout_s=60)
        page.wait_for_timeout(1500)  # charts draw after the text
        assert not page.get_by_text("Traceback").count()
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    # The therapist's view opens a session and one repetition's curves.
    open_page(page, "Patients")
    wait_for_text(page, "Your patients", timeout_s=60)
    page.get_by_role("tab", name="Sessions").click()
    wait_for_text(page, "Look at one repetition", timeout_s=30)
    page.get_by_text("Left and right movement during the repetition").scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(SCREENSHOTS / "page_therapist_session.png"))
