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

import dataclasses
import os
import shutil
import sys
import tempfile
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

import grader
from grader.commands.committed import CourseSources, committed_sources, release_paths
from grader.course.catalogue import COURSE_FILE, Course
from grader.course.mutants import write_mutants
from grader.commands.public_suite import public_suite
from grader.commands.student_files import (INSTALL_COMMAND, PACKAGE, RECORDINGS, ReleaseError, student_course_toml,
                                           student_pyproject, student_readme)
from grader.options import GradeOptions
from grader.engine.session import GradingSession
from grader.sandbox.client import Zygote

if TYPE_CHECKING:
    from grader.engine.protocol import Reply

    Recorded = dict[str, dict[str, dict[str, Reply]]]  # exercise → subject → request → reply

# Never copied from the grader package: its own suites are hidden tests (the
# released ones are written from the course's suites), compiled files may
# hold them too, and old recordings are rebuilt.
_PACKAGE_SKIPPED_DIRS = {"recorded", "__pycache__"}

__all__ = ["INSTALL_COMMAND", "RECORDINGS", "Release", "ReleaseError", "build_release", "public_suite",
           "student_pyproject"]  # what the CLI and tests name here


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
                         ) -> tuple[Recorded, dict[str, tuple[str, ...]]]:
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


def _without_tracebacks(recorded: Recorded) -> Recorded:
    """A mutant's error carries its frames, source lines of the solution file
    included: keep only what comparisons read (type, message, kind)."""
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
    return bool(data.get("course", {}).get("recordings") == RECORDINGS)


