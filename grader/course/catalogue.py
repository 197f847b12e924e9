"""The exercise catalogue: every exercise is declared once, in ``course.toml``.

The CLI, the runner, ``verify``, batch grading and the reports discover
exercises from here; adding an exercise means adding its files and one
``[[exercises]]`` block, never engine code.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from grader.course.forbidden import KINDS, ForbidRule
from grader.sandbox.limits import Limits

COURSE_FILE = "course.toml"


class CourseError(Exception):
    """The course declaration is missing or malformed (a user-facing error)."""


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
    points: float
    stub: Path
    solution: Path
    suite: Path
    mistakes: tuple[MistakeSpec, ...]
    limits: Limits
    rtol: float = 1e-4
    atol: float = 1e-5
    # Warm-ups the sandbox needs, e.g. ("optim",): built once in the zygote.
    needs: tuple[str, ...] = ()
    # "public" or "hidden": for tests without a @pytest.mark.public/hidden marker.
    visibility: str = "hidden"
    # When Gradescope shows students this exercise's hidden tests (public ones are "visible").
    gradescope_hidden_visibility: str = "after_published"
    # What the exercise's functions must not use ([[exercises.forbid]]), read from the source.
    forbid: tuple[ForbidRule, ...] = ()
    # What a failing hidden test shows: "diagnosis" (what is wrong, no expected
    # values: the inputs are the same at every submission) or "values" (tables too).
    hidden_reveals: str = "diagnosis"

    @property
    def filename(self) -> str:
        """The file a student submits for this exercise, e.g. ``exercise3.py``."""
        return f"{self.id}.py"

    def mutant_source(self, mistake: MistakeSpec | ForbidRule) -> str:
        """The solution with the mistake's (or a forbid rule's) one edit."""
        source = self.solution.read_text(encoding="utf-8")
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
    seed: int
    exercises: tuple[ExerciseSpec, ...]
    # Where reference values come from: None for the live solutions/ modules,
    # or a folder of recorded values (a student copy of the course, which
    # then holds only public tests).
    recordings: Path | None = None

    @property
    def public_only(self) -> bool:
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


def load_course(root: Path | None = None) -> Course:
    root = (root or find_course_root()).resolve()
    path = root / COURSE_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CourseError(f"{path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise CourseError(f"{path} is not valid TOML: {error}") from None
    course = data.get("course", {})
    default_limits = Limits.from_plain(course.get("limits", {}))
    reveals = _hidden_reveals(course.get("hidden_reveals", "diagnosis"), "[course]")
    exercises = tuple(_exercise(root, raw, default_limits, reveals) for raw in data.get("exercises", []))
    ids = [e.id for e in exercises]
    if len(set(ids)) != len(ids):
        raise CourseError(f"{path}: exercise ids must be unique, got {ids}")
    recordings = course.get("recordings")
    return Course(root=root, title=course.get("title", root.name), seed=int(course.get("seed", 0)),
                  exercises=exercises, recordings=root / recordings if recordings else None)


def _visibility(value: str, exercise_id: str) -> str:
    if value not in ("public", "hidden"):
        raise CourseError(f"course.toml: exercise {exercise_id!r} has visibility {value!r}; use 'public' or 'hidden'")
    return value


GRADESCOPE_VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


def _gradescope_visibility(value: str, exercise_id: str) -> str:
    if value not in GRADESCOPE_VISIBILITIES:
        raise CourseError(f"course.toml: exercise {exercise_id!r} has gradescope_hidden_visibility {value!r}; "
                          f"use one of {', '.join(map(repr, GRADESCOPE_VISIBILITIES))}")
    return value


HIDDEN_REVEALS = ("diagnosis", "values")


def _hidden_reveals(value: object, where: str) -> str:
    if value not in HIDDEN_REVEALS:
        raise CourseError(f"course.toml: {where} has hidden_reveals {value!r}; use 'diagnosis' (what is wrong, "
                          "without the expected values) or 'values' (the expected values too)")
    return value


def _forbid_rules(raw: object, exercise_id: str) -> tuple[ForbidRule, ...]:
    """``[[exercises.forbid]]``: ``uses`` (one of KINDS), ``functions`` (names the
    exercise asks for), ``why`` (shown to the student), and for ``grade verify``
    a mutant ``find``/``replace`` of the solution that uses it."""
    where = f"course.toml: exercise {exercise_id!r}: [[exercises.forbid]]"
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise CourseError(f"{where} must be a list of tables")
    rules = []
    for rule in raw:
        unknown = sorted(set(rule) - {"uses", "functions", "why", "find", "replace"})
        if unknown:
            raise CourseError(f"{where} has unknown keys {unknown}")
        if rule.get("uses") not in KINDS:
            raise CourseError(f"{where} has uses {rule.get('uses')!r}; use one of {', '.join(map(repr, KINDS))}")
        functions = rule.get("functions")
        if not functions or not isinstance(functions, list) or not all(isinstance(f, str) and f for f in functions):
            raise CourseError(f"{where} needs functions, a list of the function names it applies to")
        if not isinstance(rule.get("why"), str) or not rule["why"].strip():
            raise CourseError(f"{where} needs why: the reason a student reads when it is broken")
        if not all(isinstance(rule.get(k, ""), str) for k in ("find", "replace")):
            raise CourseError(f"{where}: find and replace must be strings")
        rules.append(ForbidRule(uses=rule["uses"], functions=tuple(functions), why=rule["why"].strip(),
                                find=rule.get("find", ""), replace=rule.get("replace", "")))
    return tuple(rules)


def _exercise(root: Path, raw: dict, default_limits: Limits, hidden_reveals: str = "diagnosis") -> ExerciseSpec:
    try:
        limits = Limits.from_plain({**default_limits.to_plain(), **raw.get("limits", {})})
        return ExerciseSpec(
            id=raw["id"],
            title=raw["title"],
            points=float(raw["points"]),
            stub=root / raw["stub"],
            solution=root / raw.get("solution", "solutions-not-in-this-copy"),
            suite=root / raw["suite"],
            mistakes=tuple(MistakeSpec(**m) for m in raw.get("mistakes", [])),
            limits=limits,
            rtol=float(raw.get("rtol", 1e-4)),
            atol=float(raw.get("atol", 1e-5)),
            needs=tuple(raw.get("needs", ())),
            visibility=_visibility(raw.get("visibility", "hidden"), raw["id"]),
            gradescope_hidden_visibility=_gradescope_visibility(
                raw.get("gradescope_hidden_visibility", "after_published"), raw["id"]),
            forbid=_forbid_rules(raw.get("forbid", []), raw["id"]),
            hidden_reveals=_hidden_reveals(raw.get("hidden_reveals", hidden_reveals), f"exercise {raw['id']!r}"),
        )
    except (KeyError, TypeError) as error:
        raise CourseError(f"course.toml: exercise {raw.get('id', '?')!r} is missing or has a bad field: {error}") from None
