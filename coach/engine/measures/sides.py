"""A pair of values, one per anatomical side."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class PerSide(Generic[T]):
    """One value for the patient's left and one for the patient's right."""

    left: T
    right: T

    def __getitem__(self, side: str) -> T:
        if side == "left":
            return self.left
        if side == "right":
            return self.right
        raise KeyError(f"side must be 'left' or 'right', got {side!r}")

    def as_dict(self) -> dict[str, T]:
        return {"left": self.left, "right": self.right}


def other_side(side: str) -> str:
    """The opposite side."""
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    return "right" if side == "left" else "left"
