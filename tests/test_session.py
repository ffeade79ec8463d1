"""The guided session on virtual patients who follow the cues: every rep found, none invented."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from coach.engine.analysis import tracked
from coach.sessions.cues import SessionEngine
from coach.sessions.plan import BASELINE, DONE, HOLD, MOVE, PAUSED, RELEASE, REST, SessionPlan
from coach.virtual.phantom import PhantomRenderer, PhantomSpec
from coach.virtual.session_phantom import Performance, session_phantom
from exercises import get_exercise, get_program, load_library

FAST = {"rise_s": 0.8, "hold_s": 1.5, "release_s": 0.8, "rest_s": 1.2}


def quick(ex_id: str, reps: int) -> object:
    return replace(get_exercise(ex_id), reps=reps, **FAST)


def run(plan: SessionPlan, spec: PhantomSpec, model, affected: str | None = None, keep=None):
    """Run the engine over the phantom; returns (result, updates kept by ``keep``)."""
    kept = []
    with SessionEngine(plan, affected, model=model) as eng:
        for t, frame, obs in tracked(PhantomRenderer(spec).frames(), eng.tracker):
            u = eng.update(frame, t, obs)
            if keep is not None:
                kept.append(keep(u))
        return eng.result(), kept


@pytest.fixture(scope="module")
def smile_with_synkinesis(model):
    plan = SessionPlan("t", "smile", (quick("smile", 6),))
    perf = {"smile": Performance(4.0, 2.0, eye_narrowing_pct={"right": 30.0})}
    spec = session_phantom(plan, perf, seed=3)
    res, cues = run(
        plan, spec, model, keep=lambda u: (u.t_s, u.cue.phase, u.cue.text, u.cue.countdown, u.feedback.messages)
    )
    return plan, res, cues


@pytest.fixture(scope="module")
def smile_without_synkinesis(model):
    plan = SessionPlan("t", "smile", (quick("smile", 6),))
    spec = session_phantom(plan, {"smile": Performance(2.0, 4.0)}, seed=4)
    return run(plan, spec, model)[0]


@pytest.mark.slow
def test_every_rep_found_with_the_right_symmetry(smile_with_synkinesis):
    _, res, _ = smile_with_synkinesis
    reps = [r for r in res.reps]
    assert [r.index for r in reps] == [1, 2, 3, 4, 5, 6]
    assert all(r.completed for r in reps)
    errors = [abs(r.symmetry_pct - 50.0) for r in reps]
    assert np.mean(errors) <= 5.0
    assert res.exercises[0].weaker_side == "right"


@pytest.mark.slow
def test_synkinesis_flagged_when_present_and_not_when_absent(smile_with_synkinesis, smile_without_synkinesis):
    _, with_syn, _ = smile_with_synkinesis
    flagged = [r.synkinesis for r in with_syn.reps]
    assert sum(flagged) / len(flagged) >= 0.95
    assert all(r.synkinesis_side == "right" for r in with_syn.reps)
    clean = [r.synkinesis for r in smile_without_synkinesis.reps]
    assert len(clean) == 6 and sum(clean) / len(clean) <= 0.05


@pytest.mark.slow
def test_cues_follow_the_schedule(smile_with_synkinesis):
    plan, _, cues = smile_with_synkinesis
    phases = [p for _, p, _, _, _ in cues]
    order = [p for i, p in enumerate(phases) if i == 0 or p != phases[i - 1]]
    assert order[:6] == [BASELINE, MOVE, HOLD, RELEASE, REST, MOVE]
    assert order[-1] == DONE
    first_move = next(t for t, p, _, _, _ in cues if p == MOVE)
    assert first_move == pytest.approx(plan.baseline_s, abs=0.04)
    assert any(text.startswith("Smile gently") for _, p, text, _, _ in cues if p == MOVE)
    countdowns = [c for _, p, _, c, _ in cues if p == HOLD]
    assert max(countdowns) == 2 and min(countdowns) == 1


@pytest.mark.slow
def test_live_feedback_asks_to_keep_the_eye_open(smile_with_synkinesis):
    _, _, cues = smile_with_synkinesis
    in_hold = [m for _, p, _, _, m in cues if p == HOLD]
    at_rest = [m for _, p, _, _, m in cues if p == BASELINE]
    assert sum("Keep your eye open" in m for m in in_hold) > 0.8 * len(in_hold)
    assert not any("Keep your eye open" in m for m in at_rest)


@pytest.mark.slow
def test_skipped_rep_is_not_invented(model):
    plan = SessionPlan("t", "brow", (quick("brow_raise", 3),))
    spec = session_phantom(plan, {"brow_raise": Performance(4.0, 4.0, skip_reps=(2,))})
    res, _ = run(plan, spec, model)
    assert [r.completed for r in res.reps] == [True, False, True]
    assert res.reps[1].symmetry_pct is None
    assert res.exercises[0].completed == 2


@pytest.mark.slow
def test_face_lost_mid_rep_pauses_and_repeats_the_rep(model):
    plan = SessionPlan("t", "smile", (quick("smile", 3),))
    reps = plan.planned_reps()
    move2 = reps[1][2]  # rep 2 starts at 6.3 s
    gone = (move2 + 1.0, move2 + 2.5)
    back = gone[1]
    redo = back + 0.5 + 2.0  # face back for 0.5 s, then a 2 s rest, then rep 2 again
    spec = session_phantom(plan, {"smile": Performance(3.0, 3.0)}, shifts={(0, 2): redo - move2}, absent=(gone,))
    res, seen = run(plan, spec, model, keep=lambda u: (u.t_s, u.cue.phase, u.cue.text))
    assert res.interrupted == 1
    assert [r.index for r in res.reps] == [1, 2, 3]
    assert all(r.completed for r in res.reps)
    assert res.reps[1].start_s == pytest.approx(redo, abs=0.05)
    assert all(abs(r.symmetry_pct - 100) <= 10 for r in res.reps)
    paused = [text for t, p, text in seen if p == PAUSED]
    assert paused and "Face the camera" in paused[0]
    assert any("repeated" in w for w in res.warnings)


@pytest.mark.slow
def test_a_whole_program_of_every_exercise(model):
    lib = load_library()
    plan = SessionPlan("all", "every exercise", tuple(quick(i, 2 if i == "ee_oo" else 1) for i in lib))
    amounts = {"mm": (4.0, 2.0), "%": (70.0, 35.0)}
    perf = {}
    for ex in plan.steps:
        left, right = amounts[ex.measure_def.unit]
        perf[ex.id] = Performance(left, right)
    spec = session_phantom(plan, perf, seed=11)
    res, _ = run(plan, spec, model)
    by_ex = {r.exercise_id: [] for r in res.reps}
    for r in res.reps:
        by_ex[r.exercise_id].append(r)
    assert set(by_ex) == set(lib)
    assert all(r.completed for r in res.reps), [r.to_dict() for r in res.reps if not r.completed]
    errors = {r.exercise_id: abs(r.symmetry_pct - 50.0) for r in res.reps}
    assert np.mean(list(errors.values())) <= 5.0, errors
    assert all(r.peak.left > r.peak.right for r in res.reps)
    assert res.score is not None and 0 <= res.score <= 100
    assert res.interrupted == 0


@pytest.mark.slow
def test_replay_gives_identical_scores(model, phantom_video):
    from coach.engine.video import VideoReader

    plan = SessionPlan("t", "smile", (quick("pucker", 2),))
    spec = session_phantom(plan, {"pucker": Performance(3.0, 1.5)})
    path = phantom_video(spec, "pucker-session")

    def replay():
        with VideoReader(path) as video, SessionEngine(plan, model=model) as eng:
            for t, frame, obs in tracked(video, eng.tracker):
                eng.update(frame, t, obs)
            return json.dumps(eng.result().to_dict())

    assert replay() == replay()


def test_programs_plan_and_tuning():
    plan = get_program("masseteric").plan({"smile": {"reps": 2, "hold_s": 4.0}})
    assert [e.id for e in plan.steps] == ["bite_smile", "smile", "symmetry_hold"]
    smile = plan.steps[1]
    assert (smile.reps, smile.hold_s) == (2, 4.0)
    assert get_program("assessment").plan().assessment
    assert plan.duration_s == pytest.approx(sum(plan.baseline_s + e.reps * e.period_s for e in plan.steps))


def test_rest_and_release_cues_are_plain_words():
    for ex in load_library().values():
        for text in (ex.cue_move, ex.cue_hold, ex.cue_release, ex.instructions, ex.good_rep):
            assert text and len(text) < 400
        assert ex.cue_for(1) == ex.cue_move
    assert get_exercise("ee_oo").cue_for(2) != get_exercise("ee_oo").cue_for(1)


@pytest.mark.slow
def test_cli_replays_a_program_with_tuning(phantom_video):
    from tests.test_cli import run_cli

    sets = {"bite_smile": {"reps": 1}, "smile": {"reps": 2}, "symmetry_hold": {"reps": 1}}
    tuned = {k: {**v, **FAST} for k, v in sets.items()}
    plan = get_program("masseteric").plan(tuned)
    spec = session_phantom(
        plan,
        {"bite_smile": Performance(5.0, 2.5), "smile": Performance(3.0, 1.5), "symmetry_hold": Performance(3.0, 2.7)},
    )
    path = phantom_video(spec, "masseteric-session")
    args = [f"--set={ex}.{k}={v}" for ex, fields in tuned.items() for k, v in fields.items()]
    proc = run_cli("session", path, "--program", "masseteric", "--json", *args)
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["program"] == "masseteric"
    assert [(e["exercise"], e["completed"], e["planned"]) for e in d["exercises"]] == [
        ("bite_smile", 1, 1),
        ("smile", 2, 2),
        ("symmetry_hold", 1, 1),
    ]
    sym = {r["exercise"]: r["symmetry_pct"] for r in d["reps"]}
    assert sym["bite_smile"] == pytest.approx(50, abs=6)
    assert sym["symmetry_hold"] == pytest.approx(90, abs=6)
    assert 0 <= d["score"] <= 100 and d["score_explained"]
    human = run_cli("session", path, "--program", "masseteric", *args)
    assert "Session score" in human.stdout and "Bite and smile: 1 of 1 done" in human.stdout
