"""What ``course.toml`` may hold: one table of keys per level of the file, each key with the reader of its value.

A key not in its table is a typo, reported with the nearest valid name; a
value its reader refuses is reported with what it must be (``CourseError``,
in plain words, naming the place). A new setting is one line in the table of
its level (and a field of the record it ends up in, ``catalogue``).
"""
from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from grader.course.forbidden import KINDS
from grader.errors import Failure, UserError
from grader.inert import shortened
from grader.sandbox.limits import WARMABLE, Limits
from grader.words import Visibility, Word


class CourseError(UserError):
    """The course declaration is missing or malformed (a user-facing error)."""

    failure = Failure.COURSE


VISIBILITIES = tuple(v.value for v in Visibility)
GRADESCOPE_VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
# What a failing hidden test shows: "diagnosis" (what is wrong, no expected
# values: the inputs are the same at every submission) or "values" (tables too).
HIDDEN_REVEALS = ("diagnosis", "values")


class _Refused(Exception):
    """A value that does not fit its key: the message completes "<where> has <key> <value>, which ...",
    or, given as ``sentence``, "<where> ..." on its own."""

    def __init__(self, message: str = "", *, sentence: str = "") -> None:
        super().__init__(message)
        self.sentence = sentence


@dataclass(frozen=True)
class Key:
    """A key course.toml may hold at some level: how its value is read, whether it must be there."""

    read: Callable[[Any, str], Any]  # (value, where it is) -> the value as the catalogue keeps it
    required: bool = False
    # Kept in a student copy's course.toml (grade release); what is not may show
    # solution code (a mistake's edit) or mean nothing there (a solution path).
    copied: bool = False
    # For a key holding a table (or a list of them): that table's keys, for suggestions.
    keys: Mapping[str, "Key"] | None = None


_KINDS = {str: "a string", bool: "true or false", int: "a whole number", float: "a decimal number", list: "a list",
          dict: "a table"}


def _kind(value: Any) -> str:
    return next((name for kind, name in _KINDS.items() if type(value) is kind), type(value).__name__)


def _string(value: Any, _where: str) -> str:
    if not isinstance(value, str):
        raise _Refused(f"must be a string, not {_kind(value)}")
    return value


def _integer(value: Any, _where: str) -> int:
    if type(value) is not int:
        raise _Refused(f"must be a whole number, not {_kind(value)}")
    return value


def _number(value: Any, _where: str) -> float:
    if type(value) not in (int, float):
        raise _Refused(f"must be a number, not {_kind(value)}")
    return float(value)


def _positive(read: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    def positive(value: Any, where: str) -> Any:
        value = read(value, where)
        if not value > 0:
            raise _Refused("must be more than 0")
        return value
    return positive


def _at_least_zero(value: Any, where: str) -> float:
    number = _number(value, where)
    if not number >= 0:
        raise _Refused("must be 0 or more")
    return number


def _one_of(choices: tuple[str, ...]) -> Callable[[Any, str], str]:
    def one_of(value: Any, where: str) -> str:
        chosen = _string(value, where)
        if chosen not in choices:
            raise _Refused(f"must be one of {', '.join(map(repr, choices))}{_did_you_mean(chosen, choices)}")
        return chosen
    return one_of


def _word(words: type[Word]) -> Callable[[Any, str], Word]:
    """A key whose value is one of a closed set of words (``grader.words``), kept as its member."""
    choices = tuple(w.value for w in words)

    def word(value: Any, where: str) -> Word:
        return words(_one_of(choices)(value, where))
    return word


def _needs(value: Any, _where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Refused(f"must be a list of strings, not {_kind(value)}")
    for feature in value:
        if feature not in WARMABLE:
            raise _Refused(sentence=f"needs {feature!r}, which the sandbox cannot warm"
                                    f"{_did_you_mean(feature, WARMABLE)} (it can warm: {', '.join(WARMABLE)})")
    return tuple(value)


def _requirements(value: Any, _where: str) -> tuple[str, ...]:
    """pip requirement strings (``"matplotlib>=3.7"``); never an option (``--index-url``),
    which setup.sh would hand to pip as one."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Refused(f"must be a list of strings, not {_kind(value)}")
    for requirement in value:
        if not _is_requirement(requirement):
            raise _Refused(sentence=f"requirement {requirement!r} is not a package name with an optional version "
                                    "(write it as pip does: \"matplotlib>=3.7\")")
    return tuple(v.strip() for v in value)


def _is_requirement(text: str) -> bool:
    """A requirement as pip reads one (PEP 508, ``packaging``'s parser), on one line: never an option."""
    if "\n" in text or "\r" in text or text.strip().startswith("-"):
        return False
    try:
        Requirement(text.strip())
    except InvalidRequirement:
        return False
    return True


def _student_files(value: Any, _where: str) -> tuple[str, ...]:
    """Paths inside the course folder, written relative to it with /: a copy
    of the course holds them at the same place."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _Refused(f"must be a list of paths, not {_kind(value)}")
    for path in value:
        parts = path.split("/")
        if path.startswith("/") or "\\" in path or any(part in ("", ".", "..") for part in parts):
            raise _Refused(sentence=f"student file {path!r} must be a path inside the course folder, written "
                                    "relative to it with / (\"exercises/iris.csv\")")
    return tuple(value)


def _names(value: Any, _where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise _Refused("must be a list of one or more names")
    return tuple(value)


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


TOP = "the file"  # where the top-level keys are


def _table(keys: Mapping[str, Key], name: str) -> Key:
    """A key holding a sub-table, e.g. ``limits``: read with its own keys."""
    def table(value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _Refused(f"must be a table, not {_kind(value)}")
        inside = (f"[{name}]" if where == TOP else f"{where[:-1]}.{name}]" if where.startswith("[")
                  else f"{where} [{name}]")  # [course], [course.limits], exercise 'exercise1' [limits]
        return read_keys(value, keys, inside)
    return Key(table, keys=keys)


def _tables(keys: Mapping[str, Key], noun: str) -> Key:
    """A key holding a list of tables (``[[exercises]]``), each named by its ``id`` where it has one."""
    def tables(value: Any, where: str) -> tuple[dict[str, Any], ...]:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise _Refused(f"must be a list of tables ([[...]]), not {_kind(value)}")
        read = []
        for number, item in enumerate(value, 1):
            name = f"{noun} {item['id']!r}" if isinstance(item.get("id"), str) else f"{noun} #{number}"
            read.append(read_keys(item, keys, name if where == TOP else f"{where}, {name}"))
        return tuple(read)
    return Key(tables, keys=keys)


def read_keys(table: dict[str, Any], keys: Mapping[str, Key], where: str) -> dict[str, Any]:
    """The keys of ``table`` read by ``keys``; a ``CourseError`` naming the
    place (``where``), the key and the nearest valid name otherwise."""
    for key in table:
        if key not in keys:
            raise CourseError(f"{where} has no key {key!r}{_nearest_key(key, keys)}")
    missing = [key for key, spec in keys.items() if spec.required and key not in table]
    if missing:
        raise CourseError(f"{where} has no {' and no '.join(map(repr, missing))}, which it must have")
    read = {}
    for key, value in table.items():
        try:
            read[key] = keys[key].read(value, where)
        except _Refused as refused:
            raise CourseError(f"{where} {refused.sentence}" if refused.sentence
                              else f"{where} has {key} {_shown(value)}, which {refused}") from None
    return read


def _nearest_key(key: str, keys: Mapping[str, Key]) -> str:
    """"; did you mean 'x'?" from this level's keys, else from its sub-tables'
    (as a dotted key, which TOML accepts where the typo is: limits.timeout_s)."""
    found = _did_you_mean(key, keys)
    if found:
        return found
    dotted = {f"{name}.{sub}": sub for name, spec in keys.items() if spec.keys
              for sub in spec.keys}
    close = difflib.get_close_matches(key, list(dotted.values()), n=1, cutoff=0.6)
    if close:
        return f"; did you mean {next(d for d, sub in dotted.items() if sub == close[0])!r}?"
    return f" (it may have: {', '.join(keys)})"


def _shown(value: Any) -> str:
    return shortened(repr(value), 60, mark="...")


LIMIT_KEYS: dict[str, Key] = {
    field.name: Key(_positive(_number if field.type == "float" else _integer)) for field in fields(Limits)
}
MISTAKE_KEYS: dict[str, Key] = {
    "id": Key(_string, required=True, copied=True),
    "title": Key(_string, copied=True),
    "hint": Key(_string, required=True, copied=True),
    "find": Key(_string),  # not in a student copy: the edit would show solution code
    "replace": Key(_string),
}
FORBID_KEYS: dict[str, Key] = {
    "uses": Key(_one_of(tuple(KINDS)), required=True, copied=True),
    "functions": Key(_names, required=True, copied=True),  # "name", "Class" or "Class.method"
    "why": Key(_string, required=True, copied=True),  # what a student reads when the rule is broken
    # What the course adds to the rule's allow-list ("torch.nn.functional.relu", ".grad"), and libraries
    # its files may import besides the standard library's: grader/course/by_hand.py.
    "allow": Key(_names, copied=True),
    "libraries": Key(_names, copied=True),
    "find": Key(_string),  # a mutant for grade verify that breaks the rule: not in a student copy
    "replace": Key(_string),
}
EXERCISE_KEYS: dict[str, Key] = {
    "id": Key(_string, required=True, copied=True),
    "title": Key(_string, required=True, copied=True),
    # Optional: the suite's markers decide; this is checked against them (a student copy states it).
    "points": Key(_at_least_zero, copied=True),
    "stub": Key(_string, required=True, copied=True),
    "suite": Key(_string, required=True, copied=True),
    "solution": Key(_string),  # not in a student copy
    "visibility": Key(_word(Visibility), copied=True),
    "rtol": Key(_at_least_zero, copied=True),
    "atol": Key(_at_least_zero, copied=True),
    "needs": Key(_needs, copied=True),
    "gradescope_hidden_visibility": Key(_one_of(GRADESCOPE_VISIBILITIES)),
    "hidden_reveals": Key(_one_of(HIDDEN_REVEALS), copied=True),
    "limits": _table(LIMIT_KEYS, "limits"),  # copied as a table by grade release
    "mistakes": _tables(MISTAKE_KEYS, "mistake"),  # likewise
    "forbid": _tables(FORBID_KEYS, "forbid rule"),  # likewise
}
COURSE_KEYS: dict[str, Key] = {
    "title": Key(_string, copied=True),
    "seed": Key(_integer, copied=True),  # the public tests' inputs at home (a student copy records its answers)
    "grading_seed": Key(_integer),  # instructor grading's inputs: never copied into a student copy
    "recordings": Key(_string),  # a student copy's recorded reference values (written by grade release)
    "hidden_reveals": Key(_one_of(HIDDEN_REVEALS), copied=True),  # every exercise's, unless it says
    "limits": _table(LIMIT_KEYS, "limits"),  # copied as a table by grade release
    # Packages the exercises may import (pip requirement strings): setup.sh and the student copy install them.
    "requirements": Key(_requirements, copied=True),
    # Files students work with besides the stubs (a data set): grade release ships them beside the stubs.
    "student_files": Key(_student_files, copied=True),
}
FILE_KEYS: dict[str, Key] = {
    "course": _table(COURSE_KEYS, "course"),
    "exercises": _tables(EXERCISE_KEYS, "exercise"),
}
