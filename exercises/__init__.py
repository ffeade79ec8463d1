"""The exercise library: data files plus the code that loads and checks them.

Exercises live as TOML files in ``exercises/library/``; adding one needs no
engine code unless it needs a new measure.
"""

from exercises.programs import get_program, load_programs
from exercises.registry import get_exercise, load_library

__all__ = ["get_exercise", "load_library", "get_program", "load_programs"]
