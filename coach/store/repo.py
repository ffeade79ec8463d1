"""Reading and writing FaceCoach's records: one :class:`Store` per database.

Every function returns plain frozen dataclasses (never live ORM objects), so
pages and worker threads can hold them safely. Each write is its own short
transaction: a completed rep is on disk the moment :meth:`Store.add_rep` returns.

The queries live with their aggregate: :mod:`coach.store.patients`, :mod:`coach.store.sessions`,
:mod:`coach.store.progress`, :mod:`coach.store.audit`; their types in :mod:`coach.store.info`.
"""

from __future__ import annotations

import threading

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from coach.store.audit import AccessLogRecords
from coach.store.db import StoreError, default_url, fallback_hint, make_engine, migrate
from coach.store.patients import PatientRecords
from coach.store.progress import ProgressRecords
from coach.store.sessions import SessionRecords


class Store(PatientRecords, SessionRecords, ProgressRecords, AccessLogRecords):
    """FaceCoach's records in one database.

    Args:
        url: SQLAlchemy URL; default :func:`coach.store.db.default_url`
            (``$DATABASE_URL`` or an SQLite file in the user's data folder).
        migrate_schema: bring the schema up to date first (Alembic).
    """

    def __init__(self, url: str | None = None, migrate_schema: bool = True) -> None:
        self.url = url or default_url()
        self.engine = make_engine(self.url)
        try:
            if migrate_schema:
                migrate(self.engine)
        except SQLAlchemyError as err:
            self.engine.dispose()
            raise StoreError(
                f"Cannot open the database at {self.engine.url.render_as_string(hide_password=True)} "
                f"({type(err).__name__}); check DATABASE_URL{fallback_hint()}"
            ) from None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        return self.engine.url.get_backend_name()

    def close(self) -> None:
        keep = getattr(self, "_keep_alive", None)  # an in-memory database's own connection (the demo's)
        if keep is not None:
            keep.close()
        self.engine.dispose()
