"""Where the database lives, how to connect, and schema migrations.

The default is an SQLite file in the user's data folder; ``DATABASE_URL``
selects another database (PostgreSQL for a clinic). With ``FACECOACH_ENV=clinic``
there is no default: a missing ``DATABASE_URL`` stops the server (a clinic must
never start on a fresh, empty database by mistake). The schema is kept up to
date with Alembic on every start.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool, StaticPool

from coach.errors import FaceCoachError

MIGRATIONS = Path(__file__).parent / "migrations"
DB_FILE = "facecoach.db"


class StoreError(FaceCoachError):
    """The database cannot be used (the message says what to do)."""


def data_dir() -> Path:
    """The folder for FaceCoach's own files: ``$FACECOACH_DATA_DIR`` or the user's data folder."""
    env = os.environ.get("FACECOACH_DATA_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("FaceCoach", appauthor=False))


def clinic_mode() -> bool:
    """True on a clinic's server (``FACECOACH_ENV=clinic``): stricter defaults, no silent fall-backs."""
    return os.environ.get("FACECOACH_ENV", "").strip().lower() == "clinic"


def fallback_hint() -> str:
    """What to add to a database error: at home, that the built-in database is there (never on a clinic's server)."""
    return "" if clinic_mode() else ", or unset it to use the built-in database"


def default_url() -> str:
    """``$DATABASE_URL``, else an SQLite file in :func:`data_dir` (not on a clinic's server).

    Raises:
        StoreError: on a clinic's server without ``DATABASE_URL``.
    """
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url and clinic_mode():
        raise StoreError(
            "FACECOACH_ENV is clinic but DATABASE_URL is not set: set it to the clinic's PostgreSQL database"
        )
    if url:
        # Hosting services hand out postgres:// URLs; SQLAlchemy wants a driver name.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://") :]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    return f"sqlite:///{data_dir() / DB_FILE}"


def make_engine(url: str) -> Engine:
    """An engine set up for this app: SQLite shared across threads, WAL, foreign keys on, deleted rows zeroed.

    ``sqlite://`` (no file) is one database in memory, one connection shared by every thread; a
    ``file:NAME?mode=memory&cache=shared&uri=true`` database is in memory too, with a connection per thread.
    """
    try:
        parsed = make_url(url)
    except Exception as err:
        raise StoreError(f"DATABASE_URL is not a database address ({err}){fallback_hint()}") from None
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        in_memory = not db or db == ":memory:"  # one connection for every thread: the same database
        shared_memory = parsed.query.get("mode") == "memory"  # file:…?mode=memory&cache=shared&uri=true
        if not in_memory and not shared_memory:
            try:
                Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise StoreError(f"Cannot create the data folder for {db} ({err.strerror})") from None
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 15},
            # One shared connection for a private in-memory database; a connection per checkout
            # for the shared-cache one (QueuePool, said outright: SQLAlchemy's guess for it changes).
            **({"poolclass": StaticPool} if in_memory else {"poolclass": QueuePool} if shared_memory else {}),
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA secure_delete=ON")  # a deleted patient's rows are overwritten, not left in the file
            if not in_memory and not shared_memory:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration (creates it on an empty database)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def current_tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())
