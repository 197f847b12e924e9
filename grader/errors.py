"""How the grader fails, in two kinds, and the exit status of each.

Every error the ``grade`` command can meet derives from one of two bases, so
the CLI catches two classes and the exit status follows the kind, whatever
module raised it:

- ``UserError`` (exit 2): what the person running ``grade`` can fix: no
  course.toml, a typo in it, a submission that does not exist, an OUT folder
  that cannot take a release. The message is in plain words; no traceback.
- ``GraderFailure`` (exit 3): the grader could not run here: the zygote did not
  start, a hidden suite cannot run, a wall that was required is missing, the
  batch's workers could not grade. Still a message, not a traceback: the
  details are in the message (or a worker's log), and a bug of ours shows
  itself as any other exception, with its traceback.

Torch-free, like the CLI that imports it.
"""
from __future__ import annotations

from enum import Enum

EXIT_USER_ERROR = 2  # also click's status for bad options
EXIT_GRADER_FAILURE = 3
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports it (128 + SIGINT)


class Failure(str, Enum):
    """What part of the grader failed, as a value its error carries (``failure``): a reporter that must
    import nothing of the grader (``grader.commands.gradescope``) reads it, never the error's class name."""

    COURSE = "course"  # the course declaration is broken (CourseError)
    SANDBOX_START = "sandbox start"  # the zygote could not start on this machine (ZygoteError)
    SANDBOX_LOST = "sandbox lost"  # the zygote went away while grading (ZygoteLost)
    GRADER = "grader"  # the grader could not run: a broken suite, a required wall missing (GraderError)


class UserError(Exception):
    """Something the user can fix, said in plain words (exit status 2)."""

    exit_status = EXIT_USER_ERROR
    failure: Failure | None = None


class GraderFailure(RuntimeError):
    """The grader could not run on this machine or this course (exit status 3)."""

    exit_status = EXIT_GRADER_FAILURE
    failure: Failure | None = None
