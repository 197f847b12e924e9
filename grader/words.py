"""Closed sets of words that travel between modules: an option, a test's visibility, a result's scope.

A ``Word`` is an Enum whose members are their words: they compare equal to
that text and are written as it (``str``, ``format``, JSON, SQLite), so
records and files read the same as before; a word outside its set is a
``ValueError`` where it is made, never a silently different behaviour.
"""
from __future__ import annotations

from enum import Enum


class Word(str, Enum):
    """A member of a closed set of words (``Verdict`` is one too)."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return self.value.__format__(spec)


class Visibility(Word):
    """Who sees a test: a student copy keeps the public ones; Gradescope hides the hidden ones."""

    PUBLIC = "public"
    HIDDEN = "hidden"


class Scope(Word):
    """Which tests of an exercise ran: all, or only the public ones (a student copy)."""

    ALL = "all"
    PUBLIC = "public"
