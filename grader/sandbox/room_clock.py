"""How long a room has been at work: its own CPU time, read by the grader, and the deadline built on it.

An exercise's time limit is counted in the CPU time of its room, all its
threads together (seccomp refuses fork, so a room is one process; where it
could fork, the children it has waited for count too). A room that spins
many threads uses its limit up the sooner for it, and a room graded beside
it on a busy machine is not charged for the time it waited for a core: its
limit cannot be pushed past by a neighbour (issue 23 §10 b). A wall-clock
backstop, a multiple of the limit, ends a room that sleeps or waits.

The grader reads the CPU time from ``/proc/<pid>/stat`` (utime, stime,
cutime, cstime; what ``ps`` shows), through a descriptor opened while the
room cannot yet have been reaped, so a reused pid is never read. Where that
cannot be read (no procfs), the limit is counted on the wall clock instead.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from enum import Enum

_TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# The fewest seconds between two looks at the room's CPU time while waiting
# for an answer: the most it can overrun its limit is this times the cores.
MIN_LOOK_S = 0.02
# No room can use more than this many seconds of CPU time per second.
CORES = os.cpu_count() or 1


class RoomCpu:
    """One room's CPU time so far, in seconds (``None`` once it cannot be read)."""

    def __init__(self, pid: int) -> None:
        try:
            self._fd: int | None = os.open(f"/proc/{pid}/stat", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self._fd = None

    def seconds(self) -> float | None:
        if self._fd is None:
            return None
        try:
            return cpu_seconds(os.pread(self._fd, 4096, 0))
        except (OSError, ValueError):
            return None  # reaped (ESRCH) or unreadable: the caller falls back to the wall clock

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def cpu_seconds(stat: bytes) -> float:
    """utime + stime + cutime + cstime of a ``/proc/<pid>/stat`` line, in
    seconds. The fields are read after the last ')', since the process name
    before it is the room's to choose (spaces and parentheses included)."""
    fields = stat[stat.rindex(b")") + 2:].split()
    return sum(int(tick) for tick in fields[11:15]) / _TICKS_PER_S


class Clock(Enum):
    CPU = "CPU time"
    WALL = "wall-clock time"


@dataclass
class RoomDeadline:
    """When a wait on a room must end: once the room's CPU time reaches
    ``cpu_until_s`` or the wall clock (``time.monotonic``) ``wall_until``.
    ``expired`` says which came first. A channel asks ``wait_s`` before each
    wait; it reads the CPU time no more often than the room could spend
    what it has left, and not before the first ``MIN_LOOK_S``, so a quick
    answer costs no read at all."""

    cpu: RoomCpu
    cpu_until_s: float  # in the room's own CPU seconds
    wall_until: float
    started: float  # wall clock; charges the CPU budget where the CPU time is unreadable
    cpu_at_start_s: float
    expired: Clock | None = None
    cpu_shown: bool = True  # False once the CPU time could not be read: the wall clock stood in
    looked: bool = False

    def wait_s(self) -> float:
        now = time.monotonic()
        wall_left = self.wall_until - now
        if wall_left <= 0:
            self.expired = Clock.WALL
            return 0.0
        if not self.looked and self.cpu_until_s > self.cpu_at_start_s:
            # Most answers come within the first look: they cost no read (one per request is charged anyway).
            self.looked = True
            return min(wall_left, MIN_LOOK_S)
        used = self.cpu.seconds()
        if used is None:
            self.cpu_shown, used = False, self.cpu_at_start_s + (now - self.started)
        cpu_left = self.cpu_until_s - used
        if cpu_left <= 0:
            self.expired = Clock.CPU
            return 0.0
        return min(wall_left, max(MIN_LOOK_S, cpu_left / CORES))
