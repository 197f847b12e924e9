"""Walls around one sandbox child: rlimits, no-new-privs, Landlock, seccomp.

The zygote (a warm python that imported torch and holds no secrets) calls
``readable_paths()`` once, which also builds what every child will reuse (the
Landlock rule plan and the compiled seccomp program). It then forks one child
per submission; right after the fork, before any student code runs, the child
calls ``apply_walls``. A wall the machine lacks is skipped and named in plain
words in ``WallReport.missing``, never raised; ``canary_report`` then checks
from inside a walled child that the walls really hold, so the grader can fail
closed (ARCHITECTURE.md, rules 4 and 6).

This module is on the untrusted side: it imports only the stdlib, pyseccomp
and ``grader.sandbox.limits``.

Cost per child, measured on the 2-core dev VM (kernel 6.18, Landlock ABI 7,
torch 2.13 imported, 8 readable paths), median of 200 forks: ``apply_walls``
~1.2 ms (p90 ~1.6 ms): rlimits ~0.5 ms (two small /proc reads; mostly the
first-touch page faults any forked child pays), no-new-privs ~0.1 ms,
Landlock ~0.2 ms (ruleset plan built once), seccomp ~0.2 ms (one prctl of a
program compiled once; the kernel's own filter setup). Without
``readable_paths``/``prepare_walls`` in the zygote, every child compiles the
filter itself: ~2.5-3.5 ms.

File metadata (mode, owner, times, xattrs, inode flags) is outside what
Landlock governs, so seccomp refuses those calls everywhere; and when the
grader runs as root the child drops, after Landlock and before seccomp, to a
user and group of its own that owns scratch (issue 14 §3). The drop costs
0.74 ms median a child (1.2 ms p90), measured with the 2-core machine's load
average at 12, so less on a quiet one: a chown of scratch, four
id/capability calls, and the first run of that code in each child. The
larger filter is compiled as a binary search (libseccomp's optimize level
2), so a syscall's cost barely grows with the rule count.
"""
from __future__ import annotations

import ctypes
import errno
import functools
import glob
import os
import platform
import resource
import signal
import site
import socket
import stat
import sys
import sysconfig
from collections.abc import Collection
from dataclasses import dataclass

from grader.sandbox.limits import Limits

try:  # optional: without it the seccomp wall is reported missing
    import pyseccomp as _seccomp
except Exception as _error:  # noqa: BLE001 - ImportError, or RuntimeError when libseccomp is absent
    _seccomp = None
    _SECCOMP_IMPORT_ERROR = f"{type(_error).__name__}: {_error}"
else:
    _SECCOMP_IMPORT_ERROR = ""

_LINUX = sys.platform.startswith("linux")
_MIB = 1024 * 1024


@dataclass(frozen=True)
class WallReport:
    applied: tuple[str, ...]  # e.g. ("rlimits", "no_new_privs", "landlock", "seccomp")
    missing: tuple[str, ...]  # plain words, e.g. ("landlock: kernel has no Landlock (ENOSYS)",)


# --------------------------------------------------------------------------
# What a sandbox may read
# --------------------------------------------------------------------------
_SHARED_LIBS = ("/usr/lib", "/lib", "/lib64", "/usr/lib64", "/etc/ld.so.cache")
_DEVICES = ("/dev/null", "/dev/urandom", "/dev/zero")
# Names that must never be readable from a sandbox even when they sit inside
# a folder that is otherwise fine to read (site-packages holding an installed
# `grader`, say).
_FORBIDDEN_NAMES = frozenset({"grader", "solutions"})


def readable_paths() -> tuple[str, ...]:
    """Paths a sandbox may read (never write): the interpreter's stdlib,
    site-packages entries (but NOT a ``grader`` package folder in
    site-packages, NOR any path that contains a ``solutions`` dir or course
    repo), shared libs (/usr/lib, /lib, /lib64, /usr/lib64, /etc/ld.so.cache),
    /dev/null, /dev/urandom, /dev/zero. Computed once in the zygote.

    Other ``sys.path`` entries (the zygote's script folder or cwd, PYTHONPATH,
    editable installs such as the grader's own checkout) are left out: the
    sandbox imports the submission from its scratch folder, and everything
    else it needs is already imported or lives in the interpreter's library.

    Calling it also prepares, once, what ``apply_walls`` reuses in every child
    (the Landlock plan for these paths and the compiled seccomp program), so
    call it in the zygote before the first fork.
    """
    library_dirs = _interpreter_library_dirs()
    prefixes = {os.path.realpath(p) for p in
                (sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix)}
    candidates = list(library_dirs)
    for entry in sys.path:  # e.g. pythonXY.zip and lib-dynload, under the prefix
        real = os.path.realpath(entry) if entry else ""
        if real and any(_is_within(real, prefix) for prefix in prefixes):
            candidates.append(real)
    candidates = [c for c in dict.fromkeys(candidates) if os.path.exists(c)]
    forbidden = [f for c in candidates for f in _find_forbidden(c, library_dirs, depth=2)]
    shared = [os.path.realpath(p) for p in _SHARED_LIBS if os.path.exists(p)]
    # A system-wide install (/usr/lib/python3/dist-packages/grader) sits
    # deeper in the shared-lib folders than the scan above reaches.
    system_python = [p for lib in shared if os.path.isdir(lib)
                     for p in glob.glob(os.path.join(glob.escape(lib), "python*", "*-packages"))]
    forbidden += [f for p in system_python for f in _find_forbidden(p, [], depth=2)]
    forbidden += [f for lib in shared for f in _find_forbidden(lib, [], depth=1)]
    grants = [g for c in candidates + shared for g in _grant_around(c, forbidden)]
    grants += [os.path.realpath(p) for p in _DEVICES if os.path.exists(p)]
    result = _drop_nested(grants)
    prepare_walls(result)
    return result


def prepare_walls(readable: tuple[str, ...]) -> None:
    """Build, once, what every child reuses: the Landlock plan for ``readable``
    and the compiled seccomp program. ``readable_paths`` calls this; call it
    yourself in the zygote if you pass other paths to ``apply_walls``."""
    _landlock_plan(tuple(readable))
    _seccomp_program()
    if _LINUX and os.geteuid() == 0:  # what the privilege drop reuses
        _library_hidden_from_others(tuple(readable))
        _capset_arguments(1 << _CAP_DAC_READ_SEARCH)


def _interpreter_library_dirs() -> list[str]:
    names = ("stdlib", "platstdlib", "purelib", "platlib")
    paths = [sysconfig.get_path(name) for name in names]
    try:
        paths += site.getsitepackages()
    except AttributeError:  # some embedded / old virtualenv builds
        pass
    if site.ENABLE_USER_SITE:
        paths.append(site.getusersitepackages())
    return [os.path.realpath(p) for p in paths if p and os.path.isdir(p)]


def _looks_like_course_repo(names: Collection[str]) -> bool:
    return "solutions" in names or "course.toml" in names


def _is_course_repo_or_inside_one(path: str, library_dirs: list[str]) -> bool:
    """A course repo's own folders are refused; the interpreter's library
    folders are not, even when the venv lives inside the course repo (their
    contents are carved like any other)."""
    current = path
    while True:
        try:
            if _looks_like_course_repo(os.listdir(current)):
                return current == path or not any(_is_within(path, lib) for lib in library_dirs)
        except OSError:
            pass
        parent = os.path.dirname(current)
        if parent == current:
            return False
        current = parent


def _find_forbidden(path: str, library_dirs: list[str], depth: int) -> list[str]:
    """What must stay unreadable in or around ``path``: a course repo (a
    folder holding ``solutions/`` or ``course.toml``) found down to
    ``depth - 1`` levels, anything named ``grader`` or ``solutions`` down to
    ``depth`` levels, and ``path`` itself when it lies inside a course repo.
    Symlinks are not followed: Landlock checks the real path a link resolves
    to, so a link out of a granted folder leads nowhere readable."""
    if os.path.basename(path) in _FORBIDDEN_NAMES:
        return [path]
    if library_dirs and _is_course_repo_or_inside_one(path, library_dirs):
        return [path]
    if depth == 0 or os.path.islink(path) or not os.path.isdir(path):
        return []
    try:
        with os.scandir(path) as entries:
            children = {entry.name: entry.is_dir(follow_symlinks=False) for entry in entries}
    except OSError:
        return []
    if _looks_like_course_repo(children):
        return [path]
    found = []
    for name, is_dir in children.items():
        child = os.path.join(path, name)
        if name in _FORBIDDEN_NAMES:
            found.append(child)
        elif is_dir:
            found += _find_forbidden(child, [], depth - 1)
    return found


def _grant_around(path: str, forbidden: list[str]) -> list[str]:
    """``[path]`` if nothing forbidden lies inside it, else its children's
    grants, leaving the forbidden ones out (Landlock grants whole subtrees)."""
    if any(_is_within(path, f) for f in forbidden):
        return []
    if not any(_is_within(f, path) for f in forbidden):
        return [path]
    try:
        children = sorted(os.path.join(path, name) for name in os.listdir(path))
    except OSError:
        return []
    return [g for child in children for g in _grant_around(child, forbidden)]


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _drop_nested(paths: list[str]) -> tuple[str, ...]:
    kept: list[str] = []
    for path in sorted(set(paths), key=lambda p: (p.count(os.sep), p)):
        if not any(_is_within(path, outer) for outer in kept):
            kept.append(path)
    return tuple(sorted(kept))


# --------------------------------------------------------------------------
# Landlock (raw syscalls; the numbers are the same on every Linux arch)
# --------------------------------------------------------------------------
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


if _LINUX:
    _libc = ctypes.CDLL(None, use_errno=True)
    _libc.syscall.restype = ctypes.c_long
    _libc.prctl.restype = ctypes.c_int
else:  # pragma: no cover - exercised on non-Linux only
    _libc = None  # type: ignore[assignment]


def _syscall(number: int, *args) -> int:
    """Raw syscall; raises OSError with the kernel's errno on failure."""
    result = _libc.syscall(ctypes.c_long(number), *args)
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return result


@dataclass(frozen=True)
class _LandlockPlan:
    abi: int
    handled_fs: int
    handled_net: int
    scoped: int
    attr_size: int
    rules: tuple[tuple[str, int], ...]  # (path, allowed access), readable paths only
    scratch_rights: int


@functools.lru_cache(maxsize=1)
def _landlock_abi() -> int | str:
    """The kernel's Landlock ABI version, or a plain-words reason it has none."""
    if not _LINUX:
        return f"landlock: not available on {sys.platform}"
    try:
        return _syscall(_SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                        ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION))
    except OSError as error:
        if error.errno == errno.ENOSYS:
            return "landlock: kernel has no Landlock (ENOSYS)"
        if error.errno == errno.EOPNOTSUPP:
            return "landlock: Landlock is disabled at boot (EOPNOTSUPP)"
        return f"landlock: cannot query the ABI ({errno.errorcode.get(error.errno or 0, error.errno)})"


@functools.lru_cache(maxsize=8)
def _landlock_plan(readable: tuple[str, ...]) -> _LandlockPlan | str:
    abi = _landlock_abi()
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
    return _LandlockPlan(abi, handled_fs, handled_net, scoped, attr_size, tuple(rules),
                         _SCRATCH_RIGHTS & handled_fs)


def _apply_landlock(plan: _LandlockPlan, scratch_dir: str) -> None:
    attr = _RulesetAttr(plan.handled_fs, plan.handled_net, plan.scoped)
    ruleset_fd = _syscall(_SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr),
                          ctypes.c_size_t(plan.attr_size), ctypes.c_uint32(0))
    try:
        for path, rights in plan.rules:
            try:
                _add_path_rule(ruleset_fd, path, rights)
            except OSError:
                continue  # a readable path that vanished: one less thing readable
        _add_path_rule(ruleset_fd, scratch_dir, plan.scratch_rights)
        _syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset_fd, ctypes.c_uint32(0))
    finally:
        os.close(ruleset_fd)


def _add_path_rule(ruleset_fd: int, path: str, rights: int) -> None:
    # The plan already gave files file-only rights (the kernel rejects
    # directory rights on a file with EINVAL, which the caller skips).
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        rule = _PathBeneathAttr(rights, fd)
        _syscall(_SYS_LANDLOCK_ADD_RULE, ruleset_fd, ctypes.c_int(_LANDLOCK_RULE_PATH_BENEATH),
                 ctypes.byref(rule), ctypes.c_uint32(0))
    finally:
        os.close(fd)


# --------------------------------------------------------------------------
# seccomp (filter built with pyseccomp once, loaded per child with one prctl)
# --------------------------------------------------------------------------
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_CLONE_THREAD = 0x00010000
_CLONE_NEW_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000,
                    0x20000000, 0x40000000, 0x00000080)  # NS CGROUP UTS IPC USER PID NET TIME
_TIOCSTI = 0x5412  # push bytes into a terminal's input
_TIOCLINUX = 0x541C
_LOW_32_BITS = 0xFFFFFFFF  # ioctl's cmd is an int: the kernel drops the high bits

# Denied outright with EPERM. Beyond the brief's list: the other ways to
# signal (rt_*sigqueueinfo), the new mount API, and cross-process
# inspection (kcmp, process_madvise, move_pages, migrate_pages).
_EPERM_SYSCALLS = (
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    "fork", "vfork", "execve", "execveat",
    "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
    "pidfd_open", "pidfd_send_signal", "pidfd_getfd",
    "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp",
    "move_pages", "migrate_pages",
    "setrlimit", "unshare", "setns",
    "mount", "umount2", "chroot", "pivot_root",
    "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
    "mknod", "mknodat", "reboot", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module",
    "bpf", "perf_event_open", "keyctl", "add_key", "request_key",
    "io_uring_setup", "userfaultfd", "open_by_handle_at", "name_to_handle_at",
    "personality", "swapon", "swapoff", "sethostname", "setdomainname",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "acct", "syslog",
    "iopl", "ioperm", "quotactl", "vhangup", "fanotify_init",
)
# A file's metadata, which Landlock does not govern (it limits contents):
# mode, owner, times and extended attributes, denied everywhere, scratch
# included (seccomp cannot see which file a path or descriptor names; an
# exercise has no business changing modes). A room running as root could
# otherwise make any file on the machine unreadable, or anyone's.
_METADATA_SYSCALLS = (
    "chmod", "fchmod", "fchmodat", "fchmodat2",
    "chown", "fchown", "lchown", "fchownat", "chown32", "fchown32", "lchown32",
    "utime", "utimes", "utimensat", "futimesat", "utimensat_time64",
    "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
)
# Newer than the libseccomp here may know, so given by number: since Linux
# 5.1 (number 424) every architecture but alpha/ia64/mips numbers a new
# syscall the same. setxattrat/removexattrat (6.13), open_tree_attr and
# file_setattr (inode flags such as immutable, 6.17).
_NEW_SYSCALL_NUMBERS = {"setxattrat": 463, "removexattrat": 466, "open_tree_attr": 467,
                        "file_setattr": 469}
_UNIFIED_NUMBERING = frozenset({"x86_64", "aarch64", "riscv64", "ppc64le", "ppc64", "s390x",
                                "loongarch64", "armv7l", "i686", "i386"})
# Syscalls newer than this list answer ENOSYS, as on an older kernel: a
# default-allow filter must not let the next metadata call through unseen.
_NEWEST_REVIEWED_SYSCALL = 469
_UNREVIEWED_SYSCALLS = range(_NEWEST_REVIEWED_SYSCALL + 1, 512)
# ioctls that change inode flags (chattr +i / +a) or project attributes.
_FS_IOC_SETFLAGS, _FS_IOC32_SETFLAGS, _FS_IOC_FSSETXATTR = 0x40086602, 0x40046602, 0x401C6620


@dataclass(frozen=True)
class _SeccompProgram:
    buffer: ctypes.Array  # the BPF instructions, kept alive for the prctl
    fprog: ctypes.Structure  # struct sock_fprog pointing into buffer
    skipped: tuple[str, ...]  # syscall names this platform does not have


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _seccomp_rules(s) -> list[tuple[int, str | int, tuple]]:
    eperm = s.ERRNO(errno.EPERM)
    rules: list[tuple[int, str | int, tuple]] = [(eperm, name, ()) for name in _EPERM_SYSCALLS + _METADATA_SYSCALLS]
    if platform.machine() in _UNIFIED_NUMBERING:
        rules += [(eperm, number, ()) for number in _NEW_SYSCALL_NUMBERS.values()]
        rules += [(s.ERRNO(errno.ENOSYS), number, ()) for number in _UNREVIEWED_SYSCALLS]
    # Threads (torch's pools) must work; new processes must not.
    rules.append((eperm, "clone", (s.Arg(0, s.MASKED_EQ, _CLONE_THREAD, 0),)))
    rules += [(eperm, "clone", (s.Arg(0, s.MASKED_EQ, flag, flag),)) for flag in _CLONE_NEW_FLAGS]
    # clone3 passes its flags in memory, which seccomp cannot read: ENOSYS makes
    # glibc fall back to clone, where the rules above apply.
    rules.append((s.ERRNO(errno.ENOSYS), "clone3", ()))
    # Reading limits stays allowed; only raising or lowering them is denied.
    rules.append((eperm, "prlimit64", (s.Arg(2, s.NE, 0),)))
    rules += [(eperm, "ioctl", (s.Arg(1, s.MASKED_EQ, _LOW_32_BITS, cmd),))
              for cmd in (_TIOCSTI, _TIOCLINUX, _FS_IOC_SETFLAGS, _FS_IOC32_SETFLAGS, _FS_IOC_FSSETXATTR)]
    # Root may renice, re-prioritise or pin other processes (the grader):
    # only "myself" (0) is allowed.
    rules += [(eperm, "setpriority", (s.Arg(0, s.NE, 0),)),
              (eperm, "setpriority", (s.Arg(1, s.NE, 0),)),
              (eperm, "ioprio_set", (s.Arg(0, s.NE, 1),)),  # 1 = IOPRIO_WHO_PROCESS
              (eperm, "ioprio_set", (s.Arg(1, s.NE, 0),))]
    rules += [(eperm, name, (s.Arg(0, s.NE, 0),))
              for name in ("sched_setscheduler", "sched_setparam", "sched_setattr",
                           "sched_setaffinity")]
    return rules


@functools.lru_cache(maxsize=1)
def _seccomp_program() -> _SeccompProgram | str:
    """Compile the filter once; a plain-words reason string if we cannot."""
    if not _LINUX:
        return f"seccomp: not available on {sys.platform}"
    if _seccomp is None:
        return f"seccomp: pyseccomp/libseccomp not usable ({_SECCOMP_IMPORT_ERROR})"
    s = _seccomp
    try:
        syscall_filter = s.SyscallFilter(s.ALLOW)
        syscall_filter.set_attr(s.Attr.ACT_BADARCH, s.KILL_PROCESS)  # e.g. int 0x80 syscalls
        try:  # a binary search over syscall numbers instead of a list: each syscall pays less
            syscall_filter.set_attr(s.Attr.CTL_OPTIMIZE, 2)
        except (OSError, ValueError, AttributeError):  # libseccomp < 2.5
            pass
        skipped = []
        for action, name, args in _seccomp_rules(s):
            if isinstance(name, str) and s.resolve_syscall(s.Arch.NATIVE, name) < 0:
                skipped.append(name)
                continue
            syscall_filter.add_rule(action, name, *args)
        memfd = os.memfd_create("torchgrade-seccomp", os.MFD_CLOEXEC)
        try:
            with os.fdopen(memfd, "w+b", closefd=False) as sink:
                syscall_filter.export_bpf(sink)
            size = os.lseek(memfd, 0, os.SEEK_END)
            program = os.pread(memfd, size, 0)
        finally:
            os.close(memfd)
    except (OSError, ValueError, AttributeError) as error:
        return f"seccomp: cannot build the filter ({error})"
    if not program or len(program) % 8:
        return "seccomp: libseccomp exported an empty or malformed program"
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    return _SeccompProgram(buffer, fprog, tuple(dict.fromkeys(skipped)))


def _prctl(option: int, *args) -> None:
    """prctl(2) with unsigned-long arguments (ints) or pointers (``byref``)."""
    values = [ctypes.c_ulong(arg) if isinstance(arg, int) else arg for arg in args]
    values += [ctypes.c_ulong(0)] * (4 - len(values))
    if _libc.prctl(ctypes.c_int(option), *values) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


# --------------------------------------------------------------------------
# rlimits
# --------------------------------------------------------------------------
def _address_space_bytes() -> int | None:
    """Current address-space size (VmSize), from /proc; None if unreadable."""
    try:
        fd = os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC)
        try:
            pages = int(os.read(fd, 128).split()[0])
        finally:
            os.close(fd)
    except (OSError, ValueError, IndexError):
        return None
    return pages * resource.getpagesize()


def _highest_open_fd() -> int:
    try:
        return max(int(name) for name in os.listdir("/proc/self/fd"))
    except (OSError, ValueError):
        return 2


def _apply_rlimits(limits: Limits, *, fork_walled_elsewhere: bool, cpu_s: int) -> list[str]:
    """Set every limit; return plain-words lines for the ones that failed."""
    missing = []
    vm_bytes = _address_space_bytes()
    wanted = {
        "RLIMIT_CPU": (cpu_s, cpu_s + 1),
        "RLIMIT_FSIZE": (limits.file_size_mb * _MIB,) * 2,
        "RLIMIT_NOFILE": (max(limits.open_files, _highest_open_fd() + 1),) * 2,
        "RLIMIT_CORE": (0, 0),
    }
    if vm_bytes is None:
        missing.append("rlimits: cannot read the address-space size, no memory limit")
    else:
        wanted["RLIMIT_AS"] = (vm_bytes + limits.memory_mb * _MIB,) * 2
    # RLIMIT_NPROC counts every thread of the user and does not bind root.
    # Where seccomp walls off fork it adds nothing; without seccomp it is the
    # only fork wall left, at the price of torch's threads.
    if os.getuid() != 0 and not fork_walled_elsewhere:
        wanted["RLIMIT_NPROC"] = (0, 0)
    for name, (soft, hard) in wanted.items():
        which = getattr(resource, name, None)
        if which is None:
            missing.append(f"rlimits: {name} does not exist on this platform")
            continue
        try:
            _, current_hard = resource.getrlimit(which)
            if current_hard != resource.RLIM_INFINITY:
                # Raising a hard limit needs CAP_SYS_RESOURCE, which even root
                # may lack (it does on the dev VM); tighter is fine anyway.
                hard = min(hard, current_hard)
                soft = min(soft, hard)
            resource.setrlimit(which, (soft, hard))
        except (OSError, ValueError) as error:
            missing.append(f"rlimits: cannot set {name} ({error})")
    try:  # over-size writes fail with EFBIG instead of killing the child
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    except (AttributeError, ValueError, OSError):
        pass
    return missing


# --------------------------------------------------------------------------
# Privilege drop (when the grader runs as root, as Gradescope's does)
# --------------------------------------------------------------------------
# Each room runs as a user and group of its own, ROOM_ID_BASE + its pid: far
# above real accounts, nobody (65534) and the usual subordinate-id ranges,
# and unique among live rooms (a pid is not reused before the zygote reaps
# it). The kernel then also keeps rooms apart from each other, and
# RLIMIT_NPROC counts one room's tasks only. ``run_as`` pins one id instead.
ROOM_ID_BASE = 1_000_000_000
NOBODY = 65534  # where the kernel cannot map ROOM_ID_BASE + pid (a user namespace)
# Tasks (threads: seccomp already refuses new processes) a room may have.
ROOM_TASKS = 64
_CAP_DAC_READ_SEARCH = 2
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_PR_GET_PDEATHSIG, _PR_SET_PDEATHSIG, _PR_SET_KEEPCAPS = 2, 1, 8


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def capabilities() -> tuple[int, int]:
    """(effective, permitted) capability sets of the calling thread, as bit masks."""
    header, data = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    if _libc.capget(ctypes.byref(header), data) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return (data[0].effective | data[1].effective << 32, data[0].permitted | data[1].permitted << 32)


@functools.lru_cache(maxsize=4)
def _capset_arguments(mask: int) -> tuple[_CapHeader, ctypes.Array]:
    header, data = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    for word in (0, 1):
        data[word].effective = data[word].permitted = (mask >> (32 * word)) & 0xFFFFFFFF
    return header, data


def _set_capabilities(mask: int) -> None:
    header, data = _capset_arguments(mask)
    if _libc.capset(ctypes.byref(header), data) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def _others_can_reach(path: str, *, read: bool) -> bool:
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
def _library_hidden_from_others(readable: tuple[str, ...]) -> str:
    """The first readable path an unprivileged room could not read ('' if none):
    the interpreter may live in a private folder (here: pyenv under /root)."""
    return next((path for path in readable if not _others_can_reach(path, read=True)), "")


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


def _drop_privileges(scratch_dir: str, readable: tuple[str, ...], run_as: int | None) -> tuple[str, str]:
    """Become an unprivileged user and group: ``(applied name, '')``, or
    ``('', plain-words reason)`` when the kernel refused every candidate id.

    The room keeps one capability, CAP_DAC_READ_SEARCH (read any file, walk
    any folder), only when the interpreter or scratch lies in a folder other
    users cannot read; Landlock still decides what is readable, and seccomp
    refuses ``open_by_handle_at``, the one call that capability would add.
    """
    if run_as is not None and run_as <= 0:
        return "", f"privilege drop: refused to run rooms as uid {run_as}; the room runs as root"
    hidden = _library_hidden_from_others(readable) or (
        "" if _others_can_reach(scratch_dir, read=False) else scratch_dir)
    death_signal = ctypes.c_int(0)
    _libc.prctl(ctypes.c_int(_PR_GET_PDEATHSIG), ctypes.byref(death_signal))
    parent = os.getppid()
    candidates = [run_as] if run_as is not None else [ROOM_ID_BASE + os.getpid(), NOBODY]
    failure: OSError | None = None
    for room_id in candidates:
        try:
            _chown_tree(scratch_dir, room_id, room_id)
            resource.setrlimit(resource.RLIMIT_NPROC, (ROOM_TASKS, ROOM_TASKS))
            if hidden:
                _prctl(_PR_SET_KEEPCAPS, 1)
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
        _set_capabilities(1 << _CAP_DAC_READ_SEARCH)
        _prctl(_PR_SET_KEEPCAPS, 0)
    # A change of user clears the death signal the caller armed: arm it again,
    # and if the parent already went, take the signal now.
    if death_signal.value:
        _prctl(_PR_SET_PDEATHSIG, death_signal.value)
        if os.getppid() != parent:
            os.kill(os.getpid(), death_signal.value)
    if hidden:
        return "privilege_drop (keeps CAP_DAC_READ_SEARCH)", ""
    return "privilege_drop", ""


# --------------------------------------------------------------------------
# The walls, in order
# --------------------------------------------------------------------------
def apply_walls(scratch_dir: str, limits: Limits, readable: tuple[str, ...], *, cpu_s: int | None = None,
                run_as: int | None = None) -> WallReport:
    """Wall in the calling (freshly forked, single-threaded) child: rlimits,
    no-new-privs, Landlock (read-only ``readable``, read-write
    ``scratch_dir``, no TCP, no signals or abstract unix sockets out of the
    domain), then, when running as root, a drop to a user and group of the
    room's own (``run_as`` pins one id) that owns ``scratch_dir``, then
    seccomp (no new sockets, processes, exec, signals, ptrace, limit
    changes, mounts, file metadata changes...). The caller has already done
    ``setsid``.

    A wall the platform lacks is skipped and named in ``missing``; this never
    raises for a missing wall. It raises only when ``scratch_dir`` is not a
    folder (our bug, not the machine's). ``cpu_s``: the CPU-time limit, if
    not the one exercise's ``limits.cpu_s`` (a room serves several).
    """
    if not os.path.isdir(scratch_dir):
        raise FileNotFoundError(errno.ENOENT, "scratch folder does not exist", scratch_dir)
    readable = tuple(readable)
    # Cheap when prepared in the zygote; built here (before any wall) otherwise.
    landlock = _landlock_plan(readable)
    seccomp = _seccomp_program()
    applied: list[str] = []
    missing: list[str] = []

    if hasattr(resource, "setrlimit"):
        rlimit_problems = _apply_rlimits(limits, fork_walled_elsewhere=not isinstance(seccomp, str),
                                         cpu_s=limits.cpu_s if cpu_s is None else cpu_s)
        missing += rlimit_problems
        if not rlimit_problems:
            applied.append("rlimits")
    else:  # pragma: no cover
        missing.append("rlimits: the resource module cannot set limits here")

    no_new_privs = False
    if _LINUX:
        try:
            _prctl(_PR_SET_NO_NEW_PRIVS, 1)
            no_new_privs = True
            applied.append("no_new_privs")
        except OSError as error:
            missing.append(f"no_new_privs: prctl refused ({error.strerror})")
    else:  # pragma: no cover
        missing.append(f"no_new_privs: not available on {sys.platform}")

    if isinstance(landlock, str):
        missing.append(landlock)
    elif not no_new_privs and os.geteuid() != 0:
        missing.append("landlock: needs no-new-privs, which failed")
    else:
        try:
            _apply_landlock(landlock, scratch_dir)
            applied.append("landlock")
        except OSError as error:
            code = errno.errorcode.get(error.errno or 0, str(error.errno))
            missing.append(f"landlock: the kernel refused the ruleset ({code}: {error.strerror})")

    # After Landlock (its rules open paths the room's user may not reach) and
    # before seccomp (which refuses the chown that hands scratch over).
    if _LINUX and os.geteuid() == 0:
        dropped, problem = _drop_privileges(scratch_dir, readable, run_as)
        applied += [dropped] if dropped else []
        missing += [problem] if problem else []

    if isinstance(seccomp, str):
        missing.append(seccomp)
    else:
        try:
            _prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(seccomp.fprog))
            applied.append("seccomp")
        except OSError as error:
            code = errno.errorcode.get(error.errno or 0, str(error.errno))
            missing.append(f"seccomp: the kernel refused the filter ({code}: {error.strerror})")

    return WallReport(tuple(applied), tuple(missing))


# --------------------------------------------------------------------------
# The canary: what a walled child must not be able to do
# --------------------------------------------------------------------------
_BLOCKED_ERRNOS = frozenset({errno.EPERM, errno.EACCES, errno.EROFS})
_NET_BLOCKED_ERRNOS = _BLOCKED_ERRNOS | {errno.ENETUNREACH, errno.EAFNOSUPPORT}


def canary_report(scratch_dir: str, planted_secret: str, parent_pid: int) -> dict[str, bool]:
    """Run INSIDE an already-walled child: try what a sandbox must not do.

    Returns ``{"read_outside", "write_outside", "change_mode_outside",
    "change_owner_outside", "change_times_outside", "set_xattr_outside",
    "tcp", "udp", "fork", "exec", "signal_parent", "proc_parent",
    "stay_root"}`` with True meaning BLOCKED. It fails closed: an attempt
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
    }
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
    read_only = 1 << _CAP_DAC_READ_SEARCH
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
        os.execv(path, [path])
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
