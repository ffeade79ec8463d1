"""Rep detection on synthetic movement signals (mm) sampled at 30 fps."""

from __future__ import annotations

import pytest

from coach.engine.reps import ACTIVE, REST, RepDetector, RepWindow

FPS = 30.0
# Defaults: on at 1.0 mm, off below 0.5 mm, reps last ≥ 0.4 s, gaps up to 0.6 s are bridged.

AT_REST = [0.0] * 15
# Rise, hold with one highest frame (index 18), release: 37 frames.
# Index 1 (0.4) is the last frame below off before index 3 (1.5) crosses on;
# index 35 (0.3) is the first frame below off after the hold.
ONE_REP = [0.2, 0.4, 0.8, 1.5, 2.2, 2.8] + [3.0] * 12 + [3.3] + [3.0] * 12 + [2.6, 1.9, 1.2, 0.7, 0.3, 0.1]
START, ON, PEAK, END = 1, 3, 18, 35


def at_30fps(values: list[float | None], t0_s: float = 0.0) -> list[tuple[float, float | None]]:
    """(t_s, value) pairs, one frame every 1/30 s."""
    return [(t0_s + i / FPS, v) for i, v in enumerate(values)]


def run(frames: list[tuple[float, float | None]], **kwargs: float) -> tuple[RepDetector, list[RepWindow]]:
    """Feed every frame; return the detector and the reps it reported."""
    detector = RepDetector(**kwargs)
    reps = [w for t, v in frames if (w := detector.update(v, t)) is not None]
    return detector, reps


@pytest.mark.parametrize(
    "values",
    [
        [],
        [None] * 60,
        [0.0] * 60,
        [0.7] * 60,  # between off and on: never starts
        [2.0] * 60,  # under way from the first frame, never released
        [2.0] * 30 + [0.1] * 30,  # under way from the first frame, then released
        [None] * 20 + [2.5] * 30 + [0.0] * 20,  # under way when the face first appears
    ],
    ids=["empty", "no-face", "rest", "below-on", "under-way", "under-way-released", "under-way-after-no-face"],
)
def test_no_rep_without_a_rise_from_rest(values):
    detector, reps = run(at_30fps(values))
    assert reps == []
    assert detector.count == 0
    assert detector.abandoned == 0


def test_three_clean_reps():
    values = AT_REST + ONE_REP + AT_REST + ONE_REP + AT_REST + ONE_REP + AT_REST
    detector, reps = run(at_30fps(values))
    assert [r.index for r in reps] == [1, 2, 3]
    assert detector.count == 3
    assert detector.state == REST
    for k, rep in enumerate(reps):
        offset = len(AT_REST) + k * (len(ONE_REP) + len(AT_REST))
        assert rep.start_s == pytest.approx((offset + START) / FPS)
        assert rep.start_s < (offset + ON) / FPS  # starts at rest, before the on-crossing
        assert rep.peak_s == pytest.approx((offset + PEAK) / FPS)
        assert rep.peak_value == 3.3
        assert rep.end_s == pytest.approx((offset + END) / FPS)


def test_the_window_brackets_the_crossings():
    values = AT_REST + ONE_REP + AT_REST
    _, [rep] = run(at_30fps(values))
    by_t = dict(at_30fps(values))
    assert by_t[rep.start_s] < 0.5  # last frame below off before the rise
    assert by_t[rep.end_s] < 0.5  # first frame below off after the hold
    inside = [v for t, v in by_t.items() if rep.start_s < t < rep.end_s]
    assert min(inside) >= 0.5
    assert max(inside) == by_t[rep.peak_s] == rep.peak_value


@pytest.mark.parametrize(
    ("min_active_s", "reps_counted"),
    [(0.4, 1), (0.1, 2), (0.0, 2)],
)
def test_a_twitch_shorter_than_min_active_s_is_ignored(min_active_s, reps_counted):
    twitch = [0.3, 1.5, 2.0, 1.2, 0.2]  # 4 frames (0.13 s) from the last low to the release
    detector, reps = run(at_30fps(AT_REST + twitch + AT_REST + ONE_REP + AT_REST), min_active_s=min_active_s)
    assert len(reps) == reps_counted
    assert [r.index for r in reps] == list(range(1, reps_counted + 1))
    assert reps[-1].peak_value == 3.3
    assert detector.state == REST


def test_a_long_gap_mid_rep_abandons_it():
    first_half, second_half = ONE_REP[:12], ONE_REP[12:]
    values = AT_REST + first_half + [None] * 30 + second_half + AT_REST + ONE_REP + AT_REST
    detector, reps = run(at_30fps(values))
    assert detector.abandoned == 1
    # The interrupted rep is not counted, nor is its tail (no rest seen before it); the next one is.
    assert [r.index for r in reps] == [1]
    assert reps[0].start_s > (len(AT_REST) + 30 + len(ONE_REP)) / FPS


def test_a_short_gap_mid_rep_is_bridged():
    first_half, second_half = ONE_REP[:12], ONE_REP[12:]
    values = AT_REST + first_half + [None] * 9 + second_half + AT_REST  # 0.3 s without a face
    detector, [rep] = run(at_30fps(values))
    assert detector.abandoned == 0
    offset = len(AT_REST)
    assert rep.start_s == pytest.approx((offset + START) / FPS)
    assert rep.peak_s == pytest.approx((offset + 9 + PEAK) / FPS)
    assert rep.end_s == pytest.approx((offset + 9 + END) / FPS)


def test_a_long_timestamp_jump_mid_rep_abandons_it():
    first_half, second_half = ONE_REP[:12], ONE_REP[12:]
    frames = at_30fps(AT_REST + first_half)
    frames += at_30fps(second_half + AT_REST, t0_s=frames[-1][0] + 2.0)  # 2 s with no frames
    detector, reps = run(frames)
    assert reps == []
    assert detector.abandoned == 1


def test_in_rest_for_counts_seconds_since_the_release():
    detector = RepDetector()
    assert detector.in_rest_for(5.0) == 0.0  # nothing seen yet
    frames = at_30fps(AT_REST + ONE_REP + [0.0] * 60 + [2.5])
    for t, v in frames[:-1]:
        detector.update(v, t)
    released_at = (len(AT_REST) + END) / FPS
    assert detector.in_rest_for(released_at + 2.0) == pytest.approx(2.0)
    detector.update(frames[-1][1], frames[-1][0])
    assert detector.state == ACTIVE
    assert detector.in_rest_for(frames[-1][0]) == 0.0
    detector.update(None, frames[-1][0] + 1.0)  # a long gap ends the rep and forgets the rest
    assert (detector.state, detector.abandoned) == (REST, 1)
    assert detector.in_rest_for(frames[-1][0] + 2.0) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"on": 0.1}, "on"),
        ({"on": 25.0}, "on"),
        ({"off": 0.01}, "off"),
        ({"off": 1.0}, "off"),  # equal to on
        ({"on": 2.0, "off": 3.0}, "off"),
        ({"unit": "%", "on": 1.0}, "on"),  # per cent of the eye opening: from 2
        ({"unit": "%", "on": 25.0, "off": 0.5}, "off"),
        ({"unit": "px"}, "unit"),
        ({"min_active_s": -0.1}, "min_active_s"),
        ({"min_active_s": 11.0}, "min_active_s"),
        ({"max_gap_s": -1.0}, "max_gap_s"),
        ({"max_gap_s": 10.5}, "max_gap_s"),
    ],
)
def test_bad_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} must be .* got {list(kwargs.values())[-1]}"):
        RepDetector(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"on": 0.2, "off": 0.05},
        {"on": 20.0, "off": 19.9},
        {"unit": "%", "on": 25.0, "off": 12.0},  # the gentle eye closure's
        {"unit": "%", "on": 100.0, "off": 1.0},
        {"min_active_s": 0.0, "max_gap_s": 0.0},
        {"min_active_s": 10.0, "max_gap_s": 10.0},
    ],
)
def test_limits_of_the_allowed_ranges_are_accepted(kwargs):
    RepDetector(**kwargs)
