"""What the records hand out: plain frozen dataclasses (never live ORM objects), and the checks
on what goes in."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

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


def opt_side(side: str | None, name: str = "affected_side") -> str | None:
    if side in ("", None):
        return None
    if side not in ("left", "right"):
        raise ValueError(f"{name} must be 'left', 'right' or None, got {side!r}")
    return side


def clean_text(text: str, name: str, max_len: int, required: bool = True) -> str:
    if not isinstance(text, str):
        raise ValueError(f"{name} must be text, got {type(text).__name__}")
    text = text.strip()
    if required and not text:
        raise ValueError(f"{name} must not be empty")
    if len(text) > max_len:
        raise ValueError(f"{name} must be at most {max_len} characters, got {len(text)}")
    return text


def finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)
