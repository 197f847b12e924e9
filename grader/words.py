"""Counts in words, as a person writes them: "1 line", "3 lines", never a hedged "line(s)".

Imports nothing of the grader: every layer (outputs, record, course, commands, the engine) may use it.
"""
from __future__ import annotations


def counted(count: int, word: str, plural: str | None = None) -> str:
    """``count`` and ``word``, in the plural unless it is one: ``counted(1, "line")`` is "1 line"."""
    return f"{count} {word if count == 1 else plural or word + 's'}"
