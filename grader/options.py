"""What a grading run is asked for, and how it fails: torch-free, so that the
CLI can name them before the zygote starts (``grader.engine.runner`` imports torch)."""
from __future__ import annotations

from dataclasses import dataclass

from grader.errors import Failure, GraderFailure


class GraderError(GraderFailure):
    """The grader itself could not run (a broken suite, a missing wall that was required)."""

    failure = Failure.GRADER


@dataclass(frozen=True)
class GradeOptions:
    seed: int | None = None  # None: the course's seed
    timeout_s: float | None = None  # overrides every exercise's limit
    memory_mb: int | None = None
    require_sandbox: bool = False
    # "submission": one sandbox serves a submission's exercises in turn, retired
    # as soon as an exercise changes anything a later one could see;
    # "exercise": a sandbox of its own for every exercise (five forks, not one).
    isolate: str = "submission"
    # Run only the tests marked public (as a student copy of the course does,
    # where they are the only ones): what ``grade release`` records.
    public_only: bool = False
