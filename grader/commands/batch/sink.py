"""Where a batch's finished submissions go, whoever graded them (local workers or a Dask cluster).

The controller plans and keeps the class record; a runner (``local_workers``
or ``cluster``) grades the pending entries and hands each finished one to the
``ResultSink``: the record (once per submission), the outcome, the progress
events. Runners import this module, never the controller.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from grader.commands.batch.entries import Entry
from grader.commands.batch.events import Failed, Graded, ProgressEvent
from grader.course.catalogue import ExerciseSpec
from grader.errors import EXIT_GRADER_FAILURE, EXIT_INTERRUPTED, GraderFailure
from grader.record.classbook import GRADER_FAILED, failed_result
from grader.record.tally import ClassSummary
from grader.results import MalformedResult, SubmissionResult, from_plain

MAX_ATTEMPTS = 2  # a submission left unfinished by this many crashed workers gets a failed row


class BatchError(GraderFailure):
    """The batch could not run at all (a broken suite, a zygote that cannot start)."""


@dataclass
class BatchOutcome:
    """What a batch did: read by the progress display and the CLI; the class's files are in ``out``."""

    out: Path
    summary: ClassSummary
    graded: list[str] = field(default_factory=list)  # finished in this run
    skipped: list[str] = field(default_factory=list)  # up to date (--resume)
    failed: list[str] = field(default_factory=list)  # the grader failed on them in this run
    hidden: list[str] = field(default_factory=list)  # hidden entries of SUBMISSIONS left out
    not_listed: list[str] = field(default_factory=list)  # current in the record, not in SUBMISSIONS: kept
    removed: list[str] = field(default_factory=list)  # removed by this run (--prune), recorded in history
    restored: list[str] = field(default_factory=list)  # removed before, back in SUBMISSIONS: current again
    only: list[str] = field(default_factory=list)  # --only: the named entries graded, the class left as it was
    notes: list[str] = field(default_factory=list)  # worth saying (a new course version)
    replaced: int = 0  # current exercise results this run grades again (kept in the record's history)
    interrupted: bool = False
    jobs: int = 0
    elapsed_s: float = 0.0
    worker_errors: list[str] = field(default_factory=list)  # stderr tails of workers that died
    unstored: list[str] = field(default_factory=list)  # graded, but the disk was full when storing them
    stale_outputs: bool = False  # the disk was full when the class files were rebuilt at the end

    @property
    def exit_status(self) -> int:
        """130 when interrupted, 3 when the grader failed on a submission or a full disk kept a result
        or the class files from being written, else 0 (whatever the scores: grading a class succeeded)."""
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_GRADER_FAILURE if self.failed or self.unstored or self.stale_outputs else 0



class Runner(Protocol):
    """What grades the pending entries: local worker processes (``local_workers.LocalWorkers``) or a Dask cluster."""

    def start(self) -> int:
        """Get ready; returns how many submissions it grades at a time."""
        ...

    def run(self, pending: Sequence[Entry]) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


@dataclass
class ResultSink:
    """Where every finished submission goes, whoever graded it: the class
    record (once per submission, even if a lost worker's task ran twice), the
    submission's files when ``write`` is given (a cluster's workers cannot
    write OUT), the outcome and the progress events."""

    outcome: BatchOutcome
    store: Callable[..., None]
    report: Callable[[ProgressEvent], None]
    specs: Sequence[ExerciseSpec]
    seed: int
    write: Callable[[SubmissionResult], object] | None = None
    stored: set[str] = field(default_factory=set)

    def graded(self, event: Graded) -> bool:
        """A worker's ``graded`` event; False if that submission was stored already. A result that is
        not whole (``MalformedResult``) is refused with its reason: the submission's row says the grader
        failed, why, and that it is not a score."""
        name = event.submission
        if name in self.stored:
            return False
        try:
            result = from_plain(event.result)
            if result.submission != name:
                raise MalformedResult(f"the result of {result.submission!r} came as that of {name!r}")
        except MalformedResult as error:
            if not name:
                return False  # no submission to blame: what its worker leaves unfinished is retried
            self.refuse(name, f"its grading process sent a malformed result ({error})")
            return True
        if self.write is not None:
            self.write(result)  # before the record: as a local worker writes, then reports
        self.store(result)
        self.stored.add(result.submission)
        self.outcome.graded.append(result.submission)
        self.report(event)
        return True

    def failed(self, name: str, why: str) -> None:
        """A submission that ended ``MAX_ATTEMPTS`` grading processes: a row saying the grader failed."""
        self.refuse(name, f"its grading process {why}, twice")

    def refuse(self, name: str, why: str) -> None:
        """A row saying the grader failed on ``name``, and why (it is then never stored twice)."""
        if name in self.stored:
            return
        reason = (f"{GRADER_FAILED}: {why}. This is not the submission's score; grade it again with --resume, "
                  "and report it if it happens again.")
        self.store(failed_result(name, self.specs, self.seed, reason), written=False)
        self.stored.add(name)
        self.outcome.failed.append(name)
        self.report(Failed(name, reason))

