"""Private namespaces for one room: its own IPC namespace, and its scratch folder on a tmpfs of bounded size.

Called in the freshly forked (single-threaded) child before any other wall:
  - a new mount namespace, made private from the root down, so that nothing
    mounted here is seen by the grader or another room, then a tmpfs over the
    scratch folder whose size is the room's total quota (every file, every
    folder and every inode together). Writing past it fails with ENOSPC. The
    room cannot lift it: seccomp refuses mount, umount, unshare and setns,
    and the room is no longer root. What the room wrote lives in the tmpfs
    only, so it never reaches the grader's disk, and it goes with the room's
    last process;
  - a new IPC namespace: a System V segment, queue or semaphore set (or a
    POSIX message queue) a room manages to make despite seccomp belongs to
    the room's namespace alone and dies with it.

As root both need nothing else. Otherwise the room first enters a user
namespace of its own (where the kernel allows unprivileged ones), mapping
only its own user and group, and drops every capability once mounted. Where
neither works, nothing happens and the reason comes back in plain words,
for ``WallReport.missing`` (the canary then says so too).

Untrusted side: stdlib only.
"""
from __future__ import annotations

import ctypes
import errno
import os

from grader.sandbox.untrusted.kernel import LINUX, libc, raise_errno

_CLONE_NEWNS = 0x00020000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWUSER = 0x10000000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 0x2, 0x4, 0x8
_MS_REC, _MS_PRIVATE = 0x4000, 0x40000
# Files and folders a room may create in all (each inode costs kernel memory, even an empty file's).
SCRATCH_INODES = 16_384


def _unshare(flags: int) -> None:
    if libc.unshare(ctypes.c_int(flags)) != 0:
        raise_errno()


def _mount(source: bytes | None, target: bytes, kind: bytes | None, flags: int, data: bytes | None) -> None:
    if libc.mount(source, target, kind, ctypes.c_ulong(flags), data) != 0:
        raise_errno()


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _enter_user_namespace() -> None:
    """Become the same user and group inside a user namespace of our own,
    where we hold the capabilities a mount needs (and nothing outside it)."""
    uid, gid = os.geteuid(), os.getegid()
    _unshare(_CLONE_NEWUSER)
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")


def _drop_all_capabilities() -> None:
    from grader.sandbox.untrusted.privileges import set_capabilities  # noqa: PLC0415 - no cycle at import

    set_capabilities(0)


def _error_words(error: OSError) -> str:
    return f"{errno.errorcode.get(error.errno or 0, error.errno)}: {error.strerror}"


def enter_private_namespaces(scratch_dir: str, quota_bytes: int) -> tuple[list[str], list[str]]:
    """``(applied, missing)``: ``scratch_quota`` and ``ipc_namespace`` as they
    held, or a plain-words reason for each that did not. The working folder,
    if it was ``scratch_dir``, moves onto the new tmpfs."""
    if not LINUX:
        reason = "not available on this platform"
        return [], [f"scratch quota: {reason}", f"ipc namespace: {reason}"]
    in_user_namespace = False
    if os.geteuid() != 0:
        try:
            _enter_user_namespace()
            in_user_namespace = True
        except OSError as error:
            words = (f"not root, and the kernel refused a user namespace ({_error_words(error)})")
            return [], [f"scratch quota: {words}", f"ipc namespace: {words}"]
    applied, missing = [], []
    try:
        _unshare(_CLONE_NEWIPC)
        applied.append("ipc_namespace")
    except OSError as error:
        missing.append(f"ipc namespace: the kernel refused one ({_error_words(error)})")
    try:
        _mount_scratch(scratch_dir, quota_bytes)
        applied.append("scratch_quota")
    except OSError as error:
        missing.append(f"scratch quota: cannot mount a private tmpfs on scratch ({_error_words(error)}); "
                       "a room's files are limited one by one only")
    if in_user_namespace:
        _drop_all_capabilities()
    return applied, missing


def _mount_scratch(scratch_dir: str, quota_bytes: int) -> None:
    before = os.stat(scratch_dir)
    here = os.stat(".")
    _unshare(_CLONE_NEWNS)
    # Private from the root down first: a mount below a shared one would
    # otherwise propagate back into the grader's namespace.
    _mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None)
    options = f"size={quota_bytes},nr_inodes={SCRATCH_INODES},mode=0700,uid={before.st_uid},gid={before.st_gid}"
    _mount(b"tmpfs", os.fsencode(scratch_dir), b"tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, options.encode())
    if (here.st_dev, here.st_ino) == (before.st_dev, before.st_ino):
        os.chdir(scratch_dir)
