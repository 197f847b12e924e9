"""The exercise catalogue: every exercise is declared once, in ``course.toml``.

The CLI, the runner, ``verify``, batch grading and the reports discover
exercises from here; adding an exercise means adding its files and one
``[[exercises]]`` block, never engine code.
"""
from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from grader.course.forbidden import KINDS, ForbidRule
from grader.course.suite_points import Uncountable, count_points
from grader.errors import Failure, UserError
from grader.sandbox.limits import WARMABLE, WARMABLE_LIBRARIES, Limits

COURSE_FILE = "course.toml"


class CourseError(UserError):
    """The course declaration is missing or malformed (a user-facing error)."""

    failure = Failure.COURSE


VISIBILITIES = ("public", "hidden")
GRADESCOPE_VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
# What a failing hidden test shows: "diagnosis" (what is wrong, no expected
# values: the inputs are the same at every submission) or "values" (tables too).
HIDDEN_REVEALS = ("diagnosis", "values")


@dataclass(frozen=True)
class CourseDefaults:
    """What an exercise gets for every setting course.toml leaves out: written
    here only (the catalogue, the CLI's help and the records below read it)."""

    seed: int = 0
    # Tolerances of every comparison with the reference (torch.isclose's).
    rtol: float = 1e-4
    atol: float = 1e-5
    # For tests without a @pytest.mark.public/hidden marker.
    visibility: str = "hidden"
    # When Gradescope shows students an exercise's hidden tests.
    gradescope_hidden_visibility: str = "after_published"
    # What a failing hidden test shows ([course] or an exercise's hidden_reveals).
    hidden_reveals: str = "diagnosis"
    # Time, memory and the rest, per exercise: [course.limits] replaces these,
    # an exercise's [exercises.limits] replaces those.
    limits: Limits = Limits()


DEFAULTS = CourseDefaults()


@dataclass(frozen=True)
class MistakeSpec:
    """A known mistake: a one-place edit of the solution, and the hint it earns.

    The mutant (solution with ``find`` replaced by ``replace``) is both a test
    fixture for ``grade verify`` and the detector for the hint: a submission
    whose answer matches the mutant's, where the reference differs, gets it.
    """

    id: str
    hint: str
    # Absent in a student copy of the course: the edit would show solution code.
    find: str = ""
    replace: str = ""
    title: str = ""


@dataclass(frozen=True)
class ExerciseSpec:
    id: str
    title: str
    # The total of its suite's @pytest.mark.points markers (course.toml's
    # `points`, if written, must agree; a student copy states it there).
    points: float
    stub: Path
    solution: Path
    suite: Path
    mistakes: tuple[MistakeSpec, ...]
    limits: Limits = DEFAULTS.limits
    rtol: float = DEFAULTS.rtol
    atol: float = DEFAULTS.atol
    # Warm-ups the sandbox needs, e.g. ("optim",): built once in the zygote.
    needs: tuple[str, ...] = ()
    # "public" or "hidden": for tests without a @pytest.mark.public/hidden marker.
    visibility: str = DEFAULTS.visibility
    # When Gradescope shows students this exercise's hidden tests (public ones are "visible").
    gradescope_hidden_visibility: str = DEFAULTS.gradescope_hidden_visibility
    # What the exercise's functions must not use ([[exercises.forbid]]), read from the source.
    forbid: tuple[ForbidRule, ...] = ()
    # What a failing hidden test shows: see HIDDEN_REVEALS.
    hidden_reveals: str = DEFAULTS.hidden_reveals

    @property
    def filename(self) -> str:
        """The file a student submits for this exercise, e.g. ``exercise3.py``."""
        return f"{self.id}.py"

    def mutant_source(self, mistake: MistakeSpec | ForbidRule, solution: str | None = None) -> str:
        """The solution with the mistake's (or a forbid rule's) one edit;
        ``solution``: its text as already read (the grader reads a solution
        once per run)."""
        source = self.solution.read_text(encoding="utf-8") if solution is None else solution
        count = source.count(mistake.find) if mistake.find else 0
        if count != 1:
            label = (f"mistake {mistake.id!r}" if isinstance(mistake, MistakeSpec)
                     else f"the forbid rule on {mistake.uses}")
            raise CourseError(
                f"{self.id}: {label} must find its text exactly once "
                f"in {self.solution.name}, found it {count} times"
            )
        return source.replace(mistake.find, mistake.replace)

    def mistake(self, mistake_id: str) -> MistakeSpec:
        for mistake in self.mistakes:
            if mistake.id == mistake_id:
                return mistake
        raise KeyError(mistake_id)


@dataclass(frozen=True)
class Course:
    root: Path
    title: str
    exercises: tuple[ExerciseSpec, ...]
    seed: int = DEFAULTS.seed
    # The seed instructor grading draws its inputs from (never copied into a student copy, whose
    # recordings answer the public tests at ``seed`` only). None: each class record draws a
    # secret one and the Gradescope package derives one from what only it holds.
    grading_seed: int | None = None
    # Where reference values come from: None for the live solutions/ modules,
    # or a folder of recorded values (a student copy of the course, which
    # then holds only public tests).
    recordings: Path | None = None
    # Extra packages the exercises may import (pip requirement strings), installed with the grader.
    requirements: tuple[str, ...] = ()
    # Files students work with besides the stubs (a data set), relative to the root; grade release ships them.
    student_files: tuple[str, ...] = ()

    @property
    def warm_libraries(self) -> tuple[str, ...]:
        """The declared requirements the zygote imports before it forks (``WARMABLE_LIBRARIES``)."""
        names = {re.split(r"[\[<>=!~;@ ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in self.requirements}
        return tuple(sorted(n for n in names if n in WARMABLE_LIBRARIES))

    @property
    def is_student_copy(self) -> bool:
        """A copy made by ``grade release``: recorded references, public tests only."""
        return self.recordings is not None

    def exercise(self, exercise_id: str) -> ExerciseSpec:
        for spec in self.exercises:
            if spec.id == exercise_id:
                return spec
        known = ", ".join(s.id for s in self.exercises)
        raise CourseError(f"no exercise named {exercise_id!r} (this course has: {known})")

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.exercises)

    @property
    def hidden_visibility(self) -> dict[str, str]:
        """When Gradescope shows each exercise's hidden tests, by exercise id."""
        return {s.id: s.gradescope_hidden_visibility for s in self.exercises}


def find_course_root(start: Path | None = None) -> Path:
    """The course folder: $TORCHGRADE_COURSE, else the nearest folder up from
    ``start`` (default: the working directory) holding ``course.toml``."""
    env = os.environ.get("TORCHGRADE_COURSE")
    if env:
        root = Path(env)
        if not (root / COURSE_FILE).is_file():
            raise CourseError(f"TORCHGRADE_COURSE={env} holds no {COURSE_FILE}")
        return root.resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / COURSE_FILE).is_file():
            return folder
    raise CourseError(
        f"no {COURSE_FILE} found in {here} or above: run grade inside the course "
        "folder, or pass --course PATH"
    )


# -- what course.toml may hold ---------------------------------------------------------
#
# One table of keys per level of the file, each key with the reader of its
# value: a key not in its table is a typo, reported with the nearest valid
# name; a value its reader refuses is reported with what it must be. A new
# setting is one line in the table of its level (and a field of the record
# it ends up in).

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


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _Refused(f"must be a string, not {_kind(value)}")
    return value


def _integer(value: Any, where: str) -> int:
    if type(value) is not int:
        raise _Refused(f"must be a whole number, not {_kind(value)}")
    return value


def _number(value: Any, where: str) -> float:
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
    value = _number(value, where)
    if not value >= 0:
        raise _Refused("must be 0 or more")
    return value


def _one_of(choices: tuple[str, ...]) -> Callable[[Any, str], str]:
    def one_of(value: Any, where: str) -> str:
        if _string(value, where) not in choices:
            raise _Refused(f"must be one of {', '.join(map(repr, choices))}{_did_you_mean(value, choices)}")
        return value
    return one_of


def _needs(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Refused(f"must be a list of strings, not {_kind(value)}")
    for feature in value:
        if feature not in WARMABLE:
            raise _Refused(sentence=f"needs {feature!r}, which the sandbox cannot warm"
                                    f"{_did_you_mean(feature, WARMABLE)} (it can warm: {', '.join(WARMABLE)})")
    return tuple(value)


_REQUIREMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?\s*([<>=!~;@ ].*)?")


def _requirements(value: Any, where: str) -> tuple[str, ...]:
    """pip requirement strings (``"matplotlib>=3.7"``); never an option (``--index-url``),
    which setup.sh would hand to pip as one."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Refused(f"must be a list of strings, not {_kind(value)}")
    for requirement in value:
        if not _REQUIREMENT.fullmatch(requirement.strip()) or "\n" in requirement:
            raise _Refused(sentence=f"requirement {requirement!r} is not a package name with an optional version "
                                    "(write it as pip does: \"matplotlib>=3.7\")")
    return tuple(v.strip() for v in value)


def _student_files(value: Any, where: str) -> tuple[str, ...]:
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


def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise _Refused("must be a list of one or more names")
    return tuple(value)


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


_TOP = "the file"  # where the top-level keys are


def _table(keys: Mapping[str, Key], name: str) -> Key:
    """A key holding a sub-table, e.g. ``limits``: read with its own keys."""
    def table(value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _Refused(f"must be a table, not {_kind(value)}")
        inside = (f"[{name}]" if where == _TOP else f"{where[:-1]}.{name}]" if where.startswith("[")
                  else f"{where} [{name}]")  # [course], [course.limits], exercise 'exercise1' [limits]
        return _read(value, keys, inside)
    return Key(table, keys=keys)


def _tables(keys: Mapping[str, Key], noun: str) -> Key:
    """A key holding a list of tables (``[[exercises]]``), each named by its ``id`` where it has one."""
    def tables(value: Any, where: str) -> tuple[dict[str, Any], ...]:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise _Refused(f"must be a list of tables ([[...]]), not {_kind(value)}")
        read = []
        for number, item in enumerate(value, 1):
            name = f"{noun} {item['id']!r}" if isinstance(item.get("id"), str) else f"{noun} #{number}"
            read.append(_read(item, keys, name if where == _TOP else f"{where}, {name}"))
        return tuple(read)
    return Key(tables, keys=keys)


def _read(table: dict[str, Any], keys: Mapping[str, Key], where: str) -> dict[str, Any]:
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
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
    "visibility": Key(_one_of(VISIBILITIES), copied=True),
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


# -- loading ---------------------------------------------------------------------------

def load_course(root: Path | None = None) -> Course:
    """The course declared in ``root/course.toml`` (default: ``find_course_root()``),
    checked: a ``CourseError`` says what is wrong, where, in plain words."""
    root = (root or find_course_root()).resolve()
    path = root / COURSE_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CourseError(f"{path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise CourseError(f"{path} is not valid TOML: {error}") from None
    try:
        return _course(root, _read(data, FILE_KEYS, _TOP))
    except CourseError as error:
        raise CourseError(f"{path}: {error}") from None


def _course(root: Path, data: dict[str, Any]) -> Course:
    course = data.get("course", {})
    recordings = root / course["recordings"] if "recordings" in course else None
    limits = replace(DEFAULTS.limits, **course.get("limits", {}))
    reveals = course.get("hidden_reveals", DEFAULTS.hidden_reveals)
    exercises = tuple(_exercise(root, {"hidden_reveals": reveals, **raw}, limits, student_copy=recordings is not None)
                      for raw in data.get("exercises", ()))
    ids = [e.id for e in exercises]
    if len(set(ids)) != len(ids):
        raise CourseError(f"exercise ids must be unique, got {ids}")
    # A mistake's id names its mutant in grade verify's release runs and its file in reports: one per course.
    owners: dict[str, str] = {}
    for exercise in exercises:
        for mistake in exercise.mistakes:
            if mistake.id in owners:
                raise CourseError(f"exercise {exercise.id!r}: mistake id {mistake.id!r} is also a mistake of "
                                  f"{owners[mistake.id]!r}; mistake ids must be unique across the course")
            owners[mistake.id] = exercise.id
    return Course(**{**_as_read(course, Course), "root": root, "title": course.get("title", root.name),
                     "exercises": exercises, "recordings": recordings})


def _exercise(root: Path, raw: dict[str, Any], course_limits: Limits, *, student_copy: bool) -> ExerciseSpec:
    where = f"exercise {raw['id']!r}"
    mistake_ids = [m["id"] for m in raw.get("mistakes", ())]
    if len(set(mistake_ids)) != len(mistake_ids):
        raise CourseError(f"{where}: mistake ids must be unique, got {mistake_ids}")
    suite = root / raw["suite"]
    return ExerciseSpec(**{
        **_as_read(raw, ExerciseSpec),
        "stub": root / raw["stub"], "suite": suite,
        "solution": root / raw.get("solution", "solutions-not-in-this-copy"),
        "points": _points(raw.get("points"), suite, where, student_copy=student_copy),
        "mistakes": tuple(MistakeSpec(**m) for m in raw.get("mistakes", ())),
        "forbid": tuple(ForbidRule(**rule) for rule in raw.get("forbid", ())),
        "limits": replace(course_limits, **raw.get("limits", {})),
    })


def _as_read(table: dict[str, Any], record: type) -> dict[str, Any]:
    """The keys of ``table`` that are fields of ``record``, as read: a setting
    left out takes the record's default (``DEFAULTS``); the caller replaces
    the ones that need more than reading (paths, points, limits)."""
    names = {field.name for field in fields(record)}
    return {key: value for key, value in table.items() if key in names}


def _points(declared: float | None, suite: Path, where: str, *, student_copy: bool) -> float:
    """An exercise's points: what its suite's markers add up to, which a
    ``points`` in course.toml must equal. A student copy's suite keeps only
    the public tests, so its course.toml states the course's total instead."""
    if student_copy:
        if declared is None:
            raise CourseError(f"{where} has no points, which a student copy states for each exercise")
        return declared
    try:
        counted = count_points(suite.read_text(encoding="utf-8"), filename=str(suite))
    except (OSError, UnicodeDecodeError, SyntaxError):
        # A suite that is missing or broken: grading and `grade verify` say so.
        return 0.0 if declared is None else declared
    except Uncountable as why:
        if declared is None:
            raise CourseError(f"{where}: the points of {suite.name} cannot be counted without running it ({why}); "
                              "write the exercise's total as points = N") from None
        return declared  # `grade verify` checks it against the tests that ran
    if declared is not None and declared != counted:
        raise CourseError(f"{where} has points {declared:g}, but the @pytest.mark.points markers of {suite.name} "
                          f"add up to {counted:g}: the markers decide each test's points, so correct points "
                          "(or leave it out)")
    return counted
