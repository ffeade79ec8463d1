"""Accounts: who someone is, proven by a password, for a limited time.

Passwords are hashed with Argon2id (argon2-cffi; never home-made). Sign-ins are
throttled per user name: after ``max_failures`` wrong passwords within
``window_s``, that name is refused for ``lock_s`` (also for names that do not
exist, so the answer never tells which names do). A :class:`Principal` expires
after ``idle_s`` without activity or ``max_age_s`` in all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select

from coach.errors import FaceCoachError
from coach.store import models as m
from coach.store.info import utcnow
from coach.store.repo import Store
from coach.words import count

ROLES = ("admin", "therapist", "patient")
DEMO_ROLE = "demo"
MIN_PASSWORD = 10
MAX_PASSWORD = 256


class AuthError(FaceCoachError):
    """Signing in failed, or a sign-in has expired (the message is safe to show)."""


class Forbidden(FaceCoachError):
    """The signed-in person may not do this (the message is safe to show)."""


@dataclass(frozen=True)
class Principal:
    """Someone signed in (or the anonymous demo visitor).

    Attributes:
        user_id: the account, or None for the demo visitor.
        role: ``admin``, ``therapist``, ``patient`` or ``demo``.
        therapist_id, patient_id: the record a therapist or patient account belongs to.
        signed_in_at, last_seen: UTC, for expiry.
    """

    user_id: int | None
    username: str
    role: str
    therapist_id: int | None
    patient_id: int | None
    signed_in_at: datetime
    last_seen: datetime

    @property
    def is_demo(self) -> bool:
        return self.role == DEMO_ROLE


def demo_principal(now: datetime | None = None) -> Principal:
    """The visitor trying FaceCoach without an account: demo records only."""
    now = now or utcnow()
    return Principal(None, "demo", DEMO_ROLE, None, None, now, now)


def normal_username(name: str) -> str:
    if not isinstance(name, str):
        raise ValueError("user name must be text")
    name = name.strip().lower()
    if not 3 <= len(name) <= 64 or not all(c.isalnum() or c in "._-@" for c in name):
        raise ValueError("user name must be 3 to 64 letters, digits or . _ - @")
    return name


def check_password_rules(password: str) -> None:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValueError(f"password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")


class Accounts:
    """Sign-in and account management over a :class:`Store`.

    Args:
        store: the records.
        max_failures: wrong passwords allowed per user name within ``window_s`` (1 to 100).
        window_s, lock_s: the throttling window and lock-out, seconds (1 to 86400).
        idle_s, max_age_s: a sign-in expires after this long idle / in all, seconds (60 to 7 days).
        hasher: the Argon2 hasher (tests may pass a cheaper one).
    """

    def __init__(
        self,
        store: Store,
        max_failures: int = 5,
        window_s: float = 900.0,
        lock_s: float = 900.0,
        idle_s: float = 1800.0,
        max_age_s: float = 12 * 3600.0,
        hasher: PasswordHasher | None = None,
    ) -> None:
        if not 1 <= max_failures <= 100:
            raise ValueError(f"max_failures must be 1 to 100, got {max_failures}")
        for name, v, lo, hi in (
            ("window_s", window_s, 1, 86400),
            ("lock_s", lock_s, 1, 86400),
            ("idle_s", idle_s, 60, 7 * 86400),
            ("max_age_s", max_age_s, 60, 7 * 86400),
        ):
            if not lo <= v <= hi:
                raise ValueError(f"{name} must be {lo} to {hi}, got {v}")
        self.store = store
        self.max_failures = max_failures
        self.window = timedelta(seconds=window_s)
        self.lock = timedelta(seconds=lock_s)
        self.idle = timedelta(seconds=idle_s)
        self.max_age = timedelta(seconds=max_age_s)
        self.hasher = hasher or PasswordHasher()
        self._db = store._sessions

    # -- accounts ---------------------------------------------------------------------
    def needs_first_admin(self) -> bool:
        """True until the first admin account exists (the first-run page then creates it)."""
        with self._db() as db:
            return not db.scalar(select(func.count()).select_from(m.User).where(m.User.role == "admin"))

    def create_first_admin(self, username: str, password: str) -> int:
        """Create the first admin; refused once there is one."""
        if not self.needs_first_admin():
            raise Forbidden("An administrator already exists; ask them for an account")
        return self._create(username, password, "admin", None, None)

    def create_user(
        self,
        by: Principal,
        username: str,
        password: str,
        role: str,
        therapist_id: int | None = None,
        patient_id: int | None = None,
    ) -> int:
        """Create an account. An admin creates admins and therapists; a therapist creates their patients' logins."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        if by.role == "admin" and role in ("admin", "therapist"):
            if role == "therapist" and therapist_id is None:
                raise ValueError("a therapist account needs its therapist record")
            if role == "admin":
                therapist_id = patient_id = None
        elif by.role == "therapist" and role == "patient":
            if patient_id is None or self.store.patient(patient_id).therapist_id != by.therapist_id:
                raise Forbidden("You can only create logins for your own patients")
            if self.patient_login(by, patient_id) is not None:
                raise ValueError("this patient already has a login")
            therapist_id = None
        else:
            raise Forbidden(f"A {by.role} cannot create a {role} account")
        return self._create(username, password, role, therapist_id, patient_id)

    def _create(self, username: str, password: str, role: str, therapist_id: int | None, patient_id: int | None) -> int:
        name = normal_username(username)
        check_password_rules(password)
        with self._db.begin() as db:
            if db.scalar(select(m.User.id).where(m.User.username == name)) is not None:
                raise ValueError(f"the user name {name!r} is taken")
            u = m.User(
                username=name,
                password_hash=self.hasher.hash(password),
                role=role,
                therapist_id=therapist_id,
                patient_id=patient_id,
                disabled=False,
                created_at=utcnow(),
            )
            db.add(u)
            db.flush()
            return u.id

    def patient_login(self, by: Principal, patient_id: int) -> str | None:
        """The user name a patient signs in with, or None; for the patient's own therapist."""
        if by.role != "therapist" or self.store.patient(patient_id).therapist_id != by.therapist_id:
            raise Forbidden("You can only see logins of your own patients")
        with self._db() as db:
            return db.scalars(
                select(m.User.username).where(m.User.patient_id == patient_id, m.User.role == "patient")
            ).first()

    def set_patient_password(self, by: Principal, patient_id: int, password: str) -> str:
        """A new password for a patient's login (one they forgot), set by their therapist; logged.

        Returns the login's user name. Any lock-out from wrong guesses is lifted.
        """
        username = self.patient_login(by, patient_id)
        if username is None:
            raise ValueError("this patient has no login yet")
        check_password_rules(password)
        with self._db.begin() as db:
            user = db.scalars(select(m.User).where(m.User.username == username)).one()
            user.password_hash = self.hasher.hash(password)
            db.execute(delete(m.LoginFailure).where(m.LoginFailure.username == username))
        self.store.log_access(by.user_id, by.username, by.role, "set_password", patient_id)
        return username

    def users(self, by: Principal) -> list[tuple[int, str, str, int | None, int | None]]:
        """(id, user name, role, therapist id, patient id) of every account; admins only."""
        if by.role != "admin":
            raise Forbidden("Only an administrator can see the accounts")
        with self._db() as db:
            rows = db.execute(
                select(m.User.id, m.User.username, m.User.role, m.User.therapist_id, m.User.patient_id).order_by(
                    m.User.role, m.User.username
                )
            ).all()
            return [tuple(r) for r in rows]

    # -- signing in -------------------------------------------------------------------
    def login(self, username: str, password: str, now: datetime | None = None) -> Principal:
        """Check a user name and password; returns who signed in.

        Raises:
            AuthError: wrong name or password (one message for both), or too many attempts.
        """
        now = now or utcnow()
        try:
            name = normal_username(username)
        except ValueError:
            name = str(username).strip().lower()[:64]
        with self._db.begin() as db:
            db.execute(delete(m.LoginFailure).where(m.LoginFailure.at < now - max(self.window, self.lock)))
            recent = db.scalars(
                select(m.LoginFailure.at)
                .where(m.LoginFailure.username == name, m.LoginFailure.at >= now - self.window)
                .order_by(m.LoginFailure.at)
            ).all()
            locked_for = None
            if len(recent) >= self.max_failures and now < recent[-1] + self.lock:
                locked_for = recent[-1] + self.lock - now
            user = None if locked_for is not None else db.scalars(select(m.User).where(m.User.username == name)).first()
            ok = False
            if user is not None and not user.disabled:
                try:
                    ok = self.hasher.verify(user.password_hash, password if isinstance(password, str) else "")
                except (VerifyMismatchError, VerificationError, InvalidHashError):
                    ok = False
            else:
                # Same work for unknown names, so timing does not tell which names exist.
                try:
                    self.hasher.verify(self._dummy_hash, "x")
                except (VerifyMismatchError, VerificationError, InvalidHashError):
                    pass
            if not ok:
                if locked_for is None:
                    db.add(m.LoginFailure(username=name, at=now))  # committed as the block ends
            else:
                db.execute(delete(m.LoginFailure).where(m.LoginFailure.username == name))
                if self.hasher.check_needs_rehash(user.password_hash):
                    user.password_hash = self.hasher.hash(password)
                who = Principal(user.id, user.username, user.role, user.therapist_id, user.patient_id, now, now)
        if locked_for is not None:
            minutes = max(1, round(locked_for.total_seconds() / 60))
            raise AuthError(f"Too many attempts. Please wait {count(minutes, 'minute')} and try again")
        if not ok:
            raise AuthError("That user name and password do not match")
        return who

    @property
    def _dummy_hash(self) -> str:
        if not hasattr(self, "_dummy"):
            self._dummy = self.hasher.hash("not a real password")
        return self._dummy

    def check(self, principal: Principal, now: datetime | None = None) -> Principal:
        """The same sign-in, seen again now; raises :class:`AuthError` when it has expired or the account is gone."""
        now = now or utcnow()
        if principal.is_demo:
            return replace(principal, last_seen=now)
        if now - principal.last_seen > self.idle:
            raise AuthError(
                f"You were signed out after {round(self.idle.total_seconds() / 60)} minutes without activity"
            )
        if now - principal.signed_in_at > self.max_age:
            raise AuthError("Your sign-in has expired. Please sign in again")
        with self._db() as db:
            u = db.get(m.User, principal.user_id)
            if u is None or u.disabled or u.role != principal.role:
                raise AuthError("This account is no longer active")
        return replace(principal, last_seen=now)
