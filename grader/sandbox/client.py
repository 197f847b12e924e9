"""The grader's handle on the zygote and its sandboxes (trusted side).

``Zygote.start()`` launches the secret-free zygote as a fresh interpreter;
call it before any solution or hidden suite is imported. Each ``Sandbox``
is one forked child, a room for one submission's exercises taken one at a
time (``load``, requests, ``release``); the grader talks to it in plain
data, with each exercise's time budget, which it enforces itself: counted in
the room's own CPU time, with a wall-clock backstop (``room_clock``).
Everything a sandbox can do wrong ends as a ``SandboxFailure`` with a verdict
in plain words, never as a crash of the grader.
"""
from __future__ import annotations

import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.verdicts import Verdict
from grader.errors import GraderFailure
from grader.sandbox import captured
from grader.sandbox.channel import Channel, ChannelClosed, ChannelTimeout, FrameTooLarge, socket_pair
from grader.sandbox.limits import Limits
from grader.sandbox.room_clock import Clock, RoomCpu, RoomDeadline
from grader.sandbox.scratch import ScratchRemover
from grader.results import SandboxStatus

# (an error's message, its traceback) -> the same as the student reads them
Citing = Callable[[str, str], tuple[str, str]]

READY_TIMEOUT_S = 120.0
CHECK_TIMEOUT_S = 2.0  # for a room to say what an exercise left behind
CANARY_TIMEOUT_S = 30.0
FORK_TIMEOUT_S = 120.0  # a fork may first warm a feature (torch.optim: ~1.5 s) on a busy machine
CONTROL_TIMEOUT_S = 10.0  # for a message to the zygote to be taken
# After a sandbox closed its end of the channel: how long it may take to exit
# on its own before its group is killed (an exiting process closes its files
# last: its exit follows within milliseconds), within the exercise's budget.
EXIT_GRACE_S = 1.0
MIN_EXIT_GRACE_S = 0.05
# How long the zygote may take to reap a SIGKILLed child (zygote.py: _KILLED_EXIT_S) plus slack.
KILLED_EXIT_S = 3.0
# The -c program: it reads the bundle (bootstrap.py's source and the
# untrusted modules') from stdin, so no path of the grader is in the
# zygote's argv. The name below only lets tools spot a zygote in ps.
_BOOT = ("import sys, json; BUNDLE = json.loads(sys.stdin.buffer.read()); "
         "exec(compile(BUNDLE['boot'], '<torchgrade boot>', 'exec'), "
         "{'__name__': 'torchgrade_boot', 'BUNDLE': BUNDLE})  # grader.sandbox.untrusted.zygote")
_SANDBOX_PACKAGE = Path(__file__).resolve().parent


def _wire():
    # Imported on first use (it imports torch), so that a caller can start the
    # zygote first and let it warm up while this process imports torch.
    from grader.sandbox import wire  # noqa: PLC0415
    return wire


class SandboxFailure(Exception):
    """The sandbox, not an assertion, ended the work: a verdict in plain words."""

    def __init__(self, verdict: Verdict, message: str) -> None:
        super().__init__(message)
        self.verdict = verdict
        self.message = message


class ZygoteError(GraderFailure):
    """The zygote could not start: a problem of this machine, not of a submission."""


class ZygoteLost(ZygoteError):
    """The zygote went away during a session (it died, or its worker is shutting down): the submissions
    not yet reported were not graded, and are not to blame."""


def clean_environment() -> dict[str, str]:
    """What the zygote inherits: nothing secret, one thread for every BLAS/OpenMP pool."""
    return {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",  # matplotlib never opens a window (each room also sets it, with its own MPLCONFIGDIR)
    }


@functools.cache
def untrusted_sources() -> dict[str, dict]:
    """The modules the zygote is made of, by name: source text and whether it
    is a package. Sent to it on stdin (``untrusted/bootstrap.py``)."""
    files = {"grader": _SANDBOX_PACKAGE.parent / "__init__.py", "grader.sandbox": _SANDBOX_PACKAGE / "__init__.py",
             "grader.sandbox.wire": _SANDBOX_PACKAGE / "wire.py",
             "grader.sandbox.limits": _SANDBOX_PACKAGE / "limits.py"}
    untrusted = _SANDBOX_PACKAGE / "untrusted"
    packages = {"grader", "grader.sandbox", "grader.sandbox.untrusted"}
    for path in sorted(untrusted.rglob("*.py")):
        parts = path.relative_to(untrusted).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
            packages.add(".".join(("grader.sandbox.untrusted", *parts)))
        files[".".join(("grader.sandbox.untrusted", *parts))] = path
    modules = {name: {"source": path.read_text(encoding="utf-8"), "package": name in packages}
               for name, path in files.items() if path.is_file()}
    for name in packages:  # namespace packages (no __init__.py) become empty ones
        modules.setdefault(name, {"source": "", "package": True})
    return modules


@dataclass(frozen=True)
class Reaped:
    """A sandbox's end as the zygote saw it."""

    status: int | None  # its wait status; None if it could not be reaped in time
    killed: bool  # it did not exit on its own within its grace: its group was SIGKILLed


def sandbox_uid() -> int | None:
    """``TORCHGRADE_SANDBOX_UID``: one user and group id every room drops to
    when the grader runs as root (for a machine that maps only a few ids);
    unset, each room gets an id of its own."""
    value = os.environ.get("TORCHGRADE_SANDBOX_UID", "").strip()
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) < 2**32 - 1:
        raise ZygoteError(f"TORCHGRADE_SANDBOX_UID must be a user id above 0, not {value!r}")
    return int(value)


@dataclass
class Zygote:
    process: subprocess.Popen
    control: socket.socket
    stderr_path: Path
    ready: bool = False
    forks: int = 0  # sandboxes (and canaries) forked so far
    _requests: int = 0
    # The user/group id rooms drop to when the grader runs as root; None: one per room.
    run_as: int | None = None

    @classmethod
    def start(cls, *, many_rooms: bool = True) -> "Zygote":
        """Launch the zygote; returns once it has its bundle (it warms up in parallel).
        ``many_rooms=False`` for a session of a room or two (one submission): the
        zygote skips what only pays back over many forks (huge pages)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        stderr = tempfile.NamedTemporaryFile(prefix="torchgrade-zygote-", suffix=".log", delete=False)
        bundle = json.dumps({"control_fd": theirs.fileno(), "modules": untrusted_sources(), "huge_pages": many_rooms,
                             "boot": (_SANDBOX_PACKAGE / "untrusted" / "bootstrap.py").read_text(encoding="utf-8")})
        process = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT],
            pass_fds=[theirs.fileno()], env=clean_environment(), cwd="/",
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr,
            start_new_session=True,  # Ctrl-C in the terminal reaches the grader only
        )
        theirs.close()
        stderr.close()
        try:
            assert process.stdin is not None  # stdin=PIPE
            process.stdin.write(bundle.encode())
            process.stdin.close()
        except OSError:
            pass  # it died at once: wait_ready says why
        return cls(process=process, control=ours, stderr_path=Path(stderr.name), run_as=sandbox_uid())

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        if self.ready:
            return
        self.control.settimeout(timeout_s)
        try:
            message = self.control.recv(1 << 16)
        except (socket.timeout, OSError):
            message = b""
        finally:
            self._untimed()
        if not message:
            raise ZygoteError(f"the sandbox zygote did not start:\n{self._stderr_tail()}")
        self.ready = True

    def _ask(self, request: dict, fds: Sequence[int] = (), *, timeout_s: float) -> dict:
        """Send ``request`` and wait, at most ``timeout_s``, for the reply that
        carries its id (a late reply to an earlier request is skipped)."""
        self.wait_ready()
        self._requests += 1
        request = {**request, "id": self._requests}
        deadline = time.monotonic() + timeout_s
        try:
            self.control.settimeout(CONTROL_TIMEOUT_S)
            socket.send_fds(self.control, [json.dumps(request).encode()], list(fds))
            while True:
                self.control.settimeout(max(0.001, deadline - time.monotonic()))
                reply = self.control.recv(1 << 16)
                if not reply:
                    raise ZygoteError(f"the sandbox zygote exited:\n{self._stderr_tail()}")
                answer = json.loads(reply)
                if answer.get("id") == request["id"]:
                    return answer
        except socket.timeout:
            raise ZygoteError(f"the sandbox zygote did not answer a {request['op']} request within "
                              f"{timeout_s:g} s\n{self._stderr_tail()}") from None
        except OSError as error:
            raise ZygoteError(f"lost the sandbox zygote: {error}\n{self._stderr_tail()}") from None
        finally:
            self._untimed()

    def fork(self, request: dict) -> tuple[int, Channel]:
        self.forks += 1
        ours, theirs = socket_pair()
        try:
            pid = self._ask({"op": "fork", "parent_pid": os.getpid(), "run_as": self.run_as, **request},
                            [theirs.fileno()],
                            timeout_s=FORK_TIMEOUT_S)["pid"]
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        return pid, Channel(ours)

    def warm(self, features: Sequence[str]) -> None:
        """Ask the zygote to warm ``features`` (``limits.WARMABLE``, a course's
        libraries) now, without waiting for it: sent before it is ready, they are
        warmed before it says so, in parallel with this process's own start."""
        if not features:
            return
        try:
            self.control.settimeout(CONTROL_TIMEOUT_S)
            self.control.send(json.dumps({"op": "warm", "warm": list(features)}).encode())
        except OSError:
            pass  # it died: the next request says why
        finally:
            self._untimed()

    def forget(self, pid: int) -> None:
        """A killed child whose status nobody needs: the zygote reaps it later."""
        try:
            self.control.settimeout(CONTROL_TIMEOUT_S)
            self.control.send(json.dumps({"op": "forget", "pid": pid}).encode())
        except OSError:
            pass
        finally:
            self._untimed()

    def reap(self, pid: int, *, grace_s: float) -> Reaped:
        """A child's end: it gets ``grace_s`` seconds to exit on its own, then
        the zygote SIGKILLs its group and reaps it. Bounded: ``grace_s`` plus
        a few seconds for a killed process to go."""
        answer = self._ask({"op": "reap", "pid": pid, "grace_s": grace_s}, timeout_s=grace_s + KILLED_EXIT_S)
        status = answer.get("status")
        return Reaped(status=status if type(status) is int else None, killed=answer.get("killed") is True)

    def _untimed(self) -> None:
        try:
            self.control.settimeout(None)
        except OSError:
            pass  # closed under us (the worker is shutting down): the caller's own error says so

    @property
    def lost(self) -> bool:
        """Whether this zygote can fork no more sandboxes: it exited, or it was closed."""
        return self.control.fileno() == -1 or self.process.poll() is not None

    def close(self, *, wait: bool = True) -> None:
        """Stop the zygote (its sandboxes die with it). ``wait=False`` skips
        waiting for a large process's teardown, for a command about to exit."""
        self.control.close()
        self.process.kill()
        _scratch_remover.flush()  # no room's folder outlives its zygote
        if wait:
            try:
                self.process.wait(timeout=KILLED_EXIT_S * 10)
            except subprocess.TimeoutExpired:
                pass  # SIGKILLed: the kernel finishes it; nothing of ours waits on it
        self.stderr_path.unlink(missing_ok=True)

    def _stderr_tail(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def canary(self, limits: Limits) -> SandboxStatus:
        """Fork one walled child that tries what a sandbox must not do."""
        with tempfile.TemporaryDirectory(prefix="torchgrade-canary-") as outside:
            secret = Path(outside) / "secret.txt"
            secret.write_text("the canary must not read this")
            scratch = make_scratch()
            pid, channel = self.fork({"mode": "canary", "scratch": str(scratch), "limits": limits.to_plain(),
                                      "secret": str(secret)})
            try:
                reply = _wire().decode(channel.receive(1 << 20, time.monotonic() + CANARY_TIMEOUT_S))
            except ChannelTimeout:
                reply = {"canary": {}, "walls": [], "missing": ["the canary sandbox did not answer in time"]}
            except (ChannelClosed, FrameTooLarge, ValueError) as error:
                reply = {"canary": {}, "walls": [], "missing": [f"the canary sandbox failed: {error}"]}
            finally:
                channel.close()
                _kill_group(pid)
                self.reap(pid, grace_s=0)
                remove_scratch(scratch)
        if type(reply) is not dict:
            reply = {"canary": {}, "walls": [], "missing": ["the canary sandbox sent a malformed answer"]}
        missing = list(reply.get("missing", []))
        missing += [f"a sandbox could {attempt.replace('_', ' ')}" for attempt, blocked in
                    sorted(reply.get("canary", {}).items()) if not blocked]
        return SandboxStatus(walls=tuple(reply.get("walls", [])), missing=tuple(missing))


def make_scratch() -> Path:
    """A new, empty scratch folder (mode 0700, a name nobody chose) for one
    sandbox. The grader creates and removes it and never touches what is in
    it by path: the sandbox writes its own files there."""
    return Path(tempfile.mkdtemp(prefix="torchgrade-"))


def remove_scratch(scratch: Path) -> None:
    """Remove a scratch folder without following any link a sandbox planted
    in it. shutil.rmtree walks by directory descriptors where the platform
    allows (Linux does); where it cannot, the folder is left in place rather
    than removed by path."""
    if shutil.rmtree.avoids_symlink_attacks:
        shutil.rmtree(scratch, ignore_errors=True)


_scratch_remover = ScratchRemover(remove_scratch)  # closed rooms' folders, off the grader's path


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


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
        setup = _wire().encode({"op": "setup", "helpers": {name: _file_tensor(data) for name, data in helpers.items()}})
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

    def request(self, message: dict, *, doing: str) -> dict:
        return self.request_encoded(_wire().encode(message), doing=doing)

    def request_encoded(self, *messages: bytes, doing: str) -> dict:
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
                deadline, doing, ": the sandbox stopped reading requests")) from None
        except ChannelClosed:
            pass  # it died or closed its end: _receive reads the exit status and says how
        return self._receive(doing=doing, started=started, deadline=deadline)

    def _deadline(self, started: float) -> RoomDeadline:
        """The current request's deadline: the exercise's CPU budget, counted
        from what the room had used when last charged (CPU it spent between
        requests is charged too), and what is left of its wall clock."""
        assert self.cpu is not None  # set in __post_init__
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

    def _receive(self, *, doing: str, started: float, deadline: RoomDeadline) -> dict:
        max_bytes = self.limits.reply_mb << 20
        try:
            data = self.channel.receive(max_bytes, deadline)
        except ChannelTimeout as timeout:
            self._time_out()
            raise SandboxFailure(Verdict.TIME_LIMIT, self._time_limit_words(
                deadline, doing, _unfinished(timeout))) from None
        except ChannelClosed as closed:
            self._charge(started)
            raise SandboxFailure(*self._death_verdict(doing, closed.received)) from None
        except FrameTooLarge as large:
            self.close()
            what = (f"more than {self.limits.reply_mb} MB" if large.length > max_bytes
                    else "a reply with a malformed length")
            raise SandboxFailure(Verdict.SANDBOX_ERROR, f"the submission sent back {what} while {doing}, "
                                 "breaking the protocol between the sandbox and the grader") from None
        self._charge(started)
        decoding = time.monotonic()
        try:
            reply = _wire().decode(data)
        except _wire().WireError as error:
            self.close()
            raise SandboxFailure(Verdict.SANDBOX_ERROR, f"the submission sent back something that is not plain data "
                                 f"while {doing}: {error}") from None
        finally:  # reading what the room sent is the room's time: a reply built to be slow to read costs it
            decoded_in = time.monotonic() - decoding
            self.budget.spend(cpu_s=decoded_in, wall_s=decoded_in)
        if type(reply) is not dict:
            self.close()
            raise SandboxFailure(Verdict.SANDBOX_ERROR, f"malformed reply while {doing}")
        try:  # the room's own output cap can be lifted: keep within it here (see captured)
            self.output, self.dropped = captured.append(self.output, self.dropped, *captured.take(reply),
                                                        self.limits.output_kb << 10)
        except captured.MalformedOutput as error:
            self.close()
            raise SandboxFailure(Verdict.SANDBOX_ERROR,
                                 f"the sandbox sent a malformed answer while {doing}: {error}") from None
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
        _kill_group(self.pid)
        self.closed = True
        self.channel.close()
        self._forget_cpu()  # before the zygote may reap it
        self.zygote.forget(self.pid)
        self._remove_scratch()

    def _forget_cpu(self) -> None:
        if self.cpu is not None:
            self.cpu.close()

    def _remove_scratch(self) -> None:
        _scratch_remover.remove(self.scratch)  # its group is dead or SIGKILLed: it writes nothing more


def _unfinished(timeout: ChannelTimeout) -> str:
    """Plain words for a reply cut off by the deadline (a sandbox that began a
    frame and stopped sending is stopped like one that never answered)."""
    if not timeout.received:
        return ""
    if timeout.expected is None:
        return f": the sandbox had begun a reply ({timeout.received} bytes of its header) and stopped sending"
    return (f": the sandbox had sent {timeout.received:,} bytes of a reply it announced as "
            f"{timeout.expected:,} bytes, and not the rest")


def _file_tensor(data: bytes):
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
