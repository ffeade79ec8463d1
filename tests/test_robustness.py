"""What breaks measurement in real homes: light, head turns, other faces, small faces."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from coach.engine.analysis import Analyzer, analyze_video
from coach.engine.measurer import OK, TURNED
from coach.virtual.phantom import HeadMotion, PhantomRenderer, Schedule, smile_phantom

SHORT2 = Schedule(lead_in_s=1.2, rise_s=0.8, hold_s=1.2, release_s=0.8, rest_s=1.0, reps=2)


def _yawed(pose: np.ndarray, deg: float) -> np.ndarray:
    a = math.radians(deg)
    r = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    out = pose.copy()
    out[:3, :3] = r @ pose[:3, :3]
    return out


def test_changing_light_does_not_change_the_numbers(model, phantom_video):
    spec = smile_phantom(4.0, 2.0, schedule=SHORT2, light_amp=0.25, head=HeadMotion(roll_deg=-6, drift_px=5))
    res = analyze_video(phantom_video(spec, "light"), model=model)
    assert len(res.reps) == 2
    assert res.summary.symmetry_pct == pytest.approx(50.0, abs=5.0)
    assert res.summary.weaker_side == "right"


def test_a_turned_head_is_flagged_and_not_scored(model):
    spec = smile_phantom(4.0, 4.0, schedule=SHORT2)
    turned_from, turned_to = 2.0, 3.5  # during rep 1's hold
    with Analyzer(model=model) as an:
        statuses = {}
        for t, frame in PhantomRenderer(spec).frames():
            obs = an.tracker.update(frame, t)
            if obs is not None and turned_from <= t < turned_to:
                obs = dataclasses.replace(obs, pose=_yawed(obs.pose, 35.0))
            fm, _ = an.update(frame, t, obs)
            statuses[round(t, 3)] = fm.status
        res = an.result("turned", spec.fps, spec.schedule.duration_s)
    assert {s for t, s in statuses.items() if turned_from + 0.05 <= t < turned_to} == {TURNED}
    assert statuses[round(turned_to + 0.5, 3)] == OK
    assert len(res.reps) == 1  # rep 1 was interrupted for 1.5 s: not scored, not guessed
    assert res.reps[0].start_s > 4.0
    assert any("turned away" in w for w in res.warnings)
    assert any("not scored" in w for w in res.warnings)


def test_two_faces_in_view_are_reported(model):
    spec = smile_phantom(3.0, 3.0, schedule=SHORT2)
    with Analyzer(model=model) as an:
        for t, frame in PhantomRenderer(spec).frames():
            obs = an.tracker.update(frame, t)
            if obs is not None:
                obs = dataclasses.replace(obs, faces_seen=2)
            an.update(frame, t, obs)
        res = an.result("two", spec.fps, spec.schedule.duration_s)
    assert len(res.reps) == 2
    assert any("More than one face" in w for w in res.warnings)


def test_a_face_too_small_to_measure_gives_no_numbers(model, phantom_video):
    spec = smile_phantom(4.0, 1.0, schedule=SHORT2, face_width_px=45)
    res = analyze_video(phantom_video(spec, "tiny"), model=model)
    assert res.reps == ()
    assert res.frames_scored == 0
    assert res.warnings
