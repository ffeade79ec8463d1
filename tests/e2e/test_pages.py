"""Every page in a real browser on a fresh install, with a screenshot of each (artifacts/screenshots/)."""

from __future__ import annotations

import re

import pytest

from coach.virtual.phantom import write_video
from tests.e2e.conftest import (
    PATIENT_PASSWORD,
    SCREENSHOTS,
    enter_demo,
    open_page,
    patient_account,
    sign_in,
    wait_for_text,
)
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


def test_a_reloaded_or_bookmarked_page_asks_to_sign_in_then_opens(
    tmp_path, any_camera, streamlit_app, fake_camera_browser
):
    """Issue 14: reloading /coach showed "Page not found" and the first page.

    A reload starts a new browser session, so the person signs in again (the sign-in lives
    in the tab's session, never in the address); then the page they asked for opens.
    """
    database_url = f"sqlite:///{tmp_path / 'reload.db'}"
    base_url = streamlit_app(database_url)
    _, username = patient_account(database_url)
    page = fake_camera_browser(any_camera)
    sign_in(page, base_url, username)
    open_page(page, "My progress")
    wait_for_text(page, "Days in a row", timeout_s=60)
    assert page.url.rstrip("/").endswith("/progress")
    page.reload()
    wait_for_text(page, "Sign in", timeout_s=60)
    page.wait_for_timeout(1500)
    assert not page.get_by_text("Page not found").count()
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password", exact=True).fill(PATIENT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    wait_for_text(page, "Days in a row", timeout_s=60)  # My progress, the page reloaded
    assert page.get_by_role("heading", name="My progress").count()
    # A page the patient has no access to: their first page, no error.
    page.goto(base_url.rstrip("/") + "/admin")
    wait_for_text(page, "Sign in", timeout_s=60)
    sign_in(page, base_url.rstrip("/") + "/admin", username)
    page.wait_for_timeout(1500)
    assert not page.get_by_text("Page not found").count()
    assert page.get_by_role("heading", name="Today").count()
    assert not page.get_by_role("heading", name="Accounts").count()


def test_on_a_phone_the_menu_closes_and_the_picture_and_cue_fit_the_screen(
    any_camera, streamlit_app, fake_camera_browser
):
    """Issue 14: on a phone the menu stayed open over the page after choosing one, and on
    Coach the picture and the cue sat below the choices and buttons (scrolling mid-movement)."""
    base_url = streamlit_app()
    page = fake_camera_browser(any_camera, phone=True)
    page.goto(base_url)
    page.get_by_role("button", name="Try the demo").click()
    page.get_by_role("heading", name="Today").wait_for(timeout=60_000)
    page.get_by_test_id("stExpandSidebarButton").click()
    menu = page.get_by_test_id("stSidebar")
    page.wait_for_timeout(500)
    assert menu.get_attribute("data-collapsed") == "false"
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Coach").click()
    page.get_by_role("heading", name="Coach").wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    assert menu.get_attribute("data-collapsed") == "true"  # closed: the page can be used
    page.get_by_text("The virtual patient (no camera needed)").click()
    page.get_by_role("button", name="Start", exact=True).click()
    picture = page.get_by_test_id("stImage").first  # the virtual patient, coached
    picture.wait_for(timeout=30_000)
    page.get_by_text(re.compile(r"^Gentle smile · \d of 3$")).first.wait_for(timeout=30_000)
    cue = page.locator(".facecoach-cue").first  # the words: what to do now
    cue.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "phone_coach.png"))
    height = page.viewport_size["height"]
    top = page.evaluate("() => window.scrollY")
    assert top == 0
    for what in (picture, cue):
        box = what.bounding_box()
        assert box is not None and box["y"] + box["height"] <= height, (what, box)  # on screen, unscrolled
    choices = page.get_by_text("What to practise").bounding_box()
    assert choices["y"] > page.get_by_text(re.compile(r"^Gentle smile · ")).first.bounding_box()["y"]  # below
    page.get_by_role("button", name="Stop", exact=True).click()
