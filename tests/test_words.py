"""Counts that agree with their nouns, in what patients read (issue 14: "1 times", "time(s)")."""

from __future__ import annotations

from coach.words import count, was_were


def test_counts_agree_with_their_nouns():
    assert count(1, "movement") == "1 movement" and count(2, "movement") == "2 movements"
    assert count(1, "time") == "1 time" and count(0, "time") == "0 times"
    assert count(3, "repetition", "repetitions") == "3 repetitions"
    assert was_were(1) == "was" and was_were(2) == "were"


def test_no_word_with_a_plural_in_brackets_is_left_for_people_to_read():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    found = [
        f"{p.relative_to(root)}:{i}"
        for folder in ("coach", "ui")
        for p in sorted((root / folder).rglob("*.py"))
        for i, line in enumerate(p.read_text().splitlines(), start=1)
        if ("movement(s)" in line or "time(s)" in line or "rep(s)" in line) and "%d rep(s)" not in line
    ]
    assert found == []
