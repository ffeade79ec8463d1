"""Load and validate exercise files; look exercises up by id."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from coach.engine.exercise import MEASURES, WATCH_POINTS, ExerciseSpec
from coach.errors import ExerciseError

LIBRARY_DIR = Path(__file__).parent / "library"
MAX_FILE_BYTES = 1_000_000  # an exercise or program file is a few kB
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
    "on_level": ((int, float), (0.2, 100.0), False),
    "off_level": ((int, float), (0.05, 99.0), False),
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


def shown(value: Any, limit: int = 40) -> str:
    """A bad value as an error message shows it: short, and never failing itself."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        # Python refuses to print ints of over 4300 digits; say how long it is instead.
        digits = int(value.bit_length() * math.log10(2)) + 1
        digits -= 10 ** (digits - 1) > abs(value)
        return f"a {'negative ' if value < 0 else ''}number with {digits} digits"
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def allowed(kind: type | tuple[type, ...], bounds: tuple[float, float] | None) -> str:
    """What a field accepts, in words: "a whole number from 1 to 50", "text"…"""
    if kind is bool:
        return "true or false"
    if kind is str:
        return "text"
    word = "a whole number" if kind is int else "a number"
    return word if bounds is None else f"{word} from {bounds[0]} to {bounds[1]}"


def check_table(data: Any, source: str) -> dict[str, Any]:
    """``data`` if it is a table with text keys, else an :class:`ExerciseError`."""
    if not isinstance(data, dict):
        raise ExerciseError(f"{source}: must be a table of fields (name = value), got {shown(data)}")
    odd = [k for k in data if not isinstance(k, str)]
    if odd:
        raise ExerciseError(f"{source}: field names must be text, got {shown(odd[0])}")
    return data


def parse_exercise(data: dict[str, Any], source: str) -> ExerciseSpec:
    """Check one exercise table and build its spec.

    Raises:
        ExerciseError: naming the file, the field and what is allowed.
    """
    check_table(data, source)
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise ExerciseError(f"{source}: unknown field {shown(unknown[0])}; allowed: {', '.join(_FIELDS)}")
    values: dict[str, Any] = {}
    for name, (kind, bounds, required) in _FIELDS.items():
        want = allowed(kind, bounds)
        if name not in data:
            if required:
                raise ExerciseError(f"{source}: missing field '{name}' ({want})")
            continue
        v = data[name]
        if (isinstance(v, bool) and kind is not bool) or not isinstance(v, kind):
            raise ExerciseError(f"{source}: field '{name}' must be {want}, got {shown(v)}")
        if bounds is not None and not bounds[0] <= v <= bounds[1]:
            raise ExerciseError(f"{source}: field '{name}' must be {bounds[0]} to {bounds[1]}, got {shown(v)}")
        if isinstance(v, str) and not v.strip():
            raise ExerciseError(f"{source}: field '{name}' must not be empty")
        values[name] = v
    if values["measure"] not in MEASURES:
        raise ExerciseError(
            f"{source}: field 'measure' must be one of {', '.join(sorted(MEASURES))}, got {shown(values['measure'])}"
        )
    if values.get("watch", "") not in ("", *WATCH_POINTS):
        raise ExerciseError(
            f"{source}: field 'watch' must be one of {', '.join(WATCH_POINTS)} (or left out), "
            f"got {shown(values['watch'])}"
        )
    if not values["id"].isascii() or not values["id"].replace("_", "").isalnum() or not values["id"].islower():
        raise ExerciseError(f"{source}: field 'id' must be lower-case letters, digits and _, got {shown(values['id'])}")
    try:
        return ExerciseSpec(**values)
    except ValueError as err:
        raise ExerciseError(f"{source}: {err}") from None


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML data file as a dict, or an :class:`ExerciseError` naming the file."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ExerciseError(f"{path.name}: too large ({path.stat().st_size:,} bytes; at most {MAX_FILE_BYTES:,})")
        raw = path.read_bytes()
    except OSError as err:
        raise ExerciseError(f"{path.name}: cannot be read ({err.strerror or err})") from None
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark from Windows editors is fine
    except UnicodeDecodeError as err:
        raise ExerciseError(
            f"{path.name}: not UTF-8 text (byte 0x{raw[err.start]:02x} at position {err.start}); save it as UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ExerciseError(f"{path.name}: not valid TOML ({err})") from None
    except RecursionError:
        raise ExerciseError(f"{path.name}: not valid TOML (values nested too deeply)") from None
    except ValueError as err:  # Python refuses to read integers of thousands of digits
        why = "a number has too many digits" if "digits" in str(err) else str(err)[:80]
        raise ExerciseError(f"{path.name}: not valid TOML ({why})") from None


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
