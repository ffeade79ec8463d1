"""Progress over the weeks: each exercise's history, the days practised, and the therapist's overview."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select

from coach.engine.measures.symmetry import symmetry_pct
from coach.store import models as m
from coach.store.info import HistoryPoint, PatientOverview, utcnow


class ProgressRecords:
    """What the progress pages and the therapist's overview read (mixed into :class:`coach.store.repo.Store`)."""

    _sessions: Any
    _lock: Any

    # -- progress ---------------------------------------------------------------------
    def history(
        self, patient_id: int, exercise_id: str | None = None, since: datetime | None = None
    ) -> list[HistoryPoint]:
        """Per session and exercise, the mean movement of each side over the completed reps, oldest first.

        Computed from the reps themselves, so a session cut short still counts for what it did.
        """
        q = (
            select(
                m.Session.id,
                m.Session.started_at,
                m.Session.affected_side,
                m.Rep.exercise_id,
                m.Rep.unit,
                func.count(),
                func.avg(m.Rep.peak_left),
                func.avg(m.Rep.peak_right),
                func.sum(case((m.Rep.synkinesis, 1), else_=0)),
            )
            .join(m.Rep, m.Rep.session_id == m.Session.id)
            .where(m.Session.patient_id == patient_id, m.Rep.completed)
            .group_by(m.Session.id, m.Session.started_at, m.Session.affected_side, m.Rep.exercise_id, m.Rep.unit)
            .order_by(m.Session.started_at, m.Session.id, m.Rep.exercise_id)
        )
        if exercise_id is not None:
            q = q.where(m.Rep.exercise_id == exercise_id)
        if since is not None:
            q = q.where(m.Session.started_at >= since)
        with self._sessions() as db:
            out = []
            for sid, started, affected, ex_id, unit, n, left, right, syn in db.execute(q):
                left, right = float(left or 0.0), float(right or 0.0)
                out.append(
                    HistoryPoint(
                        sid,
                        started,
                        ex_id,
                        unit,
                        int(n),
                        left,
                        right,
                        symmetry_pct(left, right, affected),
                        int(syn or 0),
                    )
                )
            return out

    def practice_days(self, patient_id: int, since: date | None = None) -> dict[date, int]:
        """Days with at least one completed rep → number of sessions that day (UTC dates)."""
        q = select(m.Session.started_at).where(m.Session.patient_id == patient_id, m.Session.reps_completed > 0)
        if since is not None:
            q = q.where(m.Session.started_at >= datetime.combine(since, datetime.min.time()))
        days: dict[date, int] = defaultdict(int)
        with self._sessions() as db:
            for (started,) in db.execute(q):
                days[started.date()] += 1
        return dict(days)

    def overview(self, therapist_id: int | None = None, today: date | None = None) -> list[PatientOverview]:
        """The therapist's patient list: last session, 28-day adherence and symmetry trend.

        Trend: mean session symmetry over the last 14 days against the 14 before
        (``better``/``worse`` when they differ by 5 points or more).
        """
        today = today or utcnow().date()
        since = datetime.combine(today - timedelta(days=27), datetime.min.time())
        before = datetime.combine(today - timedelta(days=13), datetime.min.time())
        patients = self.patients(therapist_id)
        ids = [p.id for p in patients]
        if not ids:
            return []
        with self._sessions() as db:
            last = dict(
                db.execute(
                    select(m.Session.patient_id, func.max(m.Session.started_at))
                    .where(m.Session.patient_id.in_(ids))
                    .group_by(m.Session.patient_id)
                ).all()
            )
            total = dict(
                db.execute(
                    select(m.Session.patient_id, func.count())
                    .where(m.Session.patient_id.in_(ids))
                    .group_by(m.Session.patient_id)
                ).all()
            )
            recent = db.execute(
                select(m.Session.patient_id, m.Session.started_at, m.Session.mean_symmetry_pct).where(
                    m.Session.patient_id.in_(ids), m.Session.started_at >= since, m.Session.reps_completed > 0
                )
            ).all()
        days: dict[int, set[date]] = defaultdict(set)
        sym_new: dict[int, list[float]] = defaultdict(list)
        sym_old: dict[int, list[float]] = defaultdict(list)
        for pid, started, sym in recent:
            days[pid].add(started.date())
            if sym is not None:
                (sym_new if started >= before else sym_old)[pid].append(float(sym))
        out = []
        for p in patients:
            new = sum(sym_new[p.id]) / len(sym_new[p.id]) if sym_new[p.id] else None
            old = sum(sym_old[p.id]) / len(sym_old[p.id]) if sym_old[p.id] else None
            trend = None
            if new is not None and old is not None:
                trend = "better" if new - old >= 5 else "worse" if old - new >= 5 else "steady"
            n_days = len(days[p.id])
            out.append(
                PatientOverview(
                    p, last.get(p.id), int(total.get(p.id, 0)), n_days, 100.0 * n_days / 28, new, old, trend
                )
            )
        return out


def streak_days(days: Iterable[date], today: date) -> int:
    """Days in a row with practice, ending today (or yesterday, if today is not done yet)."""
    have = set(days)
    d = today if today in have else today - timedelta(days=1)
    n = 0
    while d in have:
        n += 1
        d -= timedelta(days=1)
    return n
