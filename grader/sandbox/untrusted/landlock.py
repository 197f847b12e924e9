"""Landlock: read-only the library paths, read-write the room's scratch, no TCP, no signals or abstract sockets out.

Raw syscalls (the numbers are the same on every Linux arch); the rule plan is
built once in the zygote and applied in each child. Untrusted side: stdlib only.
"""
from __future__ import annotations

import ctypes
import errno
import functools
import os
import stat
import sys
from dataclasses import dataclass

from grader.sandbox.untrusted.kernel import LINUX, syscall

_SYS_LANDLOCK_CREATE_RULESET = 444
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1

_FS_EXECUTE = 1 << 0
_FS_WRITE_FILE = 1 << 1
_FS_READ_FILE = 1 << 2
_FS_READ_DIR = 1 << 3
_FS_REMOVE_DIR = 1 << 4
_FS_REMOVE_FILE = 1 << 5
_FS_MAKE_CHAR = 1 << 6
_FS_MAKE_DIR = 1 << 7
_FS_MAKE_REG = 1 << 8
_FS_MAKE_SOCK = 1 << 9
_FS_MAKE_FIFO = 1 << 10
_FS_MAKE_BLOCK = 1 << 11
_FS_MAKE_SYM = 1 << 12
_FS_REFER = 1 << 13  # ABI 2
_FS_TRUNCATE = 1 << 14  # ABI 3
_FS_IOCTL_DEV = 1 << 15  # ABI 5
_FS_ABI1 = (1 << 13) - 1
_NET_BIND_TCP = 1 << 0  # ABI 4
_NET_CONNECT_TCP = 1 << 1  # ABI 4
_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
_SCOPE_SIGNAL = 1 << 1  # ABI 6

_FILE_ONLY_RIGHTS = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV
# Scratch: everything but running programs, device nodes, sockets and fifos.
_SCRATCH_RIGHTS = (
    _FS_READ_FILE | _FS_READ_DIR | _FS_WRITE_FILE | _FS_REMOVE_DIR | _FS_REMOVE_FILE
    | _FS_MAKE_DIR | _FS_MAKE_REG | _FS_MAKE_SYM | _FS_REFER | _FS_TRUNCATE
)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]




@dataclass(frozen=True)
class LandlockPlan:
    abi: int
    handled_fs: int
    handled_net: int
    scoped: int
    attr_size: int
    rules: tuple[tuple[str, int], ...]  # (path, allowed access), readable paths only
    scratch_rights: int


@functools.lru_cache(maxsize=1)
def landlock_abi() -> int | str:
    """The kernel's Landlock ABI version, or a plain-words reason it has none."""
    if not LINUX:
        return f"landlock: not available on {sys.platform}"
    try:
        return syscall(_SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                        ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION))
    except OSError as error:
        if error.errno == errno.ENOSYS:
            return "landlock: kernel has no Landlock (ENOSYS)"
        if error.errno == errno.EOPNOTSUPP:
            return "landlock: Landlock is disabled at boot (EOPNOTSUPP)"
        return f"landlock: cannot query the ABI ({errno.errorcode.get(error.errno or 0, error.errno)})"


@functools.lru_cache(maxsize=8)
def landlock_plan(readable: tuple[str, ...]) -> LandlockPlan | str:
    abi = landlock_abi()
    if isinstance(abi, str):
        return abi
    handled_fs = _FS_ABI1
    if abi >= 2:
        handled_fs |= _FS_REFER
    if abi >= 3:
        handled_fs |= _FS_TRUNCATE
    if abi >= 5:
        handled_fs |= _FS_IOCTL_DEV
    handled_net = _NET_BIND_TCP | _NET_CONNECT_TCP if abi >= 4 else 0
    scoped = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL if abi >= 6 else 0
    attr_size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    rules = []
    for path in readable:
        try:
            mode = os.stat(path).st_mode
        except OSError:
            continue  # nonexistent paths cannot carry a rule
        rights = _FS_READ_FILE | _FS_READ_DIR if stat.S_ISDIR(mode) else _FS_READ_FILE
        if path == "/dev/null":
            rights |= _FS_WRITE_FILE  # `open(os.devnull, "w")` is common and harmless
        if not stat.S_ISDIR(mode):
            rights &= _FILE_ONLY_RIGHTS
        rules.append((path, rights & handled_fs))
    return LandlockPlan(abi, handled_fs, handled_net, scoped, attr_size, tuple(rules),
                         _SCRATCH_RIGHTS & handled_fs)


def apply_landlock(plan: LandlockPlan, scratch_dir: str) -> None:
    attr = _RulesetAttr(plan.handled_fs, plan.handled_net, plan.scoped)
    ruleset_fd = syscall(_SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr),
                          ctypes.c_size_t(plan.attr_size), ctypes.c_uint32(0))
    try:
        for path, rights in plan.rules:
            try:
                _add_path_rule(ruleset_fd, path, rights)
            except OSError:
                continue  # a readable path that vanished: one less thing readable
        _add_path_rule(ruleset_fd, scratch_dir, plan.scratch_rights)
        syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset_fd, ctypes.c_uint32(0))
    finally:
        os.close(ruleset_fd)


def _add_path_rule(ruleset_fd: int, path: str, rights: int) -> None:
    # The plan already gave files file-only rights (the kernel rejects
    # directory rights on a file with EINVAL, which the caller skips).
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        rule = _PathBeneathAttr(rights, fd)
        syscall(_SYS_LANDLOCK_ADD_RULE, ruleset_fd, ctypes.c_int(_LANDLOCK_RULE_PATH_BENEATH),
                 ctypes.byref(rule), ctypes.c_uint32(0))
    finally:
        os.close(fd)

