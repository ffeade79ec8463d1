"""One rep's per-frame series, kept compactly for a therapist's drill-down.

A :class:`RepSeries` holds, for every frame of a scored rep (movement start to
early rest), the exercise's movement per side and the eye narrowing per side.
``to_bytes`` packs it small enough to store with every rep.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

_MAGIC = b"FCRS"
_VERSION = 1
# Inside the compressed body: step, index, frame count, first time (ms), then the
# two strings' lengths; then the strings, the time steps and the four value arrays.
_HEAD = struct.Struct("<HHIiBB")
_MAX_TEXT = 255
_ARRAYS = ("left", "right", "eye_left", "eye_right")


@dataclass(frozen=True, eq=False)
class RepSeries:
    """Per-frame series of one rep. Sides are anatomical.

    Attributes:
        exercise_id: the exercise's id.
        step: the exercise's place in the session plan (0-based).
        index: the rep number within the exercise (1-based).
        t_s: (n,) float32 frame times, seconds from the rep's start (its movement cue).
        left, right: (n,) float32 the exercise's movement per side, in ``unit``;
            NaN where the frame could not be measured.
        eye_left, eye_right: (n,) float32 eye narrowing per side, per cent of the
            resting opening; NaN where not measured (eyelids not tracked, or no face).
        unit: the movement's unit, ``"mm"`` or ``"%"``.
    """

    exercise_id: str
    step: int
    index: int
    t_s: np.ndarray
    left: np.ndarray
    right: np.ndarray
    eye_left: np.ndarray
    eye_right: np.ndarray
    unit: str

    def __post_init__(self) -> None:
        n = None
        for name in ("t_s", *_ARRAYS):
            arr = np.array(getattr(self, name), dtype=np.float32)
            if arr.ndim != 1:
                raise ValueError(f"{name}: expected shape (n,), got {arr.shape}")
            if n is None:
                n = arr.shape[0]
            elif arr.shape[0] != n:
                raise ValueError(f"{name}: expected shape ({n},) like t_s, got {arr.shape}")
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        for name in ("exercise_id", "unit"):
            if len(getattr(self, name).encode()) > _MAX_TEXT:
                raise ValueError(f"{name}: at most {_MAX_TEXT} bytes of UTF-8, got {getattr(self, name)!r}")
        if not 0 <= self.step <= 0xFFFF or not 0 <= self.index <= 0xFFFF:
            raise ValueError(f"step and index must be 0 to 65535, got step={self.step}, index={self.index}")

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RepSeries):
            return NotImplemented
        return (self.exercise_id, self.step, self.index, self.unit) == (
            other.exercise_id,
            other.step,
            other.index,
            other.unit,
        ) and all(np.array_equal(getattr(self, a), getattr(other, a), equal_nan=True) for a in ("t_s", *_ARRAYS))

    __hash__ = None  # type: ignore[assignment]

    @property
    def duration_s(self) -> float:
        """Time from the rep's start to its last frame, seconds (0 when empty)."""
        return float(self.t_s[-1]) if len(self) else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain lists (NaN as None), e.g. for a chart or JSON."""

        def col(a: np.ndarray, nd: int) -> list[float | None]:
            return [None if not np.isfinite(v) else round(float(v), nd) for v in a]

        return {
            "exercise": self.exercise_id,
            "step": self.step,
            "index": self.index,
            "unit": self.unit,
            "t_s": col(self.t_s, 3),
            **{a: col(getattr(self, a), 2) for a in _ARRAYS},
        }

    def to_bytes(self) -> bytes:
        """Pack compactly: times to the millisecond, values as float16, zlib-compressed.

        Times are stored as whole milliseconds (first time plus steps) and values
        as float16 (about 3 significant digits: 0.004 mm at 5 mm, 0.06 % at 100 %),
        so ``from_bytes(to_bytes(s))`` equals ``s`` to that precision and packs
        to the same bytes again. The two bytes of each float16 are stored in
        separate planes, which zlib compresses better.

        Size, measured on virtual-patient smile reps (108 frames, 758 bytes): about
        7 bytes a frame, so ~13 kB per minute of frames at 30 fps when the eyes are
        watched and ~6.5 kB when they are not (NaN columns pack to almost nothing).
        ``tests/test_live.py`` keeps it under 16 kB a minute.
        """
        n = len(self)
        t_ms = np.rint(self.t_s.astype(np.float64) * 1000.0).astype(np.int64)
        if n and (np.abs(t_ms).max() > 2**31 - 1):
            raise ValueError(f"t_s must be within ±{(2**31 - 1) / 1000:.0f} s, got {self.duration_s}")
        steps = np.diff(t_ms)
        if n and (steps.min(initial=0) < 0 or steps.max(initial=0) > 0xFFFF):
            raise ValueError("t_s must be increasing with steps under 65.5 s")
        eid, unit = self.exercise_id.encode(), self.unit.encode()
        head = _HEAD.pack(self.step, self.index, n, int(t_ms[0]) if n else 0, len(eid), len(unit))
        planes = [steps.astype("<u2").view(np.uint8).reshape(-1, 2).T]
        planes += [getattr(self, a).astype("<f2").view(np.uint8).reshape(-1, 2).T for a in _ARRAYS]
        body = head + eid + unit + b"".join(np.ascontiguousarray(p).tobytes() for p in planes)
        return _MAGIC + bytes([_VERSION]) + zlib.compress(body, 9)

    @classmethod
    def from_bytes(cls, data: bytes) -> RepSeries:
        """Unpack :meth:`to_bytes` output.

        Raises:
            ValueError: the bytes are not a packed rep series, or are damaged.
        """
        data = bytes(data)
        if len(data) < len(_MAGIC) + 1 or data[: len(_MAGIC)] != _MAGIC:
            raise ValueError(f"not a packed rep series: expected it to start with {_MAGIC!r}, got {data[:4]!r}")
        version = data[len(_MAGIC)]
        if version != _VERSION:
            raise ValueError(f"packed rep series version {version} is not supported (expected {_VERSION})")
        try:
            body = zlib.decompress(data[len(_MAGIC) + 1 :])
        except zlib.error as err:
            raise ValueError(f"packed rep series is damaged: {err}") from err
        if len(body) < _HEAD.size:
            raise ValueError(f"packed rep series is damaged: header needs {_HEAD.size} bytes, got {len(body)}")
        step, index, n, t0_ms, n_eid, n_unit = _HEAD.unpack_from(body)
        expected = _HEAD.size + n_eid + n_unit + 2 * max(0, n - 1) + 4 * 2 * n
        if len(body) != expected:
            raise ValueError(f"packed rep series is damaged: expected {expected} bytes for {n} frames, got {len(body)}")
        pos = _HEAD.size
        try:
            eid = body[pos : pos + n_eid].decode()
            unit = body[pos + n_eid : pos + n_eid + n_unit].decode()
        except UnicodeDecodeError as err:
            raise ValueError(f"packed rep series is damaged: {err}") from err
        pos += n_eid + n_unit

        def planes(count: int, dtype: str) -> np.ndarray:
            nonlocal pos
            raw = np.frombuffer(body, np.uint8, 2 * count, pos).reshape(2, count).T
            pos += 2 * count
            return np.ascontiguousarray(raw).view(dtype).reshape(count)

        steps = planes(max(0, n - 1), "<u2").astype(np.int64)
        t_ms = t0_ms + np.concatenate([[0], np.cumsum(steps)]) if n else np.zeros(0, np.int64)
        values = {a: planes(n, "<f2").astype(np.float32) for a in _ARRAYS}
        return cls(eid, step, index, (t_ms / 1000.0).astype(np.float32), unit=unit, **values)
