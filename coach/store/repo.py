"""Reading and writing FaceCoach's records: one :class:`Store` per database.

Every function returns plain frozen dataclasses (never live ORM objects), so
pages and worker threads can hold them safely. Each write is its own short
transaction: a completed rep is on disk the moment :meth:`Store.add_rep` returns.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from coach.measures.symmetry import symmetry_pct
from coach.session import RepScore, SessionResult
from coach.store import models as m
from coach.store.db import StoreError, default_url, make_engine, migrate

SOURCES = ("camera", "demo", "video")


def utcnow() -> datetime:
    """Now, UTC, without tzinfo (how times are stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


# -- what the store hands out -------------------------------------------------------


@dataclass(frozen=True)
class TherapistInfo:
    id: int
    name: str
    email: str | None
    is_demo: bool


@dataclass(frozen=True)
class PatientInfo:
    id: int
    name: str
    affected_side: str | None
    condition: str
    surgery: str | None
    surgery_date: date | None
    therapist_id: int | None
    therapist_name: str | None
    is_demo: bool


@dataclass(frozen=True)
class AssignmentInfo:
    id: int
    patient_id: int
    program_id: str
    overrides: dict[str, dict[str, Any]]
    assigned_at: datetime


@dataclass(frozen=True)
class SessionInfo:
    id: int
    patient_id: int
    program_id: str
    source: str
    affected_side: str | None
    started_at: datetime
    ended_at: datetime | None
    status: str
    score: int | None
    score_parts: dict[str, float] | None
    score_explained: tuple[str, ...]
    grades: dict[str, Any] | None
    reps_completed: int
    mean_symmetry_pct: float | None


@dataclass(frozen=True)
class RepInfo:
    id: int
    session_id: int
    step: int
    rep_index: int
    exercise_id: str
    completed: bool
    unit: str
    start_s: float
    end_s: float
    peak_left: float | None
    peak_right: float | None
    symmetry_pct: float | None
    onset_lag_s: float | None
    release_lag_s: float | None
    synkinesis: bool
    synkinesis_kind: str
    synkinesis_value: float | None
    synkinesis_side: str | None
    flags: tuple[str, ...]
    confidence: float
    has_series: bool


@dataclass(frozen=True)
class ExerciseResultInfo:
    step: int
    exercise_id: str
    name: str
    unit: str
    planned: int
    completed: int
    interrupted: int
    mean_left: float | None
    mean_right: float | None
    symmetry_pct: float | None
    weaker_side: str | None
    mean_onset_lag_s: float | None
    synkinesis_reps: int


@dataclass(frozen=True)
class SessionDetail:
    session: SessionInfo
    exercises: tuple[ExerciseResultInfo, ...]
    reps: tuple[RepInfo, ...]


@dataclass(frozen=True)
class HistoryPoint:
    """One exercise in one session: the mean of its completed reps."""

    session_id: int
    started_at: datetime
    exercise_id: str
    unit: str
    reps: int
    mean_left: float
    mean_right: float
    symmetry_pct: float | None
    synkinesis_reps: int


@dataclass(frozen=True)
class PatientOverview:
    """A row of the therapist's patient list."""

    patient: PatientInfo
    last_session_at: datetime | None
    sessions_total: int
    days_practised_28: int
    adherence_pct_28: float
    symmetry_recent: float | None
    symmetry_before: float | None
    trend: str | None  # "better", "steady", "worse" or None (not enough sessions)


@dataclass(frozen=True)
class NoteInfo:
    id: int
    patient_id: int
    therapist_name: str | None
    text: str
    created_at: datetime


@dataclass(frozen=True)
class AccessEntry:
    at: datetime
    username: str
    role: str
    action: str
    patient_id: int | None
    detail: str
    patient_name: str | None = None  # None when the entry names no patient, or the patient was deleted


# -- the store ---------------------------------------------------------------------


def _opt_side(side: str | None, name: str = "affected_side") -> str | None:
    if side in ("", None):
        return None
    if side not in ("left", "right"):
        raise ValueError(f"{name} must be 'left', 'right' or None, got {side!r}")
    return side


def _clean_text(text: str, name: str, max_len: int, required: bool = True) -> str:
    if not isinstance(text, str):
        raise ValueError(f"{name} must be text, got {type(text).__name__}")
    text = text.strip()
    if required and not text:
        raise ValueError(f"{name} must not be empty")
    if len(text) > max_len:
        raise ValueError(f"{name} must be at most {max_len} characters, got {len(text)}")
    return text


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


class Store:
    """FaceCoach's records in one database.

    Args:
        url: SQLAlchemy URL; default :func:`coach.store.db.default_url`
            (``$DATABASE_URL`` or an SQLite file in the user's data folder).
        migrate_schema: bring the schema up to date first (Alembic).
    """

    def __init__(self, url: str | None = None, migrate_schema: bool = True) -> None:
        self.url = url or default_url()
        self.engine = make_engine(self.url)
        try:
            if migrate_schema:
                migrate(self.engine)
        except SQLAlchemyError as err:
            self.engine.dispose()
            raise StoreError(
                f"Cannot open the database at {self.engine.url.render_as_string(hide_password=True)} "
                f"({type(err).__name__}); check DATABASE_URL, or unset it to use the built-in database"
            ) from None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        return self.engine.url.get_backend_name()

    def close(self) -> None:
        self.engine.dispose()

    # -- people ------------------------------------------------------------------------
    def add_therapist(self, name: str, email: str | None = None, is_demo: bool = False) -> int:
        name = _clean_text(name, "name", 120)
        email = _clean_text(email, "email", 254, required=False) or None if email else None
        with self._sessions.begin() as db:
            t = m.Therapist(name=name, email=email, is_demo=is_demo, created_at=utcnow())
            db.add(t)
            db.flush()
            return t.id

    def therapists(self) -> list[TherapistInfo]:
        with self._sessions() as db:
            rows = db.scalars(select(m.Therapist).order_by(m.Therapist.name, m.Therapist.id)).all()
            return [TherapistInfo(t.id, t.name, t.email, t.is_demo) for t in rows]

    def add_patient(
        self,
        name: str,
        affected_side: str | None = None,
        condition: str = "",
        surgery: str | None = None,
        surgery_date: date | None = None,
        therapist_id: int | None = None,
        is_demo: bool = False,
    ) -> int:
        with self._sessions.begin() as db:
            p = m.Patient(
                name=_clean_text(name, "name", 120),
                affected_side=_opt_side(affected_side),
                condition=_clean_text(condition, "condition", 120, required=False),
                surgery=_clean_text(surgery, "surgery", 160, required=False) or None if surgery else None,
                surgery_date=surgery_date,
                therapist_id=therapist_id,
                is_demo=is_demo,
                created_at=utcnow(),
            )
            db.add(p)
            db.flush()
            return p.id

    def update_patient(self, patient_id: int, **changes: Any) -> PatientInfo:
        """Change a patient's details (name, affected_side, condition, surgery, surgery_date, therapist_id)."""
        allowed = {"name", "affected_side", "condition", "surgery", "surgery_date", "therapist_id"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))}")
        if "affected_side" in changes:
            changes["affected_side"] = _opt_side(changes["affected_side"])
        if "name" in changes:
            changes["name"] = _clean_text(changes["name"], "name", 120)
        if "condition" in changes:
            changes["condition"] = _clean_text(changes["condition"] or "", "condition", 120, required=False)
        if "surgery" in changes:
            changes["surgery"] = _clean_text(changes["surgery"] or "", "surgery", 160, required=False) or None
        with self._sessions.begin() as db:
            p = db.get(m.Patient, patient_id)
            if p is None:
                raise KeyError(f"no patient {patient_id}")
            for k, v in changes.items():
                setattr(p, k, v)
        return self.patient(patient_id)

    def _patient_info(self, p: m.Patient, therapist_name: str | None) -> PatientInfo:
        return PatientInfo(
            p.id,
            p.name,
            p.affected_side,
            p.condition,
            p.surgery,
            p.surgery_date,
            p.therapist_id,
            therapist_name,
            p.is_demo,
        )

    def patient(self, patient_id: int) -> PatientInfo:
        with self._sessions() as db:
            row = db.execute(
                select(m.Patient, m.Therapist.name)
                .outerjoin(m.Therapist, m.Patient.therapist_id == m.Therapist.id)
                .where(m.Patient.id == patient_id)
            ).first()
            if row is None:
                raise KeyError(f"no patient {patient_id}")
            return self._patient_info(row[0], row[1])

    def patients(self, therapist_id: int | None = None) -> list[PatientInfo]:
        """Every patient (or one therapist's), by name."""
        q = select(m.Patient, m.Therapist.name).outerjoin(m.Therapist, m.Patient.therapist_id == m.Therapist.id)
        if therapist_id is not None:
            q = q.where(m.Patient.therapist_id == therapist_id)
        with self._sessions() as db:
            return [self._patient_info(p, tn) for p, tn in db.execute(q.order_by(m.Patient.name, m.Patient.id))]

    # -- programs --------------------------------------------------------------------
    def assign_program(
        self,
        patient_id: int,
        program_id: str,
        overrides: dict[str, dict[str, Any]] | None = None,
        therapist_id: int | None = None,
    ) -> int:
        """Give a patient a program (replacing the one they had), with per-exercise tuning."""
        program_id = _clean_text(program_id, "program_id", 64)
        with self._sessions.begin() as db:
            if db.get(m.Patient, patient_id) is None:
                raise KeyError(f"no patient {patient_id}")
            db.execute(
                update(m.Assignment)
                .where(m.Assignment.patient_id == patient_id, m.Assignment.active)
                .values(active=False)
            )
            a = m.Assignment(
                patient_id=patient_id,
                program_id=program_id,
                overrides=dict(overrides or {}),
                active=True,
                assigned_at=utcnow(),
                therapist_id=therapist_id,
            )
            db.add(a)
            db.flush()
            return a.id

    def assignment(self, patient_id: int) -> AssignmentInfo | None:
        """The patient's current program, if any."""
        with self._sessions() as db:
            a = db.scalars(
                select(m.Assignment)
                .where(m.Assignment.patient_id == patient_id, m.Assignment.active)
                .order_by(m.Assignment.assigned_at.desc(), m.Assignment.id.desc())
            ).first()
            if a is None:
                return None
            return AssignmentInfo(a.id, a.patient_id, a.program_id, dict(a.overrides or {}), a.assigned_at)

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
                affected_side=_opt_side(affected_side),
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
            series: a :class:`coach.series.RepSeries` (anything with ``to_bytes()``), or None.

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
                peak_left=_finite(rep.peak.left),
                peak_right=_finite(rep.peak.right),
                symmetry_pct=_finite(rep.symmetry_pct),
                onset_lag_s=_finite(rep.onset_lag_s),
                release_lag_s=_finite(rep.release_lag_s),
                synkinesis=bool(rep.synkinesis),
                synkinesis_kind=rep.synkinesis_kind or "none",
                synkinesis_value=_finite(rep.synkinesis_value),
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
                        mean_left=None if e.mean_peak is None else _finite(e.mean_peak.left),
                        mean_right=None if e.mean_peak is None else _finite(e.mean_peak.right),
                        symmetry_pct=_finite(e.symmetry_pct),
                        weaker_side=e.weaker_side,
                        mean_onset_lag_s=_finite(e.mean_onset_lag_s),
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

    # -- notes -------------------------------------------------------------------------
    def add_note(self, patient_id: int, text: str, therapist_id: int | None = None) -> int:
        text = _clean_text(text, "note", 5000)
        with self._sessions.begin() as db:
            if db.get(m.Patient, patient_id) is None:
                raise KeyError(f"no patient {patient_id}")
            n = m.Note(patient_id=patient_id, therapist_id=therapist_id, text=text, created_at=utcnow())
            db.add(n)
            db.flush()
            return n.id

    def notes(self, patient_id: int) -> list[NoteInfo]:
        with self._sessions() as db:
            rows = db.execute(
                select(m.Note, m.Therapist.name)
                .outerjoin(m.Therapist, m.Note.therapist_id == m.Therapist.id)
                .where(m.Note.patient_id == patient_id)
                .order_by(m.Note.created_at.desc(), m.Note.id.desc())
            ).all()
            return [NoteInfo(n.id, n.patient_id, tn, n.text, n.created_at) for n, tn in rows]

    # -- ownership, deletion, the access log -----------------------------------------------
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

    def delete_patient(self, patient_id: int) -> None:
        """Delete a patient and everything recorded about them (sessions, reps, series, notes, logins)."""
        with self._lock, self._sessions.begin() as db:
            p = db.get(m.Patient, patient_id)
            if p is None:
                raise KeyError(f"no patient {patient_id}")
            sids = select(m.Session.id).where(m.Session.patient_id == patient_id)
            rids = select(m.Rep.id).where(m.Rep.session_id.in_(sids))
            # Explicit, so it does not depend on the database enforcing ON DELETE CASCADE.
            db.execute(delete(m.RepSeriesRow).where(m.RepSeriesRow.rep_id.in_(rids)))
            db.execute(delete(m.Rep).where(m.Rep.session_id.in_(sids)))
            db.execute(delete(m.ExerciseResult).where(m.ExerciseResult.session_id.in_(sids)))
            db.execute(delete(m.Session).where(m.Session.patient_id == patient_id))
            for model in (m.Note, m.Assignment, m.User):
                db.execute(delete(model).where(model.patient_id == patient_id))
            db.delete(p)

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
            if not gone:
                return 0
            rids = select(m.Rep.id).where(m.Rep.session_id.in_(gone))
            db.execute(delete(m.RepSeriesRow).where(m.RepSeriesRow.rep_id.in_(rids)))
            db.execute(delete(m.Rep).where(m.Rep.session_id.in_(gone)))
            db.execute(delete(m.ExerciseResult).where(m.ExerciseResult.session_id.in_(gone)))
            db.execute(delete(m.Session).where(m.Session.id.in_(gone)))
            return len(gone)

    def log_access(
        self, user_id: int | None, username: str, role: str, action: str, patient_id: int | None, detail: str = ""
    ) -> None:
        with self._sessions.begin() as db:
            db.add(
                m.AccessLog(
                    at=utcnow(),
                    user_id=user_id,
                    username=username[:64],
                    role=role[:16],
                    action=action[:64],
                    patient_id=patient_id,
                    detail=detail[:500],
                )
            )

    def access_log(self, limit: int = 500, patient_id: int | None = None) -> list[AccessEntry]:
        """The newest entries of the access log."""
        q = (
            select(m.AccessLog, m.Patient.name)
            # SQLite may give a deleted patient's number to a new patient: an entry names the
            # patient only if that record already existed when the entry was made.
            .outerjoin(m.Patient, (m.Patient.id == m.AccessLog.patient_id) & (m.Patient.created_at <= m.AccessLog.at))
            .order_by(m.AccessLog.at.desc(), m.AccessLog.id.desc())
            .limit(limit)
        )
        if patient_id is not None:
            q = q.where(m.AccessLog.patient_id == patient_id)
        with self._sessions() as db:
            return [
                AccessEntry(a.at, a.username, a.role, a.action, a.patient_id, a.detail, name)
                for a, name in db.execute(q)
            ]

    def demo_patient(self) -> PatientInfo | None:
        with self._sessions() as db:
            pid = db.scalars(select(m.Patient.id).where(m.Patient.is_demo).order_by(m.Patient.id)).first()
        return None if pid is None else self.patient(pid)


def streak_days(days: Iterable[date], today: date) -> int:
    """Days in a row with practice, ending today (or yesterday, if today is not done yet)."""
    have = set(days)
    d = today if today in have else today - timedelta(days=1)
    n = 0
    while d in have:
        n += 1
        d -= timedelta(days=1)
    return n
