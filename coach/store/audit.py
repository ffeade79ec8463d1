"""The access log: who read or changed which patient's records, and when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

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
