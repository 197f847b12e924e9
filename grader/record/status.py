"""What became of a submission, and of each of its exercises, in plain words.

A score alone cannot tell a zero from "could not be graded": every row of the
record carries one of these statuses, read from the ``SubmissionResult`` the
runner produced (and, for a refusal, the reason the submission was refused).
"""
from __future__ import annotations

from enum import Enum

from grader.results import ExerciseResult, SubmissionResult


class Status(str, Enum):
    GRADED = "graded"  # at least one file was graded (its points may be zero)
    NOT_SUBMITTED = "not submitted"  # none of the exercise files was handed in
    REFUSED = "refused"  # the entry could not be read as a submission (unsafe zip, not a notebook, ...)
    GRADER_FAILED = "grader failed"  # not the student's fault: no score, grade it again
    REMOVED = "removed"  # the entry is gone from SUBMISSIONS; its results are kept, not current

    def __str__(self) -> str:
        return self.value


# The stand-in test of a row the grader could not grade (written by
# grader.commands.batch.classbook, which imports it from here).
GRADER_FAILED_TEST = "grader_failed"
# How the runner words an exercise whose file is simply missing (grader.engine.student).
_NOT_SUBMITTED_SUFFIX = "was not submitted"


def exercise_grader_failed(exercise: ExerciseResult) -> bool:
    return any(t.name == GRADER_FAILED_TEST for t in exercise.tests)


def refusal(result: SubmissionResult) -> str | None:
    """Why the whole entry was refused, read from the result: every exercise
    unsubmitted and carrying the same problem, which is not the runner's own
    "exerciseN.py was not submitted" (the batch copies an entry's problem onto
    every exercise)."""
    problems = {e.problem for e in result.exercises}
    if not result.exercises or any(e.submitted or exercise_grader_failed(e) for e in result.exercises):
        return None
    if len(problems) != 1:
        return None
    (problem,) = problems
    if not problem or problem.rstrip(".").endswith(_NOT_SUBMITTED_SUFFIX):
        return None
    return problem


def exercise_status(exercise: ExerciseResult, refused: str | None = None) -> tuple[Status, str | None]:
    """The exercise's status and the reason, if it was not graded."""
    if exercise_grader_failed(exercise):
        return Status.GRADER_FAILED, next((t.message for t in exercise.tests if t.message), exercise.problem)
    if refused is not None:
        return Status.REFUSED, refused
    if not exercise.submitted:
        return Status.NOT_SUBMITTED, exercise.problem
    return Status.GRADED, None


def submission_status(result: SubmissionResult, refused: str | None = None) -> tuple[Status, str | None]:
    """The submission's status: grader failed if it failed anywhere, refused
    with its reason, graded if any exercise was, else not submitted."""
    refused = refused if refused is not None else refusal(result)
    statuses = [exercise_status(e, refused) for e in result.exercises]
    for wanted in (Status.GRADER_FAILED, Status.REFUSED, Status.GRADED):
        reason = next((why for status, why in statuses if status is wanted), None)
        if any(status is wanted for status, _ in statuses):
            return wanted, reason
    return Status.NOT_SUBMITTED, None
