"""The database schema: patients, therapists, programs, sessions, reps and their series.

Measures and results only: no pictures, no video. Times are UTC. Sides are the
patient's own ("left" is the patient's left).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SIDE_LENGTH = 8


class Base(DeclarativeBase):
    pass


class Therapist(Base):
    __tablename__ = "therapists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    affected_side: Mapped[str | None] = mapped_column(String(SIDE_LENGTH))
    condition: Mapped[str] = mapped_column(String(120), default="")
    surgery: Mapped[str | None] = mapped_column(String(160))
    surgery_date: Mapped[date | None] = mapped_column(Date)
    therapist_id: Mapped[int | None] = mapped_column(ForeignKey("therapists.id", ondelete="SET NULL"), index=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Assignment(Base):
    """A program given to a patient, with the therapist's tuning (reps, holds…)."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    program_id: Mapped[str] = mapped_column(String(64))
    overrides: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    assigned_at: Mapped[datetime] = mapped_column(DateTime)
    therapist_id: Mapped[int | None] = mapped_column(ForeignKey("therapists.id", ondelete="SET NULL"))


class Session(Base):
    """One practice session. ``status`` is in_progress until it ends (completed or stopped)."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_patient_started", "patient_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    program_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # camera, demo, video
    affected_side: Mapped[str | None] = mapped_column(String(SIDE_LENGTH))
    overrides: Mapped[dict] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="in_progress")
    score: Mapped[int | None] = mapped_column(Integer)
    score_parts: Mapped[dict | None] = mapped_column(JSON)
    score_explained: Mapped[list | None] = mapped_column(JSON)
    grades: Mapped[dict | None] = mapped_column(JSON)
    frames: Mapped[int] = mapped_column(Integer, default=0)
    frames_with_face: Mapped[int] = mapped_column(Integer, default=0)
    reps_completed: Mapped[int] = mapped_column(Integer, default=0)
    mean_symmetry_pct: Mapped[float | None] = mapped_column(Float)


class ExerciseResult(Base):
    """Per exercise of a finished session (the engine's summary)."""

    __tablename__ = "exercise_results"
    __table_args__ = (UniqueConstraint("session_id", "step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    exercise_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(8))
    planned: Mapped[int] = mapped_column(Integer)
    completed: Mapped[int] = mapped_column(Integer)
    interrupted: Mapped[int] = mapped_column(Integer, default=0)
    mean_left: Mapped[float | None] = mapped_column(Float)
    mean_right: Mapped[float | None] = mapped_column(Float)
    symmetry_pct: Mapped[float | None] = mapped_column(Float)
    weaker_side: Mapped[str | None] = mapped_column(String(SIDE_LENGTH))
    mean_onset_lag_s: Mapped[float | None] = mapped_column(Float)
    synkinesis_reps: Mapped[int] = mapped_column(Integer, default=0)


class Rep(Base):
    """One repetition, written the moment it is scored."""

    __tablename__ = "reps"
    __table_args__ = (UniqueConstraint("session_id", "step", "rep_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    rep_index: Mapped[int] = mapped_column(Integer)
    exercise_id: Mapped[str] = mapped_column(String(64))
    completed: Mapped[bool] = mapped_column(Boolean)
    unit: Mapped[str] = mapped_column(String(8))
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    peak_left: Mapped[float | None] = mapped_column(Float)
    peak_right: Mapped[float | None] = mapped_column(Float)
    symmetry_pct: Mapped[float | None] = mapped_column(Float)
    onset_lag_s: Mapped[float | None] = mapped_column(Float)
    release_lag_s: Mapped[float | None] = mapped_column(Float)
    synkinesis: Mapped[bool] = mapped_column(Boolean, default=False)
    synkinesis_kind: Mapped[str] = mapped_column(String(16), default="none")
    synkinesis_value: Mapped[float | None] = mapped_column(Float)
    synkinesis_side: Mapped[str | None] = mapped_column(String(SIDE_LENGTH))
    flags: Mapped[list] = mapped_column(JSON, default=list)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class RepSeriesRow(Base):
    """A rep's compact per-frame series (see :class:`coach.sessions.series.RepSeries`)."""

    __tablename__ = "rep_series"

    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    therapist_id: Mapped[int | None] = mapped_column(ForeignKey("therapists.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class User(Base):
    """A login: an admin, a therapist (``therapist_id``) or a patient (``patient_id``)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    therapist_id: Mapped[int | None] = mapped_column(ForeignKey("therapists.id", ondelete="CASCADE"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # A password someone else chose (a first password, a reset) must be changed at the next sign-in.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class LoginFailure(Base):
    """A sign-in attempt under way or failed, kept for throttling (per user name, per client
    address, and per both; also for names that do not exist). A successful sign-in deletes its own."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), default="", server_default="", index=True)
    at: Mapped[datetime] = mapped_column(DateTime)


class SetupCode(Base):
    """A one-time code that lets the first administrator be created from the browser (stored as a SHA-256)."""

    __tablename__ = "setup_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class AccessLog(Base):
    """Who looked at or changed which patient's record, and when."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[str] = mapped_column(String(500), default="")
