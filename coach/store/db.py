"""Where the database lives, how to connect, and schema migrations.

The default is an SQLite file in the user's data folder; ``DATABASE_URL``
selects another database (PostgreSQL for a clinic). The schema is kept up to
date with Alembic on every start.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url

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


def default_url() -> str:
    """``$DATABASE_URL``, else an SQLite file in :func:`data_dir`."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        # Hosting services hand out postgres:// URLs; SQLAlchemy wants a driver name.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://") :]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    return f"sqlite:///{data_dir() / DB_FILE}"


def make_engine(url: str) -> Engine:
    """An engine set up for this app: SQLite shared across threads, WAL, foreign keys on."""
    try:
        parsed = make_url(url)
    except Exception as err:
        raise StoreError(
            f"DATABASE_URL is not a database address ({err}); unset it to use the built-in database"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            try:
                Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise StoreError(f"Cannot create the data folder for {db} ({err.strerror})") from None
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if db and db != ":memory:":
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
