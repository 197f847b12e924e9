"""The zygote: a warm, secret-free process that forks one sandbox per request.

The grader starts it as a fresh interpreter (``python -I``) with a scrubbed
environment *before* it loads any solution or hidden suite, so nothing a
child could find in memory (``gc.get_objects()``) is secret. Start-up is paid
once here (import torch, warm-up, ``gc.freeze``); each sandbox then costs a
fork.

Control protocol (an AF_UNIX SOCK_SEQPACKET socket, JSON messages; every
request carries an "id" that its reply repeats):
  zygote -> grader  {"ready": true, "pid": ...} once warm
  grader -> zygote  {"op": "fork", "mode": "room"|"canary", ...} with
                    one fd (the sandbox's end of its data socket)
                    -> {"pid": child_pid}
  grader -> zygote  {"op": "reap", "pid": p, "grace_s": g} -> {"status":
                    wait_status | null, "killed": bool}: the child gets ``g``
                    seconds to exit on its own; then its whole group is
                    SIGKILLed ("killed": true) and reaped, or given up on
                    (status null) if even that takes too long. The loop never
                    waits on one child: pending reaps are checked between
                    requests.
  grader -> zygote  {"op": "warm", "warm": [feature, ...]} (no reply, may
                    come before "ready"): warm these now, as a fork's "warm"
                    list would, so that the first room need not wait for them.
  grader -> zygote  {"op": "forget", "pid": p} (no reply): a killed child
                    whose status nobody needs, reaped when it has exited.
The zygote exits when the grader closes the socket, and dies with it
(PR_SET_PDEATHSIG); each sandbox dies with the zygote the same way.

A sandbox is a room for one submission's exercises, one at a time (data
socket, ``grader.sandbox.wire`` frames):
  grader -> room    {"op": "setup", "helpers": {name: uint8 tensor}}: the
                    room writes the submission's helper files into its own
                    scratch folder (the grader never touches that folder by
                    path: a room can plant links and FIFOs there)
  room -> grader    {"walls": [...], "missing": [...]} once walled in
  grader -> room    {"op": "load", "module": "exercise3", "file": "exercise3.py",
                    "source": uint8 tensor} -> {"loaded": bool, "error": {...}}:
                    the room writes the exercise's file (replacing whatever
                    sits at that name, never following a link) and imports it
  grader -> room    call / inspect / many requests (``executor``) for it
  grader -> room    {"op": "check"} once the exercise is done -> {"dirt":
                    [...]}: the room removes the exercise's file, then says
                    what it changed that a later exercise could see
                    (``tripwires``); any dirt and the grader retires the room
"""
from __future__ import annotations

import ctypes
import functools
import gc
import importlib
import importlib.machinery
import importlib.util
import json
import linecache
import os
import random
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import CodeType, ModuleType
from typing import Any

import torch

from grader.sandbox import wire
from grader.sandbox.limits import Limits
from grader.sandbox.untrusted import executor, lazy_dynamo, tripwires, walls, warm

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def main(control_fd: int, *, huge_pages: bool = True) -> None:
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    control = socket.socket(fileno=control_fd)
    lazy_dynamo.install()  # before torch.optim's first use: rooms import torch._dynamo only if they compile
    warm.warm_up()
    _rehearse_serving()
    warmed: set[str] = set()
    warm.warm_features(warm.queued_warm_requests(control), warmed)  # what the grader asked for while torch was imported
    readable = walls.readable_paths()
    # The interpreter's own paths only: never the course folder the grader runs from.
    base_path = [p for p in sys.path if p.startswith((sys.prefix, sys.base_prefix))]
    settle = functools.partial(_settle, huge_pages=huge_pages)
    settle()
    control.send(json.dumps({"ready": True, "pid": os.getpid()}).encode())
    forgotten: set[int] = set()  # killed children nobody needs the status of
    reaping: dict[int, _Reap] = {}  # children whose status the grader waits for
    poller = select.poll()
    poller.register(control, select.POLLIN)
    while True:
        if reaping and not poller.poll(_REAP_POLL_MS):
            _advance_reaps(control, reaping, forgotten)
            continue
        try:
            message, fds, _, _ = socket.recv_fds(control, 1 << 16, 1)
        except (ConnectionError, OSError):
            return
        if not message:
            return
        request = json.loads(message)
        _reap_forgotten(forgotten)
        if request["op"] == "reap":
            reaping[request["pid"]] = _Reap(request.get("id"), time.monotonic() + float(request.get("grace_s", 0)))
            _advance_reaps(control, reaping, forgotten)
        elif request["op"] == "forget":  # no reply: the grader does not wait for teardown
            forgotten.add(request["pid"])
        elif request["op"] == "warm":  # no reply: what the next forks will ask for, warmed now
            _warm(request, warmed, settle)
        elif request["op"] == "fork":
            _warm(request, warmed, settle)  # torch.optim's import is large: freeze and collapse it too
            _fork(control, fds[0], request, readable, base_path)
        _advance_reaps(control, reaping, forgotten)


def _warm(request: dict[str, Any], warmed: set[str], settle: Callable[[], None]) -> None:
    """Warm the features ``request`` names that are not yet; settle again if any was."""
    gc.disable()  # as while the zygote started (bootstrap.py): an import's cycles wait for settle's collection
    try:
        if warm.warm_features(request.get("warm", []), warmed):
            settle()
    finally:
        gc.enable()


def _fork(control: socket.socket, fd: int, request: dict[str, Any], readable: tuple[str, ...],
          base_path: list[str]) -> None:
    """Fork a sandbox serving on ``fd`` and tell the grader its pid."""
    pid = os.fork()
    if pid == 0:
        control.close()
        _child(fd, request, readable, base_path)  # never returns
    os.close(fd)
    control.send(json.dumps({"id": request.get("id"), "pid": pid}).encode())


_REAP_POLL_MS = 5
_KILLED_EXIT_S = 2.0  # how long a SIGKILLed child may take to become reapable before it is given up on


@dataclass
class _Reap:
    request_id: object
    deadline: float  # until then the child may exit on its own; then its group is killed
    killed: bool = False


def _advance_reaps(control: socket.socket, reaping: dict[int, _Reap], forgotten: set[int]) -> None:
    """Answer every reap whose child has exited; kill the groups of those
    past their grace; give up (and forget) those that outlive the kill."""
    now = time.monotonic()
    for pid, reap in list(reaping.items()):
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not ours, or already reaped
            done, status = pid, None
        if not done and now >= reap.deadline:
            if reap.killed:  # it outlived SIGKILL for a while: stop waiting, reap it later
                forgotten.add(pid)
                done, status = pid, None
            else:
                _kill_group(pid)
                reap.killed, reap.deadline = True, now + _KILLED_EXIT_S
        if done:
            del reaping[pid]
            control.send(json.dumps({"id": reap.request_id, "status": status, "killed": reap.killed}).encode())


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

# Holds the baseline rooms compare themselves with (a list, so that taking a
# new one does not rebind a name in this watched module).
_baseline: list[tripwires.NamespaceBaseline] = []


def _settle(*, huge_pages: bool) -> None:
    """After a warm-up: take the baseline rooms compare themselves with,
    freeze what it made (forked children then share these pages instead of
    copying them on gc) and, for a session of many rooms (``huge_pages``),
    back it with huge pages: ~0.5 s of CPU here that pays for itself after a
    few hundred forks, and never for the one or two rooms of ``grade exerciseN``. The collector was
    off while the zygote imported and warmed (bootstrap.py, ``_warm``): it is on again before the
    baseline is taken and any room forked, so that every room collects as a fresh interpreter does."""
    gc.enable()
    _baseline[:] = [tripwires.NamespaceBaseline.take()]
    gc.collect()
    gc.freeze()
    if huge_pages:
        warm.collapse_into_huge_pages()


def _reap_forgotten(forgotten: set[int]) -> None:
    for pid in list(forgotten):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            forgotten.discard(pid)


def _die_with_parent() -> None:
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def _child(fd: int, request: dict[str, Any], readable: tuple[str, ...], base_path: list[str]) -> None:
    """The sandbox: wall itself in, then load the submission and serve."""
    code = 0
    try:
        os.setsid()
        _die_with_parent()
        _keep_only_fd(fd)
        scratch = request["scratch"]
        os.chdir(scratch)
        os.environ.clear()
        os.environ.update({"HOME": scratch, "TMPDIR": scratch, "PATH": "/usr/bin:/bin",
                           "OMP_NUM_THREADS": "1", "LANG": "C.UTF-8",
                           # A notebook that plots: draw off screen, keep matplotlib's cache in the room.
                           "MPLBACKEND": "Agg", "MPLCONFIGDIR": scratch})
        limits = Limits.from_plain(request["limits"])
        cpu_limit_s = limits.cpu_s * max(1, int(request.get("tenants", 1)))  # a room serves several exercises
        report = walls.apply_walls(scratch, limits, readable, cpu_s=cpu_limit_s, run_as=request.get("run_as"))
        sys.path[:] = [scratch, *base_path]
        sys.dont_write_bytecode = True
        conn = Connection(fd)
        if request["mode"] == "canary":
            result = walls.canary_report(scratch, request["secret"], request["parent_pid"],
                                         scratch_quota_bytes=limits.scratch_mb << 20)
            conn.send_bytes(wire.encode({"canary": result, "walls": list(report.applied),
                                         "missing": list(report.missing)}))
        else:
            _serve(conn, request["scratch"], limits, cpu_limit_s, report)
    except BaseException:  # noqa: BLE001 - a sandbox never returns into the zygote's loop
        code = 70
    finally:
        os._exit(code)


def _keep_only_fd(fd: int) -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    for std in (0, 1, 2):
        os.dup2(devnull, std)
    os.closerange(3, fd)
    os.closerange(fd + 1, 1 << 16)


class CappedOutput:
    """Stands in for stdout/stderr: keeps the first ``limit`` characters, counts the rest."""

    encoding = "utf-8"

    def __init__(self, limit: int) -> None:
        self.limit, self.kept, self.dropped = limit, 0, 0
        self._parts: list[str] = []
        self._reported = 0

    def write(self, text: str) -> int:
        text = str(text)
        room = self.limit - self.kept
        if room > 0:
            self._parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def reset(self) -> None:
        """A new exercise: a new share of output."""
        self.kept, self.dropped, self._reported, self._parts = 0, 0, 0, []

    def take(self) -> dict[str, Any]:
        """What was written, and how much was dropped, since the last take."""
        text, self._parts = "".join(self._parts), []
        dropped, self._reported = self.dropped - self._reported, self.dropped
        return {"output": text, "dropped": dropped}


def _serve(conn: Connection, scratch: str, limits: Limits, cpu_limit_s: int, report: walls.WallReport) -> None:
    """Serve one submission's exercises, one at a time, until told to exit."""
    max_request = limits.reply_mb << 20
    setup = wire.decode(conn.recv_bytes(max_request))
    for name, data in setup.get("helpers", {}).items():
        _write_file(scratch, name, _tensor_bytes(data))
    output = CappedOutput(limits.output_kb * 1024)
    sys.stdout = sys.stderr = output
    room = tripwires.RoomBaseline.take(scratch)
    _send(conn, {"walls": list(report.applied), "missing": list(report.missing)})
    module: ModuleType | None = None
    path: str | None = None
    names: tuple[str, ...] = ()
    while True:
        request = wire.decode(conn.recv_bytes(max_request))
        op = request["op"]
        if op == "exit":
            return
        reply: dict[str, Any]
        if op == "load":
            path, names = os.path.join(scratch, request["file"]), (request["module"],)
            module, reply = _load(scratch, request, path, room)
        elif op == "check":  # the exercise is over: what did it leave behind?
            module = None
            reply = _check(path, names, room, limits, cpu_limit_s)
            path = None
        elif module is None:
            reply = {"error": {"type": "BadRequest", "message": "no exercise is loaded", "kind": "grader"}}
        else:
            if op == "many" and "count" in request:  # the requests follow, one frame each
                request = {"op": "many", "requests": [wire.decode(conn.recv_bytes(max_request))
                                                      for _ in range(min(int(request["count"]), 1000))]}
            reply = executor.run_request(module, request)
        _send(conn, {**reply, **output.take()})
        if op == "check":
            output.reset()  # each exercise gets its own share


_REHEARSAL_MODULE = "torchgrade_rehearsal"
_REHEARSAL_SOURCE = b"def affine(x, w, b):\n    return w * x + b\n"
_REHEARSALS = 8  # calls after which CPython 3.11 has specialised a function's bytecode


def _rehearse_serving() -> None:
    """Serve a made-up exercise here a few times as a room does (setup, load, calls, exit; without
    walls, which are each room's own), then put back everything it changed. The room's serving code
    then starts specialised, its caches filled, in every room, instead of writing (and so copying)
    those pages in each: ~1 ms of CPU a room. Where it cannot run, rooms do that work themselves."""
    # What a room inherits stays as it was: the random states, the streams, and tempfile's folder,
    # which a room finds from its own TMPDIR and must not find cached here.
    random_states, streams, tempdir = (torch.random.get_rng_state(), random.getstate()), (sys.stdout, sys.stderr), \
        tempfile.tempdir
    scratch = None
    try:
        scratch = tempfile.mkdtemp(prefix="torchgrade-rehearsal-")
        frames = _rehearsal_frames()
        for _ in range(_REHEARSALS):
            grader_end, room_end = (Connection(end.detach()) for end in socket.socketpair())
            try:
                for frame in frames:
                    grader_end.send_bytes(frame)
                _serve(room_end, scratch, Limits(), Limits().cpu_s, walls.WallReport((), ()))
                while grader_end.poll(0):
                    grader_end.recv_bytes()
            finally:
                grader_end.close()
                room_end.close()
    except Exception:  # noqa: BLE001, S110 - a rehearsal only saves time: the rooms serve all the same
        pass
    finally:
        sys.stdout, sys.stderr = streams
        torch.random.set_rng_state(random_states[0])
        random.setstate(random_states[1])
        tempfile.tempdir = tempdir
        sys.modules.pop(_REHEARSAL_MODULE, None)
        linecache.cache.pop(f"{_REHEARSAL_MODULE}.py", None)
        if scratch is not None:
            sys.path_importer_cache.pop(scratch, None)
            shutil.rmtree(scratch, ignore_errors=True)


def _rehearsal_frames() -> list[bytes]:
    """What the grader sends a room for one exercise: setup, load, a call, two calls at once, exit."""
    x = torch.ones(3, 1, requires_grad=True)
    call = wire.encode({"op": "call", "target": {"name": "affine"}, "args": [{"value": x}, {"value": 2.0},
                                                                             {"value": 1.0}],
                        "kwargs": {}, "cotangent": torch.ones(3, 1), "after": False, "autograd": True})
    source = torch.frombuffer(bytearray(_REHEARSAL_SOURCE), dtype=torch.uint8)
    return [wire.encode({"op": "setup", "helpers": {}}),
            wire.encode({"op": "load", "module": _REHEARSAL_MODULE, "file": f"{_REHEARSAL_MODULE}.py",
                         "source": source}),
            call, wire.encode({"op": "many", "count": 2}), call, call, wire.encode({"op": "exit"})]


def _load(scratch: str, request: dict[str, Any], path: str,
          room: tripwires.RoomBaseline) -> tuple[ModuleType | None, dict[str, Any]]:
    """Write the exercise's file and import it: the module, or None and why not."""
    room.restore_random_state()
    finder = sys.path_importer_cache.get(scratch)
    if finder is not None:  # it may have listed scratch before this exercise's file was written
        finder.invalidate_caches()  # type: ignore[attr-defined]
    try:
        _write_file(scratch, request["file"], _tensor_bytes(request["source"]))
        return _import(request["module"], path), {"loaded": True}
    except BaseException as error:  # noqa: BLE001 - any failure at import is a verdict
        return None, {"loaded": False, "error": executor.describe_exception(error, path)}


def _check(path: str | None, names: tuple[str, ...], room: tripwires.RoomBaseline, limits: Limits,
           cpu_limit_s: int) -> dict[str, Any]:
    """The exercise is over: remove its file and modules, then say what it left behind."""
    if path is not None:
        _remove_file(path)
    room.forget_student_modules(names)
    gc.collect()
    return {"dirt": _baseline[0].dirt() + room.dirt(cpu_limit_s=cpu_limit_s, cpu_needed_s=limits.cpu_s,
                                                 memory_mb=limits.memory_mb)}


def _write_file(scratch: str, name: str, data: bytes) -> None:
    """Write one of the room's own files into its scratch folder. Whatever an
    earlier exercise left at that name (a link, a FIFO) is replaced, never
    followed or opened."""
    if not name or name in (".", "..") or os.sep in name or "\0" in name:
        raise ValueError(f"not a plain file name: {name!r}")
    path = os.path.join(scratch, name)
    _remove_file(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _remove_file(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except IsADirectoryError:  # a folder planted under the name: the room's own, removed without following links
        shutil.rmtree(path)


def _tensor_bytes(data: object) -> bytes:
    """File contents sent as a 1-d uint8 tensor (the wire carries no bytes type)."""
    if type(data) is not torch.Tensor or data.dtype != torch.uint8 or data.dim() != 1:
        raise TypeError("file contents must come as a 1-d uint8 tensor")
    return data.numpy().tobytes() if data.numel() else b""


class _OwnNameLoader(importlib.machinery.SourceFileLoader):
    """Compiles the exercise's file under its own name (``exercise1.py``),
    never its path in the room: every traceback, syntax error and warning of
    the student's code cites the file as the student knows it, with its
    source lines (kept in ``linecache`` under that name)."""

    # typeshed gives InspectLoader's static signature; SourceLoader's, the one overridden, takes _optimize.
    def source_to_code(self, data: bytes, path: str, *,  # type: ignore[override]
                       _optimize: int = -1) -> CodeType:
        name = os.path.basename(path)
        code = compile(data, name, "exec", dont_inherit=True, optimize=_optimize)
        source = importlib.util.decode_source(data)  # compiled: it decodes
        linecache.cache[name] = (len(source), None, source.splitlines(keepends=True), name)
        return code


def _import(name: str, path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path, loader=_OwnNameLoader(name, path))
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {os.path.basename(path)}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _send(conn: Connection, reply: dict[str, Any]) -> None:
    try:
        payload = wire.encode(reply, lenient=True)
    except (wire.WireError, RecursionError, ValueError) as error:
        payload = wire.encode({"error": {"type": "UnsendableResult", "kind": "student",
                                         "message": f"the result cannot be sent back: {error}", "traceback": ""}})
    conn.send_bytes(payload)


if __name__ == "__main__":
    main(int(sys.argv[1]))
