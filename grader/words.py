"""Words that travel between modules, and counts written as a person writes them.

- ``Word``: a closed set of words (an option, a test's visibility, a result's
  scope). Its members are their words: they compare equal to that text and
  are written as it (``str``, ``format``, JSON, SQLite), so records and files
  read the same as before; a word outside its set is a ``ValueError`` where it
  is made, never a silently different behaviour.
- ``counted``: "1 line", "3 lines", never a hedged "line(s)".

Imports nothing of the grader: every layer (outputs, record, course, commands, the engine) may use it.
"""
from __future__ import annotations

from enum import Enum


class Word(str, Enum):
    """A member of a closed set of words (``Verdict`` is one too)."""

    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, spec: str) -> str:
        return str.__format__(self, spec)


class Visibility(Word):
    """Who sees a test: a student copy keeps the public ones; Gradescope hides the hidden ones."""

    PUBLIC = "public"
    HIDDEN = "hidden"


class Scope(Word):
    """Which tests of an exercise ran: all, or only the public ones (a student copy)."""

    ALL = "all"
    PUBLIC = "public"


def counted(count: int, word: str, plural: str | None = None) -> str:
    """``count`` and ``word``, in the plural unless it is one: ``counted(1, "line")`` is "1 line"."""
    return f"{count} {word if count == 1 else plural or word + 's'}"
