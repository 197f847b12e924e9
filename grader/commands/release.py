"""``grade release``: the student copy of a course, with no solution and no hidden test in it.

The copy holds the stubs, the grader package, the public tests, and the
reference's answers to them recorded as values: the suites are rewritten with
``ast`` to keep only their public tests (and the helpers those still use);
the answers are recorded by running those public tests over the solutions and
every known-mistake mutant at the course's seed, so the copy can grade a
student's work, and show every known mistake's hint, from recordings
(``grader.engine.recordings``). ``course.toml`` is rewritten without solution paths
and without the mistakes' edits, which would show solution code.

Building is reproducible: the same commit gives the same files byte for byte
(sorted walks, no timestamps, canonical JSON and TOML written here). The
copy is built in a staging folder beside ``out`` and moved into place, so an
interrupted build leaves no half-written copy.
"""
from __future__ import annotations

import ast
import dataclasses
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

import grader
from grader.commands.committed import CourseSources, committed_sources, release_paths
from grader.course.catalogue import COURSE_FILE, COURSE_KEYS, EXERCISE_KEYS, FORBID_KEYS, MISTAKE_KEYS, Course
from grader.course.mutants import write_mutants
from grader.errors import UserError
from grader.options import GradeOptions
from grader.engine.session import GradingSession
from grader.sandbox.client import Zygote

RECORDINGS = "grader/recorded"
PACKAGE = "grader"
# Never copied from the grader package: its own suites are hidden tests (the
# released ones are written from the course's suites), compiled files may
# hold them too, and old recordings are rebuilt.
_PACKAGE_SKIPPED_DIRS = {"recorded", "__pycache__"}
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


@dataclass(frozen=True)
class Release:
    """A written student copy: its folder, its files, and the public tests each exercise kept."""

    root: Path
    files: tuple[str, ...]  # relative POSIX paths, sorted
    public_tests: Mapping[str, tuple[str, ...]]
    warnings: tuple[str, ...] = ()  # said before the summary (a course outside git, copied as it is)


def build_release(course: Course, out: Path, *, zygote: Zygote | None = None, committed: bool = True) -> Release:
    """Write the student copy of ``course`` to ``out``.

    ``out`` must not exist, be empty, or hold an earlier release (which is
    replaced). Pass a started ``zygote`` to reuse one; otherwise one is
    started here, before any solution or suite is imported, and closed.
    ``committed``: copy the course's files as committed in git, refusing
    (``UncommittedCourse``, listing them) when the working tree differs for
    any of them (``grade verify`` passes False: it checks the tree as it is).
    """
    out = out.resolve()
    _check_course(course)
    _check_destination(course, out)
    if committed:
        sources = committed_sources(course)  # before anything runs: a refusal leaves nothing behind
    else:
        sources = CourseSources({p: p.read_bytes() for p in release_paths(course)})
    with GradingSession.on(zygote) as session:  # its zygote first: no secret may be loaded before it forks
        recorded, public = record_public_answers(course, session.zygote)

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        for relative, data in sorted(release_files(course, public, sources).items()):
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        from grader.engine.recordings import save_recordings  # noqa: PLC0415 - imports torch

        save_recordings(staging / RECORDINGS, _without_tracebacks(recorded))
        _usual_permissions(staging)
        if out.exists():
            shutil.rmtree(out)  # empty, or an earlier release (_check_destination)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    files = tuple(sorted(p.relative_to(out).as_posix() for p in _walk(out)))
    return Release(root=out, files=files, public_tests=public, warnings=sources.warnings)


# -- recording -----------------------------------------------------------------------

def record_public_answers(course: Course, zygote: Zygote
                         ) -> tuple[dict[str, dict[str, dict]], dict[str, tuple[str, ...]]]:
    """Run the public tests over the solutions and every known-mistake mutant
    at the course's seed, recording every reference reply and every known
    mistake's reply to the same requests. Returns the recordings and, per
    exercise, the names of its public tests (as the grading plugin chose them).
    """
    session = GradingSession.on(zygote)  # the caller's: it started first
    from grader.engine.recordings import RecordingSolutions  # noqa: PLC0415
    from grader.engine.subjects import LiveSolutions  # noqa: PLC0415
    from grader.course.submissions import Submission  # noqa: PLC0415
    import torch  # noqa: PLC0415

    _check_course(course)
    specs = list(course.exercises)
    references = RecordingSolutions(LiveSolutions())
    solutions = Submission(name="solutions", files={spec.filename: spec.solution for spec in specs})
    with tempfile.TemporaryDirectory(prefix="torchgrade-release-") as scratch:
        mutants, problems = write_mutants(specs, Path(scratch))
        if problems:
            raise ReleaseError("known mistakes that do not apply to their solution:\n  "
                               + "\n  ".join(problems.values()))
        # A module built without a state (Inspect(Build("LinearModel"))) starts
        # from torch's global generator here, in the trusted process: seed it,
        # or every build records other values.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(course.seed)
            run = session.grade(course, [solutions, *mutants.values()], specs,
                                options=GradeOptions(public_only=True), references=references)
    graded = next(r for r in run.results if r.submission == solutions.name)
    public = {e.exercise_id: tuple(t.name for t in e.tests) for e in graded.exercises}
    return references.recorded, public


def _without_tracebacks(recorded: dict) -> dict:
    """A mutant's error carries its frames, source lines of the solution file
    included: keep only what comparisons read (type, message, kind)."""
    from grader.engine.protocol import Reply  # noqa: PLC0415

    def scrubbed(reply: Reply) -> Reply:
        if not reply.error:
            return reply
        return dataclasses.replace(reply, error={k: v for k, v in reply.error.items() if k != "traceback"})

    return {exercise: {subject: {key: scrubbed(reply) for key, reply in replies.items()}
                       for subject, replies in subjects.items()}
            for exercise, subjects in recorded.items()}


# -- the files of the copy -----------------------------------------------------------

def release_files(course: Course, public: Mapping[str, Collection[str]],
                  sources: CourseSources | None = None) -> dict[str, bytes]:
    """Every file of the copy but the recordings, by relative path; the
    course's files read from ``sources`` (as committed), else from disk."""
    sources = sources or CourseSources({p: p.read_bytes() for p in release_paths(course)})
    files: dict[str, bytes] = {}
    for path in _walk(Path(grader.__file__).parent, skip_dirs=_PACKAGE_SKIPPED_DIRS):
        if path.suffix not in (".pyc", ".pyo"):
            files[f"{PACKAGE}/{path.relative_to(Path(grader.__file__).parent).as_posix()}"] = path.read_bytes()
    for spec in course.exercises:
        files[_relative(course, spec.stub)] = sources.read_bytes(spec.stub)
        suite = _relative(course, spec.suite)
        source = sources.read_text(spec.suite)
        header = (f"The public tests of {spec.id} ({spec.title}), from the course's {Path(suite).name} "
                  "by `grade release`.\n\nYour course grades with more tests than these; they are not in this copy.")
        files[suite] = public_suite(source, public.get(spec.id, ()), docstring=header, filename=suite).encode()
    for student_file in course.student_files:  # a data set the stubs read, say: at the same place in the copy
        files[student_file] = sources.read_bytes(course.root / student_file)
    files[COURSE_FILE] = student_course_toml(course).encode()
    files["pyproject.toml"] = student_pyproject(course).encode()
    files["README.md"] = student_readme(course).encode()
    return files


def _relative(course: Course, path: Path) -> str:
    try:
        return path.resolve().relative_to(course.root).as_posix()
    except ValueError:
        raise ReleaseError(f"{path} is outside the course folder {course.root}: "
                           "it cannot be part of its copy") from None


def _walk(root: Path, *, skip_dirs: Collection[str] = ()) -> Iterator[Path]:
    """Regular files under ``root`` in a fixed order, skipping hidden files and ``skip_dirs``."""
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in skip_dirs and not d.startswith("."))
        for name in sorted(names):
            path = Path(folder) / name
            if not name.startswith(".") and path.is_file() and not path.is_symlink():
                yield path


def _usual_permissions(root: Path) -> None:
    """What a checkout would have: the staging folder is made private (0700)
    and safetensors writes 0600; the copy is meant to be shared."""
    umask = os.umask(0o022)
    os.umask(umask)
    os.chmod(root, 0o777 & ~umask)
    for folder, dirs, names in os.walk(root):
        for name in dirs:
            os.chmod(Path(folder) / name, 0o777 & ~umask)
        for name in names:
            os.chmod(Path(folder) / name, 0o666 & ~umask)


def _check_course(course: Course) -> None:
    if course.is_student_copy:
        raise ReleaseError(f"{course.root} is already a student copy: release the course it was made from")
    if not course.exercises:
        raise ReleaseError(f"{course.root / COURSE_FILE} declares no exercises: there is nothing to release")
    missing = [f"{spec.id}: {role} {path}" for spec in course.exercises
               for role, path in (("stub", spec.stub), ("solution", spec.solution), ("suite", spec.suite))
               if not path.is_file()]
    missing += [f"student file {path}" for path in course.student_files if not (course.root / path).is_file()]
    if missing:
        raise ReleaseError("missing files: " + "; ".join(missing))


def _check_destination(course: Course, out: Path) -> None:
    package = Path(grader.__file__).parent.resolve()
    if out == course.root or out in course.root.parents:
        raise ReleaseError(f"{out} holds the course itself: choose a new folder for its copy")
    for inside in (package, *{spec.stub.resolve().parent for spec in course.exercises}):
        if out == inside or inside in out.parents:
            raise ReleaseError(f"{out} is inside {inside}, which the copy is made from: choose another folder")
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not _is_release(out))):
        raise ReleaseError(f"{out} exists and is not an earlier release: give a new or empty folder")
    if out.is_dir() and _is_release(out):
        written = {PACKAGE, COURSE_FILE, "pyproject.toml", "README.md",
                   *(_relative(course, path).split("/")[0] for spec in course.exercises
                     for path in (spec.stub, spec.suite)),
                   *(path.split("/")[0] for path in course.student_files)}
        others = sorted(p.name for p in out.iterdir() if p.name not in written)
        if others:
            raise ReleaseError(f"{out} holds an earlier release that has been used ({', '.join(others)} "
                               "are not part of a release, e.g. a student's .venv or reports): "
                               "remove them, or give a new folder")


def _is_release(folder: Path) -> bool:
    try:
        data = tomllib.loads((folder / COURSE_FILE).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    return data.get("course", {}).get("recordings") == RECORDINGS


# -- suites: public tests only ---------------------------------------------------------

def public_suite(source: str, public: Collection[str], *, docstring: str | None = None,
                 filename: str = "<suite>") -> str:
    """The suite with only the tests named in ``public`` (hidden tests dropped,
    test classes left without tests dropped), then every module-level helper,
    constant and imported name that nothing kept refers to, unparsed.

    Which tests are public is the grading plugin's decision (markers, then the
    exercise's default); this only follows it. A public name with no test
    function of that name here is an error: the copy would silently lose it.
    """
    tree = ast.parse(source, filename=filename)
    body = list(tree.body)
    if docstring is not None:
        if body and _is_docstring(body[0]):
            body = body[1:]
        body.insert(0, ast.Expr(ast.Constant(docstring)))
    kept_tests: set[str] = set()
    statements: list[ast.stmt] = []
    for node in body:
        if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            node.body = [n for n in node.body if not _is_test(n) or _test_names(n) <= set(public)] or [ast.Pass()]
            names = {name for n in node.body if _is_test(n) for name in _test_names(n)}
            if not names:
                continue
            kept_tests |= names
        elif _is_test(node):
            if not _test_names(node) <= set(public):
                continue
            kept_tests |= _test_names(node)
        statements.append(node)
    lost = sorted(set(public) - kept_tests)
    if lost:
        raise ReleaseError(f"{filename}: public tests {', '.join(lost)} are not test functions written in the "
                           "suite, so the copy cannot keep them")
    tree.body = _referenced_only(statements)
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _is_test(node: ast.stmt) -> bool:
    return bool(_test_names(node))


def _test_names(node: ast.stmt) -> set[str]:
    """The test names a statement defines: ``def test_x``, or ``test_x = ...``."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return {node.name} if node.name.startswith("test") else set()
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        return {name for name in _assigned_names(node) if name.startswith("test")}
    return set()


def _assigned_names(node: ast.Assign | ast.AnnAssign) -> set[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name)}


def _defines(node: ast.stmt) -> set[str] | None:
    """The names a droppable statement binds, or None when it must stay
    (tests, pytest hooks and settings, ``__future__`` imports, anything else)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        keep = node.name.startswith(("test", "Test", "pytest_")) or _is_autouse_fixture(node)
        return None if keep else {node.name}
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if not all(isinstance(t, ast.Name)
                   or (isinstance(t, ast.Tuple) and all(isinstance(e, ast.Name) for e in t.elts))
                   for t in targets):
            return None
        names = _assigned_names(node)
        return None if names & {"pytestmark", "pytest_plugins", "__all__"} or _test_names(node) else names
    return None


def _is_autouse_fixture(node: ast.stmt) -> bool:
    return any(isinstance(k, ast.keyword) and k.arg == "autouse" for d in getattr(node, "decorator_list", ())
               if isinstance(d, ast.Call) for k in d.keywords)


def _references(node: ast.AST) -> set[str]:
    """Names a statement uses: loaded names, and the parameters of the
    functions in it (a test's parameters name the fixtures it uses)."""
    names = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            names.add(child.id)
        elif isinstance(child, ast.arg):
            names.add(child.arg)
    return names


def _referenced_only(statements: Sequence[ast.stmt]) -> list[ast.stmt]:
    """Drop module-level definitions and imported names nothing kept refers to."""
    imports = (ast.Import, ast.ImportFrom)
    live: set[str] = set()
    pending: list[ast.AST] = [n for n in statements if not isinstance(n, imports) and _defines(n) is None]
    kept_ids = {id(n) for n in pending}
    droppable = [n for n in statements if not isinstance(n, imports) and _defines(n) is not None]
    while pending:
        for node in pending:
            live |= _references(node)
        pending = [n for n in droppable if id(n) not in kept_ids and (_defines(n) or set()) & live]
        kept_ids |= {id(n) for n in pending}
    result: list[ast.stmt] = []
    for node in statements:
        if isinstance(node, imports):
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                result.append(node)
                continue
            aliases = [a for a in node.names if a.name == "*" or _bound_name(a) in live]
            if aliases:
                result.append(type(node)(**{**{f: getattr(node, f) for f in node._fields}, "names": aliases}))
        elif id(node) in kept_ids:
            result.append(node)
    return result


def _bound_name(alias: ast.alias) -> str:
    return alias.asname or alias.name.split(".")[0]


# -- course.toml, pyproject.toml, README.md ---------------------------------------------

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


def _toml_items(table: Mapping) -> list[str]:
    return [f"{key} = {_toml_value(value)}" for key, value in sorted(table.items())]


def _toml_value(value) -> str:
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
