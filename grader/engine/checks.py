"""Comparing a submission with the reference: the one module suites share.

``Check.same(request)`` asks the student and the reference the same
question and fails with what differs, in our own words built from the
statistics ``torch.testing.assert_close`` reports (mismatched elements, the
greatest differences and where), then *how* it differs (``diagnosis``: a
constant factor, the sign, a shape, an input changed in place...), plus the
hint of the known mistake whose answer the student's matches. A student's
exception is explained (``explain``): its likely cause, what PyTorch said,
and the student's own file and line or notebook cell. Arguments are named
as in the student's signature. Comparisons are pure functions of two replies
(``compare``, ``compare_objects``); why they differ is ``dispatch``'s, and judging
the answers of one ``same`` is ``judgement``'s.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from dataclasses import dataclass

import torch

from grader.engine import detectors
from grader.engine.compare import (  # noqa: F401 - re-exported
    compare_replies, first_difference, mismatch_words, tensor_diagnosis, unravel)

# The comparisons and diagnoses behind ``Check``, re-exported: suites and tests import them from here.
from grader.engine.compare_objects import _module_difference, _probes_difference  # noqa: F401
from grader.engine.difference import TABLE_ROWS, Difference, _judged  # noqa: F401
from grader.engine.dispatch import diagnose_difference  # noqa: F401
from grader.engine.evidence import cause_shows_in, edit_shows_in
from grader.engine.explain import explain, explain_error, notebook_cells, raised_by_stub  # noqa: F401 - re-exported
from grader.engine.judgement import GradeFailure, Judgement, _error_failure
from grader.engine.protocol import Build, Call, Inspect, Reply, Request
from grader.engine.same_answers import answers_as_reference
from grader.engine.subjects import Mistake, Subject


def randn(rng: torch.Generator, *shape: int, requires_grad: bool = False) -> torch.Tensor:
    """Seeded standard-normal float32 inputs."""
    return torch.randn(shape, generator=rng).requires_grad_(requires_grad)


@dataclass(repr=False)
class Check:
    """Bound to one submission's exercise: the student, the reference, the known mistakes."""

    student: Subject
    reference: Subject
    mistakes: Callable[[], Sequence[Mistake]]  # loaded only when a failure needs a hint
    rtol: float
    atol: float
    # False for hidden tests (unless the course says otherwise): failures say
    # what is wrong but show no expected value and no table.
    reveal_values: bool = True
    # The exercise's file as the sandbox imports it ("exercise1.py"), the name
    # the student knows it by, and for a notebook: module line -> (cell, line).
    student_file: str = ""
    shown_as: str | None = None
    cells: Mapping[int, tuple[int, int]] | None = None

    # The student's module as the room imports it (read on the trusted side, when a hint
    # for an error needs the code that raised it); None: unknown.
    source: Callable[[], str | None] | None = None

    # Where a grading session keeps this test's answered questions, to judge them once the
    # submission's rooms are closed (``Judgement``); None: each is judged as soon as it is answered.
    ledger: list[Judgement] | None = None

    def same(self, *requests: Request, hint: str | None = None, error_hint: str | None = None,
             error_hint_for: tuple[str, ...] = ()) -> list[Reply]:
        """Fail unless the student answers every request as the reference does
        (value, gradients, state after the call); several requests travel to
        the sandbox in one round trip. ``hint`` is shown when no known mistake
        explains the difference; ``error_hint`` only when the student's own
        code raised an error (never the stub's NotImplementedError, never a
        missing function), and with ``error_hint_for`` only an error of one
        of those kinds (``explain.explain_error``'s). Returns the student's
        replies.

        In a grading session the answers are judged later, after the room has
        answered every question of the submission (``ledger``): the test goes on
        as if this check passed, so what the room is asked next, and when, never
        depends on whether its answers were right."""
        expected = self.reference.run_many(requests)
        for request, reply in zip(requests, expected, strict=True):
            if reply.error is not None:
                raise RuntimeError(f"the reference failed on {request.describe()}: {reply.error}")
        answers = self.student.run_many(requests)
        judgement = Judgement(self, tuple(requests), tuple(expected), tuple(answers), hint, error_hint,
                              error_hint_for)
        if self.ledger is not None:
            self.ledger.append(judgement)
            return answers
        failure = judgement.failure()
        if failure is not None:
            raise failure
        return answers

    def fail(self, message: str, *, hint: str | None = None) -> None:
        raise GradeFailure(message, hint=hint)

    def _variant_words(self, request: Request, got: Reply) -> str | None:
        """The words of the first variant of ``request`` (see ``Call.variants``)
        whose reference answer the student's equals."""
        for kind, fields, variant in (*getattr(request, "variants", ()),
                                      *detectors.parameter_variants(request, got.value),
                                      *detectors.optimizer_variants(request, got)):
            try:
                answer = self.reference.run(variant)
            except LookupError:  # a student copy's recordings hold only the variants its mutants asked for
                continue
            # The value alone: with arguments exchanged, gradients and states come back in another order.
            if answer.error is None and got.value is not None and first_difference(
                    answer.value, got.value, rtol=self.rtol, atol=self.atol, where="the result") is None:
                return detectors.words(kind).format(**fields)
        return None

    def _matching_hint(self, request: Request, expected: Reply, got: Reply) -> str | None:
        judged = _judged(request)
        for mistake in self.mistakes():
            if got.error is not None and not self._shows_edit(mistake):
                continue  # the same error from other code: no evidence of this mistake
            answer = mistake.subject.run(request)
            if answers_as_reference(answer, expected):
                continue  # it never differs from the reference's: no hint of it is ever shown here
            if (compare_replies(answer, got, rtol=self.rtol, atol=self.atol, judged=judged) is None
                    and compare_replies(expected, answer, rtol=self.rtol, atol=self.atol, judged=judged) is not None):
                return mistake.spec.hint
        return None

    def _shows_edit(self, mistake: Mistake) -> bool:
        spec = mistake.spec
        if not (spec.find or spec.replace):
            return True  # a student copy of the course: the edit is not shipped, the error alone must do
        source = self._source_text
        return source is not None and _edit_shows_in(spec.find, spec.replace, source)

    @functools.cached_property
    def _source_text(self) -> str | None:
        """The student's module, read once per check (one str: its hash is kept for the cache below)."""
        return self.source() if self.source is not None else None

    def _shows_cause(self, error: dict[str, Any]) -> bool:
        found = explain_error(error.get("type", ""), error.get("message", ""))
        source = self._source_text if found is not None else None
        return found is not None and source is not None and cause_shows_in(found.kind, source)

    def _own_error(self, error: dict[str, Any]) -> bool:
        """An error the student's own code raised (not the stub's raise, not a missing name)."""
        return error.get("kind") == "student" and not raised_by_stub(
            error.get("type", ""), error.get("message", ""), error.get("traceback", ""),
            self.student_file or "exercise.py")

    def _cited_lines(self, error: dict[str, Any]) -> str:
        """The lines of the student's module its error's traceback cites (a traceback shows them only
        where the file is on disk)."""
        source = self._source_text
        if not source:
            return ""
        name = re.escape(self.student_file or "exercise.py")
        lines = source.splitlines()
        numbers = [int(n) for n in re.findall(rf'File "[^"]*{name}", line (\d+)', error.get("traceback", ""))]
        return "\n".join(lines[n - 1] for n in numbers if 0 < n <= len(lines))

    def _error_failure(self, request: Request, error: dict[str, Any], hint: str | None) -> GradeFailure:
        """The student's exception: its likely cause, what PyTorch said, and
        where in the student's own file or notebook cell."""
        if not self._own_error(error):
            return _error_failure(request, error, hint)
        explained = explain(error.get("type", "Exception"), error.get("message", ""), error.get("traceback", ""),
                            student_file=self.student_file or "exercise.py", shown_as=self.shown_as,
                            cells=self.cells)
        if hint is None:
            found = explain_error(error.get("type", ""), error.get("message", ""))
            hint = detectors.argmax_over_samples_words(found.kind if found else None,
                                                       f"{explained.where}\n{self._cited_lines(error)}")
        if hint is None and explained.cause and self._shows_cause(error):
            # The error's likely cause, backed by the code that makes it, is the hint.
            hint, lines = explained.cause, [f"{request.describe()} raised an error",
                                            f"PyTorch said: {explained.original}"]
        else:
            lines = ([f"{request.describe()} raised an error: {explained.cause}",
                      f"PyTorch said: {explained.original}"]
                     if explained.cause else [f"{request.describe()} raised {explained.original}"])
        return GradeFailure("\n".join([*lines, *([explained.where] if explained.where else [])]), hint=hint)


# Whether a submission's module shows a known mistake's edit: the same few sources and edits are
# asked about by every test of an exercise, for every error answer and every mistake (tokenizing
# each source again was ~10% of a batch's grading CPU).
_edit_shows_in = functools.lru_cache(maxsize=1024)(edit_shows_in)


__all__ = ["Build", "Call", "Check", "GradeFailure", "Inspect", "Judgement", "compare_replies", "first_difference",
           "randn"]
