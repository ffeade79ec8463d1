"""Programs: ordered exercises for one condition, loaded from ``exercises/programs/*.toml``.

A therapist tunes a program for one patient with overrides
(``{"smile": {"reps": 3, "hold_s": 4}}``) without editing any file.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from coach.errors import ExerciseError
from coach.sessions.plan import SessionPlan
from exercises.registry import _FIELDS, LIBRARY_DIR, allowed, check_table, load_folder, load_library, lookup, shown

PROGRAMS_DIR = Path(__file__).parent / "programs"
# What a program step or a therapist may tune, with the allowed range.
TUNABLE = ("reps", "rise_s", "hold_s", "release_s", "rest_s")


@dataclass(frozen=True)
class Program:
    """A program as written in its file."""

    id: str
    name: str
    for_whom: str
    description: str
    steps: tuple[tuple[str, dict[str, Any]], ...]
    assessment: bool = False

    def plan(self, overrides: dict[str, dict[str, Any]] | None = None, library: Path = LIBRARY_DIR) -> SessionPlan:
        """The session plan, with the step settings and then ``overrides`` applied."""
        lib = load_library(library)
        overrides = overrides or {}
        check_overrides(overrides, {e for e, _ in self.steps}, f"overrides for '{self.id}'")
        steps = []
        for ex_id, settings in self.steps:
            tuned = {**settings, **overrides.get(ex_id, {})}
            steps.append(replace(lib[ex_id], **tuned) if tuned else lib[ex_id])
        return SessionPlan(self.id, self.name, tuple(steps), assessment=self.assessment)


def check_overrides(overrides: dict[str, dict[str, Any]], known: set[str], source: str) -> None:
    """Raise :class:`ExerciseError` for an unknown exercise, field, or an out-of-range value."""
    if not isinstance(overrides, dict):
        raise ExerciseError(f"{source}: must map exercise ids to settings, got {shown(overrides)}")
    for ex_id, fields in overrides.items():
        if ex_id not in known:
            raise ExerciseError(
                f"{source}: exercise {shown(ex_id)} is not in this program ({', '.join(sorted(known))})"
            )
        if not isinstance(fields, dict):
            raise ExerciseError(f"{source}: the settings for '{ex_id}' must be a table, got {shown(fields)}")
        for name, value in fields.items():
            if name not in TUNABLE:
                raise ExerciseError(
                    f"{source}: {shown(f'{ex_id}.{name}', 60)} cannot be tuned; allowed: {', '.join(TUNABLE)}"
                )
            kind, bounds, _ = _FIELDS[name]
            if isinstance(value, bool) or not isinstance(value, kind):
                raise ExerciseError(f"{source}: '{ex_id}.{name}' must be {allowed(kind, bounds)}, got {shown(value)}")
            assert bounds is not None
            if not bounds[0] <= value <= bounds[1]:
                raise ExerciseError(
                    f"{source}: '{ex_id}.{name}' must be {bounds[0]} to {bounds[1]}, got {shown(value)}"
                )


PROGRAM_FIELDS = ("id", "name", "for", "description", "steps", "assessment")


def parse_program(data: dict[str, Any], source: str, library: Path = LIBRARY_DIR) -> Program:
    """Check one program table and build it.

    Raises:
        ExerciseError: naming the file, the field (or step) and what is allowed.
    """
    check_table(data, source)
    unknown = sorted(set(data) - set(PROGRAM_FIELDS))
    if unknown:
        raise ExerciseError(
            f"{source}: unknown field {shown(unknown[0])}; allowed: {', '.join(sorted(PROGRAM_FIELDS))}"
        )
    for name in ("id", "name", "for", "description"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            got = "it is missing" if name not in data else f"got {shown(data[name])}"
            raise ExerciseError(f"{source}: field '{name}' must be non-empty text; {got}")
    steps_raw = data.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        raise ExerciseError(f"{source}: field 'steps' must list at least one [[steps]] table")
    lib = load_library(library)
    steps = []
    for i, st in enumerate(steps_raw, start=1):
        if not isinstance(st, dict) or not isinstance(st.get("exercise"), str):
            raise ExerciseError(f"{source}: step {i} needs an 'exercise' id (text), got {shown(st)}")
        ex_id = st["exercise"]
        if ex_id not in lib:
            raise ExerciseError(f"{source}: step {i}: unknown exercise {shown(ex_id)}; choose one of: {', '.join(lib)}")
        settings = {k: v for k, v in st.items() if k != "exercise"}
        check_overrides({ex_id: settings}, {ex_id}, f"{source}: step {i}")
        steps.append((ex_id, settings))
    assessment = data.get("assessment", False)
    if not isinstance(assessment, bool):
        raise ExerciseError(f"{source}: field 'assessment' must be true or false, got {shown(assessment)}")
    return Program(data["id"], data["name"], data["for"], data["description"].strip(), tuple(steps), assessment)


@lru_cache(maxsize=4)
def load_programs(folder: Path = PROGRAMS_DIR, library: Path = LIBRARY_DIR) -> dict[str, Program]:
    """Every program in ``folder``, by id, in file-name order."""
    return load_folder(folder, lambda data, name: parse_program(data, name, library), "program")


def get_program(program_id: str, folder: Path = PROGRAMS_DIR) -> Program:
    """One program by id, or an :class:`ExerciseError` listing the ids there are."""
    return lookup(load_programs(folder), program_id, "program")
