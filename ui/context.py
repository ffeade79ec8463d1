"""What every page shares: the database, the face model, names, and who is signed in."""

from __future__ import annotations

import logging
import os
import secrets
import sys
import threading
from datetime import UTC, datetime, timedelta

import streamlit as st

from coach.engine.model import ModelFile, resolve_model
from coach.errors import FaceCoachError
from coach.store import Store, default_url
from coach.store.access import Access
from coach.store.auth import Accounts, AuthError, Forbidden, Principal
from coach.store.db import clinic_mode
from coach.store.demo import demo_store
from coach.store.info import PatientInfo, utcnow
from exercises import get_program, load_library, load_programs
from ui.text import plain

log = logging.getLogger(__name__)
DEMO_PROGRAM = "bells_palsy"
SIDE_WORDS = {None: "not set", "left": "left", "right": "right"}


def setting(name: str, default: str) -> str:
    """A FaceCoach setting from the environment (``FACECOACH_…``), stripped."""
    return os.environ.get(name, default).strip()


def demo_enabled() -> bool:
    """Whether visitors may try the demo: ``FACECOACH_DEMO=on|off``; on at home, off on a clinic's server."""
    value = setting("FACECOACH_DEMO", "off" if clinic_mode() else "on").lower()
    return value in ("1", "on", "yes", "true")


def log_retention() -> timedelta:
    """How long the access log is kept: ``FACECOACH_LOG_RETENTION_DAYS`` (default 6 years, 2190 days)."""
    try:
        days = int(setting("FACECOACH_LOG_RETENTION_DAYS", "2190"))
    except ValueError:
        days = 2190
    return timedelta(days=max(30, days))


def announce_setup_code(accounts: Accounts) -> str | None:
    """When there is no administrator yet: a new one-time setup code, printed in the server's log."""
    code = accounts.issue_setup_code()
    if code is not None:
        print(
            f"\n  FaceCoach has no administrator yet. To create one, open the app and enter this setup code:"
            f"\n\n      {code}\n\n  It works once, for 24 hours. (Or run: python -m coach admin create NAME)\n",
            file=sys.stderr,
            flush=True,
        )
    return code


@st.cache_resource(show_spinner="Opening your records…")
def _open_store(url: str) -> Store:
    store = Store(url)
    gone = store.forget_demo_records()
    if gone:
        log.info("removed the demo clinic from the records (the demo now has its own database in memory)")
    gone = store.forget_practice_outside_records()
    if gone:
        log.info("deleted %d sessions that were nobody's own practice (virtual patient or demo visitors)", gone)
    store.forget_access_log_before(utcnow() - log_retention())
    announce_setup_code(Accounts(store))
    return store


@st.cache_resource(show_spinner="Opening the demo…")
def _demo_store() -> Store:
    return demo_store(get_program(DEMO_PROGRAM).plan(), DEMO_PROGRAM, assessment=get_program("assessment").plan())


def store() -> Store:
    """The app's database (``DATABASE_URL``, else SQLite in the user's data folder)."""
    try:
        return _open_store(default_url())
    except FaceCoachError as err:
        log.error("the records cannot be opened: %s", err)
        st.error(f"FaceCoach cannot open its records. {err}.")
        st.stop()
        raise


VISITORS_BUSY = (
    "The demo is busy just now: other visitors are trying it. Please try again in a few minutes, "
    "or sign in if you are a patient."
)


def visitor_work():
    """Around a heavy measurement: for an anonymous visitor, a place of the visitors' cap (yields False past
    it); for a signed-in person, always True."""
    from contextlib import nullcontext

    who = st.session_state.get("who")
    return visitor_runs().working() if who is None or who.is_demo else nullcontext(True)


@st.cache_resource(show_spinner=False)
def visitor_runs():
    """The anonymous demo visitors' live runs in this server: at most ``FACECOACH_DEMO_LIVE_CAP`` (2) at once."""
    from ui.live_run import VisitorRuns

    try:
        cap = int(setting("FACECOACH_DEMO_LIVE_CAP", "2"))
    except ValueError:
        cap = 2
    return VisitorRuns(cap)


def demo_records() -> Store:
    """The demo clinic's own database (in memory; never the clinic's records)."""
    return _demo_store()


def forwarded_client(peer: str, forwarded_lines: list[str], behind_proxy: bool) -> str:
    """The visitor's address from the connection's peer and the ``X-Forwarded-For`` lines.

    Behind the clinic's reverse proxy every visitor seems to come from the proxy, so the
    address the proxy added last is used. Every line counts, in order: a visitor may send
    their own header first, and a proxy may add a separate line rather than extend it; only
    the very last entry is the proxy's, the ones before it are whatever the visitor sent.
    """
    address = peer if isinstance(peer, str) else ""
    if behind_proxy:
        entries = [e.strip() for line in forwarded_lines for e in str(line).split(",")]
        if entries and entries[-1]:
            address = entries[-1]
    return address[:64]


def client_address() -> str:
    """The address a visitor comes from, for throttling sign-ins (see :func:`forwarded_client`)."""
    behind = setting("FACECOACH_BEHIND_PROXY", "").lower() in ("1", "on", "yes", "true")
    try:
        peer = st.context.ip_address or ""
        lines = list(st.context.headers.get_all("X-Forwarded-For")) if behind else []
    except Exception:  # noqa: BLE001 - no request (a test run): the address is unknown
        return ""
    if not all(isinstance(x, str) for x in (peer, *lines)):
        return ""  # a test harness's stand-in, not a request
    return forwarded_client(peer, lines, behind)


@st.cache_resource(show_spinner=False)
def _model() -> ModelFile:
    return resolve_model()


def model() -> ModelFile:
    """The face model, checked; a friendly stop if it is missing."""
    try:
        return _model()
    except FaceCoachError as err:
        st.error(str(err))
        st.stop()
        raise


@st.cache_data(show_spinner=False)
def exercise_names() -> dict[str, str]:
    return {k: v.name for k, v in load_library().items()}


@st.cache_data(show_spinner=False)
def program_names() -> dict[str, str]:
    return {k: v.name for k, v in load_programs().items()}


def names() -> dict[str, str]:
    """Exercise and program id → display name."""
    return {**exercise_names(), **program_names()}


@st.cache_resource(show_spinner=False)
def _accounts(url: str) -> Accounts:
    return Accounts(_open_store(url))


def accounts() -> Accounts:
    """Sign-in and account management for the app's database."""
    store()
    return _accounts(default_url())


class SignIn:
    """One browser tab's sign-in, shared with the threads working for it (a live session's saves).

    The page puts the newest check of the sign-in here on every run; a save from the video
    thread asks :meth:`still_valid`, which checks it again (a saved repetition is activity).
    After signing out, an expiry, a disabled account or a changed password, nothing more is saved.
    """

    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts
        self._lock = threading.Lock()
        self.who: Principal | None = None

    def still_valid(self) -> bool:
        with self._lock:
            if self.who is None:
                return False
            try:
                self.who = self._accounts.check(self.who)
            except AuthError:
                self.who = None
                return False
            return True

    def end(self) -> None:
        with self._lock:
            self.who = None


def _sign_in_box() -> SignIn:
    box = st.session_state.get("signin_box")
    if box is None:
        box = st.session_state["signin_box"] = SignIn(accounts())
    return box


def principal() -> Principal | None:
    """Who is signed in (or trying the demo), still valid now; None when nobody is."""
    who = st.session_state.get("who")
    if who is None:
        return None
    if who.is_demo and not demo_enabled():
        sign_out("The demo is switched off here.")
        return None
    try:
        who = accounts().check(who)
    except AuthError as err:
        sign_out(str(err) + ".")
        return None
    st.session_state["who"] = who
    box = _sign_in_box()
    with box._lock:
        box.who = who
    return who


def sign_in(who: Principal) -> None:
    box = st.session_state.get("signin_box")
    if box is not None:
        box.end()  # whatever worked for the last sign-in here stops saving
    for key in list(st.session_state):
        if key != "who":
            del st.session_state[key]  # nothing of the last person's stays
    st.session_state["who"] = who


def sign_out(message: str | None = None) -> None:
    """End the sign-in: a live session stops and saves nothing more, and nothing of the person stays."""
    box = st.session_state.get("signin_box")
    if box is not None:
        box.end()
    slot = st.session_state.get("coach_slot")
    if slot is not None:
        slot.stop()
    for key in list(st.session_state):
        del st.session_state[key]
    if message:
        st.session_state["signin_flash"] = message


def access() -> Access:
    """The records as the signed-in person may see them; the page stops if nobody is signed in.

    The demo visitor gets the demo's own database, never the clinic's.
    """
    who = principal()
    if who is None:
        st.warning("Please sign in first.")
        st.stop()
        raise AssertionError("unreachable")
    if who.must_change_password and not who.is_demo:
        st.info("Please choose your own password first.")
        st.stop()
        raise AssertionError("unreachable")
    if who.is_demo:
        return Access(demo_records(), who)
    return Access(store(), who, still_signed_in=_sign_in_box().still_valid)


def current_patient() -> PatientInfo | None:
    """The patient practising: the signed-in patient, or the demo patient for the demo visitor."""
    a = access()
    if a.who.role == "patient" and a.who.patient_id is not None:
        return a.patient(a.who.patient_id)
    if a.who.is_demo:
        return a.demo_patient()
    return None


def require_patient() -> PatientInfo:
    """The patient practising; the page stops with a kind word when there is none."""
    patient = current_patient()
    if patient is None:
        st.info("This page is for patients. Sign in with a patient's account, or try the demo.")
        st.stop()
        raise AssertionError("unreachable")
    if patient.is_demo:
        st.caption(f"**{plain(patient.name)}** is an example patient: the practice history you see is made up.")
    return patient


def download_buttons(
    records: Access,
    patient: PatientInfo,
    csv_label: str,
    report_label: str,
    key: str,
    columns: bool = False,
    everything_label: str | None = None,
) -> None:
    """Downloads of one patient's records: every repetition (CSV), a printable report (HTML), and
    optionally everything kept (a ZIP of CSV files).

    Each file is made when its button is pressed, not when the page is drawn, so the access
    log has one line per file really taken. The file names are made from the patient's
    name, letters and digits only.
    """
    safe = "".join(c if c.isalnum() else "_" for c in patient.name)[:40] or "patient"
    shown = names()  # read here: the files are made outside this page's run
    pid = patient.id
    files = [
        (csv_label, lambda: records.export_csv(pid), f"facecoach_{safe}.csv", "text/csv", "csv"),
        (report_label, lambda: records.report_html(pid, shown), f"facecoach_report_{safe}.html", "text/html", "report"),
    ]
    if everything_label:
        files.append(
            (
                everything_label,
                lambda: records.export_zip(pid, shown),
                f"facecoach_{safe}_all.zip",
                "application/zip",
                "zip",
            )
        )
    where = st.columns(len(files)) if columns else [st] * len(files)
    for place, (label, make, file_name, mime, what) in zip(where, files, strict=True):
        place.download_button(label, make, file_name=file_name, mime=mime, key=f"{key}_{what}", on_click="ignore")


def run_page(page) -> None:
    """Run the chosen page (``page.run()``); an unexpected error shows a kind message, never a traceback.

    The details go to the server's log under a short reference the person can quote.
    (Streamlit's own error details are off too: ``showErrorDetails = "none"``.)
    """
    try:
        page.run()
    except Exception:  # noqa: BLE001 - the last guard between a bug and the patient
        ref = secrets.token_hex(4)
        log.exception("page error (reference %s)", ref)
        st.error(
            "Sorry, something went wrong on our side. Your saved records are safe. "
            f"Please try again; if it keeps happening, tell your clinic this reference: {ref}."
        )


def forbidden(err: Forbidden) -> None:
    """A refused action, said kindly."""
    st.info(str(err) + ".")


def local_time(utc: datetime) -> datetime:
    """A stored UTC time in this computer's time zone."""
    return utc.replace(tzinfo=UTC).astimezone()


def when(utc: datetime | None) -> str:
    if utc is None:
        return "never"
    return f"{local_time(utc):%a %d %b %Y, %H:%M}"
