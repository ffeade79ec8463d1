"""Malformed exercise and program files: one ExerciseError naming the file, the field and what is allowed.

(The everyday mistakes — a typo in a field name, a missing field, a number out of
range — are in ``test_exercises.py``; these are the nastier ones.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.errors import ExerciseError
from exercises.programs import load_programs
from exercises.registry import LIBRARY_DIR, MAX_FILE_BYTES, load_library
from tests.test_exercises import write_exercise

DEEP = 5000


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"reps": "[1, 2]"}, "reps", "a whole number from 1 to 50"),
        ({"reps": "nan"}, "reps", "a whole number"),
        ({"name": "{ first = 1 }"}, "name", "text"),
        ({"on_level": "true"}, "on_level", "a number from 0.2 to 100"),
        ({"hold_s": "1979-05-27"}, "hold_s", "a number from 0.0 to 60"),
        ({"match_weaker": "1"}, "match_weaker", "true or false"),
        ({"hold_s": "nan"}, "hold_s", "0.0 to 60.0, got nan"),
        ({"hold_s": "inf"}, "hold_s", "0.0 to 60.0, got inf"),
        ({"hold_s": "-inf"}, "hold_s", "0.0 to 60.0, got -inf"),
        ({"on_level": "-1.5"}, "on_level", "0.2 to 100"),
        ({"hold_s": "1e308"}, "hold_s", "0.0 to 60.0, got 1e+308"),
        ({"reps": "99999999999999999999999"}, "reps", "1 to 50, got a number with 23 digits"),
        ({"reps": "0x" + "f" * 5000}, "reps", "1 to 50, got a number with 6021 digits"),
        ({"instructions": None}, "instructions", "missing field 'instructions' (text)"),
        ({"id": '"wínk"'}, "id", "lower-case letters"),
        ({"junk": '"' + "x" * 100_000 + '"'}, "junk", "unknown field"),
        ({"junk": "[" * 200 + "]" * 200}, "junk", "unknown field"),
    ],
    ids=[
        "list-for-int",
        "nan-for-int",
        "table-for-text",
        "bool-for-number",
        "date-for-number",
        "int-for-bool",
        "nan",
        "inf",
        "minus-inf",
        "negative",
        "huge-float",
        "huge-int",
        "gigantic-hex-int",
        "missing",
        "non-ascii-id",
        "huge-unknown-field",
        "nested-unknown-field",
    ],
)
def test_a_hostile_exercise_file_names_the_file_the_field_and_what_is_allowed(tmp_path, changes, field, says):
    write_exercise(tmp_path, "bad.toml", changes)
    with pytest.raises(ExerciseError) as err:
        load_library(tmp_path)
    message = str(err.value)
    assert message.startswith("bad.toml: ")
    assert f"'{field}'" in message and says in message
    assert len(message) < 400  # a huge value is shown shortened


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b'id = "wink"\nname = "Caf\xe9"\n', "not UTF-8 text (byte 0xe9 at position 23)"),
        (b"\xff\xfe\x00i\x00d", "not UTF-8 text (byte 0xff at position 0)"),
        (b"x = " + b"[" * DEEP + b"]" * DEEP, "nested too deeply"),
        (b"x = " + b"{a = " * DEEP + b"1" + b"}" * DEEP, "nested too deeply"),
        (b"reps = " + b"9" * 5000, "not valid TOML (a number has too many digits)"),
        (b"\x00\x01\x02binary", "not valid TOML"),
        (b"x" * (MAX_FILE_BYTES + 1), "too large"),
    ],
    ids=["latin-1", "utf-16", "deep-arrays", "deep-tables", "5000-digit-int", "binary", "too-large"],
)
def test_a_file_that_is_not_toml_text_is_one_exercise_error(tmp_path, content, says):
    (tmp_path / "odd.toml").write_bytes(content)
    with pytest.raises(ExerciseError, match=r"^odd\.toml: ") as err:
        load_library(tmp_path)
    assert says in str(err.value)


def test_a_byte_order_mark_from_a_windows_editor_is_fine(tmp_path):
    path = write_exercise(tmp_path, "wink.toml")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert "wink" in load_library(tmp_path)


VALID_PROGRAM = """id = "p"
name = "A program"
for = "Anyone"
description = "Smile."
"""


def write_program(folder: Path, body: str) -> Path:
    path = folder / "prog.toml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (VALID_PROGRAM + 'steps = "smile"\n', "field 'steps' must list at least one [[steps]] table"),
        (VALID_PROGRAM + "steps = []\n", "field 'steps' must list at least one"),
        (VALID_PROGRAM + "steps = [1, 2]\n", "step 1 needs an 'exercise' id (text), got 1"),
        (VALID_PROGRAM + "[[steps]]\nexercise = 3\n", "step 1 needs an 'exercise' id"),
        (VALID_PROGRAM + '[[steps]]\nexercise = "yodel"\n', "step 1: unknown exercise 'yodel'; choose one of: "),
        (
            VALID_PROGRAM + '[[steps]]\nexercise = "smile"\nreps = nan\n',
            "'smile.reps' must be a whole number from 1 to 50, got nan",
        ),
        (VALID_PROGRAM + '[[steps]]\nexercise = "smile"\nhold_s = inf\n', "'smile.hold_s' must be 0.0 to 60.0"),
        (VALID_PROGRAM + '[[steps]]\nexercise = "smile"\nhold_s = -2.0\n', "'smile.hold_s' must be 0.0 to 60.0"),
        (VALID_PROGRAM + '[[steps]]\nexercise = "smile"\nreps = 10000000000\n', "'smile.reps' must be 1 to 50"),
        (VALID_PROGRAM + '[[steps]]\nexercise = "smile"\ncolour = "red"\n', "'smile.colour' cannot be tuned; allowed:"),
        (VALID_PROGRAM + 'assessment = "yes"\n[[steps]]\nexercise = "smile"\n', "'assessment' must be true or false"),
        (VALID_PROGRAM.replace('"Smile."', "3") + '[[steps]]\nexercise = "smile"\n', "'description' must be non-empty"),
        (VALID_PROGRAM.replace('id = "p"\n', "") + '[[steps]]\nexercise = "smile"\n', "'id' must be non-empty text"),
        (VALID_PROGRAM + 'level = 3\n[[steps]]\nexercise = "smile"\n', "unknown field 'level'; allowed: "),
        (VALID_PROGRAM + "steps = " + "[" * DEEP + "]" * DEEP + "\n", "nested too deeply"),
    ],
    ids=[
        "steps-text",
        "steps-empty",
        "steps-numbers",
        "step-exercise-number",
        "step-unknown-exercise",
        "step-nan",
        "step-inf",
        "step-negative",
        "step-huge",
        "step-unknown-setting",
        "assessment-text",
        "description-number",
        "id-missing",
        "unknown-field",
        "deeply-nested",
    ],
)
def test_a_hostile_program_file_names_the_file_the_field_and_what_is_allowed(tmp_path, body, says):
    write_program(tmp_path, body)
    with pytest.raises(ExerciseError) as err:
        load_programs(tmp_path, LIBRARY_DIR)
    message = str(err.value)
    assert message.startswith("prog.toml: ")
    assert says in message, message
