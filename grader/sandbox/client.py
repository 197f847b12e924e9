"""The grader's handle on the zygote and its sandboxes (trusted side).

``Zygote.start()`` launches the secret-free zygote as a fresh interpreter;
call it before any solution or hidden suite is imported. Each ``Sandbox``
is one forked child, a room for one submission's exercises taken one at a
time (``load``, requests, ``release``); the grader talks to it in plain
data, with each exercise's wall-clock budget, which it enforces itself.
Everything a sandbox can do wrong ends as a ``SandboxFailure`` with a verdict
in plain words, never as a crash of the grader.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import grader
from grader.verdicts import Verdict
from grader.sandbox import captured
from grader.sandbox.limits import Limits
from grader.results import SandboxStatus

READY_TIMEOUT_S = 120.0
CHECK_TIMEOUT_S = 2.0  # for a room to say what an exercise left behind
_GRADER_PARENT = str(Path(grader.__file__).resolve().parent.parent)
_BOOT = (
    "import sys; sys.path.append(sys.argv[2]); "
    "from grader.sandbox.untrusted.zygote import main; main(int(sys.argv[1]))"
)


def _wire():
    # Imported on first use (it imports torch), so that a caller can start the
    # zygote first and let it warm up while this process imports torch.
    from grader.sandbox import wire
    return wire


class SandboxFailure(Exception):
    """The sandbox, not an assertion, ended the work: a verdict in plain words."""

    def __init__(self, verdict: Verdict, message: str) -> None:
        super().__init__(message)
        self.verdict = verdict
        self.message = message


class ZygoteError(RuntimeError):
    """The zygote could not start: a problem of this machine, not of a submission."""


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
    }


@dataclass
class Zygote:
    process: subprocess.Popen
    control: socket.socket
    stderr_path: Path
    ready: bool = False
    forks: int = 0  # sandboxes (and canaries) forked so far

    @classmethod
    def start(cls) -> "Zygote":
        """Launch the zygote; returns at once (it warms up in parallel)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        stderr = tempfile.NamedTemporaryFile(prefix="torchgrade-zygote-", suffix=".log", delete=False)
        process = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, str(theirs.fileno()), _GRADER_PARENT],
            pass_fds=[theirs.fileno()], env=clean_environment(), cwd="/",
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
            start_new_session=True,  # Ctrl-C in the terminal reaches the grader only
        )
        theirs.close()
        stderr.close()
        return cls(process=process, control=ours, stderr_path=Path(stderr.name))

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        if self.ready:
            return
        self.control.settimeout(timeout_s)
        try:
            message = self.control.recv(1 << 16)
        except (socket.timeout, OSError):
            message = b""
        finally:
            self.control.settimeout(None)
        if not message:
            raise ZygoteError(f"the sandbox zygote did not start:\n{self._stderr_tail()}")
        self.ready = True

    def _ask(self, request: dict, fds: list[int] = ()) -> dict:
        self.wait_ready()
        try:
            socket.send_fds(self.control, [json.dumps(request).encode()], list(fds))
            reply = self.control.recv(1 << 16)
        except OSError as error:
            raise ZygoteError(f"lost the sandbox zygote: {error}\n{self._stderr_tail()}") from None
        if not reply:
            raise ZygoteError(f"the sandbox zygote exited:\n{self._stderr_tail()}")
        return json.loads(reply)

    def fork(self, request: dict) -> tuple[int, Connection]:
        self.forks += 1
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            pid = self._ask({"op": "fork", "parent_pid": os.getpid(), **request}, [theirs.fileno()])["pid"]
        finally:
            theirs.close()
        return pid, Connection(ours.detach())

    def forget(self, pid: int) -> None:
        """A killed child whose status nobody needs: the zygote reaps it later."""
        try:
            self.control.send(json.dumps({"op": "forget", "pid": pid}).encode())
        except OSError:
            pass

    def reap(self, pid: int) -> int:
        """Collect a dead (or killed) child's wait status from the zygote."""
        return self._ask({"op": "reap", "pid": pid})["status"]

    def close(self, *, wait: bool = True) -> None:
        """Stop the zygote (its sandboxes die with it). ``wait=False`` skips
        waiting for a large process's teardown, for a command about to exit."""
        self.control.close()
        self.process.kill()
        if wait:
            self.process.wait()
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
            scratch = Path(tempfile.mkdtemp(prefix="torchgrade-"))
            pid, conn = self.fork({"mode": "canary", "scratch": str(scratch), "limits": limits.to_plain(),
                                   "secret": str(secret)})
            try:
                if not conn.poll(30):
                    raise SandboxFailure(Verdict.TIME_LIMIT, "the sandbox canary did not answer")
                reply = _wire().decode(conn.recv_bytes(1 << 20))
            except (EOFError, OSError, ValueError) as error:
                reply = {"canary": {}, "walls": [], "missing": [f"the canary sandbox failed: {error}"]}
            finally:
                conn.close()
                _kill_group(pid)
                self.reap(pid)
                shutil.rmtree(scratch, ignore_errors=True)
        missing = list(reply.get("missing", []))
        missing += [f"a sandbox could {attempt.replace('_', ' ')}" for attempt, blocked in
                    sorted(reply.get("canary", {}).items()) if not blocked]
        return SandboxStatus(walls=tuple(reply.get("walls", [])), missing=tuple(missing))


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@dataclass
class Budget:
    """Wall-clock seconds left for one exercise of one submission."""

    remaining_s: float

    def spend(self, seconds: float) -> None:
        self.remaining_s = max(0.0, self.remaining_s - seconds)


@dataclass
class Sandbox:
    """One live sandbox: a room for one submission's exercises, one at a time."""

    zygote: Zygote
    pid: int
    conn: Connection
    scratch: Path
    limits: Limits
    budget: Budget  # the current exercise's
    tenant: str | None = None  # the exercise file loaded now
    output: str = ""
    dropped: int = 0
    closed: bool = False

    @classmethod
    def open(cls, zygote: Zygote, helpers: dict[str, bytes], limits: Limits, budget: Budget, *,
             tenants: int = 1, warm: tuple[str, ...] = ()) -> "Sandbox":
        """Fork a room whose scratch folder holds ``helpers`` (file name ->
        bytes), able to serve ``tenants`` exercises. Raises SandboxFailure."""
        scratch = Path(tempfile.mkdtemp(prefix="torchgrade-"))
        for name, data in helpers.items():
            (scratch / name).write_bytes(data)
        pid, conn = zygote.fork({"mode": "room", "scratch": str(scratch), "limits": limits.to_plain(),
                                 "tenants": tenants, "warm": list(warm)})
        sandbox = cls(zygote, pid, conn, scratch, limits, budget)
        sandbox._receive(doing="starting the sandbox")  # walled in (the canary reports the walls)
        return sandbox

    def load(self, filename: str, source: bytes, budget: Budget) -> None:
        """Import ``filename`` (written into scratch from ``source``) as the
        room's exercise, spending ``budget``. Raises SandboxFailure."""
        self.budget, self.tenant = budget, filename
        (self.scratch / filename).write_bytes(source)
        reply = self.request({"op": "load", "module": filename.removesuffix(".py"), "file": filename},
                             doing=f"importing {filename}")
        if not reply.get("loaded"):
            raise SandboxFailure(*_import_verdict(filename, reply.get("error", {})))

    def release(self) -> list[str]:
        """The exercise is done: remove its file and ask the room what it
        changed that a later exercise could see. Dirt (or no answer) closes it."""
        if self.closed:
            return []
        if self.tenant is not None:
            (self.scratch / self.tenant).unlink(missing_ok=True)
        self.tenant = None
        self.budget = Budget(min(self.limits.timeout_s, CHECK_TIMEOUT_S))
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
        requests) and wait for the one reply."""
        if self.closed:
            raise SandboxFailure(Verdict.SANDBOX_ERROR, "the sandbox was already closed")
        try:
            for message in messages:
                self.conn.send_bytes(message)
        except OSError:
            pass  # it died; _receive reads the exit status and says how
        return self._receive(doing=doing)

    def _receive(self, *, doing: str) -> dict:
        started = time.monotonic()
        try:
            ready = self.conn.poll(self.budget.remaining_s)
            if not ready:
                self.budget.spend(float("inf"))
                self.close()
                raise SandboxFailure(Verdict.TIME_LIMIT, f"time limit exceeded while {doing} "
                                     f"(the exercise may use {self.limits.timeout_s:g} s in all)")
            data = self.conn.recv_bytes(self.limits.reply_mb << 20)
        except (EOFError, ConnectionError):
            raise SandboxFailure(*self._death_verdict(doing)) from None
        except OSError as error:  # "bad message length": an oversized reply
            self.close()
            raise SandboxFailure(Verdict.SANDBOX_ERROR, f"the submission sent back more than "
                                 f"{self.limits.reply_mb} MB while {doing} ({error})") from None
        finally:
            self.budget.spend(time.monotonic() - started)
        try:
            reply = _wire().decode(data)
        except _wire().WireError as error:
            self.close()
            raise SandboxFailure(Verdict.SANDBOX_ERROR, f"the submission sent back something that is not plain data "
                                 f"while {doing}: {error}") from None
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

    def _death_verdict(self, doing: str) -> tuple[Verdict, str]:
        self.closed = True
        self.conn.close()
        status = self.zygote.reap(self.pid)
        self._remove_scratch()
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
        self.conn.close()
        self.zygote.forget(self.pid)
        self._remove_scratch()

    def _remove_scratch(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)


def _import_verdict(filename: str, error: object) -> tuple[Verdict, str]:
    if type(error) is not dict or not all(type(v) is str for v in error.values()):  # the room's word: check it
        return Verdict.SANDBOX_ERROR, f"the sandbox sent a malformed answer while importing {filename}"
    kind, name, message = error.get("kind"), error.get("type", "error"), error.get("message", "")
    where = error.get("traceback", "")
    if name in ("SyntaxError", "IndentationError", "TabError"):
        return Verdict.IMPORT_ERROR, f"{filename} has a syntax error: {message}"
    if kind == "exit":
        return Verdict.EXITED, f"{filename} called sys.exit({message}) while being imported"
    if kind == "memory":
        return Verdict.MEMORY_LIMIT, f"{filename} ran out of memory while being imported ({name}: {message})"
    detail = f"\n{where}" if where else ""
    return Verdict.IMPORT_ERROR, f"{filename} raised {name} while being imported: {message}{detail}"
