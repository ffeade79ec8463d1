"""Every read and write of patient records, checked against who is asking, and logged.

The pages use an :class:`Access` (never the :class:`Store` directly), so hiding a
page is not the only guard: each call checks the role. A patient sees only their
own records; a therapist only the patients assigned to them; an admin manages
accounts and reads the access log but no health records; the demo visitor sees
and practises with demo records only. Every therapist read or change of a
patient's record, and every export or deletion, goes in the access log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from coach.sessions.scoring import RepScore
from coach.sessions.summary import SessionResult
from coach.store.auth import Forbidden, Principal
from coach.store.export import patient_archive_zip, patient_csv, patient_report_html
from coach.store.info import (
    AccessEntry,
    AssignmentInfo,
    HistoryPoint,
    NoteInfo,
    PatientInfo,
    PatientOverview,
    SessionDetail,
    SessionInfo,
    TherapistInfo,
)
from coach.store.repo import Store

NOT_YOURS = "You do not have access to this patient's records"
DEMO_READ_ONLY = "This is the demo: sign in as a therapist to change records"
DEMO_NOT_SAVED = "This is the demo: practice here is not saved"
SIGNED_OUT = "You are signed out, so this practice is no longer saved. Please sign in again"
PATIENT_FIELDS = ("surgery", "surgery_date")  # what a therapist may give add_patient besides name, side, condition
LOG_PAGE = 100
SAVED_SOURCES = ("camera", "video")  # a patient's own movements; the virtual patient's are nobody's record


class Access:
    """The records as one signed-in person may see them.

    Args:
        store: the records.
        who: who is asking.
        still_signed_in: asked before each write a practice session makes (they can come
            long after the page was drawn, from the video thread): False once the person has
            signed out or their sign-in has ended, and the write is refused.
    """

    def __init__(self, store: Store, who: Principal, still_signed_in: Callable[[], bool] | None = None) -> None:
        self.store = store
        self.who = who
        self._still_signed_in = still_signed_in
        self._reads_logged: set[tuple[str, int | None, str]] = set()

    # -- checks -------------------------------------------------------------------------
    def _log(self, action: str, patient_id: int | None, detail: str = "") -> None:
        if self.who.is_demo:
            return  # the demo visitor reads the demo's own made-up records, in a database of their own
        if not (self.who.role in ("therapist", "admin") or action in ("export", "export_all", "delete_all", "report")):
            return
        if action.startswith("view") or action == "list_patients":
            # A page asks for the same record several times as it draws; the log keeps one
            # row per read per Access (the app makes one per page view). Changes,
            # exports and refusals are always logged.
            key = (action, patient_id, detail)
            if key in self._reads_logged:
                return
            self._reads_logged.add(key)
        self.store.log_access(self.who.user_id, self.who.username, self.who.role, action, patient_id, detail)

    def _may_see(self, p: PatientInfo) -> bool:
        w = self.who
        if w.role == "patient":
            return w.patient_id == p.id
        if w.role == "therapist":
            return w.therapist_id is not None and p.therapist_id == w.therapist_id
        if w.role == "demo":
            return p.is_demo
        return False

    def _patient(self, patient_id: int, action: str) -> PatientInfo:
        try:
            p = self.store.patient(int(patient_id))
        except (KeyError, TypeError, ValueError):
            raise Forbidden(NOT_YOURS) from None
        if not self._may_see(p):
            if not self.who.is_demo:
                self.store.log_access(
                    self.who.user_id, self.who.username, self.who.role, "refused:" + action, int(patient_id)
                )
            raise Forbidden(NOT_YOURS)
        self._log(action, p.id)
        return p

    def _therapist_writes(self, patient_id: int | None, action: str) -> None:
        if self.who.role == "demo":
            raise Forbidden(DEMO_READ_ONLY)
        if self.who.role != "therapist":
            raise Forbidden("Only the patient's therapist can change this")
        if patient_id is not None:
            self._patient(patient_id, action)

    def _signed_in(self) -> None:
        """Refuse when the sign-in has ended since the page was drawn (signed out, expired, paused)."""
        if self._still_signed_in is not None and not self._still_signed_in():
            raise Forbidden(SIGNED_OUT)

    def _practise(self, patient_id: int) -> PatientInfo:
        self._signed_in()
        if self.who.role not in ("patient", "therapist", "demo"):
            raise Forbidden("Only a patient (or their therapist) can practise")
        return self._patient(patient_id, "practise")

    # -- who can be seen ------------------------------------------------------------------
    def patients(self) -> list[PatientInfo]:
        w = self.who
        if w.role == "patient":
            return [self._patient(w.patient_id, "view")] if w.patient_id is not None else []
        if w.role == "therapist":
            self._log("list_patients", None)
            return self.store.patients(w.therapist_id) if w.therapist_id is not None else []
        if w.role == "demo":
            return [p for p in self.store.patients() if p.is_demo]
        raise Forbidden("An administrator account does not see patient records")

    def overview(self, today: date | None = None) -> list[PatientOverview]:
        w = self.who
        if w.role == "therapist":
            self._log("list_patients", None)
            return self.store.overview(w.therapist_id, today=today) if w.therapist_id is not None else []
        if w.role == "demo":
            return [o for o in self.store.overview(today=today) if o.patient.is_demo]
        raise Forbidden("Only a therapist sees the patient list")

    def patient(self, patient_id: int) -> PatientInfo:
        return self._patient(patient_id, "view")

    def assignment(self, patient_id: int) -> AssignmentInfo | None:
        self._patient(patient_id, "view_program")
        return self.store.assignment(patient_id)

    def practice_days(self, patient_id: int, since: date | None = None) -> dict[date, int]:
        self._patient(patient_id, "view_progress")
        return self.store.practice_days(patient_id, since)

    def history(
        self, patient_id: int, exercise_id: str | None = None, since: datetime | None = None
    ) -> list[HistoryPoint]:
        self._patient(patient_id, "view_progress")
        return self.store.history(patient_id, exercise_id, since)

    def sessions(self, patient_id: int, since: datetime | None = None, limit: int | None = None) -> list[SessionInfo]:
        self._patient(patient_id, "view_sessions")
        return self.store.sessions(patient_id, since, limit)

    def session(self, session_id: int) -> SessionDetail:
        owner = self.store.session_owner(session_id)
        if owner is None:
            raise Forbidden(NOT_YOURS)
        self._patient(owner, f"view_session:{session_id}")
        return self.store.session(session_id)

    def rep_series(self, rep_id: int) -> bytes | None:
        owner = self.store.rep_owner(rep_id)
        if owner is None:
            raise Forbidden(NOT_YOURS)
        self._patient(owner, f"view_rep:{rep_id}")
        return self.store.rep_series(rep_id)

    def notes(self, patient_id: int) -> list[NoteInfo]:
        if self.who.role == "patient":
            raise Forbidden("Notes are your therapist's")
        self._patient(patient_id, "view_notes")
        return self.store.notes(patient_id)

    def demo_patient(self) -> PatientInfo | None:
        return self.store.demo_patient() if self.who.role == "demo" else None

    # -- a therapist's changes ----------------------------------------------------------
    def add_patient(self, name: str, affected_side: str | None = None, condition: str = "", **kw: Any) -> int:
        """A new patient of the signed-in therapist (``surgery``, ``surgery_date`` may be given too)."""
        unknown = set(kw) - set(PATIENT_FIELDS)
        if unknown:
            raise Forbidden(f"A new patient's {', '.join(sorted(unknown))} cannot be set here")
        self._therapist_writes(None, "add_patient")
        pid = self.store.add_patient(name, affected_side, condition, therapist_id=self.who.therapist_id, **kw)
        self._log("add_patient", pid)
        return pid

    def update_patient(self, patient_id: int, **changes: Any) -> PatientInfo:
        if "therapist_id" in changes:
            raise Forbidden("Only an administrator can move a patient to another therapist")
        self._therapist_writes(patient_id, "update_patient:" + ",".join(sorted(changes)))
        return self.store.update_patient(patient_id, **changes)

    def assign_program(self, patient_id: int, program_id: str, overrides: dict | None = None) -> int:
        # The program is not named in the log: programs are named after conditions and surgeries,
        # and the administrator who reads the log sees no health records.
        self._therapist_writes(patient_id, "assign_program")
        return self.store.assign_program(patient_id, program_id, overrides, therapist_id=self.who.therapist_id)

    def add_note(self, patient_id: int, text: str) -> int:
        self._therapist_writes(patient_id, "add_note")
        return self.store.add_note(patient_id, text, therapist_id=self.who.therapist_id)

    # -- practising (what a live session writes) --------------------------------------------
    def start_session(
        self,
        patient_id: int,
        program_id: str,
        source: str = "camera",
        affected_side: str | None = None,
        overrides: dict | None = None,
        started_at: datetime | None = None,
    ) -> int:
        """Open a session in a patient's record: their own movements only (``camera`` or ``video``).

        The demo visitor's practice and the virtual patient's are refused, so a visit never
        changes the records the next visitor sees, and a patient's record holds only them.
        """
        if self.who.is_demo:
            raise Forbidden(DEMO_NOT_SAVED)
        if source not in SAVED_SOURCES:
            raise Forbidden("Only a patient's own practice is saved to their record")
        self._practise(patient_id)
        return self.store.start_session(patient_id, program_id, source, affected_side, overrides, started_at)

    def _own_session(self, session_id: int) -> None:
        owner = self.store.session_owner(session_id)
        if owner is None or not self._may_see(self.store.patient(owner)):
            raise Forbidden(NOT_YOURS)

    def add_rep(self, session_id: int, rep: RepScore, series: Any | None = None) -> int:
        if self.who.is_demo:
            raise Forbidden(DEMO_NOT_SAVED)
        self._signed_in()
        self._own_session(session_id)
        return self.store.add_rep(session_id, rep, series)

    def finish_session(self, session_id: int, result: SessionResult | None, stopped: bool = False) -> None:
        if self.who.is_demo:
            raise Forbidden(DEMO_NOT_SAVED)
        self._signed_in()
        self._own_session(session_id)
        self.store.finish_session(session_id, result, stopped)

    # -- the patient's own data -------------------------------------------------------------
    # Each is built when it is asked for (the app asks when a download button is pressed),
    # and each one built is one line in the access log.
    def export_csv(self, patient_id: int) -> str:
        self._signed_in()  # a download can be pressed long after the page was drawn
        self._patient(patient_id, "export")
        return patient_csv(self.store, patient_id)

    def export_zip(self, patient_id: int, names: dict[str, str] | None = None) -> bytes:
        """Everything kept about a patient (details, sessions with grades, repetitions, per-frame series)."""
        self._signed_in()
        self._patient(patient_id, "export_all")
        return patient_archive_zip(self.store, patient_id, names)

    def report_html(self, patient_id: int, names: dict[str, str] | None = None) -> str:
        """The printable report; the therapist's private notes are in the therapist's copy only."""
        self._signed_in()
        self._patient(patient_id, "report")
        return patient_report_html(self.store, patient_id, names, include_notes=self.who.role == "therapist")

    def delete_all(self, patient_id: int) -> None:
        """Delete everything recorded about a patient: the patient themself, or their therapist when the
        patient has no login (a patient with a login decides for themself)."""
        if self.who.role == "therapist":
            self._therapist_writes(None, "delete_all")
            self._patient(patient_id, "view")
            if self.store.has_login(patient_id):
                raise Forbidden("This patient has a login: only they can delete their records, from My data")
        elif self.who.role != "patient" or self.who.patient_id != patient_id:
            raise Forbidden("Only the patient can delete their records")
        self._patient(patient_id, "delete_all")
        self.store.delete_patient(patient_id)

    # -- administration ------------------------------------------------------------------------
    def therapists(self) -> list[TherapistInfo]:
        if self.who.role != "admin":
            raise Forbidden("Only an administrator manages therapists")
        return self.store.therapists()

    def add_therapist(self, name: str, email: str | None = None) -> int:
        if self.who.role != "admin":
            raise Forbidden("Only an administrator adds therapists")
        tid = self.store.add_therapist(name, email)
        self._log("add_therapist", None, f"therapist {tid}")
        return tid

    def access_log(
        self,
        limit: int = LOG_PAGE,
        offset: int = 0,
        username: str | None = None,
        action: str | tuple[str, ...] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> tuple[list[AccessEntry], int]:
        """One page of the access log, newest first, and how many entries match; reading it is logged too."""
        if self.who.role != "admin":
            raise Forbidden("Only an administrator reads the access log")
        filters = dict(username=username or None, action=action or None, since=since, until=until)
        key = ("read_log", None, repr(sorted(filters.items())))
        if key not in self._reads_logged:
            self._reads_logged.add(key)
            shown = ", ".join(f"{k} {v}" for k, v in filters.items() if v is not None)
            self.store.log_access(self.who.user_id, self.who.username, self.who.role, "read_log", None, shown)
        rows = self.store.access_log(limit, offset=offset, **filters)
        return rows, self.store.access_log_count(**filters)
