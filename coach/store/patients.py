"""The people in the records: therapists, patients, their programs and their therapists' notes."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, select, update

from coach.store import models as m
from coach.store.info import AssignmentInfo, NoteInfo, PatientInfo, TherapistInfo, clean_text, opt_side, utcnow
from coach.store.sessions import delete_sessions


class PatientRecords:
    """Therapists, patients, programs and notes (mixed into :class:`coach.store.repo.Store`)."""

    _sessions: Any
    _lock: Any
    engine: Any

    # -- people ------------------------------------------------------------------------
    def add_therapist(self, name: str, email: str | None = None, is_demo: bool = False) -> int:
        name = clean_text(name, "name", 120)
        email = clean_text(email, "email", 254, required=False) or None if email else None
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
                name=clean_text(name, "name", 120),
                affected_side=opt_side(affected_side),
                condition=clean_text(condition, "condition", 120, required=False),
                surgery=clean_text(surgery, "surgery", 160, required=False) or None if surgery else None,
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
            changes["affected_side"] = opt_side(changes["affected_side"])
        if "name" in changes:
            changes["name"] = clean_text(changes["name"], "name", 120)
        if "condition" in changes:
            changes["condition"] = clean_text(changes["condition"] or "", "condition", 120, required=False)
        if "surgery" in changes:
            changes["surgery"] = clean_text(changes["surgery"] or "", "surgery", 160, required=False) or None
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
        program_id = clean_text(program_id, "program_id", 64)
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

    # -- notes -------------------------------------------------------------------------
    def add_note(self, patient_id: int, text: str, therapist_id: int | None = None) -> int:
        text = clean_text(text, "note", 5000)
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

    def has_login(self, patient_id: int) -> bool:
        """True when the patient has an account to sign in with."""
        with self._sessions() as db:
            return db.scalar(select(m.User.id).where(m.User.patient_id == patient_id)) is not None

    def delete_patient(self, patient_id: int) -> None:
        """Delete a patient and everything recorded about them (sessions, reps, series, notes, logins).

        The access log keeps that their record was read and changed, and by whom (a clinic
        must be able to show that), but nothing that tells who they were: the entries about
        them lose their details, and their own entries their user name. Their failed
        sign-ins go. On SQLite the deleted rows are overwritten with zeros
        (``secure_delete``) and the write-ahead log is emptied into the file, so the
        patient's data does not stay readable in the database's files.
        """
        with self._lock, self._sessions.begin() as db:
            p = db.get(m.Patient, patient_id)
            if p is None:
                raise KeyError(f"no patient {patient_id}")
            logins = db.execute(select(m.User.id, m.User.username).where(m.User.patient_id == patient_id)).all()
            delete_sessions(db, select(m.Session.id).where(m.Session.patient_id == patient_id))
            for model in (m.Note, m.Assignment, m.User):
                db.execute(delete(model).where(model.patient_id == patient_id))
            db.execute(update(m.AccessLog).where(m.AccessLog.patient_id == patient_id).values(detail=""))
            for uid, username in logins:
                # Their own entries (sign-ins, failed ones too, which have no account number), and
                # the one entry about them that names them without their record's number.
                mine = (m.AccessLog.user_id == uid) | (
                    m.AccessLog.user_id.is_(None) & (m.AccessLog.username == username)
                )
                db.execute(update(m.AccessLog).where(mine).values(username="deleted patient", detail=""))
                db.execute(
                    update(m.AccessLog)
                    .where(m.AccessLog.detail == f"patient {username} (on the server)")
                    .values(detail="")
                )
                db.execute(delete(m.LoginFailure).where(m.LoginFailure.username == username))
            db.delete(p)
        self._scrub_files()

    def _scrub_files(self) -> None:
        """SQLite: move the write-ahead log into the database file and empty it (deleted rows were zeroed)."""
        if self.engine.url.get_backend_name() != "sqlite":
            return
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def forget_demo_records(self) -> int:
        """Delete the demo clinic from a clinic's records (older versions kept it there); returns patients deleted.

        The demo now lives in its own database in memory (:func:`coach.store.demo.demo_store`).
        """
        with self._sessions() as db:
            pids = list(db.scalars(select(m.Patient.id).where(m.Patient.is_demo)))
        for pid in pids:
            self.delete_patient(pid)
        with self._sessions.begin() as db:
            db.execute(delete(m.Therapist).where(m.Therapist.is_demo))
        return len(pids)

    def demo_patient(self) -> PatientInfo | None:
        with self._sessions() as db:
            pid = db.scalars(select(m.Patient.id).where(m.Patient.is_demo).order_by(m.Patient.id)).first()
        return None if pid is None else self.patient(pid)
