"""Resource limits for one sandbox, shared by the grader and the sandbox side.

Units are in the names. The parent sets every limit before student code runs;
the sandbox side only applies what it is given.
"""
from __future__ import annotations

from typing import Any

from dataclasses import asdict, dataclass

# What the zygote can warm once, before it forks rooms, for the exercises that
# declare it in course.toml (``needs``): each costs a second or more on first
# use. The zygote warms these; the catalogue accepts only these.
WARMABLE = ("optim",)
# Libraries a course may declare in its ``requirements`` that the zygote imports
# before it forks (when installed): a room that imports one then adds nothing
# to itself, so its own imports are never read as the student's changes to the
# sandbox, and a notebook's plot costs no import time. Requirement name -> modules.
WARMABLE_LIBRARIES = {"matplotlib": ("matplotlib", "matplotlib.pyplot")}


@dataclass(frozen=True)
class Limits:
    # Time limit for one exercise, import and every call together, counted in
    # its room's own CPU time (all its threads: grader/sandbox/room_clock.py),
    # enforced by the parent with SIGKILL to the sandbox's group.
    timeout_s: float = 10.0
    # Wall-clock backstop, as a multiple of timeout_s: ends a room that sleeps
    # or waits, and bounds how long a busy machine may make an exercise last.
    wall_clock_factor: float = 3.0
    # Address space the student's code may add on top of the warm zygote.
    memory_mb: int = 1024
    # Largest file the sandbox may write (scratch only).
    file_size_mb: int = 16
    # Everything the sandbox may write in all (its scratch folder is a tmpfs of this size, where the machine allows).
    scratch_mb: int = 64
    open_files: int = 64
    # Captured stdout+stderr kept per sandbox; the rest is counted and dropped.
    output_kb: int = 64
    # Largest reply accepted from a sandbox.
    reply_mb: int = 64

    @property
    def wall_clock_s(self) -> float:
        return self.timeout_s * self.wall_clock_factor

    @property
    def cpu_s(self) -> int:
        """CPU-time rlimit: the kernel's backstop behind the grader's count of the same time."""
        return int(self.timeout_s) + 2

    def to_plain(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> "Limits":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
