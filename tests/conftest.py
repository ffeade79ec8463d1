"""Shared fixtures: the verified model, cached phantom videos, and a fresh PostgreSQL database."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest

os.environ.setdefault("GLOG_minloglevel", "2")

from coach.engine.model import ModelFile, resolve_model  # noqa: E402
from coach.virtual.phantom import PhantomSpec, write_video  # noqa: E402


@pytest.fixture(scope="session")
def model() -> ModelFile:
    return resolve_model()


@pytest.fixture(scope="session")
def phantom_video(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Write (once per session) a phantom video; returns its path."""
    folder = tmp_path_factory.mktemp("phantoms")
    cache: dict[tuple[PhantomSpec, str], Path] = {}

    def make(spec: PhantomSpec, name: str, ext: str = "avi") -> Path:
        key = (spec, ext)
        if key not in cache:
            cache[key] = write_video(spec, folder / f"{name}.{ext}")
        return cache[key]

    return make


def e2e_required() -> bool:
    """True in CI (``FACECOACH_E2E_REQUIRED=1``): missing pieces fail instead of skipping."""
    return os.environ.get("FACECOACH_E2E_REQUIRED", "").strip() == "1"


def unavailable(reason: str, how_to_enable: str) -> NoReturn:
    """Skip the test with ``how_to_enable``; fail instead when e2e tests are required."""
    if e2e_required():
        pytest.fail(f"{reason} (FACECOACH_E2E_REQUIRED=1: end-to-end tests must run here)", pytrace=False)
    pytest.skip(f"{reason}; to run it: {how_to_enable}")


# --- PostgreSQL ---------------------------------------------------------------------------------


def _fresh_postgres() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test; dropped afterwards.

    The server comes from ``FACECOACH_TEST_POSTGRES_URL`` (a SQLAlchemy URL whose role may
    create databases, e.g. ``postgresql+psycopg://facecoach:facecoach@localhost:5432/postgres``).
    """
    base = os.environ.get("FACECOACH_TEST_POSTGRES_URL", "").strip()
    if not base:
        unavailable(
            "FACECOACH_TEST_POSTGRES_URL is not set",
            "`source scripts/e2e_services.sh` (installs and starts PostgreSQL, exports the URL)",
        )
    import sqlalchemy as sa

    server_url = sa.engine.make_url(base)
    name = f"facecoach_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as err:
        admin.dispose()
        unavailable(
            f"PostgreSQL at {server_url.render_as_string(hide_password=True)} refused: {err.orig}",
            "`source scripts/e2e_services.sh`",
        )
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        # PostgreSQL's autovacuum may be visiting the database just then (a test that wrote many
        # rows): FORCE may not end the superuser's worker, which is done within moments; try again.
        for attempt in range(20):
            try:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                break
            except (sa.exc.ProgrammingError, sa.exc.OperationalError):
                if attempt == 19:
                    raise
                time.sleep(0.5)
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test; dropped afterwards.

    The server comes from ``FACECOACH_TEST_POSTGRES_URL`` (a SQLAlchemy URL whose role may
    create databases, e.g. ``postgresql+psycopg://facecoach:facecoach@localhost:5432/postgres``).
    """
    yield from _fresh_postgres()


@pytest.fixture(scope="module")
def postgres_module_url() -> Iterator[str]:
    """Like ``postgres_url``, shared by the tests of one module."""
    yield from _fresh_postgres()
