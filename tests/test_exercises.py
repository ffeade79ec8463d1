"""The exercise library: TOML files checked on load, errors that name the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.engine.exercise import ExerciseSpec
from coach.errors import ExerciseError
from exercises.registry import LIBRARY_DIR, get_exercise, load_library

# One valid exercise, field → TOML value text.
VALID: dict[str, str] = {
    "id": '"wink"',
    "name": '"Gentle wink"',
    "measure": '"mouth_corner"',
    "instructions": '"Close one eye softly."',
    "good_rep": '"Both sides move together."',
    "reps": "3",
    "hold_s": "2.5",
    "on_level": "1.5",
    "off_level": "0.5",
}


def write_exercise(folder: Path, filename: str, changes: dict[str, str | None] | None = None) -> Path:
    """Write ``VALID`` with some fields replaced (``None`` drops a field) as ``folder/filename``."""
    fields = {**VALID, **(changes or {})}
    path = folder / filename
    path.write_text("".join(f"{k} = {v}\n" for k, v in fields.items() if v is not None), encoding="utf-8")
    return path


def test_the_library_holds_the_smile():
    library = load_library(LIBRARY_DIR)
    assert "smile" in library
    smile = library["smile"]
    assert isinstance(smile, ExerciseSpec)
    assert smile.measure == "mouth_corner"
    assert smile.off_level < smile.on_level and smile.unit == "mm"
    assert get_exercise("smile") is smile


def test_every_library_exercise_is_complete():
    for exercise_id, spec in load_library(LIBRARY_DIR).items():
        assert spec.id == exercise_id
        assert spec.name.strip() and spec.instructions.strip()
        assert spec.points  # the engine knows what to track


def test_an_unknown_id_lists_the_ids_there_are():
    with pytest.raises(ExerciseError) as err:
        get_exercise("frown")
    message = str(err.value)
    assert "'frown'" in message
    for exercise_id in load_library(LIBRARY_DIR):
        assert exercise_id in message


def test_an_empty_folder_is_an_empty_library(tmp_path):
    assert load_library(tmp_path) == {}


def test_a_valid_file_loads_with_defaults_for_omitted_fields(tmp_path):
    write_exercise(tmp_path, "wink.toml")
    spec = get_exercise("wink", tmp_path)
    defaults = ExerciseSpec(id="x", name="x")
    assert (spec.id, spec.name, spec.reps, spec.hold_s, spec.on_level, spec.off_level) == (
        "wink",
        "Gentle wink",
        3,
        2.5,
        1.5,
        0.5,
    )
    assert (spec.rise_s, spec.release_s, spec.rest_s) == (defaults.rise_s, defaults.release_s, defaults.rest_s)


def test_files_load_in_name_order(tmp_path):
    write_exercise(tmp_path, "b.toml", {"id": '"second"'})
    write_exercise(tmp_path, "a.toml", {"id": '"first"'})
    assert list(load_library(tmp_path)) == ["first", "second"]


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"colour": '"red"'}, "colour", "unknown field"),
        ({"extra": "{ a = 1 }"}, "extra", "unknown field"),
        ({"name": None}, "name", "missing field"),
        ({"id": None}, "id", "missing field"),
        ({"reps": '"five"'}, "reps", "whole number"),
        ({"reps": "2.5"}, "reps", "whole number"),
        ({"reps": "true"}, "reps", "whole number"),
        ({"on_level": '"1.5"'}, "on_level", "number"),
        ({"name": "3"}, "name", "text"),
        ({"reps": "0"}, "reps", "1 to 50"),
        ({"reps": "51"}, "reps", "1 to 50"),
        ({"on_level": "150.0"}, "on_level", "0.2 to 100"),
        ({"on_level": "25.0"}, "on_level", "0.2 to 20 (mm for mouth_corner)"),
        ({"watch": '"ear"'}, "watch", "eye"),
        ({"match_weaker": '"yes"'}, "match_weaker", "true or false"),
        ({"good_rep": None}, "good_rep", "missing"),
        ({"hold_s": "-1"}, "hold_s", "0.0 to 60"),
        ({"name": '"   "'}, "name", "empty"),
        ({"id": '"Wink"'}, "id", "lower-case"),
        ({"id": '"wink-2"'}, "id", "lower-case"),
        ({"measure": '"eyebrow"'}, "measure", "mouth_corner"),
        ({"off_level": "1.5"}, "off_level", "to below on_level"),
        ({"off_level": "1.8"}, "off_level", "to below on_level"),
        ({"measure": '"eye_closure"', "on_level": "1.5"}, "on_level", "2 to 100 (% for eye_closure)"),
    ],
)
def test_a_malformed_file_names_the_file_and_the_field(tmp_path, changes, field, says):
    write_exercise(tmp_path, "broken.toml", changes)
    with pytest.raises(ExerciseError) as err:
        load_library(tmp_path)
    message = str(err.value)
    assert message.startswith("broken.toml: ")
    assert field in message
    assert says in message


def test_bad_toml_syntax_names_the_file_and_the_line(tmp_path):
    path = tmp_path / "typo.toml"
    path.write_text('id = "wink"\nname = "Wink"\nreps = = 3\n', encoding="utf-8")
    with pytest.raises(ExerciseError, match=r"^typo\.toml: not valid TOML .*line 3"):
        load_library(tmp_path)


@pytest.mark.parametrize(
    "content",
    [b"", b"\xff\xfe not utf-8"],
    ids=["empty", "not-utf8"],
)
def test_an_empty_or_unreadable_file_is_an_exercise_error(tmp_path, content):
    (tmp_path / "odd.toml").write_bytes(content)
    with pytest.raises(ExerciseError, match=r"^odd\.toml: "):
        load_library(tmp_path)


def test_a_folder_named_like_an_exercise_is_an_exercise_error(tmp_path):
    (tmp_path / "folder.toml").mkdir()
    with pytest.raises(ExerciseError, match=r"^folder\.toml: cannot be read"):
        load_library(tmp_path)


def test_a_duplicate_id_names_the_second_file(tmp_path):
    write_exercise(tmp_path, "a.toml")
    write_exercise(tmp_path, "b.toml", {"name": '"Another wink"'})
    with pytest.raises(ExerciseError, match=r"^b\.toml: id 'wink' is used by another exercise"):
        load_library(tmp_path)
