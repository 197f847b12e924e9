"""Subjects answer requests: the student's sandbox, or a trusted module.

A suite never knows which kind it holds. ``ModuleSubject`` runs the trusted
reference solution (or a known-mistake mutant) in the grader's own process
through the same executor the sandbox uses, on its own copies of the
inputs, and caches replies: a reference's answer to a seeded request is the
same for every submission.

``ReferenceSource`` is where the reference comes from: today the live
``solutions/`` module; a recorded-values source can stand in for it. The
live solutions are compiled from bytes read once (``snapshot.CourseFiles``),
before any sandbox exists, never from the file as it is later.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Protocol

from grader.sandbox import wire
from grader.course.catalogue import CourseError, ExerciseSpec, MistakeSpec
from grader.engine.protocol import Reply, Request, request_key
from grader.engine.snapshot import CourseFiles
from grader.sandbox.untrusted import executor


class Subject(Protocol):
    def run(self, request: Request) -> Reply:
        """Answer ``request``; a subject's own exception is a Reply with ``error``."""

    def run_many(self, requests: Sequence[Request]) -> list[Reply]:
        """Answer several requests, in order (one round trip where that matters)."""


@dataclass
class ModuleSubject:
    """A trusted module answering requests in this process, with a reply cache."""

    module: ModuleType
    cache: dict[str, Reply] = field(default_factory=dict)

    def run(self, request: Request) -> Reply:
        key = request_key(request)
        if key not in self.cache:
            # Through the wire and back: the module gets its own copies of the
            # inputs, exactly as a sandbox would, and returns plain data.
            plain = wire.decode(request.encoded)
            reply = executor.run_request(self.module, plain, catch=Exception)
            self.cache[key] = Reply.from_plain(wire.decode(wire.encode(reply, lenient=True)))
        return self.cache[key]

    def run_many(self, requests: Sequence[Request]) -> list[Reply]:
        return [self.run(request) for request in requests]


def load_trusted_module(name: str, path: Path, source: str | None = None) -> ModuleType:
    """Import a trusted file (or source text) under a private module name."""
    module_name = f"torchgrade_trusted.{name}"
    text = source if source is not None else path.read_text(encoding="utf-8")
    module = ModuleType(module_name)
    module.__file__ = str(path)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up here
    exec(compile(text, str(path), "exec"), module.__dict__)  # noqa: S102 - instructor code
    return module


@dataclass(frozen=True)
class Mistake:
    spec: MistakeSpec
    subject: Subject


class ReferenceSource(Protocol):
    def reference(self, exercise: ExerciseSpec) -> Subject: ...

    def mistakes(self, exercise: ExerciseSpec) -> tuple[Mistake, ...]: ...


@dataclass
class LiveSolutions:
    """The reference is the course's own ``solutions/`` module, compiled from
    ``files`` (the run's snapshot); without one, each solution is read once,
    at its first use, and its known mistakes are made from those same bytes."""

    files: CourseFiles | None = None
    _sources: dict[str, str] = field(default_factory=dict)
    _references: dict[str, Subject] = field(default_factory=dict)
    _mistakes: dict[str, tuple[Mistake, ...]] = field(default_factory=dict)

    def reference(self, exercise: ExerciseSpec) -> Subject:
        if exercise.id not in self._references:
            self._references[exercise.id] = ModuleSubject(
                load_trusted_module(f"solution_{exercise.id}", exercise.solution, self._source(exercise)))
        return self._references[exercise.id]

    def mistakes(self, exercise: ExerciseSpec) -> tuple[Mistake, ...]:
        if exercise.id not in self._mistakes:
            self._mistakes[exercise.id] = tuple(
                Mistake(m, ModuleSubject(module)) for m in exercise.mistakes
                if (module := _load_mutant(exercise, m, self._source(exercise))) is not None
            )
        return self._mistakes[exercise.id]

    def source_of(self, exercise: ExerciseSpec) -> str:
        """The solution's text, as this run read it."""
        return self._source(exercise)

    def _source(self, exercise: ExerciseSpec) -> str:
        if exercise.id not in self._sources:
            self._sources[exercise.id] = (self.files.text_of(exercise.solution) if self.files is not None
                                          else exercise.solution.read_text(encoding="utf-8"))
        return self._sources[exercise.id]


def _load_mutant(exercise: ExerciseSpec, mistake: MistakeSpec, solution: str) -> ModuleType | None:
    """The mutant's module, or None when its declaration no longer fits the
    solution: a stale mistake loses its hint; ``grade verify`` reports it."""
    try:
        return load_trusted_module(f"mutant_{exercise.id}_{mistake.id}", exercise.solution,
                                   exercise.mutant_source(mistake, solution))
    except (CourseError, SyntaxError):
        return None
