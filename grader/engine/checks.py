"""Comparing a submission with the reference: the one module suites share.

``Check.same(request)`` asks the student and the reference the same
question and fails with what differs, in our own words built from the
statistics ``torch.testing.assert_close`` reports (mismatched elements, the
greatest differences and where), then *how* it differs (``diagnosis``: a
constant factor, the sign, a shape, an input changed in place...), plus the
hint of the known mistake whose answer the student's matches. A student's
exception is explained (``explain``): its likely cause, what PyTorch said,
and the student's own file and line or notebook cell. Arguments are named
as in the student's signature. Comparisons are pure functions of two replies.
"""
from __future__ import annotations

import functools
import math
import re
import reprlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from grader.verdicts import Verdict
from grader.engine import detectors, diagnosis, formulas, localise, slips, structure
from grader.engine.evidence import cause_shows_in, edit_shows_in
from grader.engine.explain import explain, explain_error, notebook_cells, raised_by_stub  # noqa: F401 - re-exported
from grader.engine.protocol import ASPECTS, Build, Call, Inspect, Reply, Request
from grader.results import MismatchRow
from grader.engine.subjects import Mistake, Subject
from grader.sandbox.wire import Unsupported

TABLE_ROWS = 6


class GradeFailure(AssertionError):
    """A hidden test failed: what differs, with an optional hint and table."""

    def __init__(self, message: str, *, hint: str | None = None,
                 table: tuple[MismatchRow, ...] = (), verdict: Verdict | None = None) -> None:
        super().__init__(message)
        self.message, self.hint, self.table, self.verdict = message, hint, table, verdict


@dataclass(frozen=True)
class Difference:
    where: str
    message: str
    table: tuple[MismatchRow, ...] = ()
    # The message without any expected value, for hidden tests: their inputs
    # are the same at every submission, so expected values could be collected.
    # None: ``message`` shows none.
    diagnosis: str | None = None
    # What the detectors of ``diagnosis`` need: the two values that differ,
    # and which part of the reply they are ("value", "grad", "after", "no_grad", "copy",
    # "requires_grad" and "held_grad": an argument's autograd state after the call).
    part: str = "value"
    expected: Any = None
    got: Any = None
    index: int | None = None

    def words(self, *, reveal_values: bool) -> str:
        return f"{self.where} {self.message if reveal_values or self.diagnosis is None else self.diagnosis}".strip()

    def __str__(self) -> str:
        return f"{self.where} {self.message}".strip()


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
            if (compare_replies(answer, got, rtol=self.rtol, atol=self.atol, judged=judged) is None
                    and compare_replies(expected, answer, rtol=self.rtol, atol=self.atol, judged=judged) is not None):
                return mistake.spec.hint
        return None

    def _shows_edit(self, mistake: Mistake) -> bool:
        spec = mistake.spec
        if not (spec.find or spec.replace):
            return True  # a student copy of the course: the edit is not shipped, the error alone must do
        source = self.source() if self.source is not None else None
        return source is not None and edit_shows_in(spec.find, spec.replace, source)

    def _shows_cause(self, error: dict) -> bool:
        found = explain_error(error.get("type", ""), error.get("message", ""))
        source = self.source() if self.source is not None and found is not None else None
        return found is not None and source is not None and cause_shows_in(found.kind, source)

    def _own_error(self, error: dict) -> bool:
        """An error the student's own code raised (not the stub's raise, not a missing name)."""
        return error.get("kind") == "student" and not raised_by_stub(
            error.get("type", ""), error.get("message", ""), error.get("traceback", ""),
            self.student_file or "exercise.py")

    def _cited_lines(self, error: dict) -> str:
        """The lines of the student's module its error's traceback cites (a traceback shows them only
        where the file is on disk)."""
        source = self.source() if self.source is not None else None
        if not source:
            return ""
        name = re.escape(self.student_file or "exercise.py")
        lines = source.splitlines()
        numbers = [int(n) for n in re.findall(rf'File "[^"]*{name}", line (\d+)', error.get("traceback", ""))]
        return "\n".join(lines[n - 1] for n in numbers if 0 < n <= len(lines))

    def _error_failure(self, request: Request, error: dict, hint: str | None) -> GradeFailure:
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


@dataclass(frozen=True)
class Judgement:
    """One ``check.same``: the questions, the reference's and the student's
    answers, judged by ``failure``. Judging asks the student nothing (only the
    trusted reference and known mistakes), so it can run once the room is gone."""

    check: Check
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


    def _error_hint(self, error: dict) -> str | None:
        """``error_hint``, for an error of the student's own code of the kinds it is for."""
        if self.error_hint is None or not self.check._own_error(error):
            return None
        if not self.error_hint_for:
            return self.error_hint
        found = explain_error(error.get("type", ""), error.get("message", ""))
        return self.error_hint if found is not None and found.kind in self.error_hint_for else None


def _error_failure(request: Request, error: dict, hint: str | None) -> GradeFailure:
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


def _judged(request: Request) -> frozenset[str]:
    return getattr(request, "judged", frozenset(ASPECTS))


def _argument_words(names: Sequence | None, index: int) -> str:
    name = names[index] if names is not None and index < len(names) else None
    return f"`{name}`" if isinstance(name, str) and name else f"argument {index + 1}"


def compare_replies(expected: Reply, got: Reply, *, rtol: float, atol: float,
                    names: Sequence | None = None, parts: Sequence[str] = (),
                    judged: frozenset[str] = frozenset(ASPECTS)) -> Difference | None:
    """The first way ``got`` differs from ``expected``, or None. ``names``:
    the arguments' names in the student's signature, for the words;
    ``parts``: what each item of a tuple result is ("the training loader");
    ``judged``: the aspects compared (``protocol.ASPECTS``)."""
    if expected.error is not None or got.error is not None:
        same = (expected.error is not None and got.error is not None
                and expected.error.get("type") == got.error.get("type")
                and expected.error.get("message") == got.error.get("message"))
        return None if same else Difference("the call", "raised an error" if got.error else "did not raise")
    # How the code ran a model (its probes' records) explains what it computed: compared first.
    modes = {"modes", "inference_mode"} & judged
    for index, want in enumerate(expected.after or () if modes else ()):
        have = got.after[index] if type(got.after) is list and index < len(got.after) else None
        difference = _probes_difference(want, have, f"{_argument_words(names, index)}:", modes)
        if difference:
            return _with(difference, part="calls" if difference.part == "calls" else "after", index=index)
    structure_only = isinstance(expected.value, dict) and expected.value.get("is_module") and expected.after is None
    if "value" not in judged:
        difference = None
    elif parts and type(expected.value) in (tuple, list) and type(got.value) is type(expected.value) \
            and len(got.value) == len(expected.value) == len(parts):
        difference = next((d for want, have, part in zip(expected.value, got.value, parts, strict=True)
                           if (d := first_difference(want, have, rtol=rtol, atol=atol, where=part,
                                                     names=names))), None)
    else:
        difference = first_difference(expected.value, got.value, rtol=rtol, atol=atol,
                                      where="the result", values=not structure_only, names=names)
    if difference:
        return difference
    if expected.input_grads is not None or expected.param_grads is not None:
        if got.grad_error or got.input_grads is None:
            why = got.grad_error or "no gradient came back"
            part = "no_grad" if "grad_fn" in why else "value"
            return Difference("the gradient", f"could not be computed: {why}", part=part)
        if type(got.input_grads) is not list or len(got.input_grads) != len(expected.input_grads or ()):
            return _count_difference("the gradients", got.input_grads, expected.input_grads or ())
        for index, (want, have) in enumerate(zip(expected.input_grads or (), got.input_grads, strict=True)):
            difference = first_difference(want, have, rtol=rtol, atol=atol,
                                          where=f"the gradient w.r.t. {_argument_words(names, index)}")
            if difference:
                return _with(difference, part="grad", index=index)
        difference = first_difference(expected.param_grads or {}, got.param_grads or {}, rtol=rtol, atol=atol,
                                      where="the parameters' gradients")
        if difference:
            return difference
    if expected.after is not None and "after" in judged:
        if type(got.after) is not list or len(got.after) != len(expected.after):
            return _count_difference("the arguments after the call", got.after, expected.after)
        for index, (want, have) in enumerate(zip(expected.after, got.after, strict=True)):
            difference = first_difference(want, have, rtol=rtol, atol=atol,
                                          where=f"{_argument_words(names, index)} after the call")
            if difference:
                return _with(difference, part="after", index=index)
        if expected.returns_arg is not None and got.returns_arg != expected.returns_arg:
            return Difference("the result", f"is not the very tensor passed as "
                                            f"{_argument_words(names, expected.returns_arg)}", part="copy")
    if expected.after_grads is not None:
        difference = _grad_state_difference(expected.after_grads, got.after_grads, rtol=rtol, atol=atol, names=names)
        if difference:
            return difference
    if expected.target_after is not None:
        return first_difference(expected.target_after, got.target_after, rtol=rtol, atol=atol,
                                where="the module after the call")
    return None


def _grad_state_difference(expected: list, got: Any, *, rtol: float, atol: float,
                           names: Sequence | None) -> Difference | None:
    """How the tensor arguments' autograd state after the call differs:
    whether each requires grad, then the .grad it holds."""
    if type(got) is not list or len(got) != len(expected):
        return _count_difference("the arguments' gradients after the call", got, expected)
    for index, (want, have) in enumerate(zip(expected, got, strict=True)):
        if want is None:  # not a tensor
            continue
        name = _argument_words(names, index)
        if type(have) is not dict:
            return Difference(name, "came back without its autograd state", part="requires_grad", index=index)
        if have["requires_grad"] != want["requires_grad"]:
            words = "requires grad after the call, expected it not to" if have["requires_grad"] else \
                "does not require grad after the call, expected it to"
            return Difference(name, words, part="requires_grad", expected=want["requires_grad"],
                              got=have["requires_grad"], index=index)
        where = f"`{name.strip('`')}.grad`" if name.startswith("`") else f"the .grad of {name}"
        want_grad, have_grad = _cleared(want["grad"]), _cleared(have["grad"])
        if want_grad is None and have_grad is not None:
            return Difference(where, "holds a gradient after the call, expected None", part="held_grad",
                              got=have_grad, index=index)
        if want_grad is not None and have_grad is None:
            return Difference(where, "is None after the call, expected a gradient", part="held_grad",
                              expected=want_grad, index=index)
        if want_grad is not None:
            difference = first_difference(want_grad, have_grad, rtol=rtol, atol=atol, where=f"{where} after the call")
            if difference:
                return _with(difference, part="held_grad", index=index)
    return None


def _cleared(grad: Any) -> Any:
    """A .grad of zeros counts as cleared: the next backward() adds to it just as it starts from None."""
    if type(grad) is torch.Tensor and not bool(grad.count_nonzero()):
        return None
    return grad


def _grad_state_words(request: Request, difference: Difference) -> str | None:
    """Why an argument's requires_grad or .grad differs, from what it was given."""
    args = request.args if isinstance(request, Call) else ()
    grads = request.grads if isinstance(request, Call) else ()
    index = difference.index if difference.index is not None else len(args)
    given = args[index] if index < len(args) else None
    name = difference.where.split(" after")[0].strip("`").removesuffix(".grad").removeprefix("the .grad of ")
    if difference.part == "requires_grad":
        was = bool(given.requires_grad) if isinstance(given, torch.Tensor) else False
        if difference.got is was or not isinstance(difference.got, bool):
            return diagnosis.WORDS["requires_grad_as_given"].format(name=name, got=difference.got,
                                                                    expected=difference.expected)
        kind = "requires_grad_switched_on" if difference.got else "requires_grad_switched_off"
        return diagnosis.WORDS[kind].format(name=name)
    if difference.expected is None:
        return diagnosis.WORDS["grad_left_behind"].format(name=name)
    if difference.got is None:
        return diagnosis.WORDS["grad_missing"].format(name=name)
    old, want, have = grads[index] if index < len(grads) else None, difference.expected, difference.got
    if not (isinstance(old, torch.Tensor) and isinstance(want, torch.Tensor) and isinstance(have, torch.Tensor)
            and have.shape == want.shape == old.shape):
        return None
    if torch.allclose(have.double(), (want + old).double(), rtol=1e-4, atol=1e-5):  # the old one kept, once too often
        return diagnosis.WORDS["grad_added_to_old"].format(name=name)
    if torch.allclose(want.double(), old.double(), rtol=1e-4, atol=1e-5):  # the caller's gradient was to stay as it was
        return diagnosis.WORDS["grad_changed"].format(name=name)
    return None


def _with(difference: Difference, *, part: str, index: int | None) -> Difference:
    return Difference(difference.where, difference.message, difference.table, difference.diagnosis,
                      part=part, expected=difference.expected, got=difference.got, index=index)


def _part_of(value: Any, parts: Sequence[str], where: str) -> Any:
    """The item of a result that ``where`` (a difference's place) is about: a named part of a tuple
    result, then down its items (``[1]``) and keys (`` test``) to the first list of numbers (a record
    per epoch), or the whole value."""
    rest = where.removeprefix("the result") if where.startswith("the result") else None
    if parts and type(value) in (tuple, list) and len(value) == len(parts):
        for part, item in zip(parts, value, strict=True):
            if where == part or where.startswith(f"{part}["):
                value, rest = item, where.removeprefix(part)
    for step in _PLACE.finditer(rest or ""):
        if _numbers(value):
            break
        index, key = step["index"], step["key"]
        if index is not None and type(value) in (tuple, list) and int(index) < len(value):
            value = value[int(index)]
        elif key is not None and type(value) is dict and key in value:
            value = value[key]
        else:
            break
    return value


_PLACE = re.compile(r"\[(?P<index>\d+)\]| (?P<key>[^\s\[]+)")


def _records_lengths(want: Any, got: Any) -> tuple[int, int] | None:
    """(n, m) when every list of numbers in the reference's tuple result has n items and every
    one in the student's has m: records per epoch (or batch, or sample), counted."""
    if type(want) not in (tuple, list) or type(got) is not type(want) or len(want) != len(got):
        return None
    if not all(type(w) is list and type(g) is list for w, g in zip(want, got, strict=True)):
        return None
    n, m = {len(w) for w in want}, {len(g) for g in got}
    return (n.pop(), m.pop()) if len(n) == len(m) == 1 else None


def _calls_words(want: Reply, got: Reply, difference: Difference) -> str | None:
    """A model that ran too often or too rarely, when its records say why: as many calls per
    record as the reference's, with one record more or fewer (an epoch too many or too few)."""
    lengths = _records_lengths(want.value, got.value)
    if lengths is None or not isinstance(difference.expected, int) or not isinstance(difference.got, int):
        return None
    n, m = lengths
    if n == m or n == 0 or m == 0 or difference.expected * m != difference.got * n:
        return None
    kind = {n - 1: "epoch_too_few", n + 1: "epoch_too_many"}.get(m, "epochs_off")
    return diagnosis.WORDS[kind].format(got=m, expected=n)


def diagnose_difference(request: Request, difference: Difference, *, rtol: float, atol: float,
                        want: Reply | None = None, got: Reply | None = None,
                        source: Callable[[], str | None] | None = None) -> str | None:
    """How the student's answer differs (``diagnosis``), in a beginner's
    words, or None. Needs no expected value in its words. ``source``: the
    student's code, for the structure detectors that read it."""
    parts = getattr(request, "parts", ())
    built = structure_words(difference, want, got, source) or (
        formulas.multiplied_parameters_words(_given_state(request), want.param_grads, got.param_grads)
        if want is not None and got is not None and difference.part == "value" else None)
    if built:
        return built
    if want is not None and got is not None and difference.part == "value":
        mine, theirs = _part_of(got.value, parts, difference.where), _part_of(want.value, parts, difference.where)
        if _numbers(theirs) and _numbers(mine):
            # A record per epoch (the losses train returns): one short or long, or one step late.
            found_path = diagnosis.diagnose_losses(theirs, mine, rtol=max(rtol, 1e-4), atol=max(atol, 1e-5))
            if found_path is not None:
                return found_path.message
    if difference.part == "calls":
        return (_calls_words(want, got, difference) or detectors.extra_calls_words(
            _records_lengths(want.value, got.value), difference.expected, difference.got)) \
            if want is not None and got is not None else None
    if difference.part == "view":  # samples and batches of a loader: data, not a computation
        sample = slips.diagnose_sample(difference.expected, difference.got)
        return sample.message if sample else detectors.changed_data_words(difference)
    if difference.part == "no_grad":
        return diagnosis.WORDS["no_gradient"]
    if difference.part == "copy":
        return diagnosis.WORDS["returned_copy"]
    if difference.part == "zero_start":
        return detectors.WORDS["zero_start"]
    if difference.part in ("requires_grad", "held_grad"):
        words = _grad_state_words(request, difference)
        if words or difference.part == "requires_grad" or difference.expected is None or difference.got is None:
            return words
    args = request.args if isinstance(request, Call) else ()
    if difference.part == "after" and difference.index is not None and difference.index < len(args):
        given = args[difference.index]
        # The reference leaves this argument as it was given: the student's code changed it.
        if isinstance(given, torch.Tensor) and isinstance(difference.expected, torch.Tensor) \
                and given.shape == difference.expected.shape \
                and torch.equal(given.detach().to(difference.expected.dtype), difference.expected):
            name = difference.where.removesuffix(" after the call").strip("`")
            return diagnosis.WORDS["modified_input"].format(name=name)
        data = [a for i, a in enumerate(args) if i != difference.index and isinstance(a, torch.Tensor)
                and a.numel() > 1]
        words = _update_words(given, difference, samples=data[0].shape[0] if data and data[0].dim() else None)
        if words:
            return words
    if not isinstance(difference.expected, torch.Tensor):
        kind = slips.diagnose_kind(want.value, got.value) if want is not None and got is not None \
            and difference.where == "the result" else None
        return kind.message if kind else detectors.difference_words(difference)
    sizes = [a for a in args if isinstance(a, torch.Tensor) and a.numel() > 1]
    n_elements = sizes[0].numel() if sizes else None
    n_rows = sizes[0].shape[0] if sizes else None
    names = got.arg_names if got is not None else None
    # Both answers identified as arguments: stronger evidence than an entry that happens to equal one.
    returned = detectors.returned_argument_words(difference.expected, difference.got, args, names)
    if returned:
        return returned
    slip = slips.diagnose_slip(difference.expected, difference.got, args, got.arg_names if got else None,
                               n_elements=n_elements) if difference.part == "value" else None
    if slip is not None:
        return slip.message
    product = formulas.product_of_sums_words(difference.expected, difference.got, args) \
        if difference.part == "value" else None
    if product:
        return product
    found = diagnosis.diagnose(difference.expected, difference.got, n_elements=n_elements, n_rows=n_rows,
                               rtol=max(rtol, 1e-4), atol=max(atol, 1e-5))
    if found:
        return found.message
    return detectors.negative_words(difference.expected, difference.got) or detectors.difference_words(difference)


def structure_words(difference: Difference, want: Reply | None, got: Reply | None,
                    source: Callable[[], str | None] | None) -> str | None:
    """Why a module is built differently (``structure``): from its description, or from the
    gradients its parameters got."""
    if want is None or got is None or difference.part != "value":
        return None
    if isinstance(want.value, dict) and want.value.get("is_module"):
        found = structure.diagnose_module(want.value, got.value, source)
    else:
        found = structure.diagnose_gradients(want.param_grads, got.param_grads)
    return found.message if found else None


def _given_state(request: Request) -> dict | None:
    """The state a called module was built with (its parameters' values), or None."""
    target = getattr(request, "target", None)
    return target.state if isinstance(target, Build) else None


def localised_words(request: Request, difference: Difference, want: Reply, got: Reply) -> str | None:
    """The last resort of a hint (``localise``): which part of the answer is right and which is not."""
    if difference.part != "value":
        return None
    parts = getattr(request, "parts", ())
    mine, theirs = _part_of(got.value, parts, difference.where), _part_of(want.value, parts, difference.where)
    words = localise.parts_words(want.value, got.value, parts) or (
        localise.record_words(theirs, mine) if _numbers(theirs) and _numbers(mine) else None) or \
        localise.entries_words(difference.expected, difference.got, _entry_notes(difference.expected, difference.got))
    if words or difference.where != "the result":
        return words
    if isinstance(getattr(request, "target", None), Build):
        return localise.gradients_words(want.param_grads, got.param_grads)
    args = request.args if isinstance(request, Call) else ()
    trained = next((i for i, a in enumerate(args) if isinstance(a, Build) and a.state), None)
    if trained is None or type(want.after) is not list or type(got.after) is not list \
            or trained >= min(len(want.after), len(got.after)):
        return None
    return localise.trained_model_words(_argument_words(got.arg_names, trained).strip("`"), want.after[trained],
                                        got.after[trained])


def _entry_notes(expected: Any, got: Any) -> dict[int, str]:
    """For each entry of a short vector: how it relates to the expected one, when it is a whole multiple."""
    if not (isinstance(expected, torch.Tensor) and isinstance(got, torch.Tensor)) or expected.shape != got.shape \
            or expected.dim() != 1 or expected.numel() > 4:
        return {}
    notes = {}
    for index, (want, have) in enumerate(zip(expected.tolist(), got.tolist(), strict=True)):
        ratio = have / want if abs(want) > 1e-6 else math.nan
        if math.isfinite(ratio) and abs(ratio) >= 2 and math.isclose(ratio, round(ratio), rel_tol=1e-4):
            notes[index] = f"is exactly {round(ratio)} times the expected value"
        elif math.isclose(ratio, -1, rel_tol=1e-4):
            notes[index] = "has the wrong sign"
    return notes


def _returned_argument(difference: Difference, want: Reply) -> Difference:
    """A difference in the result, where the reference returns an argument it updates in place, is
    read as that argument's change (how far it moved, or not at all)."""
    if difference.part == "value" and want.returns_arg is not None and difference.where == "the result":
        return _with(difference, part="after", index=want.returns_arg)
    return difference


def _never_moved(request: Request, difference: Difference, got: Reply) -> str | None:
    """An argument the reference changes (a tensor updated in place, a model trained) that the
    student's code leaves exactly as it was given: before any other reading of the difference,
    since "0 epochs" or "a factor 0" would only describe the same standstill."""
    args = request.args if isinstance(request, Call) else ()
    index = difference.index
    if difference.part != "after" or index is None or index >= len(args):
        return None
    given, name = args[index], difference.where.split(" after the call")[0].split(":")[0].strip("`")
    if isinstance(given, torch.Tensor):
        have = difference.got
        unchanged = isinstance(have, torch.Tensor) and have.shape == given.shape and torch.equal(
            have.detach(), given.detach().to(have.dtype))
        moved = isinstance(difference.expected, torch.Tensor) and not torch.equal(
            difference.expected.detach(), given.detach().to(difference.expected.dtype))
        return diagnosis.WORDS["unchanged_argument"].format(name=name) if unchanged and moved else None
    if isinstance(given, Build) and given.state and type(got.after) is list and index < len(got.after):
        module = got.after[index]
        values = {p.get("name"): p.get("value") for p in module.get("parameters", [])} \
            if isinstance(module, dict) and module.get("is_module") else {}
        if values and set(values) == set(given.state) and all(
                isinstance(v, torch.Tensor) and v.shape == given.state[k].shape and torch.equal(v, given.state[k])
                for k, v in values.items()):
            return diagnosis.WORDS["never_moves"].format(name=name)
    return None


def _update_words(given: Any, difference: Difference, samples: int | None = None) -> str | None:
    """How an argument the reference changes in place was changed instead:
    not at all, or by the expected change reversed or scaled."""
    want, have = difference.expected, difference.got
    if not (isinstance(given, torch.Tensor) and isinstance(want, torch.Tensor) and isinstance(have, torch.Tensor)) \
            or not given.shape == want.shape == have.shape or not given.is_floating_point():
        return None
    start = given.detach().double()
    expected_change, change = want.double() - start, have.double() - start
    if not bool(expected_change.count_nonzero()):
        return None
    name = difference.where.removesuffix(" after the call").strip("`")
    if not bool(change.abs().gt(1e-7).any()):
        return diagnosis.WORDS["unchanged_argument"].format(name=name)
    found = diagnosis.diagnose(expected_change, change, rtol=1e-3, atol=1e-6)
    if found is not None and found.kind == "sign":
        return diagnosis.WORDS["update_reversed"].format(name=name)
    if found is not None and found.kind in ("double", "half", "factor"):
        ratio = float((change.norm() / expected_change.norm()).item())
        if samples and samples > 2 and math.isclose(ratio, samples, rel_tol=1e-3):
            return diagnosis.WORDS["update_times_count"].format(name=name, count=samples, what="samples")
        return diagnosis.WORDS["update_scaled"].format(name=name, factor=ratio)
    return None


def _numbers(value: Any) -> bool:
    return type(value) is list and len(value) > 1 and all(type(v) in (float, int) for v in value)


def _count_difference(where: str, got: Any, expected: Sequence) -> Difference:
    """A reply with another number of entries than its request asked for is never compared pairwise."""
    have = f"{len(got)} came back" if type(got) is list else f"{_kind(got)} came back"
    return Difference(where, f"do not match the arguments: {have}, expected {len(expected)}")


def first_difference(expected: Any, got: Any, *, rtol: float, atol: float, where: str,
                     values: bool = True, names: Sequence | None = None) -> Difference | None:
    """The first difference between two plain values, in words, or None.
    ``names``: the arguments' names, for views that point at an argument."""
    if isinstance(expected, dict) and "view" in expected:
        return _view_difference(expected, got, rtol=rtol, atol=atol, where=where, names=names)
    if isinstance(expected, torch.Tensor):
        return _tensor_difference(expected, got, rtol, atol, where) if values else None
    if isinstance(expected, dict) and expected.get("is_module"):
        found = _module_difference(expected, got, rtol, atol, where, values)
        # "LinearModel has no parameter `bias`", not "the result LinearModel has ...".
        bare = found is not None and found.where == where == "the result" and isinstance(got, dict) \
            and found.message.startswith(str(got.get("type")))
        return Difference("", found.message, part=found.part) if bare and found is not None else found
    if type(expected) is float:
        if type(got) not in (float, int):
            return Difference(where, f"is {_kind(got)}, expected a Python float")
        both_nan = math.isnan(got) and math.isnan(expected)
        if not math.isclose(got, expected, rel_tol=rtol, abs_tol=atol) and not both_nan:
            return Difference(where, f"is {got:.6g}, expected {expected:.6g}",
                              diagnosis=f"is {got:.6g}, not the expected value "
                                        f"(off by about {_roughly(got - expected)})")
        return None
    if type(expected) in (list, tuple):
        if type(got) is not type(expected):
            return Difference(where, f"is {_kind(got)}, expected {_kind(expected)}")
        if len(got) != len(expected):
            return Difference(where, f"has {len(got)} items, expected {len(expected)}")
        for index, (want, have) in enumerate(zip(expected, got, strict=False)):
            difference = first_difference(want, have, rtol=rtol, atol=atol, where=f"{where}[{index}]", values=values,
                                          names=names)
            if difference:
                return difference
        return None
    if type(expected) is dict:
        if type(got) is not dict:
            return Difference(where, f"is {_kind(got)}, expected a dict")
        if set(got) != set(expected):
            return Difference(where, f"has keys {_short(sorted(got))}, expected {_short(sorted(expected))}")
        for key in expected:
            difference = first_difference(expected[key], got[key], rtol=rtol, atol=atol, where=f"{where} {key}",
                                          values=values, names=names)
            if difference:
                return difference
        return None
    if type(got) is not type(expected) or got != expected:
        return Difference(where, f"is {_short(got)}, expected {_short(expected)}",
                          diagnosis=f"is {_short(got)}, not the expected value" if type(got) is type(expected)
                          else f"is {_kind(got)}, expected a {type(expected).__name__}")
    return None


def _tensor_difference(expected: torch.Tensor, got: Any, rtol: float, atol: float, where: str) -> Difference | None:
    shape = tuple(expected.shape)
    kept = dict(expected=expected, got=got)
    if type(got) is not torch.Tensor:
        return Difference(where, f"is {_kind(got)}, expected a torch.Tensor of shape {shape}", **kept)
    if tuple(got.shape) != shape:
        return Difference(where, f"has shape {tuple(got.shape)}, expected {shape}", **kept)
    if got.dtype != expected.dtype:
        return Difference(where, f"has dtype {_dtype(got)}, expected {_dtype(expected)}", **kept)
    if torch.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True):  # fast path: ~10 µs
        return None
    rows = mismatch_rows(expected, got, rtol, atol)
    return Difference(where, mismatch_words(expected, got, rtol, atol), rows,
                      diagnosis=tensor_diagnosis(expected, got, rtol, atol), **kept)


def mismatch_words(expected: torch.Tensor, got: torch.Tensor, rtol: float, atol: float) -> str:
    """What ``assert_close`` measures (mismatched elements, the greatest
    absolute and relative differences, where, and what is allowed), in our words."""
    want, have = expected.detach().double(), got.detach().double()
    bad = ~torch.isclose(have, want, rtol=rtol, atol=atol, equal_nan=True)
    allowed = f"allowed: {atol:.1g} + {rtol:.1g} × |expected|"
    if want.numel() == 1:
        w, h = want.item(), have.item()
        return f"is {h:.6g}, expected {w:.6g} (a difference of {abs(h - w):.3g}; {allowed})"
    absolute = (have - want).abs().nan_to_num(nan=math.inf)
    relative = absolute / want.abs()
    absolute, relative = torch.where(bad, absolute, 0), torch.where(bad, relative.nan_to_num(nan=math.inf), 0)
    at = lambda d: str(tuple(int(i) for i in torch.unravel_index(d.argmax(), d.shape)))  # noqa: E731
    count, total = int(bad.sum()), want.numel()
    return (f"differs from the expected values in {count} of {total} elements ({100 * count / total:.0f}%);\n"
            f"the greatest difference is {absolute.max().item():.3g}, at index {at(absolute)}; the greatest "
            f"relative difference is {relative.max().item():.3g}, at index {at(relative)} ({allowed}).")


def tensor_diagnosis(expected: torch.Tensor, got: torch.Tensor, rtol: float, atol: float) -> str:
    """How two same-shaped tensors differ, without the expected values:
    "differs from the expected values: 12 of 16 elements differ; the greatest
    difference is about 0.8, at index (3,)"."""
    want, have = expected.detach().double(), got.detach().double()
    bad = ~torch.isclose(have, want, rtol=rtol, atol=atol, equal_nan=True)
    gap = torch.where(bad, (have - want).abs().nan_to_num(nan=math.inf, posinf=math.inf), torch.zeros_like(want))
    worst = tuple(int(i) for i in torch.unravel_index(gap.argmax(), gap.shape)) if gap.dim() else ()
    count, total = int(bad.sum()), want.numel()
    elements = "the element differs" if total == 1 else f"{count} of {total} elements differ"
    at = f", at index {worst}" if worst else ""
    greatest = gap[worst].item() if worst else gap.item()
    if not math.isfinite(greatest):
        return (f"differs from the expected values: {elements}; one is not a finite number where a number "
                f"was expected{at}")
    return f"differs from the expected values: {elements}; the greatest difference is about {_roughly(greatest)}{at}"


def _roughly(gap: float) -> str:
    """A difference to one significant digit, without its sign: enough to
    judge how wrong an answer is, too coarse to read the expected value back."""
    return f"{abs(gap):.1g}"


def mismatch_rows(expected: torch.Tensor, got: torch.Tensor, rtol: float, atol: float) -> tuple[MismatchRow, ...]:
    """The first TABLE_ROWS mismatching elements, and the ones with the
    greatest absolute and relative differences (the message names them), in
    index order."""
    want, have = expected.detach().double(), got.detach().double()
    bad = ~torch.isclose(have, want, rtol=rtol, atol=atol, equal_nan=True)
    positions = bad.nonzero()
    chosen = {tuple(i) for i in positions[:TABLE_ROWS].tolist()}
    if len(positions) > TABLE_ROWS:
        absolute = (have - want).abs()[bad].nan_to_num(nan=float("inf"))
        relative = absolute / want.abs()[bad]
        chosen |= {tuple(positions[int(d.argmax())].tolist())
                   for d in (absolute, relative.nan_to_num(nan=float("inf")))}
    rows = []
    for index in sorted(chosen):
        w, h = want[tuple(index)].item(), have[tuple(index)].item()
        rows.append(MismatchRow(index=str(tuple(index)) if index else "()", expected=f"{w:.6g}",
                                got=f"{h:.6g}", abs_diff=f"{abs(w - h):.3g}"))
    return tuple(rows)


def _module_difference(expected: dict, got: Any, rtol: float, atol: float, where: str,
                       values: bool) -> Difference | None:
    """How a module's structure differs from the reference's, in the student's
    terms: names they wrote, never the order they created things in."""
    if not (isinstance(got, dict) and got.get("is_module")):
        kind = got.get("type") if isinstance(got, dict) else _kind(got)
        return Difference(where, f"is a {kind}, expected an nn.Module")
    kind = got.get("type", "the model")
    want = {p["name"]: p for p in expected["parameters"]}
    have = {p["name"]: p for p in got["parameters"]}
    missing, extra = [n for n in want if n not in have], [n for n in have if n not in want]
    if missing and _held_under_other_names(expected, got, missing, extra):
        # Layers built in a container first and then also kept as attributes:
        # torch names each parameter once, by its first holder.
        have = {**{n: have[n] for n in have if n not in extra},
                **dict(zip(missing, (have[n] for n in extra), strict=True))}
        missing, extra = [], []
    if missing:
        stray = [t["name"] for t in got.get("plain_tensors", []) if t["name"].rsplit(".", 1)[-1] in
                 {n.rsplit(".", 1)[-1] for n in missing}]
        if stray:
            return Difference(where, f"{kind} keeps {_names(stray)} as plain tensors: they are not registered "
                                     "parameters (wrap each in nn.Parameter)")
        alike = [n for n in extra if any(have[n]["shape"] == want[m]["shape"] for m in missing)]
        has = f"; it has {_names(alike)}" if alike else (f"; it has {_names(extra)}" if extra else "")
        return Difference(where, f"{kind} has no parameter {_names(missing)}{has}")
    if extra:
        return Difference(where, f"{kind} has an extra parameter the exercise does not ask for: "
                                 f"{_names(extra)} ({_parameter_list({n: have[n] for n in extra})})")
    for name, spec in want.items():
        for attribute in ("shape", "dtype", "requires_grad", "is_parameter"):
            if have[name][attribute] != spec[attribute]:
                mine, theirs = have[name][attribute], spec[attribute]
                if attribute == "shape":
                    mine, theirs = tuple(mine), tuple(theirs)
                note = " (double precision)" if attribute == "dtype" and mine == "float64" else ""
                return Difference(where, f"{kind}'s parameter `{name}` has {attribute} {_short(mine)}{note}, "
                                         f"expected {_short(theirs)}")
    label = lambda c: f"`{c['name']}` = {c['type']}({c['in_features']}, {c['out_features']})"  # noqa: E731
    own = {c["name"]: c for c in got["children"]}
    for child in expected["children"]:
        mine = own.get(child["name"])
        if mine is None:
            alike = [c for c in got["children"] if {**c, "name": ""} == {**child, "name": ""}]
            has = f"; it has {label(alike[0])}" if alike else ""
            return Difference(where, f"{kind} has no layer {label(child)}{has}")
        if mine != child:
            return Difference(where, f"{kind} has the layer {label(mine)}, expected {label(child)}")
    if values:
        for name in want:
            difference = _tensor_difference(want[name]["value"], have[name]["value"], rtol, atol,
                                            f"{where}: parameter {name}")
            if difference:
                return difference
    elif detectors.starts_at_zero([p.get("value") for p in want.values()], [p.get("value") for p in have.values()]):
        return Difference(where, f"{kind} starts with every parameter at 0", part="zero_start")
    return None


def _view_difference(expected: dict, got: Any, *, rtol: float, atol: float, where: str,
                     names: Sequence | None) -> Difference | None:
    """How an object described by its view (a dataset, a split, a loader, a
    generator: ``untrusted/views.py``) differs from the reference's, in words."""
    kind = expected["view"]
    if kind == "argument":
        if got == expected:
            return None
        return Difference(where, f"is not the {_argument_words(names, expected['index'])} you were given")
    if not (isinstance(got, dict) and "view" in got):
        return Difference(where, f"is {_kind(got)}, expected a {expected.get('type', 'object')}")
    if got["view"] != kind or got.get("type") != expected.get("type"):
        mine = f"a {got['type']}" if got.get("type") else \
            f"the {_argument_words(names, got.get('index', 0))} you were given"
        return Difference(where, f"is {mine}, expected a {expected.get('type')}")
    if kind == "loader":
        return _loader_difference(expected, got, rtol=rtol, atol=atol, where=where, names=names)
    if kind == "subset":
        if got["length"] != expected["length"]:
            return Difference(where, f"holds {got['length']} samples, expected {expected['length']}")
        if got["dataset"] != expected["dataset"] and expected["dataset"]["view"] == "argument":
            return Difference(where, "is not a split of the "
                                     f"{_argument_words(names, expected['dataset']['index'])} you were given")
        if got["indices"] != expected["indices"]:
            return Difference(where, "holds other samples than expected: its indices differ (a random split "
                                     "picks its samples with the generator it is given)")
        return first_difference(expected["dataset"], got["dataset"], rtol=rtol, atol=atol,
                                where=f"the dataset of {where}", names=names)
    if kind == "dataset":
        if got["length"] != expected["length"]:
            words = slips.data_words("length", got["length"], expected["length"])
            return Difference(where, f"has length {got['length']} (what len() gives), expected {expected['length']}"
                                     + (f"\n{words}" if words else ""))
        for index, (want, have) in enumerate(zip(expected["items"], got["items"], strict=True)):
            difference = _sample_difference(want, have, rtol=rtol, atol=atol, where=f"item {index} of {where}")
            if difference:
                return difference
    return None


def _sample_difference(expected: Any, got: Any, *, rtol: float, atol: float, where: str) -> Difference | None:
    """A dataset's item or a loader's batch: data, not a computation, so no
    detector's words; a (features, target) pair is told apart by its parts."""
    # A list where a tuple is expected holds the same sample (a DataLoader collates either).
    if type(expected) in (tuple, list) and type(got) in (tuple, list) and len(got) == len(expected):
        found = next((d for part, (want, have) in enumerate(zip(expected, got, strict=True))
                      if (d := first_difference(want, have, rtol=rtol, atol=atol,
                                                where=f"part {part + 1} of {where}"))), None)
    else:
        found = first_difference(expected, got, rtol=rtol, atol=atol, where=where)
    return None if found is None else _with(found, part="view", index=None)


def _loader_difference(expected: dict, got: dict, *, rtol: float, atol: float, where: str,
                       names: Sequence | None) -> Difference | None:
    if got["batch_size"] != expected["batch_size"]:
        words = slips.data_words("batch_size", got["batch_size"], expected["batch_size"])
        return Difference(where, f"has batches of {got['batch_size']}, expected {expected['batch_size']}"
                                 + (f"\n{words}" if words else ""))
    if got["shuffled"] != expected["shuffled"]:
        return Difference(where, "shuffles its samples: it should give them in order" if got["shuffled"]
                          else "gives its samples in order: it should shuffle them")
    if got["generator"] != expected["generator"]:
        def origin(value: str) -> str:
            if value.startswith("argument "):
                return f"the {_argument_words(names, int(value.split()[1]))} you were given"
            return {"global": "torch's global random state (no generator)", "another": "another generator"}.get(
                value, value)
        return Difference(where, f"shuffles with {origin(got['generator'])}, not with "
                                 f"{origin(expected['generator'])}")
    if got["drop_last"] != expected["drop_last"]:
        return Difference(where, "drops its last incomplete batch (drop_last=True)" if got["drop_last"]
                          else "keeps its last incomplete batch: it should drop it")
    if got["sampler"] != expected["sampler"]:
        return Difference(where, f"draws its samples with a {got['sampler']}, expected a {expected['sampler']}")
    behind = "the split" if expected["dataset"].get("view") == "subset" else "the dataset"
    difference = first_difference(expected["dataset"], got["dataset"], rtol=rtol, atol=atol,
                                  where=f"{behind} behind {where}", names=names)
    if difference:
        return difference
    if len(got["batches"]) != len(expected["batches"]):
        return Difference(where, f"gives {len(got['batches'])} batches, expected {len(expected['batches'])}")
    for index, (want, have) in enumerate(zip(expected["batches"], got["batches"], strict=True)):
        difference = _sample_difference(want, have, rtol=rtol, atol=atol, where=f"batch {index} of {where}")
        if difference:
            return difference
    return None


_MODE_WORDS = {
    ("training", True): "was in training mode, expected evaluation mode: dropout and batch norm behave "
                        "differently in training mode (model.eval() switches to evaluation mode)",
    ("training", False): "was in evaluation mode, expected training mode (model.train() switches back)",
    ("grad", True): "recorded gradients (autograd built a graph), expected none: a pass that only "
                    "measures needs no graph (run it under torch.inference_mode())",
    ("grad", False): "recorded no gradients, expected them: a training pass must not run under "
                     "torch.no_grad() or torch.inference_mode()",
    ("inference", False): "ran outside inference mode, expected torch.inference_mode() (no graph recorded, "
                          "faster, less memory)",
    ("inference", True): "ran in inference mode, expected a pass that autograd records",
}


def _probes_difference(expected: Any, got: Any, where: str,
                       judged: set[str] | frozenset[str] = frozenset(ASPECTS)) -> Difference | None:
    """How the code ran a model, as the probes inside it recorded each
    forward call (``untrusted/probes.py``): how often, in which mode, with or
    without a graph, on batches of which size (``judged`` "modes"), and
    under torch.inference_mode() ("inference_mode")."""
    if not (isinstance(expected, dict) and expected.get("probes")):
        return None
    modes = "modes" in judged
    keys = (*(("training", "grad") if modes else ()), *(("inference",) if "inference_mode" in judged else ()))
    have = {p["name"]: p for p in got.get("probes", [])} if isinstance(got, dict) else {}
    for probe in expected["probes"]:
        mine = have.get(probe["name"])
        if mine is None:
            return Difference(where, "the model it was given never ran (its layers recorded nothing)")
        if mine["calls"] != probe["calls"] and modes:
            return Difference(where, f"the model ran {mine['calls']} times (forward calls), expected "
                                     f"{probe['calls']}", part="calls", expected=probe["calls"], got=mine["calls"])
        count = len(probe["records"])
        for index, (want, record) in enumerate(zip(probe["records"], mine["records"], strict=False)):
            for key in keys:
                if record[key] != want[key]:
                    words = _NO_GRAD_WORDS if key == "inference" and not record[key] and not record["grad"] else \
                        _late_mode_words(key, record[key], mine["records"][index + 1:]) or \
                        _MODE_WORDS[key, record[key]]
                    return Difference(where, f"in forward call {index + 1} of {count}, the model {words}",
                                      part="after")
            if modes and record["batch"] != want["batch"]:
                return Difference(where, f"in forward call {index + 1} of {count}, the model saw a batch of "
                                         f"{record['batch']} samples, expected {want['batch']}")
    return None


def _late_mode_words(key: str, mode: Any, later: Sequence[dict]) -> str | None:
    """A mode switched too late: the code does switch (a later forward call ran in the
    expected mode), only after this call, so "call model.train()" would not fit it."""
    if key != "training" or not any(isinstance(r, dict) and r.get("training") is (not mode) for r in later):
        return None
    wanted, switch = ("evaluation", "model.eval()") if mode else ("training", "model.train()")
    return (f"was in {'training' if mode else 'evaluation'} mode, expected {wanted} mode: your code does call "
            f"{switch}, but too late, only after this forward call; switch modes before the pass that needs it "
            "(at the start of each epoch's pass)")


_NO_GRAD_WORDS = ("ran without a graph but outside inference mode, expected torch.inference_mode(): "
                  "torch.no_grad() records no graph too, and inference mode is what the exercise asks for "
                  "(it also skips autograd's bookkeeping: faster, less memory)")


def _held_under_other_names(expected: dict, got: dict, missing: list[str], extra: list[str]) -> bool:
    """Whether every missing parameter belongs to a layer the student's module
    does hold under the expected name (the same type and sizes), its
    parameters named after another holder: as many, of the same shapes, in order."""
    own = {c["name"]: c for c in got["children"]}
    layers = {c["name"]: c for c in expected["children"]}
    prefixes = {name.rsplit(".", 1)[0] for name in missing}
    if len(missing) != len(extra) or not all(p in layers and own.get(p) == layers[p] for p in prefixes):
        return False
    want = {p["name"]: p["shape"] for p in expected["parameters"]}
    have = {p["name"]: p["shape"] for p in got["parameters"]}
    return [want[n] for n in missing] == [have[n] for n in extra]


def _names(names: Sequence[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _parameter_list(parameters: dict) -> str:
    return ", ".join(f"{name} {tuple(p['shape'])}" for name, p in parameters.items())


def _dtype(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def _kind(value: Any) -> str:
    if isinstance(value, Unsupported):
        return f"a {value.type_name} (not plain data)"
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if value is None:
        return "None"
    return f"a {type(value).__name__}"


def _short(value: Any) -> str:
    """At most 80 characters of a value's repr, never the repr of all of it (a reply may hold 2**18 items)."""
    text = _SHORT_REPR.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# Enough of every kind to fill 80 characters, so only a long value reads differently from its full repr.
_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel, _SHORT_REPR.maxstring, _SHORT_REPR.maxother = 6, 200, 200
_SHORT_REPR.maxlist = _SHORT_REPR.maxtuple = _SHORT_REPR.maxdict = _SHORT_REPR.maxset = 40


__all__ = ["Build", "Call", "Check", "GradeFailure", "Inspect", "Judgement", "compare_replies", "first_difference",
           "randn"]
