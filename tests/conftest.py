"""Shared fixtures: the verified model and cached phantom videos."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("GLOG_minloglevel", "2")

from coach.model import ModelFile, resolve_model  # noqa: E402
from coach.phantom import PhantomSpec, write_video  # noqa: E402


@pytest.fixture(scope="session")
def model() -> ModelFile:
    return resolve_model()


@pytest.fixture(scope="session")
def phantom_video(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Write (once per session) a phantom video; returns its path."""
    folder = tmp_path_factory.mktemp("phantoms")
    cache: dict[tuple[PhantomSpec, str], Path] = {}

    def make(spec: PhantomSpec, name: str, ext: str = "avi") -> Path:
        key = (spec, ext)
        if key not in cache:
            cache[key] = write_video(spec, folder / f"{name}.{ext}")
        return cache[key]

    return make
