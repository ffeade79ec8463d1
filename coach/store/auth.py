"""Accounts: who someone is, proven by a password, for a limited time.

Passwords are hashed with Argon2id (argon2-cffi; never home-made) and checked
against zxcvbn's lists of common passwords and patterns. Sign-ins are throttled
three ways, each with a wait that doubles with every further failure: per user
name *and* client address (a person mistyping, or one guesser at one name), per
client address (one guesser trying a common password on many names), and per
user name from everywhere (many guessers at one name; a much higher limit, so a
guesser elsewhere cannot lock a therapist out). Every attempt is written down
before its password is checked, so guesses sent in parallel are counted too,
and the Argon2 check runs outside any database transaction.

A :class:`Principal` expires after ``idle_s`` without activity or ``max_age_s``
in all, and when the account is disabled or its password changes.

The first administrator is made from the browser only with a one-time setup
code printed in the server's log (:meth:`Accounts.issue_setup_code`), or on the
server with ``python -m coach admin create``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select, text

from coach.errors import FaceCoachError
from coach.store import models as m
from coach.store.info import utcnow
from coach.store.repo import Store
from coach.words import count

ROLES = ("admin", "therapist", "patient")
DEMO_ROLE = "demo"
MIN_PASSWORD = 10
MAX_PASSWORD = 256
MIN_STRENGTH = 3  # zxcvbn's score 0–4; 3 is "safely unguessable" for an online attack and more
SETUP_CODE_TTL = timedelta(hours=24)
SETUP_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read from a log, typed by hand
SETUP_ATTEMPT = "#setup"  # wrong setup codes are counted under this name (no user name has a #)


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
        must_change_password: the password was chosen by someone else; the app asks for a new one first.
        stamp: a fingerprint of the password this sign-in was made with; a sign-in ends when it changes.
    """

    user_id: int | None
    username: str
    role: str
    therapist_id: int | None
    patient_id: int | None
    signed_in_at: datetime
    last_seen: datetime
    must_change_password: bool = False
    stamp: str = ""

    @property
    def is_demo(self) -> bool:
        return self.role == DEMO_ROLE


@dataclass(frozen=True)
class AccountInfo:
    """An account as the administrator (or a patient's therapist) sees it: never its password."""

    id: int
    username: str
    role: str
    therapist_id: int | None
    patient_id: int | None
    disabled: bool
    must_change_password: bool
    created_at: datetime


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


def check_password_rules(password: str, username: str | None = None) -> None:
    """Refuse a password that is too short or too long, contains the user name, or is easy to guess.

    "Easy to guess" is zxcvbn's judgement (a maintained port of Dropbox's estimator, with
    lists of the most common passwords, names and words, and keyboard patterns, dates and
    repeats): a score below :data:`MIN_STRENGTH` is refused.

    Raises:
        ValueError: why, in words a person can act on.
    """
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValueError(f"password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    name = (username or "").strip().lower()
    if len(name) >= 3 and name in password.lower():
        raise ValueError("password must not contain the user name")
    from zxcvbn import zxcvbn

    verdict = zxcvbn(password[:100], user_inputs=[name] if name else [])
    if verdict["score"] < MIN_STRENGTH:
        common = any(s.get("dictionary_name") == "passwords" for s in verdict.get("sequence", []))
        why = "it is one of the most common passwords" if common else "it is easy to guess"
        raise ValueError(f"please choose another password: {why}. A few unrelated words make a good one")


def client_key(address: str | None) -> str:
    """The address sign-in attempts are counted under: an IPv4 address as it is, an IPv6 one by its
    /64 network (one home or phone gets a whole /64, so counting single addresses would let one
    guesser use billions)."""
    text = str(address or "").strip()[:64]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def _code_hash(code: str) -> str:
    """A setup code's SHA-256 (codes are random, so no slow hash is needed); spaces and dashes ignored."""
    norm = "".join(c for c in str(code).upper() if c.isalnum())
    return hashlib.sha256(norm.encode()).hexdigest()


def _stamp(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


class Accounts:
    """Sign-in and account management over a :class:`Store`.

    Args:
        store: the records.
        max_failures: wrong passwords allowed per user name from one client address within
            ``window_s`` before a wait (1 to 100).
        address_failures: wrong passwords allowed from one client address, over all names.
        name_failures: wrong passwords allowed per user name, from all addresses together.
        window_s: how long a failure counts, seconds (1 to 86400).
        delay_s: the first wait past a limit; it doubles with each further failure, up to ``lock_s``.
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
        address_failures: int = 20,
        name_failures: int = 50,
        delay_s: float = 30.0,
    ) -> None:
        for name, n in (
            ("max_failures", max_failures),
            ("address_failures", address_failures),
            ("name_failures", name_failures),
        ):
            if not 1 <= n <= 1000:
                raise ValueError(f"{name} must be 1 to 1000, got {n}")
        for name, v, lo, hi in (
            ("window_s", window_s, 1, 86400),
            ("lock_s", lock_s, 1, 86400),
            ("delay_s", delay_s, 1, 86400),
            ("idle_s", idle_s, 60, 7 * 86400),
            ("max_age_s", max_age_s, 60, 7 * 86400),
        ):
            if not lo <= v <= hi:
                raise ValueError(f"{name} must be {lo} to {hi}, got {v}")
        self.store = store
        self.max_failures = max_failures
        self.address_failures = address_failures
        self.name_failures = name_failures
        self.window = timedelta(seconds=window_s)
        self.lock = timedelta(seconds=lock_s)
        self.delay = timedelta(seconds=min(delay_s, lock_s))
        self.idle = timedelta(seconds=idle_s)
        self.max_age = timedelta(seconds=max_age_s)
        self.hasher = hasher or PasswordHasher()
        self._db = store._sessions

    def _log(self, who: Principal | None, action: str, patient_id: int | None = None, detail: str = "") -> None:
        if who is None:
            self.store.log_access(None, "server", "server", action, patient_id, detail)
        else:
            self.store.log_access(who.user_id, who.username, who.role, action, patient_id, detail)

    # -- the first administrator ------------------------------------------------------------
    def needs_first_admin(self) -> bool:
        """True until the first admin account exists (the first-run page then creates it)."""
        with self._db() as db:
            return not db.scalar(select(func.count()).select_from(m.User).where(m.User.role == "admin"))

    def issue_setup_code(self, now: datetime | None = None) -> str | None:
        """A new one-time code for creating the first administrator in the browser; None once there is one.

        The server prints it in its log (only someone who can read the server's log can
        use it). Each start of a server adds one, so every replica's printed code works;
        all are valid for 24 hours and all end when the administrator is created.
        """
        if not self.needs_first_admin():
            return None
        now = now or utcnow()
        code = "".join(secrets.choice(SETUP_ALPHABET) for _ in range(16))
        with self._db.begin() as db:
            db.execute(delete(m.SetupCode).where(m.SetupCode.created_at < now - SETUP_CODE_TTL))
            db.add(m.SetupCode(code_hash=_code_hash(code), created_at=now))
        return "-".join(code[i : i + 4] for i in range(0, 16, 4))

    def create_first_admin(
        self, username: str, password: str, setup_code: str, now: datetime | None = None, client: str = ""
    ) -> int:
        """Create the first admin with a setup code from the server's log; refused once there is one.

        Claiming the code and creating the account are one locked transaction, so of two
        visitors racing, one gets the account and the other a refusal.
        """
        now = now or utcnow()
        client = client_key(client)
        given = _code_hash(setup_code or "")
        # Wrong codes are throttled like wrong passwords (under a name no account can have), and
        # checked before any slow work.
        attempt_id = self._begin_attempt(SETUP_ATTEMPT, client, now)
        with self._db() as db:
            known = db.scalars(
                select(m.SetupCode.code_hash).where(m.SetupCode.created_at >= now - SETUP_CODE_TTL)
            ).all()
        if not any(hmac.compare_digest(given, h) for h in known):
            self._failed_attempt(attempt_id, SETUP_ATTEMPT, client, now, "setup_code_refused")
            if self.needs_first_admin():
                raise Forbidden("That setup code is not right. It is printed in the server's log when FaceCoach starts")
            raise Forbidden("An administrator already exists; ask them for an account")
        self._good_attempt(attempt_id, SETUP_ATTEMPT, client)
        name = normal_username(username)
        check_password_rules(password, name)
        password_hash = self.hasher.hash(password)  # before the transaction: Argon2 is slow on purpose
        with self.store._lock, self._db.begin() as db:
            if self.store.backend == "postgresql":
                db.execute(text("LOCK TABLE setup_codes IN EXCLUSIVE MODE"))
            # The first statement writes: on SQLite it takes the database's write lock.
            db.execute(delete(m.SetupCode).where(m.SetupCode.created_at < now - SETUP_CODE_TTL))
            hashes = db.scalars(select(m.SetupCode.code_hash)).all()
            if db.scalar(select(func.count()).select_from(m.User).where(m.User.role == "admin")):
                raise Forbidden("An administrator already exists; ask them for an account")
            if not any(hmac.compare_digest(given, h) for h in hashes):
                raise Forbidden("That setup code is not right. It is printed in the server's log when FaceCoach starts")
            db.execute(delete(m.SetupCode))
            uid = self._insert(db, name, password_hash, "admin", None, None, must_change=False)
        self._log(Principal(uid, name, "admin", None, None, now, now), "create_first_admin", detail=client)
        return uid

    def create_admin(self, username: str, password: str) -> int:
        """An administrator account made on the server (``python -m coach admin create``): no setup code needed,
        since whoever runs it already controls the server. Also how a lost administrator is replaced."""
        name = normal_username(username)
        check_password_rules(password, name)
        password_hash = self.hasher.hash(password)
        with self._db.begin() as db:
            uid = self._insert(db, name, password_hash, "admin", None, None, must_change=False)
            db.execute(delete(m.SetupCode))
        self._log(None, "create_account", detail=f"admin {name} (on the server)")
        return uid

    def reset_on_server(self, username: str, password: str) -> str:
        """A new password for any account, typed on the server (a lost administrator's, say): the account
        is enabled again, its wrong-guess history cleared, and the password must be changed at sign-in."""
        name = normal_username(username)
        check_password_rules(password, name)
        password_hash = self.hasher.hash(password)
        with self._db.begin() as db:
            user = db.scalars(select(m.User).where(m.User.username == name)).first()
            if user is None:
                raise ValueError(f"there is no account {name!r}")
            user.password_hash, user.must_change_password, user.disabled = password_hash, True, False
            db.execute(delete(m.LoginFailure).where(m.LoginFailure.username == name))
            role = user.role
        self._log(None, "reset_password", detail=f"{role} {name} (on the server)")
        return role

    # -- accounts ---------------------------------------------------------------------
    def create_user(
        self,
        by: Principal,
        username: str,
        password: str,
        role: str,
        therapist_id: int | None = None,
        patient_id: int | None = None,
        first_password: bool = True,
    ) -> int:
        """Create an account. An admin creates admins and therapists; a therapist creates their patients' logins.

        Args:
            first_password: the password was chosen by ``by``, not by the person: it must be
                changed at the first sign-in. (False only when the person typed it themself.)
        """
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        if by.role == "admin" and role in ("admin", "therapist"):
            if role == "therapist" and therapist_id is None:
                raise ValueError("a therapist account needs its therapist record")
            if role == "admin":
                therapist_id = patient_id = None
            patient_id = None
        elif by.role == "therapist" and role == "patient":
            if patient_id is None or self.store.patient(patient_id).therapist_id != by.therapist_id:
                raise Forbidden("You can only create logins for your own patients")
            if self.patient_login(by, patient_id) is not None:
                raise ValueError("this patient already has a login")
            therapist_id = None
        else:
            raise Forbidden(f"A {by.role} cannot create a {role} account")
        name = normal_username(username)
        check_password_rules(password, name)
        password_hash = self.hasher.hash(password)
        with self._db.begin() as db:
            uid = self._insert(db, name, password_hash, role, therapist_id, patient_id, must_change=first_password)
        self._log(by, "create_account", patient_id, f"{role} {name}")
        return uid

    def check_new_account(self, username: str, password: str) -> str:
        """Raise ValueError if an account with this name and password could not be made; returns the name.

        For forms that make something else first (a therapist's record): no half-made accounts.
        """
        name = normal_username(username)
        check_password_rules(password, name)
        with self._db() as db:
            if db.scalar(select(m.User.id).where(m.User.username == name)) is not None:
                raise ValueError(f"the user name {name!r} is taken")
        return name

    def _insert(
        self,
        db,
        name: str,
        password_hash: str,
        role: str,
        therapist_id: int | None,
        patient_id: int | None,
        must_change: bool,
    ) -> int:
        if db.scalar(select(m.User.id).where(m.User.username == name)) is not None:
            raise ValueError(f"the user name {name!r} is taken")
        u = m.User(
            username=name,
            password_hash=password_hash,
            role=role,
            therapist_id=therapist_id,
            patient_id=patient_id,
            disabled=False,
            must_change_password=must_change,
            created_at=utcnow(),
        )
        db.add(u)
        db.flush()
        return u.id

    def patient_login(self, by: Principal, patient_id: int) -> str | None:
        """The user name a patient signs in with, or None; for the patient's own therapist."""
        info = self.patient_account(by, patient_id)
        return None if info is None else info.username

    def patient_account(self, by: Principal, patient_id: int) -> AccountInfo | None:
        """A patient's login (None if they have none), for the patient's own therapist."""
        if by.role != "therapist" or self.store.patient(patient_id).therapist_id != by.therapist_id:
            raise Forbidden("You can only see logins of your own patients")
        with self._db() as db:
            u = db.scalars(select(m.User).where(m.User.patient_id == patient_id, m.User.role == "patient")).first()
            return None if u is None else self._info(u)

    @staticmethod
    def _info(u: m.User) -> AccountInfo:
        return AccountInfo(
            u.id,
            u.username,
            u.role,
            u.therapist_id,
            u.patient_id,
            bool(u.disabled),
            bool(u.must_change_password),
            u.created_at,
        )

    def users(self, by: Principal) -> list[AccountInfo]:
        """Every account; admins only."""
        if by.role != "admin":
            raise Forbidden("Only an administrator can see the accounts")
        with self._db() as db:
            return [self._info(u) for u in db.scalars(select(m.User).order_by(m.User.role, m.User.username))]

    def _managed(self, by: Principal, user_id: int, what: str) -> m.User:
        """The account ``by`` may manage: an admin manages admins and therapists (not their own account:
        that is what changing one's password is for); a therapist manages their patients' logins."""
        with self._db() as db:
            u = db.get(m.User, int(user_id))
        if u is None:
            raise Forbidden("There is no such account")
        if by.role == "admin" and u.role in ("admin", "therapist") and u.id != by.user_id:
            return u
        if by.role == "therapist" and u.role == "patient" and u.patient_id is not None:
            if self.store.patient(u.patient_id).therapist_id == by.therapist_id:
                return u
        if by.user_id == u.id:
            raise Forbidden(f"You cannot {what} your own account here")
        raise Forbidden(f"You cannot {what} this account")

    def set_disabled(self, by: Principal, user_id: int, disabled: bool) -> None:
        """Disable an account (its sign-ins end at once, and it cannot sign in) or enable it again."""
        u = self._managed(by, user_id, "disable" if disabled else "enable")
        if disabled and u.role == "admin":
            with self._db() as db:
                others = db.scalar(
                    select(func.count())
                    .select_from(m.User)
                    .where(m.User.role == "admin", ~m.User.disabled, m.User.id != u.id)
                )
            if not others:
                raise Forbidden("This is the only active administrator")
        with self._db.begin() as db:
            db.get(m.User, u.id).disabled = bool(disabled)
        self._log(by, "disable_account" if disabled else "enable_account", u.patient_id, f"{u.role} {u.username}")

    def reset_password(self, by: Principal, user_id: int, password: str) -> str:
        """A new password for someone who forgot theirs: an admin for admins and therapists, a therapist for
        their patients. It must be changed at the next sign-in; wrong-guess waits are lifted; logged.

        Returns the account's user name.
        """
        u = self._managed(by, user_id, "reset the password of")
        check_password_rules(password, u.username)
        password_hash = self.hasher.hash(password)
        with self._db.begin() as db:
            user = db.get(m.User, u.id)
            user.password_hash, user.must_change_password = password_hash, True
            db.execute(delete(m.LoginFailure).where(m.LoginFailure.username == u.username))
        self._log(by, "reset_password", u.patient_id, f"{u.role} {u.username}")
        return u.username

    def set_patient_password(self, by: Principal, patient_id: int, password: str) -> str:
        """A new password for a patient's login, set by their therapist; see :meth:`reset_password`."""
        account = self.patient_account(by, patient_id)
        if account is None:
            raise ValueError("this patient has no login yet")
        return self.reset_password(by, account.id, password)

    def change_password(
        self, who: Principal, current: str, new: str, now: datetime | None = None, client: str = ""
    ) -> Principal:
        """Change one's own password; returns the sign-in, still valid (other sign-ins with the old one end).

        Raises:
            AuthError: the current password is wrong.
            ValueError: the new password breaks a rule, or is the same as the current one.
        """
        now = now or utcnow()
        if who.user_id is None:
            raise Forbidden("The demo has no password")
        with self._db() as db:
            u = db.get(m.User, who.user_id)
        if u is None or u.disabled:
            raise AuthError("This account is no longer active")
        # Guessing the current password at a session left open is throttled like signing in.
        attempt_id = self._begin_attempt(u.username, client_key(client), now)
        if not self._verify(u.password_hash, current):
            self._failed_attempt(attempt_id, u.username, client_key(client), now, "change_password_failed")
            raise AuthError("Your current password is not right")
        self._good_attempt(attempt_id, u.username, client_key(client))
        if new == current:
            raise ValueError("the new password must be different from the current one")
        check_password_rules(new, u.username)
        password_hash = self.hasher.hash(new)
        with self._db.begin() as db:
            user = db.get(m.User, u.id)
            user.password_hash, user.must_change_password = password_hash, False
        self._log(who, "change_password")
        return replace(who, must_change_password=False, stamp=_stamp(password_hash), last_seen=now)

    # -- signing in -------------------------------------------------------------------
    def _verify(self, password_hash: str, password: object) -> bool:
        try:
            return self.hasher.verify(password_hash, password if isinstance(password, str) else "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _wait(self, db, attempt_id: int, name: str, client: str, now: datetime) -> timedelta | None:
        """How long this attempt must wait, or None: over each limit the wait doubles with each further failure.

        The per-name limit (from all addresses) applies only to an address that has failed for
        that name itself: someone who types their password right is never kept out by guessers
        elsewhere, however many there are.
        """
        since = now - self.window
        longest = None
        buckets = [
            (self.max_failures, (m.LoginFailure.username == name, m.LoginFailure.client == client)),
            (self.address_failures, (m.LoginFailure.client == client,)),
            (self.name_failures, (m.LoginFailure.username == name,)),
        ]
        for k, (limit, where) in enumerate(buckets):
            n, last = db.execute(
                select(func.count(), func.max(m.LoginFailure.at)).where(
                    *where, m.LoginFailure.at >= since, m.LoginFailure.id != attempt_id
                )
            ).one()
            if k == 0:
                pair_failures = n
            if k == 2 and not pair_failures:
                continue
            if n >= limit:
                wait = min(self.lock, self.delay * 2 ** min(n - limit, 20))
                if now < last + wait:
                    left = last + wait - now
                    longest = left if longest is None else max(longest, left)
        return longest

    def _begin_attempt(self, name: str, client: str, now: datetime) -> int:
        """Write an attempt down (committed) before its secret is checked, then count the others.

        Attempts sent in parallel each see the others (pending or failed), so a burst gets no
        more checks than one at a time. Returns the attempt's id.

        Raises:
            AuthError: too many attempts; this one is not counted (waiting does not make the wait longer).
        """
        with self._db.begin() as db:
            db.execute(delete(m.LoginFailure).where(m.LoginFailure.at < now - max(self.window, self.lock)))
            attempt = m.LoginFailure(username=name, client=client, at=now)
            db.add(attempt)
            db.flush()
            attempt_id = attempt.id
        with self._db() as db:
            wait = self._wait(db, attempt_id, name, client, now)
        if wait is not None:
            with self._db.begin() as db:
                db.execute(delete(m.LoginFailure).where(m.LoginFailure.id == attempt_id))
            minutes = max(1, round(wait.total_seconds() / 60))
            raise AuthError(f"Too many attempts. Please wait {count(minutes, 'minute')} and try again")
        return attempt_id

    def _failed_attempt(self, attempt_id: int, name: str, client: str, now: datetime, action: str) -> None:
        """The attempt stays as a failure; logged, and once more when it starts a wait."""
        self.store.log_access(None, name[:64], "visitor", action, None, f"from {client or 'unknown'}")
        with self._db() as db:
            if self._wait(db, -1, name, client, now + timedelta(microseconds=1)) is not None:
                self.store.log_access(
                    None, name[:64], "visitor", "sign_in_throttled", None, f"from {client or 'unknown'}"
                )

    def _good_attempt(self, attempt_id: int, name: str, client: str) -> None:
        """A right secret: the attempt, and that name's failures from that address, are forgotten."""
        with self._db.begin() as db:
            db.execute(
                delete(m.LoginFailure).where(
                    (m.LoginFailure.id == attempt_id)
                    | ((m.LoginFailure.username == name) & (m.LoginFailure.client == client))
                )
            )

    def login(self, username: str, password: str, now: datetime | None = None, client: str = "") -> Principal:
        """Check a user name and password; returns who signed in.

        Args:
            client: the address the attempt comes from (as the app sees it), for throttling.

        Raises:
            AuthError: wrong name or password (one message for both), or too many attempts.
        """
        now = now or utcnow()
        client = client_key(client)
        try:
            name = normal_username(username)
        except ValueError:
            name = str(username).strip().lower()[:64]
        attempt_id = self._begin_attempt(name, client, now)
        with self._db() as db:
            user = db.scalars(select(m.User).where(m.User.username == name)).first()
        # The slow hash, outside any transaction. Unknown and disabled names do the same work,
        # so timing does not tell which names exist.
        if user is not None and not user.disabled:
            ok = self._verify(user.password_hash, password)
        else:
            self._verify(self._dummy_hash, "x")
            ok = False
        if not ok:
            self._failed_attempt(attempt_id, name, client, now, "sign_in_failed")
            raise AuthError("That user name and password do not match")
        new_hash = self.hasher.hash(password) if self.hasher.check_needs_rehash(user.password_hash) else None
        self._good_attempt(attempt_id, name, client)
        if new_hash is not None:
            with self._db.begin() as db:
                db.get(m.User, user.id).password_hash = new_hash
        stamp = _stamp(new_hash or user.password_hash)
        who = Principal(
            user.id,
            user.username,
            user.role,
            user.therapist_id,
            user.patient_id,
            now,
            now,
            bool(user.must_change_password),
            stamp,
        )
        self._log(who, "sign_in", detail=client)
        return who

    @property
    def _dummy_hash(self) -> str:
        if not hasattr(self, "_dummy"):
            self._dummy = self.hasher.hash("not a real password")
        return self._dummy

    def check(self, principal: Principal, now: datetime | None = None) -> Principal:
        """The same sign-in, seen again now; raises :class:`AuthError` when it has expired, the account is
        disabled or gone, or its password was changed since (a reset ends every sign-in with the old one)."""
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
            if principal.stamp and principal.stamp != _stamp(u.password_hash):
                raise AuthError("Your password was changed. Please sign in again")
            must_change = bool(u.must_change_password)
        return replace(principal, last_seen=now, must_change_password=must_change)
