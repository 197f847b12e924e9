"""The records every output is rendered from.

A run produces one ``SubmissionResult``; terminal, HTML, JSON, CSV and JUnit
renderers read it and never recompute a score (scores come from
``grader.scoring``).

The text a submission can put in a result (messages, captured output, notes,
the cells of a mismatch table) is made inert as the record is built
(``grader.inert``): whatever built it (a grading run, the class record, a
results.json read back), no record holds a terminal escape or a bidi control
for a renderer to pass on. A submission's name is its identity and is kept
as it is: each renderer shows it through ``inert``.

A result crosses processes (a batch worker to its controller, a cluster's
worker to the client) and files (``results.json``'s ``extra_data``) as plain
data: ``to_plain`` writes it, ``from_plain`` reads it back through msgspec,
which checks every field against these classes' annotations (an enum value
outside its enum, a string where a number goes) and names the field that is
wrong: a malformed result is refused with that reason, never half-read.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import msgspec

from grader import scoring
from grader.inert import inert
from grader.status import RESULT_STATUSES, Status
from grader.verdicts import Verdict
from grader.words import Scope, Visibility


def _make_inert(record: object, *, lines: tuple[str, ...] = (), multiline: tuple[str, ...] = ()) -> None:
    """Replace the named text fields of a frozen record by their inert form."""
    for name in lines + multiline:
        value = getattr(record, name)
        if isinstance(value, str):
            object.__setattr__(record, name, inert(value, multiline=name in multiline))
        elif isinstance(value, tuple) and all(isinstance(v, str) for v in value):
            object.__setattr__(record, name, tuple(inert(v, multiline=name in multiline) for v in value))


@dataclass(frozen=True)
class MismatchRow:
    """One element where the submission's tensor differs from the reference."""

    index: str
    expected: str
    got: str
    abs_diff: str

    def __post_init__(self) -> None:
        _make_inert(self, lines=tuple(f.name for f in fields(self)))


@dataclass(frozen=True)
class LossCurve:
    """Losses per epoch of one question: the student's, the reference's (empty
    where the test is hidden), which epochs differ and the first that does."""

    label: str  # "loss", or "train" / "test"
    student: tuple[float, ...]
    reference: tuple[float, ...] = ()
    differs: tuple[bool, ...] = ()
    parted_at: int | None = None


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest test class, despite its name

    name: str  # the hidden test's function name, e.g. "test_model_outputs"
    title: str  # first line of its docstring: what it checks, in plain words
    max_points: float
    passed: bool
    message: str = ""  # what went wrong: expected vs got, or the sandbox verdict
    hint: str | None = None  # points at the mistake without giving the answer
    # Set when the test failed for a reason other than a wrong answer
    # (the sandbox ended it, the file could not be imported, ...).
    verdict: Verdict | None = None
    table: tuple[MismatchRow, ...] = ()
    visibility: Visibility = Visibility.HIDDEN
    curves: tuple[LossCurve, ...] = ()  # where its answers hold losses per epoch (engine/curves.py)

    def __post_init__(self) -> None:
        _make_inert(self, lines=("name", "title"), multiline=("message", "hint"))
        object.__setattr__(self, "visibility", Visibility(self.visibility))  # a word of its set, or ValueError

    @property
    def points(self) -> float:
        return scoring.test_points(self.passed, self.max_points)


@dataclass(frozen=True)
class ExerciseResult:
    exercise_id: str
    title: str
    tests: tuple[TestResult, ...]
    seed: int
    # What became of it, set once by whoever makes the result (the runner; the batch, for a grader failure).
    status: Status = Status.GRADED
    # Why nothing could be graded, in plain words, for people: the status is the fact, never read from this.
    problem: str | None = None
    output: str = ""  # the submission's captured stdout/stderr, capped
    notes: tuple[str, ...] = ()  # e.g. "output truncated: 3.2 MB dropped"
    # Only the public tests ran (a student copy): reports must then never say that every test passed.
    scope: Scope = Scope.ALL
    # One mark per call the grader made, in order ("w:3f9a0c12e4": whose answer, and a hash of it
    # rounded; grader.engine.answer_marks): what similarity across the class compares, never a score.
    answers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        status = Status(self.status)  # a plain "graded" becomes the value; anything else is refused here
        if status not in RESULT_STATUSES:
            raise ValueError(f"an exercise result cannot be {status.value!r}: that is a state of the class record")
        object.__setattr__(self, "status", status)
        _make_inert(self, lines=("title", "notes"), multiline=("problem", "output"))
        object.__setattr__(self, "scope", Scope(self.scope))  # a word of its set, or ValueError

    @property
    def submitted(self) -> bool:
        """Whether its file was handed in (the grader failing says nothing against it)."""
        return self.status in (Status.GRADED, Status.GRADER_FAILED)

    @property
    def reason(self) -> str | None:
        """Why it has no score of its own, in plain words: None when graded."""
        if self.status is Status.GRADED:
            return None
        if self.status is Status.GRADER_FAILED:
            return next((t.message for t in self.tests if t.message), self.problem)
        return self.problem

    @property
    def score(self) -> float:
        return scoring.exercise_score([(t.passed, t.max_points) for t in self.tests])

    @property
    def max_score(self) -> float:
        return scoring.exercise_max_score([t.max_points for t in self.tests])

    @property
    def full_marks(self) -> bool:
        return scoring.full_marks(self.score, self.max_score)


@dataclass(frozen=True)
class SandboxStatus:
    """Which walls this machine gave the sandboxes, from the start-up canary."""

    walls: tuple[str, ...] = ()  # e.g. ("rlimits", "landlock", "seccomp")
    missing: tuple[str, ...] = ()  # plain-words warnings, empty when fully walled

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class SubmissionResult:
    submission: str  # the submission's name (student or folder name)
    exercises: tuple[ExerciseResult, ...]
    seed: int
    sandbox: SandboxStatus = field(default_factory=SandboxStatus)
    elapsed_s: float = 0.0

    @property
    def score(self) -> float:
        return scoring.total([e.score for e in self.exercises])

    @property
    def max_score(self) -> float:
        return scoring.total([e.max_score for e in self.exercises])

    @property
    def full_marks(self) -> bool:
        return scoring.full_marks(self.score, self.max_score)

    def counted_score(self, overrides: Mapping[str, float]) -> float:
        """The total as it counts with ``overrides`` (exercise id -> points set by hand) in force."""
        return scoring.total(scoring.effective_points({e.exercise_id: e.score for e in self.exercises},
                                                      overrides).values())


class MalformedResult(ValueError):
    """Plain data that is not a ``SubmissionResult``: the message names the field and what is wrong with it."""


def to_plain(result: SubmissionResult) -> dict[str, Any]:
    """``result`` as JSON-safe data (enums as their values)."""
    plain: dict[str, Any] = msgspec.to_builtins(result)
    return plain


def curves_from_json(text: str) -> tuple[LossCurve, ...]:
    """A test's loss curves as the class record keeps them (a JSON list), every field checked."""
    try:
        return msgspec.json.decode(text, type=tuple[LossCurve, ...])
    except (msgspec.ValidationError, msgspec.DecodeError, ValueError, TypeError) as error:
        raise MalformedResult(f"not loss curves: {error}") from None


def from_plain(data: object) -> SubmissionResult:
    """Plain data as a ``SubmissionResult``, every field checked; ``MalformedResult`` says what is wrong."""
    try:
        return msgspec.convert(data, SubmissionResult)
    except (msgspec.ValidationError, ValueError, TypeError) as error:
        raise MalformedResult(f"not a result: {error}") from None
