"""The closed set of outcomes a failed test can carry besides "the answer differs".

Every module that gives or reads a verdict uses ``Verdict``; the verdict
table of docs/reference.md is tested against it. A verdict is a ``str`` (its value), so it
is written to JSON, CSV and HTML as the plain words students read.
"""
from __future__ import annotations

from enum import Enum


class Verdict(str, Enum):
    """Why a test failed when it was not a plain wrong answer."""

    TIME_LIMIT = "time limit"
    MEMORY_LIMIT = "memory limit"
    DISK_QUOTA = "disk quota"
    KILLED = "killed"
    CRASHED = "crashed"
    EXITED = "exited"
    IMPORT_ERROR = "import error"
    NOT_SUBMITTED = "not submitted"
    NOT_IMPLEMENTED = "not implemented"
    MISSING_NAME = "missing name"
    FORBIDDEN = "forbidden"
    SANDBOX_ERROR = "sandbox error"
    NOT_RECORDED = "not recorded"
    GRADER_ERROR = "grader error"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return self.value.__format__(spec)

    @property
    def explanation(self) -> str:
        """One line for the documentation and the reports: what the verdict means."""
        return _EXPLANATIONS[self]


_EXPLANATIONS = {
    Verdict.TIME_LIMIT: ("the exercise used up its CPU time, or its wall-clock backstop, and was stopped "
                         "(the message says which)"),
    Verdict.MEMORY_LIMIT: "the submission asked for more memory than the exercise allows",
    Verdict.DISK_QUOTA: ("the submission wrote more than it may (a file over `file_size_mb`, "
                         "or all its files together over `scratch_mb`) and the write failed"),
    Verdict.KILLED: "the sandbox was killed by SIGKILL (most often: out of memory)",
    Verdict.CRASHED: "the sandbox died with a signal (a segmentation fault, say)",
    Verdict.EXITED: "the submission ended its own process (sys.exit, os._exit)",
    Verdict.IMPORT_ERROR: "the file could not be imported (a syntax error, an exception at import)",
    Verdict.NOT_SUBMITTED: "no file for this exercise was found in the submission",
    Verdict.NOT_IMPLEMENTED: "the function still raises NotImplementedError, as the stub does",
    Verdict.MISSING_NAME: "a function or class the exercise asks for is not defined",
    Verdict.FORBIDDEN: ("the function uses what the exercise forbids there (read from its source), "
                        "or code the grader cannot read"),
    Verdict.SANDBOX_ERROR: "the sandbox broke the protocol: a malformed, oversized or non-plain answer",
    Verdict.NOT_RECORDED: "a student copy has no recorded answer for this seed",
    Verdict.GRADER_ERROR: "the grader itself failed (not the submission's fault)",
}

# Verdicts that mean the submission's process hit a wall or died.
LIMIT_VERDICTS = frozenset({Verdict.TIME_LIMIT, Verdict.MEMORY_LIMIT, Verdict.DISK_QUOTA, Verdict.KILLED,
                            Verdict.CRASHED, Verdict.EXITED, Verdict.SANDBOX_ERROR})
