"""The exercise catalogue: every exercise is declared once, in ``course.toml``.

The CLI, the runner, ``verify``, batch grading and the reports discover
exercises from here; adding an exercise means adding its files and one
``[[exercises]]`` block, never engine code.
"""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from grader.course.forbidden import ForbidRule
from grader.course.suite_points import Uncountable, count_points
from grader.course.course_keys import (COURSE_KEYS, EXERCISE_KEYS, FILE_KEYS, FORBID_KEYS, GRADESCOPE_VISIBILITIES,
                                       HIDDEN_REVEALS, MISTAKE_KEYS, TOP, VISIBILITIES, CourseError, read_keys)
from grader.sandbox.limits import WARMABLE_LIBRARIES, Limits
from grader.words import Visibility

COURSE_FILE = "course.toml"

__all__ = ["COURSE_FILE", "COURSE_KEYS", "DEFAULTS", "EXERCISE_KEYS", "FORBID_KEYS", "GRADESCOPE_VISIBILITIES",
           "HIDDEN_REVEALS", "MISTAKE_KEYS", "VISIBILITIES", "Course", "CourseDefaults", "CourseError",
           "ExerciseSpec", "MistakeSpec", "find_course_root", "load_course"]  # what course.toml holds, named here too


@dataclass(frozen=True)
class CourseDefaults:
    """What an exercise gets for every setting course.toml leaves out: written
    here only (the catalogue, the CLI's help and the records below read it)."""

    seed: int = 0
    # Tolerances of every comparison with the reference (torch.isclose's).
    rtol: float = 1e-4
    atol: float = 1e-5
    # For tests without a @pytest.mark.public/hidden marker.
    visibility: Visibility = Visibility.HIDDEN
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
    visibility: Visibility = DEFAULTS.visibility
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
        return _course(root, read_keys(data, FILE_KEYS, TOP))
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
