"""Load and validate exercise files; look exercises up by id."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from coach.errors import ExerciseError
from coach.exercise import MEASURES, WATCH_POINTS, ExerciseSpec

LIBRARY_DIR = Path(__file__).parent / "library"
T = TypeVar("T")

# field → (type, (low, high) or None, required)
_FIELDS: dict[str, tuple[type | tuple[type, ...], tuple[float, float] | None, bool]] = {
    "id": (str, None, True),
    "name": (str, None, True),
    "measure": (str, None, True),
    "instructions": (str, None, True),
    "reps": (int, (1, 50), False),
    "rise_s": ((int, float), (0.2, 30.0), False),
    "hold_s": ((int, float), (0.0, 60.0), False),
    "release_s": ((int, float), (0.2, 30.0), False),
    "rest_s": ((int, float), (0.0, 120.0), False),
    "on_mm": ((int, float), (0.2, 100.0), False),
    "off_mm": ((int, float), (0.05, 99.0), False),
    "cue_move": (str, None, False),
    "cue_hold": (str, None, False),
    "cue_release": (str, None, False),
    "cue_alternate": (str, None, False),
    "good_rep": (str, None, True),
    "watch": (str, None, False),
    "target": ((int, float), (0.0, 100.0), False),
    "max_strong": ((int, float), (0.0, 100.0), False),
    "match_weaker": (bool, None, False),
}


def parse_exercise(data: dict[str, Any], source: str) -> ExerciseSpec:
    """Check one exercise table and build its spec.

    Raises:
        ExerciseError: naming the file, the field and what is allowed.
    """
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise ExerciseError(f"{source}: unknown field '{unknown[0]}'; allowed: {', '.join(_FIELDS)}")
    values: dict[str, Any] = {}
    for name, (kind, bounds, required) in _FIELDS.items():
        if name not in data:
            if required:
                raise ExerciseError(f"{source}: missing field '{name}'")
            continue
        v = data[name]
        if (isinstance(v, bool) and kind is not bool) or not isinstance(v, kind):
            want = {int: "a whole number", bool: "true or false"}.get(kind, "a number" if bounds else "text")  # type: ignore[call-overload]
            raise ExerciseError(f"{source}: field '{name}' must be {want}, got {v!r}")
        if bounds is not None and not bounds[0] <= v <= bounds[1]:
            raise ExerciseError(f"{source}: field '{name}' must be {bounds[0]} to {bounds[1]}, got {v!r}")
        if isinstance(v, str) and not v.strip():
            raise ExerciseError(f"{source}: field '{name}' must not be empty")
        values[name] = v
    if values["measure"] not in MEASURES:
        raise ExerciseError(
            f"{source}: field 'measure' must be one of {', '.join(sorted(MEASURES))}, got {values['measure']!r}"
        )
    if values.get("watch", "") not in ("", *WATCH_POINTS):
        raise ExerciseError(
            f"{source}: field 'watch' must be one of {', '.join(WATCH_POINTS)} (or left out), got {values['watch']!r}"
        )
    if not values["id"].replace("_", "").isalnum() or not values["id"].islower():
        raise ExerciseError(f"{source}: field 'id' must be lower-case letters, digits and _, got {values['id']!r}")
    try:
        return ExerciseSpec(**values)
    except ValueError as err:
        raise ExerciseError(f"{source}: {err}") from None


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML data file as a dict, or an :class:`ExerciseError` naming the file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise ExerciseError(f"{path.name}: cannot be read ({err})") from None
    except tomllib.TOMLDecodeError as err:
        raise ExerciseError(f"{path.name}: not valid TOML ({err})") from None


def load_folder(folder: Path, parse: Callable[[dict[str, Any], str], T], kind: str) -> dict[str, T]:
    """Every ``*.toml`` in ``folder`` parsed by ``parse``, by id, in file-name order; ids must be unique."""
    out: dict[str, T] = {}
    for path in sorted(Path(folder).glob("*.toml")):
        item = parse(read_toml(path), path.name)
        item_id = item.id  # type: ignore[attr-defined]
        if item_id in out:
            raise ExerciseError(f"{path.name}: id '{item_id}' is used by another {kind}")
        out[item_id] = item
    return out


def lookup(items: dict[str, T], item_id: str, kind: str) -> T:
    """``items[item_id]``, or an :class:`ExerciseError` listing the ids there are."""
    if item_id not in items:
        raise ExerciseError(f"Unknown {kind} '{item_id}'; choose one of: {', '.join(items)}")
    return items[item_id]


def load_file(path: Path) -> ExerciseSpec:
    """Read one exercise file."""
    return parse_exercise(read_toml(path), path.name)


@lru_cache(maxsize=4)
def load_library(folder: Path = LIBRARY_DIR) -> dict[str, ExerciseSpec]:
    """Every exercise in ``folder``, by id, in file-name order."""
    return load_folder(folder, parse_exercise, "exercise")


def get_exercise(exercise_id: str, folder: Path = LIBRARY_DIR) -> ExerciseSpec:
    """One exercise by id, or an :class:`ExerciseError` listing the ids there are."""
    return lookup(load_library(folder), exercise_id, "exercise")
