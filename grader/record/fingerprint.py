"""Fingerprints: which version of the course graded, and which files were graded.

A course's fingerprint hashes ``course.toml``, every hidden suite (with the
helpers beside it) and every reference solution, so a changed test or answer
is a new course version in the record. A submission's hash covers the names
and bytes of its files, so a re-grade can say "new submission files".
"""
from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from grader.course.catalogue import COURSE_FILE, ExerciseSpec

_CHUNK = 1 << 16


def course_fingerprint(root: Path, specs: Iterable[ExerciseSpec]) -> str:
    """sha256 over course.toml, the suites' folders' ``*.py`` files and the
    solutions (those present: a student copy has none), each named by its
    path relative to ``root``, so moving a file is a change too."""
    root = Path(root).resolve()
    specs = list(specs)
    files = {root / COURSE_FILE}
    for spec in specs:
        files.update(p for p in Path(spec.suite).parent.glob("*.py"))
        files.add(Path(spec.suite))
        if Path(spec.solution).is_file():
            files.add(Path(spec.solution))
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: _relative(p, root)):
        if not path.is_file():
            continue
        digest.update(_relative(path, root).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def files_hash(entry: Path) -> str:
    """sha256 of a submission entry: a file's bytes, or a folder's relative
    paths and bytes (walked without following links; a link is hashed as its
    target's text, never read through)."""
    entry = Path(entry)
    digest = hashlib.sha256()
    if entry.is_symlink() or not entry.is_dir():
        _add(digest, entry, entry.name)
        return digest.hexdigest()
    for folder, dirs, names in os.walk(entry, followlinks=False):
        dirs.sort()
        for name in sorted(names + [d for d in dirs if os.path.islink(os.path.join(folder, d))]):
            path = Path(folder, name)
            _add(digest, path, path.relative_to(entry).as_posix())
    return digest.hexdigest()


def _add(digest: "hashlib._Hash", path: Path, name: str) -> None:
    digest.update(name.encode("utf-8", "surrogateescape") + b"\0")
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        digest.update(b"link\0" + os.readlink(path).encode("utf-8", "surrogateescape"))
    elif stat.S_ISREG(info.st_mode):
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            file_digest = hashlib.sha256()
            while chunk := handle.read(_CHUNK):
                file_digest.update(chunk)
        digest.update(b"file\0" + file_digest.digest())
    else:
        digest.update(b"other\0")  # a FIFO or device: never opened


def grader_version() -> str:
    """The installed torchgrade's version, for the record of each run ("unknown" from a bare checkout)."""
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("torchgrade")
    except PackageNotFoundError:
        return "unknown"
