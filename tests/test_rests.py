"""The resting face a repetition is measured from, on virtual patients through the whole engine.

After a repetition a face may not go all the way back: a corner stays a little up (a
lasting sag, or a muscle slow to let go). The next repetitions are measured from where
it settled, and the analysis says so. Before, a 0.8 mm sag after the first smile kept the
repetition detector waiting for a rest that never came: no repetition was scored.
"""

from __future__ import annotations

import pytest

from coach.engine.analysis import analyze_video
from coach.virtual.phantom import Action, PhantomSpec, Timeline

SMILES = tuple((t, t + 1.0, t + 3.0, t + 4.0) for t in (1.5, 7.0, 12.5, 18.0))


def _smiles_then_sag(sag_mm: float) -> PhantomSpec:
    """Four smiles, left 4 mm and right 2 mm (50 %); from the first one's release, both corners stay up."""
    smile = tuple(Action("mouth_corner", s, a, 35.0, 10.0, channel="smile") for s, a in (("left", 4.0), ("right", 2.0)))
    sag = tuple(
        Action("mouth_corner", s, a, 35.0, 10.0, channel="sag") for s, a in (("left", sag_mm), ("right", sag_mm / 2))
    )
    return PhantomSpec(
        actions=smile + sag,
        channels=(("smile", Timeline(SMILES)), ("sag", Timeline(((4.5, 5.5, 60.0, 61.0),)))),
        duration_s=23.5,
    )


@pytest.mark.slow
def test_repetitions_after_a_lasting_sag_are_measured_from_where_the_face_settled(phantom_video, model):
    result = analyze_video(phantom_video(_smiles_then_sag(0.8), "sag"), model=model)
    assert len(result.reps) == 4, result.warnings
    for rep, (start, _, _, end) in zip(result.reps, SMILES, strict=True):
        assert start - 0.3 <= rep.start_s <= start + 0.5 and rep.end_s <= end + 0.6
        assert rep.symmetry_pct == pytest.approx(50.0, abs=6.0)
        assert rep.movement.left == pytest.approx(3.7, abs=0.4)  # the smile itself, not the sag on top
    assert any("did not go all the way back to rest" in w for w in result.warnings), result.warnings
