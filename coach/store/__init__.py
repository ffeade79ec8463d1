"""FaceCoach's records: patients, programs, sessions, reps (SQLAlchemy 2; SQLite or PostgreSQL)."""

from coach.store.db import StoreError, data_dir, default_url
from coach.store.progress import streak_days
from coach.store.repo import Store

__all__ = ["Store", "StoreError", "data_dir", "default_url", "streak_days"]
