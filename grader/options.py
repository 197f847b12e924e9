"""What a grading run is asked for, and how it fails: torch-free, so that the
CLI can name them before the zygote starts (``grader.engine.runner`` imports torch)."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from grader.errors import Failure, GraderFailure
from grader.words import Word


class GraderError(GraderFailure):
    """The grader itself could not run (a broken suite, a missing wall that was required)."""

    failure = Failure.GRADER


class Isolation(Word):
    """How a submission's exercises share rooms (``--isolate``)."""

    # One sandbox serves a submission's exercises in turn, retired as soon as
    # an exercise changes anything a later one could see.
    SUBMISSION = "submission"
    # A sandbox of its own for every exercise (five forks, not one).
    EXERCISE = "exercise"


@dataclass(frozen=True)
class GradeOptions:
    seed: int | None = None  # None: the course's seed
    timeout_s: float | None = None  # overrides every exercise's limit
    memory_mb: int | None = None
    require_sandbox: bool = False
    isolate: Isolation = Isolation.SUBMISSION  # a string is taken for its Isolation; a typo is a ValueError
    # Run only the tests marked public (as a student copy of the course does,
    # where they are the only ones): what ``grade release`` records.
    public_only: bool = False
    # Keep the reference's answers between runs (``engine.answer_cache``): ``grade exerciseN`` on a course
    # with its solutions, so that a second cold run does not train the reference again.
    answer_cache: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "isolate", Isolation(self.isolate))

    def to_plain(self) -> dict[str, Any]:
        """The options as JSON-safe data (a batch job carries them to its workers)."""
        return {**dataclasses.asdict(self), "isolate": self.isolate.value}

    @classmethod
    def from_plain(cls, plain: Mapping[str, Any]) -> GradeOptions:
        """``to_plain``'s inverse; an unknown field or value is an error, never ignored."""
        return cls(**plain)
