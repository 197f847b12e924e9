"""The canary: run inside an already-walled child, it tries what a room must not do.

Untrusted side: stdlib only.
"""
from __future__ import annotations

import ctypes
import errno
import os
import socket
import stat
from collections.abc import Callable

from grader.sandbox.untrusted.kernel import libc, raise_errno
from grader.sandbox.untrusted.privileges import CAP_DAC_READ_SEARCH, capabilities

_BLOCKED_ERRNOS = frozenset({errno.EPERM, errno.EACCES, errno.EROFS})
_NET_BLOCKED_ERRNOS = _BLOCKED_ERRNOS | {errno.ENETUNREACH, errno.EAFNOSUPPORT}


def canary_report(scratch_dir: str, planted_secret: str, parent_pid: int, *,
                  scratch_quota_bytes: int | None = None) -> dict[str, bool]:
    """Run INSIDE an already-walled child: try what a sandbox must not do.

    Returns ``{"read_outside", "write_outside", "change_mode_outside",
    "change_owner_outside", "change_times_outside", "set_xattr_outside",
    "tcp", "udp", "fork", "exec", "signal_parent", "proc_parent",
    "stay_root", "make_sysv_ipc"}`` (and ``"exceed_scratch_quota"`` when
    ``scratch_quota_bytes`` is given) with True meaning BLOCKED. It fails closed: an attempt
    counts as blocked only when a wall said no (EPERM, EACCES, ...); any
    other outcome, including an odd error, is False. The metadata attempts
    change nothing when they get through (the same mode, owner and times;
    an xattr replaced only if present), so an unwalled canary harms no file.
    ``planted_secret`` must exist and ``parent_pid`` must be alive.
    """
    checks = {
        "read_outside": lambda: _try_read(planted_secret),
        "write_outside": lambda: _try_create(os.path.join(
            os.path.dirname(planted_secret), f"canary-{os.getpid()}.txt")),
        "tcp": lambda: _try_connect(socket.SOCK_STREAM),
        "udp": lambda: _try_connect(socket.SOCK_DGRAM),
        "fork": _try_fork,
        "exec": lambda: _try_exec(scratch_dir),
        "signal_parent": lambda: os.kill(parent_pid, 0),
        "proc_parent": lambda: _try_read(f"/proc/{parent_pid}/cmdline"),
        "change_mode_outside": lambda: _same_mode(planted_secret),
        "change_owner_outside": lambda: _same_owner(planted_secret),
        "change_times_outside": lambda: _same_times(planted_secret),
        "set_xattr_outside": lambda: os.setxattr(planted_secret, "user.torchgrade-canary", b"",
                                                 os.XATTR_REPLACE),
        "stay_root": _try_stay_root,
        "make_sysv_ipc": _try_sysv_ipc,
    }
    if scratch_quota_bytes is not None:
        checks["exceed_scratch_quota"] = lambda: _try_unbounded_scratch(scratch_dir, scratch_quota_bytes)
    report = {}
    for name, attempt in checks.items():
        try:
            attempt()
            report[name] = False
        except OSError as error:
            allowed = _NET_BLOCKED_ERRNOS if name in ("tcp", "udp") else _BLOCKED_ERRNOS
            report[name] = error.errno in allowed
        except Exception:  # noqa: BLE001 - an odd failure proves nothing: fail closed
            report[name] = False
    return report


def _same_mode(path: str) -> None:
    os.chmod(path, stat.S_IMODE(os.stat(path).st_mode))


def _same_owner(path: str) -> None:
    status = os.stat(path)
    os.chown(path, status.st_uid, status.st_gid)


def _same_times(path: str) -> None:
    status = os.stat(path)
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))


def _try_stay_root() -> None:
    """Succeeds (the wall is missing) while any id is root, root's group is
    among ours, or a capability other than reading is left."""
    effective, permitted = capabilities()
    read_only = 1 << CAP_DAC_READ_SEARCH
    if (0 in (*os.getresuid(), *os.getresgid(), *os.getgroups())
            or (effective | permitted) & ~read_only):
        return
    raise PermissionError(errno.EPERM, "not root")


def _try_read(path: str) -> None:
    with open(path, "rb") as handle:
        handle.read(1)


def _try_create(path: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    os.close(fd)
    try:
        os.unlink(path)
    except OSError:
        pass


def _try_connect(kind: int) -> None:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.settimeout(1.0)
        sock.connect(("127.0.0.1", 9))  # discard port: refused or silently eaten
        if kind == socket.SOCK_DGRAM:
            sock.send(b"canary")


def _try_fork() -> None:
    pid = os.fork()
    if pid == 0:  # the wall is missing: leave at once, run nothing
        os._exit(0)
    os.waitpid(pid, 0)


def _try_exec(scratch_dir: str) -> None:
    """exec a file that can never run (executable bits, no valid format), so a
    missing wall shows as ENOEXEC and cannot replace the canary: seccomp says
    EPERM before the kernel looks at the file, Landlock EACCES when it opens
    it for execution, and only a process with no exec wall gets as far as
    ENOEXEC."""
    path = os.path.join(scratch_dir, f".canary-exec-{os.getpid()}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o755)
    try:
        os.write(fd, b"\0" * 64)
    finally:
        os.close(fd)
    try:
        os.execv(path, [path])  # noqa: S606 - the probe itself: a file of zeros that no kernel will run
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


_IPC_PRIVATE, _IPC_CREAT, _IPC_RMID = 0, 0o1000, 0


def _try_sysv_ipc() -> None:
    """Make a System V segment, queue and semaphore set. Each one made is
    removed at once (a missing wall leaves nothing behind); any one made
    means the wall is missing."""
    Attempt = tuple[Callable[[], int], Callable[[int], object]]
    attempts: tuple[Attempt, ...] = (
        (lambda: libc.shmget(_IPC_PRIVATE, ctypes.c_size_t(4096), _IPC_CREAT | 0o600),
         lambda made: libc.shmctl(made, _IPC_RMID, None)),
        (lambda: libc.msgget(_IPC_PRIVATE, _IPC_CREAT | 0o600),
         lambda made: libc.msgctl(made, _IPC_RMID, None)),
        (lambda: libc.semget(_IPC_PRIVATE, 1, _IPC_CREAT | 0o600),
         lambda made: libc.semctl(made, 0, _IPC_RMID)))
    for make, remove in attempts:
        made = make()
        if made >= 0:
            remove(made)
            return
        if ctypes.get_errno() not in _BLOCKED_ERRNOS:
            raise_errno()
    raise PermissionError(errno.EPERM, "System V IPC refused")


def _try_unbounded_scratch(scratch_dir: str, quota_bytes: int) -> None:
    """Succeeds (the wall is missing) when the file system scratch lives on
    could hold more than the room's quota: the quota is its size."""
    status = os.statvfs(scratch_dir)
    if status.f_blocks * status.f_frsize > quota_bytes:
        return
    raise PermissionError(errno.EPERM, "scratch is a file system of the quota's size")
