"""The course's files as committed in git: what ``grade release`` ships.

An instructor trying the course solves the exercises in the checkout; a
release that copied the working tree would ship those answers as the
students' stubs. So the release reads the files it copies from the course
(course.toml, the stubs, the suites, and the solutions it records answers
from) as committed at ``HEAD`` (``git show HEAD:path``), and refuses, listing
them, when any of them differs from ``HEAD`` (edited, staged, or never
committed). Outside a git checkout there is nothing to compare with: the files
are copied as they are, with a warning.
"""
from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from grader.course.catalogue import COURSE_FILE, Course
from grader.errors import UserError
from grader.words import counted

GIT_TIMEOUT_S = 30.0


class UncommittedCourse(UserError):
    """Files the release would copy differ from the last commit."""


@dataclass(frozen=True)
class CourseSources:
    """The bytes of each course file a release copies, by resolved path."""

    files: Mapping[Path, bytes]
    warnings: tuple[str, ...] = field(default=())

    def read_bytes(self, path: Path) -> bytes:
        return self.files[Path(path).resolve()]

    def read_text(self, path: Path) -> str:
        return self.read_bytes(path).decode("utf-8")


def release_paths(course: Course) -> list[Path]:
    """Every course file a release reads: course.toml, the student files, and each exercise's stub, suite and
    solution."""
    paths = [course.root / COURSE_FILE, *(course.root / path for path in course.student_files)]
    for spec in course.exercises:
        paths += [Path(spec.stub), Path(spec.suite)]
        if Path(spec.solution).is_file():
            paths.append(Path(spec.solution))
    return list(dict.fromkeys(p.resolve() for p in paths))


def committed_sources(course: Course) -> CourseSources:
    """The course's files as committed at HEAD; raises ``UncommittedCourse``
    listing every one that differs (or was never committed)."""
    paths = release_paths(course)
    top = git_toplevel(course.root)
    if top is None:
        return CourseSources(
            {p: p.read_bytes() for p in paths},
            (f"{course.root} is not in a git checkout: copying its files as they are, uncommitted edits "
             "(a solved stub) included. Keep the course in git to release only what is committed.",))
    relative = {p: p.relative_to(top).as_posix() for p in paths}
    dirty = modified_files(top, relative.values())
    if dirty:
        listing = "\n  ".join(dirty)
        raise UncommittedCourse(
            f"refusing to release: {counted(len(dirty), 'file')} the copy takes from the course differ from the last "
            f"commit (HEAD):\n  {listing}\nThe copy ships the committed files only. Commit them, or put them back "
            "with `git restore FILE` (a solved stub, say), then release again.")
    return CourseSources({p: _git_bytes(top, "show", f"HEAD:{name}") for p, name in relative.items()})


def git_toplevel(folder: Path) -> Path | None:
    """The root of the git checkout holding ``folder``, or None (no git, or not a checkout)."""
    try:
        top = _git(folder, "rev-parse", "--show-toplevel").strip()
    except _GitFailed:
        return None
    return Path(top).resolve() if top else None


def modified_files(top: Path, names: Iterable[str]) -> list[str]:
    """Of ``names`` (relative to ``top``), those whose working copy or index
    differs from HEAD, and those HEAD does not hold."""
    names = sorted(set(names))
    if not names:
        return []
    try:
        committed = set(_git(top, "ls-tree", "-r", "--name-only", "-z", "HEAD", "--", *names).split("\0"))
    except _GitFailed:
        committed = set()  # no commit yet
    changed = set(_git(top, "diff", "--name-only", "-z", "HEAD", "--", *names).split("\0")) if committed else set()
    return [f"{name} (not committed)" if name not in committed else f"{name} (modified)"
            for name in names if name not in committed or name in changed]


class _GitFailed(Exception):
    pass


def _git_bytes(cwd: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", "-c", "core.quotepath=off", *args],  # noqa: S603, S607 - argument list, no shell: the teacher's git on their own course
                              cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise _GitFailed(str(error)) from None
    if done.returncode != 0:
        raise _GitFailed(done.stderr.decode(errors="replace").strip())
    return done.stdout


def _git(cwd: Path, *args: str) -> str:
    return _git_bytes(cwd, *args).decode("utf-8", "surrogateescape")
