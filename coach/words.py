"""Small helpers for the words people read (counts that agree with their nouns)."""

from __future__ import annotations


def count(n: int, one: str, many: str | None = None) -> str:
    """``n`` with its noun in the right number: "1 movement", "2 movements", "1 time", "3 times".

    Args:
        n: how many.
        one: the noun for one.
        many: the noun for several (default: ``one`` + "s").
    """
    return f"{n} {one if n == 1 else (many or one + 's')}"


def was_were(n: int) -> str:
    """The verb that agrees with ``n`` things: "was" or "were"."""
    return "was" if n == 1 else "were"
