"""The access log: who read or changed which patient's records, who signed in (or failed to), and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select

from coach.store import models as m
from coach.store.info import AccessEntry, utcnow


class AccessLogRecords:
    """The access log. Mixed into :class:`coach.store.repo.Store`."""

    _sessions: Any
    _lock: Any

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

    @staticmethod
    def _log_filters(
        patient_id: int | None = None,
        username: str | None = None,
        action: str | tuple[str, ...] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list:
        where = []
        if patient_id is not None:
            where.append(m.AccessLog.patient_id == patient_id)
        if username:
            where.append(func.lower(m.AccessLog.username) == username.strip().lower())
        if action:
            # "export" finds "export" and "refused:export"; "view" finds every kind of reading;
            # several beginnings find any of them.
            starts = (action,) if isinstance(action, str) else tuple(action)
            where.append(
                or_(
                    *(m.AccessLog.action.startswith(a, autoescape=True) for a in starts),
                    *(m.AccessLog.action.startswith("refused:" + a, autoescape=True) for a in starts),
                )
            )
        if since is not None:
            where.append(m.AccessLog.at >= since)
        if until is not None:
            where.append(m.AccessLog.at < until)
        return where

    def access_log(
        self,
        limit: int = 500,
        patient_id: int | None = None,
        offset: int = 0,
        username: str | None = None,
        action: str | tuple[str, ...] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AccessEntry]:
        """Entries of the access log, newest first: ``limit`` of them after skipping ``offset``, filtered.

        Args:
            username: who did it (any case); action: what, by its code's beginning (``view``,
                ``sign_in``, ``export``…; refusals of it too); since, until: UTC.
        """
        q = (
            select(m.AccessLog, m.Patient.name)
            # SQLite may give a deleted patient's number to a new patient: an entry names the
            # patient only if that record already existed when the entry was made.
            .outerjoin(m.Patient, (m.Patient.id == m.AccessLog.patient_id) & (m.Patient.created_at <= m.AccessLog.at))
            .where(*self._log_filters(patient_id, username, action, since, until))
            .order_by(m.AccessLog.at.desc(), m.AccessLog.id.desc())
            .offset(max(0, int(offset)))
            .limit(max(0, int(limit)))
        )
        with self._sessions() as db:
            return [
                AccessEntry(a.at, a.username, a.role, a.action, a.patient_id, a.detail, name)
                for a, name in db.execute(q)
            ]

    def access_log_count(
        self,
        patient_id: int | None = None,
        username: str | None = None,
        action: str | tuple[str, ...] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        """How many entries match (for paging)."""
        q = select(func.count()).select_from(m.AccessLog)
        with self._sessions() as db:
            return int(db.scalar(q.where(*self._log_filters(patient_id, username, action, since, until))))

    def forget_access_log_before(self, cutoff: datetime) -> int:
        """Delete the entries older than ``cutoff`` (the retention a clinic sets); returns how many."""
        with self._sessions.begin() as db:
            return db.execute(delete(m.AccessLog).where(m.AccessLog.at < cutoff)).rowcount or 0
