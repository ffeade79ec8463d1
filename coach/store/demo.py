"""The demo clinic: a therapist and a patient with six weeks of example practice.

So the progress pages and the therapist dashboard have something to show on a
fresh install. The example sessions are *performances* made up here (a left
side that slowly recovers, with day-to-day noise and missed days) and then
scored by the real engine code (:func:`coach.sessions.scoring.score_rep`,
:func:`coach.sessions.summary.build_result`); they are stored with ``source="demo"`` and
the patient is marked as a demo patient, so they are never mistaken for a
person's data.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

import numpy as np

from coach.engine.exercise import ExerciseSpec
from coach.engine.measures.sides import PerSide
from coach.sessions.plan import HOLD, MOVE, RELEASE, REST, SessionPlan
from coach.sessions.scoring import FrameRecord, rep_series, score_rep
from coach.sessions.summary import build_result
from coach.store.repo import Store

DEMO_THERAPIST = "Sam Rivera (demo therapist)"
DEMO_PATIENT = "Alex Demo (example patient)"
DEMO_SIDE = "left"
SERIES_FPS = 15.0


def _level(t: float, ex: ExerciseSpec, delay: float = 0.0) -> float:
    t -= delay
    if t <= 0:
        return 0.0
    if t < ex.rise_s:
        x = t / ex.rise_s
        return x * x * (3 - 2 * x)
    if t < ex.rise_s + ex.hold_s:
        return 1.0
    x = (t - ex.rise_s - ex.hold_s) / ex.release_s
    return 0.0 if x >= 1 else 1.0 - x * x * (3 - 2 * x)


def performance_frames(
    ex: ExerciseSpec, strong: float, weak_ratio: float, weak_side: str, lag_s: float, eye_pct: float, rng
) -> list[FrameRecord]:
    """One made-up rep: both sides rise, hold and release; the weak side moves ``weak_ratio`` as much, later."""
    total = ex.rise_s + ex.hold_s + ex.release_s + 0.6
    out = []
    for i in range(int(total * SERIES_FPS)):
        t = i / SERIES_FPS
        phase = MOVE if t < ex.rise_s else HOLD if t < ex.rise_s + ex.hold_s else RELEASE
        if t >= ex.rise_s + ex.hold_s + ex.release_s:
            phase = REST
        noise = rng.normal(0.0, 0.04 * max(strong, 0.5), 2)
        vals = {
            weak_side: max(0.0, strong * weak_ratio * _level(t, ex, lag_s) + noise[0]),
            ("right" if weak_side == "left" else "left"): max(0.0, strong * _level(t, ex) + noise[1]),
        }
        value = PerSide(vals["left"], vals["right"])
        move = PerSide((0.8 * value.left, 0.6 * value.left), (0.8 * value.right, 0.6 * value.right))
        narrowing = None
        mouth = None
        if ex.watch == "eye":
            narrowing = PerSide(*((eye_pct if s == weak_side else 3.0) * _level(t, ex) for s in ("left", "right")))
        elif ex.watch == "mouth":
            mouth = PerSide(*((0.6 if s == weak_side else 0.2) * _level(t, ex) for s in ("left", "right")))
        out.append(FrameRecord(t, phase, value, move if ex.measure == "mouth_corner" else None, narrowing, mouth, 0.9))
    return out


def seed_demo(
    store: Store,
    plan: SessionPlan,
    program_id: str,
    days: int = 42,
    today: date | None = None,
    assessment: SessionPlan | None = None,
) -> int:
    """Create the demo therapist and patient with ``days`` of example history, once.

    Args:
        plan, program_id: the program the demo patient practises daily.
        assessment: if given, every second week starts with this assessment instead
            (so the grades over time have something to show).

    Returns:
        The demo patient's id (the existing one if the demo was seeded before).
    """
    existing = store.demo_patient()
    if existing is not None:
        return existing.id
    today = today or datetime.now().date()
    rng = np.random.default_rng(20261124)
    tid = store.add_therapist(DEMO_THERAPIST, is_demo=True)
    pid = store.add_patient(
        DEMO_PATIENT,
        affected_side=DEMO_SIDE,
        condition="Bell's palsy",
        therapist_id=tid,
        is_demo=True,
    )
    store.assign_program(pid, program_id, therapist_id=tid)
    store.add_note(
        pid,
        "Example note: left side slowly returning. Keep the smiles small; watch the left eye during smiles.",
        therapist_id=tid,
    )
    for d in range(days, 0, -1):
        day = today - timedelta(days=d)
        if rng.random() < 0.18:  # missed days
            continue
        progress = (days - d) / max(1, days - 1)
        ratio_mean = 0.35 + 0.45 * progress
        started = datetime.combine(day, time(18, 0)) + timedelta(minutes=int(rng.integers(0, 180)))
        today_plan, today_id = plan, program_id
        if assessment is not None and (days - d) % 14 == 0:
            today_plan, today_id = assessment, assessment.id
        sid = store.start_session(pid, today_id, source="demo", affected_side=DEMO_SIDE, started_at=started)
        reps = []
        for step, ex in enumerate(today_plan.steps):
            for index in range(1, ex.reps + 1):
                strong = ex.target * float(rng.uniform(0.9, 1.15))
                if ex.measure_def.unit == "%":
                    strong = min(strong, 98.0)  # an eye closes at most fully
                ratio = float(np.clip(rng.normal(ratio_mean, 0.06), 0.05, 1.0))
                lag = float(abs(rng.normal(0.35 * (1 - progress), 0.08)))
                eye = float(max(0.0, rng.normal(22.0 * (1 - progress), 5.0)))
                frames = performance_frames(ex, strong, ratio, DEMO_SIDE, lag, eye, rng)
                rep = score_rep(ex, step, index, 0.0, frames, DEMO_SIDE)
                if rep is None:
                    continue
                reps.append(rep)
                store.add_rep(sid, rep, rep_series(ex, step, index, 0.0, frames))
        n = sum(r.frames for r in reps)
        result = build_result(today_plan, reps, [], DEMO_SIDE, n, n)
        store.finish_session(sid, result)
    return pid


def demo_store(
    plan: SessionPlan, program_id: str, assessment: SessionPlan | None = None, today: date | None = None
) -> Store:
    """The demo clinic in a database of its own, in memory: never in a clinic's records.

    Made afresh each time the app starts; visitors only read it (their practice is not
    saved), so every visitor sees the same example.
    """
    # A shared-cache database in memory, with a connection per thread (one connection shared by
    # every visitor's thread would mix their transactions). It lives while a connection is open:
    # the store keeps one for its lifetime.
    store = Store(f"sqlite:///file:facecoach-demo-{uuid.uuid4().hex}?mode=memory&cache=shared&uri=true")
    store._keep_alive = store.engine.raw_connection()
    seed_demo(store, plan, program_id, assessment=assessment, today=today)
    return store
