"""What became of a submission, and of each of its exercises: one closed set of values.

A score alone cannot tell a zero from "could not be graded". The runner sets
an exercise result's ``Status`` once, where it makes the result (graded, not
submitted, refused as a whole entry, or the grader failed); the class record
stores it as it is and adds ``REMOVED`` for a submission gone from
SUBMISSIONS. Nothing downstream works a status out again from a message: the
sentence beside a status (``ExerciseResult.problem``) is for people to read.
"""
from __future__ import annotations

from collections.abc import Iterable
from enum import Enum


class Status(str, Enum):
    GRADED = "graded"  # the exercise's file was graded (its points may be zero)
    NOT_SUBMITTED = "not submitted"  # the exercise's file was not handed in
    REFUSED = "refused"  # the entry could not be read as a submission (unsafe zip, not a notebook, ...)
    GRADER_FAILED = "grader failed"  # not the student's fault: no score, grade it again
    REMOVED = "removed"  # the record's only: the entry is gone from SUBMISSIONS; its results are kept, not current

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return self.value.__format__(spec)


# What a grading can make an exercise result (REMOVED is a state of the class record, never of a result).
RESULT_STATUSES = frozenset({Status.GRADED, Status.NOT_SUBMITTED, Status.REFUSED, Status.GRADER_FAILED})
# The order in which one exercise's status speaks for the whole submission.
_PRECEDENCE = (Status.GRADER_FAILED, Status.REFUSED, Status.GRADED)


def combined_status(exercises: Iterable[tuple[Status, str | None]]) -> tuple[Status, str | None]:
    """A submission's status from its exercises' (status, reason): grader failed if it failed
    anywhere, refused with its reason, graded if any exercise was, else not submitted."""
    statuses = list(exercises)
    for wanted in _PRECEDENCE:
        for status, reason in statuses:
            if status is wanted:
                return wanted, reason
    return Status.NOT_SUBMITTED, None
