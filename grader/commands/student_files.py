"""The files of a student copy written from the course's own: ``course.toml``, ``pyproject.toml``, ``README.md``.

Each is written here in a canonical form (sorted, no timestamps), so the same
commit gives the same copy byte for byte (``release``).
"""
from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

import grader
from grader.course.catalogue import COURSE_FILE, COURSE_KEYS, EXERCISE_KEYS, FORBID_KEYS, MISTAKE_KEYS, Course
from grader.errors import UserError

RECORDINGS = "grader/recorded"
PACKAGE = "grader"
# What course.toml keeps per table in the copy (the catalogue's keys marked
# copied); anything else (a solution path, a mistake's find/replace) stays behind.
_COURSE_KEYS, _EXERCISE_KEYS, _MISTAKE_KEYS, _FORBID_KEYS = (
    tuple(name for name, key in keys.items() if key.copied)
    for keys in (COURSE_KEYS, EXERCISE_KEYS, MISTAKE_KEYS, FORBID_KEYS))
# The commands a student's README opens with; tests run them as written.
INSTALL_COMMAND = ("python3 -m venv .venv && . .venv/bin/activate && pip install torch==2.13.0 "
                   "&& pip install . && grade exercise1")


class ReleaseError(UserError):
    """The course cannot be released as asked (a user-facing error)."""


def student_course_toml(course: Course) -> str:
    """``course.toml`` for the copy: no solution paths, no mistakes' edits,
    reference values from ``grader/recorded``."""
    data = tomllib.loads((course.root / COURSE_FILE).read_text(encoding="utf-8"))
    meta = data.get("course", {})
    lines = [f"# The student copy of {course.title!r}, written by `grade release`.",
             "# Reference values come from the recordings in grader/recorded; only public tests run here.",
             "", "[course]"]
    lines += [f"{key} = {_toml_value(meta[key])}" for key in _COURSE_KEYS if key in meta]
    lines.append(f"recordings = {_toml_value(RECORDINGS)}")
    if meta.get("limits"):
        lines += ["", "[course.limits]", *_toml_items(meta["limits"])]
    for exercise, spec in zip(data.get("exercises", []), course.exercises, strict=True):
        # The copy's suites keep only the public tests: it states each exercise's total itself.
        exercise = {**exercise, "points": int(spec.points) if spec.points.is_integer() else spec.points}
        lines += ["", "[[exercises]]"]
        lines += [f"{key} = {_toml_value(exercise[key])}" for key in _EXERCISE_KEYS if key in exercise]
        if exercise.get("limits"):
            lines += ["", "  [exercises.limits]", *("  " + line for line in _toml_items(exercise["limits"]))]
        for mistake in exercise.get("mistakes", []):
            lines += ["", "  [[exercises.mistakes]]"]
            lines += [f"  {key} = {_toml_value(mistake[key])}" for key in _MISTAKE_KEYS if key in mistake]
        for rule in exercise.get("forbid", []):  # checked at home too; its mutant stays behind
            lines += ["", "  [[exercises.forbid]]"]
            lines += [f"  {key} = {_toml_value(rule[key])}" for key in _FORBID_KEYS if key in rule]
    return "\n".join(lines) + "\n"


def _toml_items(table: Mapping[str, Any]) -> list[str]:
    return [f"{key} = {_toml_value(value)}" for key, value in sorted(table.items())]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return ("nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")) if not math.isfinite(value) \
            else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ReleaseError(f"course.toml: cannot copy a value of type {type(value).__name__}: {value!r}")


def student_pyproject(course: Course) -> str:
    """``pyproject.toml`` for the copy: ``pip install .`` installs ``grade`` with
    the grader's own dependencies; package data includes the templates, the
    public suites and the recordings."""
    source = Path(grader.__file__).parent.parent / "pyproject.toml"
    data = tomllib.loads(source.read_text(encoding="utf-8")) if source.is_file() else {}
    project, build = data.get("project", {}), data.get("build-system", {})
    dependencies = project.get("dependencies") or ["torch>=2.2", "pytest>=7.4", "click>=8.1", "jinja2>=3.1",
                                                   "rich>=13", "safetensors>=0.4", "numpy>=1.24"]
    package_data = sorted({*data.get("tool", {}).get("setuptools", {}).get("package-data", {}).get(PACKAGE, []),
                           "outputs/templates/*.j2", "recorded/*.json", "recorded/*.safetensors"})
    return "\n".join([
        f"# The student copy of {course.title!r}, written by `grade release`: `pip install .` installs `grade`.",
        "[build-system]",
        f"requires = {_toml_value(build.get('requires', ['setuptools>=68']))}",
        f"build-backend = {_toml_value(build.get('build-backend', 'setuptools.build_meta'))}",
        "",
        "[project]",
        f"name = {_toml_value(project.get('name', 'torchgrade'))}",
        f"version = {_toml_value(project.get('version', '0.1.0'))}",
        f"description = {_toml_value(f'{course.title}: the exercises, and a grader with their public tests.')}",
        'readme = "README.md"',
        f"requires-python = {_toml_value(project.get('requires-python', '>=3.10'))}",
        "dependencies = [",
        *(f"    {_toml_value(d)}," for d in [*dependencies, *course.requirements]),  # the course's: its exercises
        "]",
        "",
        "[project.scripts]",
        'grade = "grader.cli:run"',
        "",
        "[tool.setuptools.packages.find]",
        'include = ["grader*"]',
        "",
        "[tool.setuptools.package-data]",
        f"grader = {_toml_value(package_data)}",
        "",
    ])


def _requirements_line(course: Course) -> str:
    """The README's word on the course's extra packages (``pip install .`` installs them)."""
    if not course.requirements:
        return ""
    listed = ", ".join(f"`{r}`" for r in course.requirements)
    return (f"- Your exercises may also use {listed}: `pip install .` installed "
            f"{'it' if len(course.requirements) == 1 else 'them'} with the grader.\n")


def student_readme(course: Course) -> str:
    """The copy's README.md: install and grade first, then how to read a report."""
    first, last = course.exercises[0].id, course.exercises[-1].id
    listing = "\n".join(f"| `{spec.filename}` | {spec.title} | {spec.points:g} |" for spec in course.exercises)
    return f"""\
# {course.title}

    {INSTALL_COMMAND.replace('grade exercise1', f'grade {first}')}
    . .venv/bin/activate && grade {first}

Run these in this folder. The first line installs the grader in a virtual
environment (`.venv`) and grades the untouched `exercises/{first}.py`: it fails,
and says why. The second line is for each time you come back: activate the
environment, then `grade {first}` (… `grade {last}`) after every change.
(If `pip install torch==2.13.0` cannot find that version on your machine, or
would download a large CUDA build, install the CPU build instead:
`pip install torch --index-url https://download.pytorch.org/whl/cpu`.
Any torch ≥ 2.2 works.)

## The exercises

Each exercise is a file in `exercises/`: read its docstring, write the code, grade it.

| file | exercise | points |
| --- | --- | --- |
{listing}

- `grade {first}` grades one exercise; `grade` grades them all with a summary table;
  `grade list` lists them.
- `--submission PATH` grades another file, or a folder of `exerciseN.py` files.
- Working in Jupyter or Colab? Download the notebook and grade it:
  `grade {first} --submission {first}.ipynb` (a notebook holding several
  exercises: `grade --submission course.ipynb`). Its code cells run as one
  file; `%` and `!` lines are left out, with a note in the report.
- Grading needs no network: your code runs in a sandbox on this machine, and
  its answers are compared with the reference answers stored in this copy.
{_requirements_line(course)}
## What the report means

    {first} — {course.exercises[0].title}
      ✓ what the test checks, in plain words      4/4
      ✗ what another test checks                  0/3
          the call, and what differs: expected vs got (shape, dtype, values)
          hint: what your mistake looks like, when it is one we know
      score: 4/7 (57.1%)
      public tests: 1/2 passed — hidden tests run when your course grades it

- One line per test: ✓ or ✗, what it checks, and its points.
- Under a failed test: what went wrong (expected against what your code gave,
  or a verdict such as *not implemented*, *time limit*, *crashed*), and a
  **hint** when your answer matches a mistake the course knows about.
- An HTML report with the same content, and a table of expected against
  got values for every mismatch, is written to `reports/` (`reports/{first}.html`
  for `grade {first}`, `reports/all.html` for `grade`; `--no-report` to skip it).
- The exit status is 0 when every public test passes, 1 otherwise.

## Public and hidden tests

This copy checks your work with the course's **public** tests only. Your
course grades with more tests, **hidden** ones (other inputs and shapes,
edge cases), which are not in this copy, and neither is any solution: the
reference's answers to the public tests are stored as values in
`grader/recorded`. So passing every public test here does not mean full
marks; it is why the report says "hidden tests run when your course grades it"
and never that all tests passed. A public test gets the same verdict, message
and hint here as where your course grades it.

The public tests' answers are recorded at one seed, the course's: `--seed`
asks for other inputs, which this copy cannot check ("not recorded").
"""
