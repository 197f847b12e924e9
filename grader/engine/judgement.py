"""Judging one ``Check.same``: the first difference of the student's answers, explained and diagnosed,
with the hint of the known mistake it matches and the detectors' reading (``Judgement.failure``)."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from grader.engine import detectors
from grader.engine.compare import compare_replies
from grader.engine.difference import _judged
from grader.engine.dispatch import _never_moved, _returned_argument, diagnose_difference, localised_words
from grader.engine.explain import explain_error
from grader.engine.protocol import Reply, Request
from grader.engine.subjects import Mistake
from grader.results import MismatchRow
from grader.verdicts import Verdict


class Checking(Protocol):
    """What a judgement needs of the ``Check`` that asked (engine/checks.py, which imports this module)."""

    @property
    def rtol(self) -> float: ...

    @property
    def atol(self) -> float: ...

    @property
    def reveal_values(self) -> bool: ...

    @property
    def source(self) -> Callable[[], str | None] | None: ...

    @property
    def mistakes(self) -> Callable[[], Sequence[Mistake]]: ...

    def _variant_words(self, request: Request, got: Reply) -> str | None: ...

    def _matching_hint(self, request: Request, expected: Reply, got: Reply) -> str | None: ...

    def _own_error(self, error: dict[str, Any]) -> bool: ...

    def _error_failure(self, request: Request, error: dict[str, Any], hint: str | None) -> GradeFailure: ...


class GradeFailure(AssertionError):
    """A hidden test failed: what differs, with an optional hint and table."""

    def __init__(self, message: str, *, hint: str | None = None,
                 table: tuple[MismatchRow, ...] = (), verdict: Verdict | None = None) -> None:
        super().__init__(message)
        self.message, self.hint, self.table, self.verdict = message, hint, table, verdict


@dataclass(frozen=True)
class Judgement:
    """One ``check.same``: the questions, the reference's and the student's
    answers, judged by ``failure``. Judging asks the student nothing (only the
    trusted reference and known mistakes), so it can run once the room is gone."""

    check: Checking
    requests: tuple[Request, ...]
    expected: tuple[Reply, ...]
    answers: tuple[Reply, ...]
    hint: str | None = None
    error_hint: str | None = None
    error_hint_for: tuple[str, ...] = ()

    @functools.cached_property
    def differences(self) -> tuple[Any, ...]:
        """For each call, how the student's answer differs from the reference's (None: it does not);
        worked out once, for the verdict and for the answer marks."""
        check = self.check
        return tuple(compare_replies(want, got, rtol=check.rtol, atol=check.atol, names=got.arg_names,
                                     parts=getattr(request, "parts", ()), judged=_judged(request))
                     for request, want, got in zip(self.requests, self.expected, self.answers, strict=True))

    def failure(self) -> GradeFailure | None:
        """How the student's answers differ (the first that does, explained and
        diagnosed), or None when every answer is the reference's."""
        check = self.check
        found = [(request, want, got, difference)
                 for request, want, got, difference in zip(self.requests, self.expected, self.answers,
                                                           self.differences, strict=True)
                 if difference is not None]
        if not found:
            return None
        request, want, got, difference = found[0]
        if got.error is not None:
            return check._error_failure(request, got.error,
                                        check._matching_hint(request, want, got) or self._error_hint(got.error)
                                        or self.hint)
        source = check.source() if check.source is not None else None
        words = detectors.carried_over_words([w.value for w in self.expected], [g.value for g in self.answers]) \
            or next((w if r is request else f"On {r.describe()}: {w}"
                     for r, want_r, g, d in found if g.error is None
                     and (w := _never_moved(r, _returned_argument(d, want_r), g) or check._variant_words(r, g)
                          or diagnose_difference(r, _returned_argument(d, want_r), rtol=check.rtol, atol=check.atol,
                                                 want=want_r, got=g, source=check.source)
                          or detectors.code_backed_words(d.message, source)
                          or detectors.partly_right_words(d.expected, d.got)
                          or detectors.dropout_words(r, source))),
                    None) or next((w if r is request else f"On {r.describe()}: {w}"
                                   for r, want_r, g, d in found if g.error is None
                                   and (w := localised_words(r, d, want_r, g))), None)
        # The hint: a known mistake's, then the detectors' reading of the same answer (each on its own evidence).
        known = check._matching_hint(request, want, got)
        hint = "\n".join(dict.fromkeys(h for h in (known, words) if h)) or self.hint
        return GradeFailure(
            f"{request.describe()}:\n{difference.words(reveal_values=check.reveal_values)}",
            hint=hint,
            table=difference.table if check.reveal_values else (),
        )


    def _error_hint(self, error: dict[str, Any]) -> str | None:
        """``error_hint``, for an error of the student's own code of the kinds it is for."""
        if self.error_hint is None or not self.check._own_error(error):
            return None
        if not self.error_hint_for:
            return self.error_hint
        found = explain_error(error.get("type", ""), error.get("message", ""))
        return self.error_hint if found is not None and found.kind in self.error_hint_for else None


def _error_failure(request: Request, error: dict[str, Any], hint: str | None) -> GradeFailure:
    kind, name, message = error.get("kind"), error.get("type", "Exception"), error.get("message", "")
    where = error.get("traceback", "")
    if kind == "missing name":
        return GradeFailure(f"{request.describe()}: {message}", hint=hint, verdict=Verdict.MISSING_NAME)
    if kind == "structure":
        return GradeFailure(f"{request.describe()}: {message}", hint=hint)
    if kind == "memory":
        return GradeFailure(f"{request.describe()} ran out of memory ({name}: {message})", verdict=Verdict.MEMORY_LIMIT)
    if kind == "disk":
        return GradeFailure(f"{request.describe()} wrote more than it may ({name}: {message})",
                            verdict=Verdict.DISK_QUOTA)
    if kind == "exit":
        return GradeFailure(f"{request.describe()} called sys.exit({message})", verdict=Verdict.EXITED)
    if name == "NotImplementedError":
        return GradeFailure(f"{request.describe()} is not implemented yet ({message or 'NotImplementedError'})",
                            hint=hint, verdict=Verdict.NOT_IMPLEMENTED)
    text = f"{request.describe()} raised {name}: {message}"
    return GradeFailure(f"{text}\n{where}".rstrip(), hint=hint)
