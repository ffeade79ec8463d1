"""The coach page's camera request without the encoder's noise filter, run in Chromium itself.

``ui/camera_link.py`` rewrites the camera request in Chromium's older constraint form with
``googNoiseReduction: false``. Here its wrapper runs in headless Chromium on a localhost page
(a secure origin, so the camera API exists), against Chromium's fake camera and against
stand-ins that refuse, fail or open the wrong camera. The live test
(``test_live_coach.py``) checks the same wrapper inside the app.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.e2e.conftest import launch_fake_camera, require_browser
from ui.camera_link import WRAP_GET_USER_MEDIA_JS


def _grey_y4m(path, w: int = 640, h: int = 480, frames: int = 3):
    """A tiny I420 YUV4MPEG2 clip for the fake camera."""
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n")
            f.write(np.full(w * h + 2 * (w // 2) * (h // 2), 128, np.uint8).tobytes())
    return path


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    require_browser()
    y4m = _grey_y4m(tmp_path_factory.mktemp("camera") / "grey.y4m")
    with launch_fake_camera(y4m) as pg:
        pg.route(
            "http://localhost/**",
            lambda route: route.fulfill(body="<html><body></body></html>", content_type="text/html"),
        )
        pg.goto("http://localhost/")
        pg.evaluate(
            "body => { window.makeWrapper = new Function('getUserMedia', 'devices', body); }", WRAP_GET_USER_MEDIA_JS
        )
        yield pg


def test_chromium_opens_the_camera_in_the_older_form_at_the_size_asked(page):
    got = page.evaluate(
        """async () => {
            const devices = {};
            const md = navigator.mediaDevices;
            const gum = window.makeWrapper(md.getUserMedia.bind(md), devices);
            const stream = await gum({video: {width: 640, height: 480}, audio: false});
            const s = stream.getVideoTracks()[0].getSettings();
            stream.getTracks().forEach(t => t.stop());
            return {
                quiet: devices.facecoachQuiet, error: devices.facecoachQuietError || null,
                width: s.width, height: s.height,
            };
        }"""
    )
    assert got == {"quiet": 1, "error": None, "width": 640, "height": 480}


STAND_INS = """async (kind) => {
    const calls = [];
    const devices = {};
    const track = settings => ({getSettings: () => settings, stop() {}});
    const stream = settings => ({getVideoTracks: () => [track(settings)], getTracks: () => [track(settings)]});
    const stand = {
        wrong_camera: async c => { calls.push(c); return stream({width: 1280, height: 720}); },
        refused: async c => { calls.push(c); const e = new Error("no"); e.name = "NotAllowedError"; throw e; },
        overconstrained: async c => {
            calls.push(c);
            if (c.video.mandatory) {
                const e = new Error("no such size");
                e.name = "OverconstrainedError";
                throw e;
            }
            return stream({width: 640, height: 480});
        },
        other_request: async c => { calls.push(c); return stream({}); },
    }[kind];
    const gum = window.makeWrapper(stand, devices);
    const ask = kind === "other_request"
        ? {video: {facingMode: "user"}}
        : {video: {width: 640, height: 480, deviceId: {exact: "cam"}}, audio: false};
    let error = null;
    try { await gum(ask); } catch (e) { error = e.name; }
    return {
        calls: JSON.parse(JSON.stringify(calls)), quiet: devices.facecoachQuiet || 0,
        error: error, why: devices.facecoachQuietError || null,
    };
}"""


def test_the_older_form_carries_the_device_size_and_no_noise_filter(page):
    got = page.evaluate(STAND_INS, "wrong_camera")
    older = got["calls"][0]["video"]
    assert older["mandatory"] == {"googNoiseReduction": False, "sourceId": "cam"}
    assert {k: v for d in older["optional"] for k, v in d.items()} == {
        "minWidth": 640,
        "maxWidth": 640,
        "minHeight": 480,
        "maxHeight": 480,
    }


def test_a_camera_that_does_not_match_is_closed_and_the_request_made_as_asked(page):
    got = page.evaluate(STAND_INS, "wrong_camera")
    assert len(got["calls"]) == 2 and got["calls"][1] == {
        "video": {"width": 640, "height": 480, "deviceId": {"exact": "cam"}},
        "audio": False,
    }
    assert got["quiet"] == 0 and "did not match" in got["why"]


def test_a_person_who_says_no_is_not_asked_twice(page):
    got = page.evaluate(STAND_INS, "refused")
    assert got["error"] == "NotAllowedError" and len(got["calls"]) == 1


def test_a_browser_that_refuses_the_older_form_gets_the_request_unchanged(page):
    got = page.evaluate(STAND_INS, "overconstrained")
    assert got["error"] is None and len(got["calls"]) == 2 and "mandatory" not in got["calls"][1]["video"]
    assert "OverconstrainedError" in got["why"]


def test_a_request_it_cannot_rewrite_goes_through_unchanged(page):
    got = page.evaluate(STAND_INS, "other_request")
    assert got["calls"] == [{"video": {"facingMode": "user"}}] and got["quiet"] == 0
