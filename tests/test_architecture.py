"""Dependencies point one way: ui → coach ← exercises; mediapipe only in coach/engine/tracking.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("coach", "exercises", "ui")


def imported_modules(source: str, module: str = "") -> set[str]:
    """Top-level names of every module a source imports, at any depth (function bodies too).

    Args:
        source: Python source text.
        module: the dotted name of the file's own module, to resolve relative imports.
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.add(module.split(".")[0])  # relative: the file's own top-level package
            elif node.module:
                found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value.split(".")[0])
    return found


def _is_dynamic_import(func: ast.expr) -> bool:
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in ("import_module", "__import__")


def python_files(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py"))


def imports_of(path: Path) -> set[str]:
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return imported_modules(path.read_text(encoding="utf-8"), module)


def offenders(packages: tuple[str, ...], forbidden: set[str], allowed: tuple[str, ...] = ()) -> list[str]:
    """Files under ``packages`` that import any of ``forbidden``, except ``allowed`` (paths from the root)."""
    bad = []
    for path in python_files(*packages):
        rel = path.relative_to(ROOT).as_posix()
        hits = imports_of(path) & forbidden
        if hits and rel not in allowed:
            bad.append(f"{rel} imports {', '.join(sorted(hits))}")
    return bad


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("", "coach.x", set()),
        ("import streamlit as st", "coach.x", {"streamlit"}),
        ("from ui.pages import home", "coach.x", {"ui"}),
        ("import mediapipe.tasks.python as mpt", "coach.x", {"mediapipe"}),
        ("def f():\n    from exercises import get_exercise\n", "coach.x", {"exercises"}),
        ("from . import registry", "exercises.library", {"exercises"}),
        ("import importlib\nimportlib.import_module('mediapipe')", "coach.x", {"importlib", "mediapipe"}),
        ("__import__('streamlit')", "coach.x", {"streamlit"}),
        ("x = 'import streamlit'  # import ui", "coach.x", set()),
    ],
    ids=["empty", "import", "from", "dotted", "nested", "relative", "import_module", "__import__", "text"],
)
def test_imported_modules(source, module, expected):
    assert imported_modules(source, module) == expected


def test_the_packages_are_scanned():
    files = {p.relative_to(ROOT).as_posix() for p in python_files(*PACKAGES)}
    assert {"coach/engine/tracking.py", "coach/cli.py", "exercises/registry.py"} <= files
    assert "mediapipe" in imports_of(ROOT / "coach" / "engine" / "tracking.py")
    assert "exercises" in imports_of(ROOT / "coach" / "cli.py")


def test_the_engine_never_imports_the_ui():
    assert offenders(("coach",), {"streamlit", "ui"}) == []


def test_only_the_cli_imports_the_exercise_library():
    assert offenders(("coach",), {"exercises"}, allowed=("coach/cli.py",)) == []


def test_only_the_tracking_adapter_imports_mediapipe():
    assert offenders(PACKAGES, {"mediapipe"}, allowed=("coach/engine/tracking.py",)) == []


def test_the_exercise_library_never_imports_the_ui():
    assert offenders(("exercises",), {"streamlit", "ui"}) == []


def test_only_the_store_talks_to_the_database():
    store_files = tuple(p.relative_to(ROOT).as_posix() for p in python_files("coach/store"))
    assert offenders(PACKAGES, {"sqlalchemy", "alembic", "psycopg"}, allowed=store_files) == []


def test_live_video_plumbing_stays_in_the_ui():
    assert offenders(("coach", "exercises"), {"streamlit_webrtc", "av", "aiortc"}) == []


# coach's layers, lowest first; each may import only those before it (and coach.errors, coach.words).
LAYERS = ("engine", "sessions", "virtual", "live", "store")
SHARED = {"errors", "words"}


def coach_layers_in(source: str, module: str) -> set[str]:
    """The coach sub-packages (``engine``, ``store``…) a source imports, at any depth: absolute,
    relative (resolved against ``module``, the file's dotted name) or dynamic imports."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the file's package, ``level`` steps up
                package = module.split(".")[: -node.level]
                base = ".".join([*package, *([base] if base else [])])
            names = [base, *(f"{base}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                names = [arg.value]
        for name in names:
            parts = name.split(".")
            if parts[0] == "coach" and len(parts) > 1 and parts[1] in (*LAYERS, *SHARED):
                found.add(parts[1])
    return found


def coach_layers_imported(path: Path) -> set[str]:
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return coach_layers_in(path.read_text(encoding="utf-8"), module)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from coach.store.repo import Store", {"store"}),
        ("import coach.live.coach", {"live"}),
        ("from coach import store, words", {"store", "words"}),
        ("from ..store import repo", {"store"}),
        ("from .. import live", {"live"}),
        ("from . import reps", {"engine"}),
        ("import importlib\nimportlib.import_module('coach.virtual.phantom')", {"virtual"}),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from coach.sessions.plan import SessionPlan",
            {"sessions"},
        ),
        ("import numpy\nfrom coach.cli import main", set()),
    ],
    ids=[
        "absolute",
        "dotted",
        "from-coach",
        "relative-up",
        "relative-package",
        "relative-here",
        "dynamic",
        "type-checking",
        "other",
    ],
)
def test_coach_layers_in(source, expected):
    assert coach_layers_in(source, "coach.engine.analysis") == expected


def test_the_shared_helpers_import_no_layer():
    for name in SHARED:
        assert coach_layers_imported(ROOT / "coach" / f"{name}.py") <= SHARED, name


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_of_coach_imports_only_the_layers_below_it(layer):
    allowed = set(LAYERS[: LAYERS.index(layer) + 1]) | SHARED
    bad = [
        f"{path.relative_to(ROOT).as_posix()} imports coach.{', coach.'.join(sorted(hits))}"
        for path in python_files(f"coach/{layer}")
        if (hits := coach_layers_imported(path) - allowed)
    ]
    assert bad == []


def test_coach_is_made_of_its_layers():
    """Every module of coach is in a layer, or is the CLI or a shared helper: nothing flat is left."""
    top = {p.stem for p in (ROOT / "coach").glob("*.py")} - {"__init__", "__main__", "cli"}
    assert top <= SHARED
    assert {p.name for p in (ROOT / "coach").iterdir() if p.is_dir() and p.name != "__pycache__"} == set(LAYERS)


def test_the_layers_see_no_streamlit_and_the_sessions_no_records():
    assert offenders(("coach/engine", "coach/sessions"), {"streamlit", "ui", "sqlalchemy"}) == []
