"""The grader's handle on the zygote (trusted side): start it first, fork rooms from it, stop it.

``Zygote.start()`` launches the secret-free zygote as a fresh interpreter
(``python -I``, its code sent on stdin, a clean environment, in ``/``); call it
before any solution or hidden suite is imported (``engine.session`` does). It
forks each room (``client.Sandbox``) and the canary that tries every wall, and
reaps them; every wait on it has a deadline.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from grader.errors import Failure, GraderFailure
from grader.results import SandboxStatus
from grader.sandbox.channel import Channel, ChannelClosed, ChannelTimeout, FrameTooLarge, socket_pair
from grader.sandbox.limits import Limits
from grader.sandbox.scratch import ScratchRemover

READY_TIMEOUT_S = 120.0
CANARY_TIMEOUT_S = 30.0
FORK_TIMEOUT_S = 120.0  # a fork may first warm a feature (torch.optim: ~1.5 s) on a busy machine
CONTROL_TIMEOUT_S = 10.0  # for a message to the zygote to be taken
# How long the zygote may take to reap a SIGKILLed child (zygote.py: _KILLED_EXIT_S) plus slack.
KILLED_EXIT_S = 3.0
# The -c program: it reads the bundle (bootstrap.py's source and the
# untrusted modules') from stdin, so no path of the grader is in the
# zygote's argv. The name below only lets tools spot a zygote in ps.
_BOOT = ("import sys, json; BUNDLE = json.loads(sys.stdin.buffer.read()); "
         "exec(compile(BUNDLE['boot'], '<torchgrade boot>', 'exec'), "
         "{'__name__': 'torchgrade_boot', 'BUNDLE': BUNDLE})  # grader.sandbox.untrusted.zygote")
_SANDBOX_PACKAGE = Path(__file__).resolve().parent




def wire() -> ModuleType:
    # Imported on first use (it imports torch), so that a caller can start the
    # zygote first and let it warm up while this process imports torch.
    from grader.sandbox import wire  # noqa: PLC0415
    return wire


class ZygoteError(GraderFailure):
    """The zygote could not start: a problem of this machine, not of a submission."""

    failure = Failure.SANDBOX_START


class ZygoteLost(ZygoteError):
    """The zygote went away during a session (it died, or its worker is shutting down): the submissions
    not yet reported were not graded, and are not to blame."""

    failure = Failure.SANDBOX_LOST


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
def untrusted_sources() -> dict[str, dict[str, Any]]:
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
    process: subprocess.Popen[bytes]
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
        # An argument list, no shell: this interpreter (-I) running our own boot line; nothing a submission chose.
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-I", "-c", _BOOT],
            pass_fds=[theirs.fileno()], env=clean_environment(), cwd="/",
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr,
            start_new_session=True,  # Ctrl-C in the terminal reaches the grader only
        )
        theirs.close()
        stderr.close()
        try:
            if process.stdin is None:
                raise ZygoteError("the sandbox zygote was started with stdin=PIPE and has no stdin")
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

    def _ask(self, request: dict[str, Any], fds: Sequence[int] = (), *, timeout_s: float) -> dict[str, Any]:
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
                answer: dict[str, Any] = json.loads(reply)
                if answer.get("id") == request["id"]:
                    return answer
        except socket.timeout:
            raise ZygoteError(f"the sandbox zygote did not answer a {request['op']} request within "
                              f"{timeout_s:g} s\n{self._stderr_tail()}") from None
        except OSError as error:
            raise ZygoteError(f"lost the sandbox zygote: {error}\n{self._stderr_tail()}") from None
        finally:
            self._untimed()

    def fork(self, request: dict[str, Any]) -> tuple[int, Channel]:
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
        scratch_remover.flush()  # no room's folder outlives its zygote
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
                reply = wire().decode(channel.receive(1 << 20, time.monotonic() + CANARY_TIMEOUT_S))
            except ChannelTimeout:
                reply = {"canary": {}, "walls": [], "missing": ["the canary sandbox did not answer in time"]}
            except (ChannelClosed, FrameTooLarge, ValueError) as error:
                reply = {"canary": {}, "walls": [], "missing": [f"the canary sandbox failed: {error}"]}
            finally:
                channel.close()
                kill_group(pid)
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


scratch_remover = ScratchRemover(remove_scratch)  # closed rooms' folders, off the grader's path


def kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
