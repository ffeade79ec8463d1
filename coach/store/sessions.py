"""Practice sessions: each one opened, its repetitions (with their per-frame series) saved as they
are scored, and closed with its result."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select

from coach.sessions.scoring import RepScore
from coach.sessions.summary import SessionResult
from coach.store import models as m
from coach.store.info import (
    SOURCES,
    ExerciseResultInfo,
    RepInfo,
    SessionDetail,
    SessionInfo,
    finite,
    opt_side,
    utcnow,
)


class SessionRecords:
    """Sessions, repetitions and their series. Mixed into :class:`coach.store.repo.Store`."""

    _sessions: Any
    _lock: Any

    # -- sessions ---------------------------------------------------------------------
    def start_session(
        self,
        patient_id: int,
        program_id: str,
        source: str = "camera",
        affected_side: str | None = None,
        overrides: dict[str, dict[str, Any]] | None = None,
        started_at: datetime | None = None,
    ) -> int:
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
        with self._sessions.begin() as db:
            if db.get(m.Patient, patient_id) is None:
                raise KeyError(f"no patient {patient_id}")
            s = m.Session(
                patient_id=patient_id,
                program_id=program_id,
                source=source,
                affected_side=opt_side(affected_side),
                overrides=dict(overrides or {}),
                started_at=started_at or utcnow(),
                status="in_progress",
            )
            db.add(s)
            db.flush()
            return s.id

    def add_rep(self, session_id: int, rep: RepScore, series: Any | None = None) -> int:
        """Save one scored rep (and its per-frame series) now, in its own transaction.

        Args:
            session_id: the session it belongs to.
            rep: the engine's score.
            series: a :class:`coach.sessions.series.RepSeries` (anything with ``to_bytes()``), or None.

        Returns:
            The rep's id. Saving the same rep twice keeps the first.
        """
        detail = rep.to_dict()
        with self._lock, self._sessions.begin() as db:
            s = db.get(m.Session, session_id)
            if s is None:
                raise KeyError(f"no session {session_id}")
            old = db.scalars(
                select(m.Rep).where(
                    m.Rep.session_id == session_id, m.Rep.step == rep.step, m.Rep.rep_index == rep.index
                )
            ).first()
            if old is not None:
                return old.id
            r = m.Rep(
                session_id=session_id,
                step=rep.step,
                rep_index=rep.index,
                exercise_id=rep.exercise_id,
                completed=bool(rep.completed),
                unit=rep.unit,
                start_s=float(rep.start_s),
                end_s=float(rep.end_s),
                peak_left=finite(rep.peak.left),
                peak_right=finite(rep.peak.right),
                symmetry_pct=finite(rep.symmetry_pct),
                onset_lag_s=finite(rep.onset_lag_s),
                release_lag_s=finite(rep.release_lag_s),
                synkinesis=bool(rep.synkinesis),
                synkinesis_kind=rep.synkinesis_kind or "none",
                synkinesis_value=finite(rep.synkinesis_value),
                synkinesis_side=rep.synkinesis_side,
                flags=list(rep.flags),
                confidence=float(rep.confidence),
                detail=detail,
                created_at=utcnow(),
            )
            db.add(r)
            db.flush()
            if series is not None:
                db.add(m.RepSeriesRow(rep_id=r.id, data=series.to_bytes()))
            done = db.execute(
                select(func.count(), func.avg(m.Rep.symmetry_pct)).where(
                    m.Rep.session_id == session_id, m.Rep.completed
                )
            ).one()
            s.reps_completed = int(done[0])
            s.mean_symmetry_pct = None if done[1] is None else float(done[1])
            return r.id

    def finish_session(self, session_id: int, result: SessionResult | None, stopped: bool = False) -> None:
        """Close a session with the engine's result (its summaries, score and grades).

        Reps already saved stay as they are; reps in ``result`` not yet saved are added.
        """
        if result is not None:
            with self._sessions() as db:
                saved = set(db.execute(select(m.Rep.step, m.Rep.rep_index).where(m.Rep.session_id == session_id)).all())
            for rep in result.reps:
                if (rep.step, rep.index) not in saved:  # saved reps are not written again
                    self.add_rep(session_id, rep)
        with self._lock, self._sessions.begin() as db:
            s = db.get(m.Session, session_id)
            if s is None:
                raise KeyError(f"no session {session_id}")
            s.status = "stopped" if stopped else "completed"
            s.ended_at = utcnow()
            if result is None:
                return
            s.score = result.score
            s.score_parts = {k: float(v) for k, v in result.score_parts.items()}
            s.score_explained = list(result.score_explained)
            s.grades = result.grades
            s.frames = result.frames
            s.frames_with_face = result.frames_with_face
            for e in result.exercises:
                db.add(
                    m.ExerciseResult(
                        session_id=session_id,
                        step=e.step,
                        exercise_id=e.exercise_id,
                        name=e.name,
                        unit=e.unit,
                        planned=e.planned,
                        completed=e.completed,
                        interrupted=e.interrupted,
                        mean_left=None if e.mean_peak is None else finite(e.mean_peak.left),
                        mean_right=None if e.mean_peak is None else finite(e.mean_peak.right),
                        symmetry_pct=finite(e.symmetry_pct),
                        weaker_side=e.weaker_side,
                        mean_onset_lag_s=finite(e.mean_onset_lag_s),
                        synkinesis_reps=e.synkinesis_reps,
                    )
                )

    @staticmethod
    def _session_info(s: m.Session) -> SessionInfo:
        return SessionInfo(
            s.id,
            s.patient_id,
            s.program_id,
            s.source,
            s.affected_side,
            s.started_at,
            s.ended_at,
            s.status,
            s.score,
            dict(s.score_parts) if s.score_parts else None,
            tuple(s.score_explained or ()),
            s.grades,
            s.reps_completed,
            s.mean_symmetry_pct,
        )

    def sessions(self, patient_id: int, since: datetime | None = None, limit: int | None = None) -> list[SessionInfo]:
        """A patient's sessions, newest first."""
        q = select(m.Session).where(m.Session.patient_id == patient_id)
        if since is not None:
            q = q.where(m.Session.started_at >= since)
        q = q.order_by(m.Session.started_at.desc(), m.Session.id.desc())
        if limit:
            q = q.limit(limit)
        with self._sessions() as db:
            return [self._session_info(s) for s in db.scalars(q)]

    def session(self, session_id: int) -> SessionDetail:
        with self._sessions() as db:
            s = db.get(m.Session, session_id)
            if s is None:
                raise KeyError(f"no session {session_id}")
            ex = db.scalars(
                select(m.ExerciseResult)
                .where(m.ExerciseResult.session_id == session_id)
                .order_by(m.ExerciseResult.step)
            ).all()
            with_series = set(
                db.scalars(
                    select(m.RepSeriesRow.rep_id)
                    .join(m.Rep, m.Rep.id == m.RepSeriesRow.rep_id)
                    .where(m.Rep.session_id == session_id)
                )
            )
            reps = db.scalars(
                select(m.Rep).where(m.Rep.session_id == session_id).order_by(m.Rep.step, m.Rep.rep_index)
            ).all()
            return SessionDetail(
                self._session_info(s),
                tuple(
                    ExerciseResultInfo(
                        e.step,
                        e.exercise_id,
                        e.name,
                        e.unit,
                        e.planned,
                        e.completed,
                        e.interrupted,
                        e.mean_left,
                        e.mean_right,
                        e.symmetry_pct,
                        e.weaker_side,
                        e.mean_onset_lag_s,
                        e.synkinesis_reps,
                    )
                    for e in ex
                ),
                tuple(self._rep_info(r, r.id in with_series) for r in reps),
            )

    @staticmethod
    def _rep_info(r: m.Rep, has_series: bool) -> RepInfo:
        return RepInfo(
            r.id,
            r.session_id,
            r.step,
            r.rep_index,
            r.exercise_id,
            r.completed,
            r.unit,
            r.start_s,
            r.end_s,
            r.peak_left,
            r.peak_right,
            r.symmetry_pct,
            r.onset_lag_s,
            r.release_lag_s,
            r.synkinesis,
            r.synkinesis_kind,
            r.synkinesis_value,
            r.synkinesis_side,
            tuple(r.flags or ()),
            r.confidence,
            has_series,
        )

    def rep_series(self, rep_id: int) -> bytes | None:
        """A rep's stored per-frame series (decode with ``RepSeries.from_bytes``)."""
        with self._sessions() as db:
            row = db.get(m.RepSeriesRow, rep_id)
            return None if row is None else bytes(row.data)

    def reps(self, patient_id: int) -> list[tuple[SessionInfo, RepInfo]]:
        """Every rep of a patient with its session, oldest first (for export)."""
        with self._sessions() as db:
            rows = db.execute(
                select(m.Session, m.Rep)
                .join(m.Rep, m.Rep.session_id == m.Session.id)
                .where(m.Session.patient_id == patient_id)
                .order_by(m.Session.started_at, m.Session.id, m.Rep.step, m.Rep.rep_index)
            ).all()
            return [(self._session_info(s), self._rep_info(r, False)) for s, r in rows]

    def rep_details(self, patient_id: int) -> dict[int, dict[str, Any]]:
        """Every rep's full scoring detail (``RepScore.to_dict()`` as saved), by rep id (for export)."""
        with self._sessions() as db:
            rows = db.execute(
                select(m.Rep.id, m.Rep.detail)
                .join(m.Session, m.Rep.session_id == m.Session.id)
                .where(m.Session.patient_id == patient_id)
            ).all()
            return {rid: dict(detail or {}) for rid, detail in rows}

    def session_owner(self, session_id: int) -> int | None:
        """The patient a session belongs to, or None if there is no such session."""
        with self._sessions() as db:
            return db.scalar(select(m.Session.patient_id).where(m.Session.id == session_id))

    def rep_owner(self, rep_id: int) -> int | None:
        """The patient a rep belongs to, or None if there is no such rep."""
        with self._sessions() as db:
            return db.scalar(
                select(m.Session.patient_id).join(m.Rep, m.Rep.session_id == m.Session.id).where(m.Rep.id == rep_id)
            )

    def forget_practice_outside_records(self) -> int:
        """Delete sessions that are nobody's own practice; returns how many.

        They were saved before FaceCoach stopped saving them: the virtual patient's practice in
        a real patient's record (source ``demo``), and visitors' practice in the demo record
        (anything but its made-up history). Safe to run at every start.
        """
        with self._lock, self._sessions.begin() as db:
            demo = select(m.Patient.id).where(m.Patient.is_demo)
            sids = select(m.Session.id).where(
                ((m.Session.source == "demo") & m.Session.patient_id.not_in(demo))
                | ((m.Session.source != "demo") & m.Session.patient_id.in_(demo))
            )
            gone = list(db.scalars(sids))
            if gone:
                delete_sessions(db, gone)
            return len(gone)


def delete_sessions(db: Any, session_ids: Any) -> None:
    """Delete sessions with their repetitions, series and exercise results, in one transaction
    ``db``; ``session_ids`` is a list of ids or a select of them. Explicit, so it does not depend
    on the database enforcing ON DELETE CASCADE."""
    rids = select(m.Rep.id).where(m.Rep.session_id.in_(session_ids))
    db.execute(delete(m.RepSeriesRow).where(m.RepSeriesRow.rep_id.in_(rids)))
    db.execute(delete(m.Rep).where(m.Rep.session_id.in_(session_ids)))
    db.execute(delete(m.ExerciseResult).where(m.ExerciseResult.session_id.in_(session_ids)))
    db.execute(delete(m.Session).where(m.Session.id.in_(session_ids)))
