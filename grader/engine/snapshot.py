"""The course files the grader runs in its own process, read once.

The reference solutions and the hidden suites are code the grader executes
outside every wall. They are read here, once, before any sandbox exists;
the run then compiles them from these bytes and never from disk again, so
nothing a sandbox manages to write (ARCHITECTURE.md: a room's folder is the room's) can
become trusted code. A change on disk during a run is not silently used: it
is a ``GraderError`` naming the file, found when the run checks the disk
against the snapshot (at its start, against the fingerprints a batch took
before its first worker, and at its end).

Torch-free: ``grade batch``'s parent takes fingerprints with it.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

from grader.course.catalogue import ExerciseSpec
from grader.options import GraderError


@dataclass(frozen=True)
class CourseFiles:
    """The bytes of the exercises' reference solutions and hidden suites."""

    files: Mapping[Path, bytes]

    @classmethod
    def read(cls, exercises: Iterable[ExerciseSpec], *, expected: Mapping[str, str] | None = None) -> "CourseFiles":
        """Read every suite and every solution that exists (a student copy
        ships none). ``expected``: fingerprints taken earlier in the same run
        (``fingerprints()``); a file that no longer matches is a GraderError."""
        paths = dict.fromkeys(p for spec in exercises for p in (spec.suite, spec.solution))
        files = {}
        for path in paths:
            try:
                files[path] = path.read_bytes()
            except FileNotFoundError:
                continue  # a missing suite fails pytest's collection; a missing solution, its first use
            except OSError as error:
                raise GraderError(f"cannot read {path}: {error}") from None
        snapshot = cls(files)
        if expected is not None:
            changed = sorted(path for path, digest in snapshot.fingerprints().items() if expected.get(path) != digest)
            changed += sorted(set(expected) - set(snapshot.fingerprints()))
            if changed:
                raise GraderError(_changed_message(changed, "since this run started"))
        return snapshot

    def fingerprints(self) -> dict[str, str]:
        """Each file's SHA-256, by path: plain data a batch hands its workers."""
        return {str(path): hashlib.sha256(data).hexdigest() for path, data in self.files.items()}

    def bytes_of(self, path: Path) -> bytes:
        try:
            return self.files[path]
        except KeyError:
            raise FileNotFoundError(f"{path} was not read at the start of this run") from None

    def text_of(self, path: Path) -> str:
        return self.bytes_of(path).decode("utf-8")

    def verify(self) -> None:
        """Raise GraderError if any snapshotted file differs on disk now."""
        changed = []
        for path, data in self.files.items():
            try:
                now = path.read_bytes()
            except OSError:
                now = None
            if now != data:
                changed.append(str(path))
        if changed:
            raise GraderError(_changed_message(changed, "during this run"))

    @contextmanager
    def serving_suites(self, suites: Iterable[Path]) -> Iterator[object]:
        """While open, importing one of ``suites`` runs the snapshot's bytes,
        never the file on disk, with pytest's assertion rewriting as it would
        have done. Yields a pytest plugin to pass to ``pytest.main``: it keeps
        the snapshot ahead of pytest's own import hook, which reads from disk."""
        finder = _SnapshotFinder({path: self.bytes_of(path) for path in suites if path in self.files})
        sys.meta_path.insert(0, finder)
        try:
            yield finder
        finally:
            if finder in sys.meta_path:
                sys.meta_path.remove(finder)


def _changed_message(paths: Iterable[str], when: str) -> str:
    listed = "\n  ".join(paths)
    return (f"course files the grader runs changed on disk {when}:\n  {listed}\n"
            "They were not used. If you edited them, run the grader again; if you did not, a submission "
            "may have reached them: check these files before grading again.")


class _SnapshotFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the snapshot's suites to pytest's importlib import mode, which
    asks ``sys.meta_path`` before it reads a test file itself."""

    def __init__(self, sources: Mapping[Path, bytes]) -> None:
        self.sources = sources
        self._by_name: dict[str, Path] = {}

    def find_spec(self, name: str, path: Any = None, _target: Any = None) -> importlib.machinery.ModuleSpec | None:
        for folder in path or ():
            candidate = Path(folder) / f"{name.rpartition('.')[2]}.py"
            if candidate in self.sources:
                self._by_name[name] = candidate
                return importlib.util.spec_from_loader(name, self, origin=str(candidate))
        return None

    def pytest_sessionstart(self) -> None:
        """pytest put its assertion-rewriting hook first (it reads test files
        from disk): put the snapshot back in front of it, before collection."""
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        sys.meta_path.insert(0, self)

    def create_module(self, _spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        path = self._by_name[module.__name__]  # the name of the spec find_spec returned
        module.__file__ = str(path)
        exec(_compile_suite(self.sources[path], path), module.__dict__)  # noqa: S102 - the course's own suite


def _compile_suite(source: bytes, path: Path) -> CodeType:
    tree = ast.parse(source, filename=str(path))
    try:  # pytest's own rewriting, so a bare `assert` in a suite explains itself as under pytest
        from _pytest.assertion.rewrite import rewrite_asserts  # noqa: PLC0415
    except ImportError:  # pragma: no cover - a pytest without it: plain asserts
        pass
    else:
        rewrite_asserts(tree, source, str(path))
    return compile(tree, str(path), "exec", dont_inherit=True)
