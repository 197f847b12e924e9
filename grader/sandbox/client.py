"""The grader's handle on its sandboxes (trusted side).

The zygote they are forked from is ``grader.sandbox.zygote`` (named here
too). Each ``Sandbox``
is one forked child, a room for one submission's exercises taken one at a
time (``load``, requests, ``release``); the grader talks to it in plain
data, with each exercise's time budget, which it enforces itself: counted in
the room's own CPU time, with a wall-clock backstop (``room_clock``).
Everything a sandbox can do wrong ends as a ``SandboxFailure`` with a verdict
in plain words, never as a crash of the grader.
"""
from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.verdicts import Verdict
from grader.sandbox import captured
from grader.sandbox.channel import Channel, ChannelClosed, ChannelTimeout, FrameTooLarge
from grader.sandbox.limits import Limits
from grader.sandbox.room_clock import Clock, RoomCpu, RoomDeadline
from grader.sandbox.zygote import (CANARY_TIMEOUT_S, CONTROL_TIMEOUT_S, FORK_TIMEOUT_S, KILLED_EXIT_S,
                                   READY_TIMEOUT_S, Reaped, Zygote, ZygoteError, ZygoteLost, clean_environment,
                                   kill_group, make_scratch, remove_scratch, sandbox_uid, scratch_remover,
                                   untrusted_sources, wire)

if TYPE_CHECKING:
    import torch

__all__ = [  # the zygote's handle is named here too, where most callers look for it
    "CANARY_TIMEOUT_S", "CONTROL_TIMEOUT_S", "FORK_TIMEOUT_S", "KILLED_EXIT_S", "READY_TIMEOUT_S", "Budget",
    "Reaped", "Sandbox", "SandboxFailure", "Zygote", "ZygoteError", "ZygoteLost", "clean_environment",
    "make_scratch", "remove_scratch", "sandbox_uid", "untrusted_sources"]

CHECK_TIMEOUT_S = 2.0  # for a room to say what an exercise left behind

# (an error's message, its traceback) -> the same as the student reads them
Citing = Callable[[str, str], tuple[str, str]]

# What the grader was asking when a room failed, for the failure's words: text, or a function that
# makes it only when a message needs it (describing a request's inputs costs more than most requests).
Doing = str | Callable[[], str]


def _said(doing: Doing) -> str:
    return doing if isinstance(doing, str) else doing()

# After a sandbox closed its end of the channel: how long it may take to exit
# on its own before its group is killed (an exiting process closes its files
# last: its exit follows within milliseconds), within the exercise's budget.
EXIT_GRACE_S = 1.0
MIN_EXIT_GRACE_S = 0.05


class SandboxFailure(Exception):
    """The sandbox, not an assertion, ended the work: a verdict in plain words."""

    def __init__(self, verdict: Verdict, message: str) -> None:
        super().__init__(message)
        self.verdict = verdict
        self.message = message


@dataclass
class Budget:
    """What one exercise of one submission has left: seconds of its room's
    CPU time (all threads together), and of the wall clock as a backstop
    (``wall_s``; by default the CPU seconds times ``Limits.wall_clock_factor``'s default)."""

    cpu_s: float
    wall_s: float | None = None

    def __post_init__(self) -> None:
        if self.wall_s is None:
            self.wall_s = self.cpu_s * Limits.wall_clock_factor

    @classmethod
    def for_limits(cls, limits: Limits, *, at_most_s: float = float("inf")) -> "Budget":
        cpu_s = min(limits.timeout_s, at_most_s)
        return cls(cpu_s, cpu_s * limits.wall_clock_factor)

    @property
    def wall_left_s(self) -> float:
        return self.wall_s or 0.0

    def spend(self, *, cpu_s: float, wall_s: float) -> None:
        self.cpu_s = max(0.0, self.cpu_s - cpu_s)
        self.wall_s = max(0.0, self.wall_left_s - wall_s)


@dataclass
class Sandbox:
    """One live sandbox: a room for one submission's exercises, one at a time."""

    zygote: Zygote
    pid: int
    channel: Channel
    scratch: Path
    limits: Limits
    budget: Budget  # the current exercise's
    tenant: str | None = None  # the exercise file loaded now
    output: str = ""
    dropped: int = 0
    closed: bool = False
    cpu: RoomCpu | None = None  # the room's CPU time, read from /proc
    cpu_charged_s: float = 0.0  # how much of it budgets were charged with so far

    def __post_init__(self) -> None:
        if self.cpu is None:  # opened before the zygote may reap the room: never another process's
            self.cpu = RoomCpu(self.pid)

    @classmethod
    def open(cls, zygote: Zygote, helpers: dict[str, bytes], limits: Limits, budget: Budget, *,
             tenants: int = 1, warm: tuple[str, ...] = ()) -> "Sandbox":
        """Fork a room that writes ``helpers`` (file name -> bytes) into its
        scratch folder, able to serve ``tenants`` exercises. Raises SandboxFailure."""
        scratch = make_scratch()
        try:
            pid, channel = zygote.fork({"mode": "room", "scratch": str(scratch), "limits": limits.to_plain(),
                                        "tenants": tenants, "warm": list(warm)})
        except BaseException:
            remove_scratch(scratch)
            raise
        sandbox = cls(zygote, pid, channel, scratch, limits, budget)
        setup = wire().encode({"op": "setup", "helpers": {name: _file_tensor(data) for name, data in helpers.items()}})
        sandbox.request_encoded(setup, doing="starting the sandbox")  # walled in (the canary reports the walls)
        return sandbox

    def load(self, filename: str, source: bytes, budget: Budget, *, shown_as: str | None = None,
             cite: Citing | None = None) -> None:
        """Import ``source`` as the room's exercise ``filename`` (the room
        writes the file itself), spending ``budget``. Raises SandboxFailure,
        naming the file ``shown_as`` (the student's name for it) and its
        error's message and frames as ``cite`` rewrites them (its own file
        and line, or a notebook's cell and line)."""
        self.budget, self.tenant = budget, filename
        reply = self.request({"op": "load", "module": filename.removesuffix(".py"), "file": filename,
                              "source": _file_tensor(source)}, doing=f"importing {filename}")
        if not reply.get("loaded"):
            raise SandboxFailure(*_import_verdict(shown_as or filename, reply.get("error", {}), cite))

    def release(self) -> list[str]:
        """The exercise is done: the room removes its file and says what it
        changed that a later exercise could see. Dirt (or no answer) closes it."""
        if self.closed:
            return []
        self.tenant = None
        self.budget = Budget.for_limits(self.limits, at_most_s=CHECK_TIMEOUT_S)
        try:
            dirt = self.request({"op": "check"}, doing="checking what the exercise left behind").get("dirt")
        except SandboxFailure as failure:
            dirt = [failure.message]
        if type(dirt) is not list or not all(type(d) is str for d in dirt):
            dirt = ["the sandbox sent back a malformed check"]
        if dirt:
            self.close()
        return dirt

    def take_output(self) -> tuple[str, int]:
        """What the current exercise printed so far, and how much was dropped."""
        output, dropped, self.output, self.dropped = self.output, self.dropped, "", 0
        return output, dropped

    def request(self, message: dict[str, Any], *, doing: str) -> dict[str, Any]:
        return self.request_encoded(wire().encode(message), doing=doing)

    def request_encoded(self, *messages: bytes, doing: Doing) -> dict[str, Any]:
        """Send already-encoded frames (one request, or a "many" header and its
        requests) and wait for the one reply, all within the exercise's budget."""
        if self.closed:
            raise SandboxFailure(Verdict.SANDBOX_ERROR, "the sandbox was already closed")
        started = time.monotonic()
        deadline = self._deadline(started)
        try:
            self.channel.send(messages, deadline)
        except ChannelTimeout:
            self._time_out()
            raise SandboxFailure(Verdict.TIME_LIMIT, self._time_limit_words(
                deadline, _said(doing), ": the sandbox stopped reading requests")) from None
        except ChannelClosed:
            pass  # it died or closed its end: _receive reads the exit status and says how
        return self._receive(doing=doing, started=started, deadline=deadline)

    def _deadline(self, started: float) -> RoomDeadline:
        """The current request's deadline: the exercise's CPU budget, counted
        from what the room had used when last charged (CPU it spent between
        requests is charged too), and what is left of its wall clock."""
        if self.cpu is None:
            raise RuntimeError("a room's CPU reader is opened in __post_init__")
        return RoomDeadline(self.cpu, cpu_until_s=self.cpu_charged_s + self.budget.cpu_s,
                            wall_until=started + self.budget.wall_left_s, started=started,
                            cpu_at_start_s=self.cpu_charged_s)

    def _charge(self, started: float) -> None:
        """Spend, from the exercise's budget, the room's CPU time since it was
        last charged and the wall-clock time since ``started``."""
        now = time.monotonic()
        used = self.cpu.seconds() if self.cpu is not None else None
        if used is None:  # unreadable here (or reaped): the wall clock stands in
            used = self.cpu_charged_s + (now - started)
        self.budget.spend(cpu_s=max(0.0, used - self.cpu_charged_s), wall_s=now - started)
        self.cpu_charged_s = max(self.cpu_charged_s, used)

    def _time_limit_words(self, deadline: RoomDeadline, doing: str, how: str = "") -> str:
        """Which limit the room hit, in plain words."""
        if deadline.expired is Clock.CPU and deadline.cpu_shown:
            return (f"CPU time limit exceeded while {doing}{how} (the exercise may use {self.limits.timeout_s:g} s "
                    "of CPU time in all, every thread of its sandbox counted)")
        if deadline.expired is Clock.CPU:
            return (f"time limit exceeded while {doing}{how} (the exercise may use {self.limits.timeout_s:g} s in "
                    "all, counted on the wall clock: this machine does not show a sandbox's CPU time)")
        return (f"wall-clock time limit exceeded while {doing}{how} (the exercise may take "
                f"{self.limits.wall_clock_s:g} s in all, waiting included, {self.limits.wall_clock_factor:g} times "
                f"its CPU-time limit of {self.limits.timeout_s:g} s)")

    def _receive(self, *, doing: Doing, started: float, deadline: RoomDeadline) -> dict[str, Any]:
        max_bytes = self.limits.reply_mb << 20
        try:
            data = self.channel.receive(max_bytes, deadline)
        except ChannelTimeout as timeout:
            self._time_out()
            raise SandboxFailure(Verdict.TIME_LIMIT, self._time_limit_words(
                deadline, _said(doing), _unfinished(timeout))) from None
        except ChannelClosed as closed:
            self._charge(started)
            raise SandboxFailure(*self._death_verdict(_said(doing), closed.received)) from None
        except FrameTooLarge as large:
            self.close()
            what = (f"more than {self.limits.reply_mb} MB" if large.length > max_bytes
                    else "a reply with a malformed length")
            raise SandboxFailure(Verdict.SANDBOX_ERROR, f"the submission sent back {what} while {_said(doing)}, "
                                 "breaking the protocol between the sandbox and the grader") from None
        self._charge(started)
        decoding = time.monotonic()
        try:
            reply = wire().decode(data)
        except wire().WireError as error:
            self.close()
            raise SandboxFailure(Verdict.SANDBOX_ERROR, f"the submission sent back something that is not plain data "
                                 f"while {_said(doing)}: {error}") from None
        finally:  # reading what the room sent is the room's time: a reply built to be slow to read costs it
            decoded_in = time.monotonic() - decoding
            self.budget.spend(cpu_s=decoded_in, wall_s=decoded_in)
        if type(reply) is not dict:
            self.close()
            raise SandboxFailure(Verdict.SANDBOX_ERROR, f"malformed reply while {_said(doing)}")
        try:  # the room's own output cap can be lifted: keep within it here (see captured)
            self.output, self.dropped = captured.append(self.output, self.dropped, *captured.take(reply),
                                                        self.limits.output_kb << 10)
        except captured.MalformedOutput as error:
            self.close()
            raise SandboxFailure(Verdict.SANDBOX_ERROR,
                                 f"the sandbox sent a malformed answer while {_said(doing)}: {error}") from None
        return reply

    def _time_out(self) -> None:
        self.budget.spend(cpu_s=float("inf"), wall_s=float("inf"))
        self.close()

    def _death_verdict(self, doing: str, received: int = 0) -> tuple[Verdict, str]:
        """The sandbox closed its end of the channel: it died, or it is still
        running, which the zygote ends within the exercise's budget."""
        self.closed = True
        self.channel.close()
        grace_s = max(MIN_EXIT_GRACE_S, min(EXIT_GRACE_S, self.budget.wall_left_s))
        try:
            reaped = self.zygote.reap(self.pid, grace_s=grace_s)
        finally:
            self._forget_cpu()
            self._remove_scratch()
        status = reaped.status
        if reaped.killed or status is None:
            half = f" part-way through a reply ({received} bytes sent)" if received else ""
            return Verdict.SANDBOX_ERROR, (f"the submission closed its connection to the grader{half} while {doing} "
                                           "and did not exit, breaking the protocol between the sandbox and the "
                                           "grader: it was stopped")
        if os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
            if number == signal.SIGXCPU:
                return Verdict.TIME_LIMIT, f"CPU time limit exceeded while {doing}"
            if number == signal.SIGKILL:
                return Verdict.KILLED, f"killed by SIGKILL while {doing} (often: out of memory)"
            return Verdict.CRASHED, f"crashed with signal {name} ({number}) while {doing}"
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
        return Verdict.EXITED, f"the submission ended the process (exit status {code}) while {doing}"

    def close(self) -> None:
        """End the sandbox at once: SIGKILL its group; the zygote reaps it later,
        so the grader never waits for a large process's teardown."""
        if self.closed:
            return
        kill_group(self.pid)
        self.closed = True
        self.channel.close()
        self._forget_cpu()  # before the zygote may reap it
        self.zygote.forget(self.pid)
        self._remove_scratch()

    def _forget_cpu(self) -> None:
        if self.cpu is not None:
            self.cpu.close()

    def _remove_scratch(self) -> None:
        scratch_remover.remove(self.scratch)  # its group is dead or SIGKILLed: it writes nothing more


def _unfinished(timeout: ChannelTimeout) -> str:
    """Plain words for a reply cut off by the deadline (a sandbox that began a
    frame and stopped sending is stopped like one that never answered)."""
    if not timeout.received:
        return ""
    if timeout.expected is None:
        return f": the sandbox had begun a reply ({timeout.received} bytes of its header) and stopped sending"
    return (f": the sandbox had sent {timeout.received:,} bytes of a reply it announced as "
            f"{timeout.expected:,} bytes, and not the rest")


def _file_tensor(data: bytes) -> torch.Tensor:
    """A file's bytes as a 1-d uint8 tensor: how file contents cross the wire."""
    import torch  # noqa: PLC0415 - imported with the wire, after the zygote started

    return torch.frombuffer(bytearray(data), dtype=torch.uint8) if data else torch.empty(0, dtype=torch.uint8)


def _import_verdict(filename: str, error: object, cite: Citing | None = None) -> tuple[Verdict, str]:
    if type(error) is not dict or not all(type(v) is str for v in error.values()):  # the room's word: check it
        return Verdict.SANDBOX_ERROR, f"the sandbox sent a malformed answer while importing {filename}"
    kind, name, message = error.get("kind"), error.get("type", "error"), error.get("message", "")
    where = error.get("traceback", "")
    if cite is not None:
        message, where = cite(message, where)
    if name in ("SyntaxError", "IndentationError", "TabError"):
        return Verdict.IMPORT_ERROR, f"{filename} has a syntax error: {message}" + (f"\n{where}" if where else "")
    if kind == "exit":
        return Verdict.EXITED, f"{filename} called sys.exit({message}) while being imported"
    if kind == "memory":
        return Verdict.MEMORY_LIMIT, f"{filename} ran out of memory while being imported ({name}: {message})"
    if kind == "disk":
        return Verdict.DISK_QUOTA, f"{filename} wrote more than it may while being imported ({name}: {message})"
    detail = f"\n{where}" if where else ""
    missing = missing_library(name, message)
    if missing is not None:
        return Verdict.IMPORT_ERROR, f"{filename} imports {missing_library_advice(missing)}{detail}"
    return Verdict.IMPORT_ERROR, f"{filename} raised {name} while being imported: {message}{detail}"


_NO_MODULE = re.compile(r"No module named '([A-Za-z_][A-Za-z0-9_]*)(?:\.[A-Za-z0-9_.]*)?'")
# The few libraries whose pip name is not the name they are imported by.
_PIP_NAMES = {"sklearn": "scikit-learn", "PIL": "pillow", "cv2": "opencv-python", "yaml": "pyyaml",
              "skimage": "scikit-image", "bs4": "beautifulsoup4"}


def missing_library(error_type: str, message: str) -> str | None:
    """The top-level library a ``ModuleNotFoundError`` says is not installed, or None."""
    if error_type != "ModuleNotFoundError":
        return None
    found = _NO_MODULE.match(message)
    return found.group(1) if found else None


def missing_library_advice(library: str) -> str:
    """Which library is missing and how to install it, in plain words."""
    package = _PIP_NAMES.get(library, library)
    return (f"{library}, which is not installed where it was graded: install it with `pip install {package}`. "
            f"A course whose exercises may use {library} lists {package!r} in course.toml's [course] "
            "requirements, which the student copy (grade release) and the Gradescope package install")
