"""End-to-end harness: a real Streamlit server, PostgreSQL, and headless Chromium with a file as its camera.

Needs Debian's ``chromium`` (``/usr/bin/chromium``; never ``playwright install``), the
``playwright`` package, and for database tests ``FACECOACH_TEST_POSTGRES_URL``
(``source scripts/e2e_services.sh`` sets all of it up). Without them the tests skip,
unless ``FACECOACH_E2E_REQUIRED=1`` (CI), where they fail.

Fixtures: ``postgres_url``, ``streamlit_app``, ``fake_camera_browser``.
Helpers: :func:`require_browser`, :func:`require_webrtc_network`, :func:`run_streamlit`,
:func:`launch_fake_camera`, :func:`click_webrtc_start`, :func:`wait_for_text`, :func:`wait_until`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import unavailable

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
APP_SCRIPT = REPO / "ui" / "app.py"
SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
STREAMLIT_FLAGS = (
    "--server.headless=true",
    "--server.address=127.0.0.1",
    "--server.fileWatcherType=none",
    "--browser.gatherUsageStats=false",
)
WEBRTC_IFRAME = 'iframe[title="streamlit_webrtc.component.webrtc_streamer"]'

# The camera file replaces the webcam; the fake UI grants the permission prompt.
# The rest keeps Chromium off the (closed) network and off the GPU. WebRTC itself
# needs no flag here: both ends use the machine's own non-loopback address.
CHROMIUM_ARGS = (
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def require_browser() -> None:
    """Skip (or fail, in CI) unless Debian's Chromium and the playwright package are installed."""
    if not CHROMIUM.exists():
        unavailable(
            f"no Chromium at {CHROMIUM}",
            "`apt-get install chromium fonts-liberation` (or `source scripts/e2e_services.sh`); "
            "do not run `playwright install`",
        )
    if importlib.util.find_spec("playwright") is None:
        unavailable("the playwright package is not installed", "`pip install -r requirements-dev.txt`")


def require_webrtc_network() -> None:
    """Skip (or fail, in CI) unless the server's WebRTC stack has an address to offer.

    aioice (under aiortc) never offers loopback, so browser and server need a non-loopback
    interface; Chromium on this machine offers the same one. Without one (e.g. a network
    namespace with only ``lo``), no frame ever arrives.
    """
    from aioice.ice import get_host_addresses

    if not get_host_addresses(use_ipv4=True, use_ipv6=True):
        unavailable(
            "no non-loopback network address for WebRTC (aioice offers no ICE candidate on loopback)",
            "run on a machine with a network interface (CI machines have one)",
        )


# --- Streamlit server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, n_lines: int = 60) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no server log)"
    return "\n".join(lines[-n_lines:])


def _stop_group(proc: subprocess.Popen, timeout_s: float = 10.0) -> None:
    """End the server and everything it started (its own process group)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout_s)
    except ProcessLookupError:
        pass


@contextmanager
def run_streamlit(
    data_dir: Path,
    database_url: str | None = None,
    *,
    script: Path = APP_SCRIPT,
    env: Mapping[str, str] | None = None,
    startup_timeout_s: float = 60.0,
) -> Iterator[str]:
    """Serve ``script`` with ``streamlit run`` on a free local port; yields the base URL.

    Args:
        data_dir: ``FACECOACH_DATA_DIR`` for the server; its log goes there too.
        database_url: ``DATABASE_URL`` for the server; None removes it (the app's default).
        script: the Streamlit script, the real app by default.
        env: more environment variables for the server.
        startup_timeout_s: how long ``/_stcore/health`` may take to answer.

    A failure inside the ``with`` block gets the tail of the server's log as a note.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "streamlit.log"
    port = free_port()
    server_env = dict(os.environ)
    server_env.pop("DATABASE_URL", None)
    if database_url is not None:
        server_env["DATABASE_URL"] = database_url
    server_env.update(FACECOACH_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", GLOG_minloglevel="2")
    server_env.update(env or {})
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), *STREAMLIT_FLAGS, f"--server.port={port}"]
    base_url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        _wait_healthy(proc, base_url, log_path, startup_timeout_s)
        try:
            yield base_url
        except BaseException as exc:
            exc.add_note(f"--- streamlit server log ({log_path}), last lines ---\n{_tail(log_path)}")
            raise
    finally:
        _stop_group(proc)


def _wait_healthy(proc: subprocess.Popen, base_url: str, log_path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"streamlit exited with code {proc.returncode} before serving:\n{_tail(log_path)}", pytrace=False
            )
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    pytest.fail(
        f"streamlit did not answer {base_url}/_stcore/health within {timeout_s:.0f} s:\n{_tail(log_path)}",
        pytrace=False,
    )


@pytest.fixture
def streamlit_app(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., str]]:
    """Factory: ``streamlit_app(database_url=None, *, script=APP_SCRIPT, env=None) -> base URL``.

    The server lives until the test ends; a failing test's report shows the server's log.
    """
    with ExitStack() as stack:
        logs: list[Path] = []
        request.node.stash[_SERVER_LOGS] = logs

        def start(
            database_url: str | None = None, *, script: Path = APP_SCRIPT, env: Mapping[str, str] | None = None
        ) -> str:
            data_dir = tmp_path / f"server{len(logs)}"
            logs.append(data_dir / "streamlit.log")
            return stack.enter_context(run_streamlit(data_dir, database_url, script=script, env=env))

        yield start


_SERVER_LOGS = pytest.StashKey[list]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    if report.failed and call.when == "call":
        for log in item.stash.get(_SERVER_LOGS, []):
            report.sections.append((f"streamlit server log {log.parent.name} (tail)", _tail(log)))
    return report


# --- Chromium with a fake camera ----------------------------------------------------------------


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}  # a phone, portrait


@contextmanager
def launch_fake_camera(y4m_path: str | Path, screenshot: Path | None = None, phone: bool = False) -> Iterator[Page]:
    """Headless Chromium whose camera plays ``y4m_path`` (looping); yields a new page.

    Args:
        y4m_path: an I420 YUV4MPEG2 file (``coach.virtual.phantom.write_video(spec, "x.y4m")``);
            other containers silently give no camera, so anything else is refused.
        screenshot: where to save a full-page screenshot when leaving (also after a failure).
        phone: a phone's screen (390×844, touch) instead of a laptop's (1280×900).
    """
    from playwright.sync_api import sync_playwright

    y4m = Path(y4m_path).resolve()
    if y4m.suffix != ".y4m" or not y4m.is_file():
        raise ValueError(f"the fake camera needs an existing .y4m file, got {y4m}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={y4m}"],
        )
        try:
            page = browser.new_page(**PHONE) if phone else browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(30_000)
            try:
                yield page
            finally:
                if screenshot is not None:
                    screenshot.parent.mkdir(parents=True, exist_ok=True)
                    try:
                        page.screenshot(path=str(screenshot), full_page=True)
                    except Exception as err:  # a dead page must not hide the test's own error
                        print(f"screenshot failed: {err}", file=sys.stderr)
        finally:
            browser.close()


@pytest.fixture
def fake_camera_browser(
    request: pytest.FixtureRequest, streamlit_app: Callable[..., str]
) -> Iterator[Callable[[str | Path], Page]]:
    """Factory: ``fake_camera_browser(y4m_path) -> Page``; skips (fails in CI) without Chromium.

    One browser per test (sync Playwright does not nest). On teardown the page is saved to
    ``artifacts/screenshots/<test name>.png``, before any server from ``streamlit_app``
    stops (hence the dependency).
    """
    require_browser()
    with ExitStack() as stack:
        shot = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', request.node.name)}.png"

        def launch(y4m_path: str | Path, phone: bool = False) -> Page:
            return stack.enter_context(launch_fake_camera(y4m_path, screenshot=shot, phone=phone))

        yield launch


# --- Page helpers -------------------------------------------------------------------------------


def click_webrtc_start(page: Page, timeout_s: float = 30.0, *, button: str = "START") -> None:
    """Click the camera component's start button (it lives in the component's iframe).

    Args:
        page: a page showing a ``webrtc_streamer``.
        timeout_s: how long the component may take to appear.
        button: the button's label, any case (``translations={"start": ...}`` changes it).
    """
    require_webrtc_network()
    frame = page.frame_locator(WEBRTC_IFRAME).first
    # The label is "Start" upper-cased by CSS unless translations={"start": ...} changes it.
    start = frame.get_by_role("button", name=re.compile(rf"^\s*{re.escape(button)}\s*$", re.IGNORECASE))
    start.wait_for(state="visible", timeout=timeout_s * 1000)
    start.click()


def wait_for_text(page: Page, text: str | re.Pattern[str], timeout_s: float = 30.0) -> str:
    """Wait until the page shows ``text`` (a substring, or a regex); returns the element's whole text."""
    found = page.get_by_text(text).first
    found.wait_for(state="visible", timeout=timeout_s * 1000)
    return found.inner_text()


def wait_until(page: Page, check: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.25) -> None:
    """Poll ``check`` (while the page keeps running) until it holds; fail naming ``what`` if it never does."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}", pytrace=False)
        page.wait_for_timeout(poll_s * 1000)


def enter_demo(page: Page, base_url: str) -> None:
    """Open the app and step into the demo (no account): the example patient's records."""
    page.goto(base_url)
    page.get_by_role("button", name="Try the demo").click()
    wait_for_text(page, "You are trying the demo", timeout_s=60)


def open_page(page: Page, title: str) -> None:
    """Go to a page through the sidebar (a new URL would start a new, signed-out session)."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()


PATIENT_PASSWORD = "a long password 1"


def patient_account(database_url: str, name: str = "Kim", affected_side: str = "left") -> tuple[int, str]:
    """A therapist's patient with a login, made straight in the database: (patient id, user name).

    The user name is new each time, so one database can hold several.
    """
    from coach.store import Store
    from coach.store.access import Access
    from coach.store.auth import Accounts, Principal
    from coach.store.info import utcnow

    store = Store(database_url)
    try:
        acc = Accounts(store)
        if acc.needs_first_admin():  # else the app opens on its first-run page
            acc.create_admin("admin", PATIENT_PASSWORD)
        now = utcnow()
        admin = Principal(None, "setup", "admin", None, None, now, now)
        tid = Access(store, admin).add_therapist(f"Dr {name}'s therapist")
        therapist = Principal(None, "setup", "therapist", tid, None, now, now)
        pid = Access(store, therapist).add_patient(name, affected_side, "Bell's palsy")
        username = f"{name.lower()}{pid}"
        acc.create_user(therapist, username, PATIENT_PASSWORD, "patient", patient_id=pid, first_password=False)
        return pid, username
    finally:
        store.close()


def sign_in(page: Page, base_url: str, username: str, password: str = PATIENT_PASSWORD) -> None:
    """Open the app and sign in (a patient lands on *Today*)."""
    page.goto(base_url)
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    wait_for_text(page, f"Signed in as {username}", timeout_s=60)
