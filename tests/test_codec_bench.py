"""The codec benchmark puts a real VP8 encoder and decoder between the virtual patient and the camera callback."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import codec
from coach.virtual.phantom import PhantomRenderer
from exercises import get_exercise
from ui.live_run import quick_plan, virtual_patient


@pytest.mark.parametrize("denoise", [False, True])
def test_vp8_round_trip_gives_back_every_frame_close_to_the_original(denoise):
    spec = virtual_patient(quick_plan(get_exercise("smile"), 1), "left")
    renderer = PhantomRenderer(spec)
    coder = codec.Codec(spec.size_wh, kbps=1200, denoise=denoise)
    pairs = []
    for i in range(12):
        rgb = renderer.frame(i)
        pairs += [(rgb, out) for out in coder(rgb, i)]
    assert len(pairs) == 12  # real-time VP8 holds no frame back
    for rgb, out in pairs[4:]:
        assert out.shape == rgb.shape and out.dtype == np.uint8
        mse = np.mean((out.astype(np.float64) - rgb.astype(np.float64)) ** 2)
        assert 10 * np.log10(255**2 / mse) > 30  # a compressed copy, not another picture


def test_a_condition_scores_its_reps_against_the_truth_and_analyze(tmp_path):
    from coach.engine.model import resolve_model

    row = codec.run(sway=True, codec="vp8", reps=1, kbps=1200, model=resolve_model(), folder=str(tmp_path))
    assert row["head"] == "sway" and row["codec"] == "vp8"
    (sym,) = row["reps_symmetry_pct"]
    assert sym is not None and 0 < sym < 100
    assert row["mean_error_pts"] == pytest.approx(sym - codec.TRUTH_PCT, abs=0.051)
    # and against analyze on the frames before the codec, rep by rep
    (offline,) = row["analyze_symmetry_pct"]
    assert offline is not None and 0 < offline < 100
    assert row["live_minus_analyze_pts"] == [pytest.approx(sym - offline, abs=0.11)]
