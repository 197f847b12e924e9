"""The privilege drop: when the grader runs as root (as Gradescope's does), each room becomes a user of its own.

Untrusted side: stdlib only.
"""
from __future__ import annotations

import ctypes
import functools
import os
import resource
import stat

from grader.sandbox.untrusted.kernel import libc, prctl

# Each room runs as a user and group of its own, ROOM_ID_BASE + its pid: far
# above real accounts, nobody (65534) and the usual subordinate-id ranges,
# and unique among live rooms (a pid is not reused before the zygote reaps
# it). The kernel then also keeps rooms apart from each other, and
# RLIMIT_NPROC counts one room's tasks only. ``run_as`` pins one id instead.
ROOM_ID_BASE = 1_000_000_000
NOBODY = 65534  # where the kernel cannot map ROOM_ID_BASE + pid (a user namespace)
# Tasks (threads: seccomp already refuses new processes) a room may have.
ROOM_TASKS = 64
CAP_DAC_READ_SEARCH = 2
LINUX_CAPABILITY_VERSION_3 = 0x20080522
_PR_GET_PDEATHSIG, _PR_SET_PDEATHSIG, _PR_SET_KEEPCAPS = 2, 1, 8


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def capabilities() -> tuple[int, int]:
    """(effective, permitted) capability sets of the calling thread, as bit masks."""
    header, data = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return (data[0].effective | data[1].effective << 32, data[0].permitted | data[1].permitted << 32)


@functools.lru_cache(maxsize=4)
def capset_arguments(mask: int) -> tuple[_CapHeader, ctypes.Array[_CapData]]:
    header, data = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    for word in (0, 1):
        data[word].effective = data[word].permitted = (mask >> (32 * word)) & 0xFFFFFFFF
    return header, data


def set_capabilities(mask: int) -> None:
    header, data = capset_arguments(mask)
    if libc.capset(ctypes.byref(header), data) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def others_can_reach(path: str, *, read: bool) -> bool:
    """Whether a user that owns nothing and is in no group can walk down to
    ``path`` (search on every folder above it) and, if ``read``, read it."""
    try:
        mode = os.stat(path).st_mode
        if read and not mode & (stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)):
            return False
        folder = os.path.dirname(path)
        while True:
            if not os.stat(folder).st_mode & stat.S_IXOTH:
                return False
            parent = os.path.dirname(folder)
            if parent == folder:
                return True
            folder = parent
    except OSError:
        return False


@functools.lru_cache(maxsize=8)
def library_hidden_from_others(readable: tuple[str, ...]) -> str:
    """The first readable path an unprivileged room could not read ('' if none):
    the interpreter may live in a private folder (here: pyenv under /root)."""
    return next((path for path in readable if not others_can_reach(path, read=True)), "")


def _chown_tree(folder: str, uid: int, gid: int) -> None:
    """Give the room its scratch folder and what the grader put in it, without
    following links (nothing the room wrote is in it yet)."""
    os.chown(folder, uid, gid, follow_symlinks=False)
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                _chown_tree(entry.path, uid, gid)
            else:
                os.chown(entry.path, uid, gid, follow_symlinks=False)


def drop_privileges(scratch_dir: str, readable: tuple[str, ...], run_as: int | None) -> tuple[str, str]:
    """Become an unprivileged user and group: ``(applied name, '')``, or
    ``('', plain-words reason)`` when the kernel refused every candidate id.

    The room keeps one capability, CAP_DAC_READ_SEARCH (read any file, walk
    any folder), only when the interpreter or scratch lies in a folder other
    users cannot read; Landlock still decides what is readable, and seccomp
    refuses ``open_by_handle_at``, the one call that capability would add.
    """
    if run_as is not None and run_as <= 0:
        return "", f"privilege drop: refused to run rooms as uid {run_as}; the room runs as root"
    hidden = library_hidden_from_others(readable) or (
        "" if others_can_reach(scratch_dir, read=False) else scratch_dir)
    death_signal = ctypes.c_int(0)
    libc.prctl(ctypes.c_int(_PR_GET_PDEATHSIG), ctypes.byref(death_signal))
    parent = os.getppid()
    candidates = [run_as] if run_as is not None else [ROOM_ID_BASE + os.getpid(), NOBODY]
    failure: OSError | None = None
    for room_id in candidates:
        try:
            _chown_tree(scratch_dir, room_id, room_id)
            resource.setrlimit(resource.RLIMIT_NPROC, (ROOM_TASKS, ROOM_TASKS))
            if hidden:
                prctl(_PR_SET_KEEPCAPS, 1)
            os.setgroups([])
            os.setresgid(room_id, room_id, room_id)
            os.setresuid(room_id, room_id, room_id)
            failure = None
            break
        except OSError as error:  # EINVAL: an id this user namespace does not map
            failure = error
    if failure is not None or os.getresuid() != (room_id,) * 3:
        reason = failure.strerror if failure else "the ids did not change"
        return "", f"privilege drop: cannot become uid {candidates[-1]} ({reason}); the room runs as root"
    if hidden:
        set_capabilities(1 << CAP_DAC_READ_SEARCH)
        prctl(_PR_SET_KEEPCAPS, 0)
    # A change of user clears the death signal the caller armed: arm it again,
    # and if the parent already went, take the signal now.
    if death_signal.value:
        prctl(_PR_SET_PDEATHSIG, death_signal.value)
        if os.getppid() != parent:
            os.kill(os.getpid(), death_signal.value)
    if hidden:
        return "privilege_drop (keeps CAP_DAC_READ_SEARCH)", ""
    return "privilege_drop", ""
