"""seccomp: the system calls a room may not make, compiled once with pyseccomp, loaded per child with one prctl.

Untrusted side: stdlib and pyseccomp only.
"""
from __future__ import annotations

from typing import Any

import ctypes
import errno
import functools
import os
import platform
import sys
from dataclasses import dataclass

from grader.sandbox.untrusted.kernel import LINUX

try:  # optional: without it the seccomp wall is reported missing
    import pyseccomp as _seccomp
except Exception as _error:  # noqa: BLE001 - ImportError, or RuntimeError when libseccomp is absent
    _seccomp = None
    _SECCOMP_IMPORT_ERROR = f"{type(_error).__name__}: {_error}"
else:
    _SECCOMP_IMPORT_ERROR = ""

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
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
# Inter-process communication objects that outlive the process that made
# them and are found by a key any other process can guess (issue 23, §8):
# System V shared memory, message queues and semaphore sets, and POSIX
# message queues. Every call of the family is refused, not only the ones
# that create: ``ipc`` is the multiplexer 32-bit x86, s390 and others route
# them all through (libseccomp names the multiplexed calls there by
# pseudo-numbers, which ``seccomp_program`` skips; ``ipc`` itself covers
# them); ``*_time64`` are the 32-bit architectures' variants. A room also
# has an IPC namespace of its own where the machine allows (namespaces.py).
IPC_SYSCALLS = (
    "ipc",
    "shmget", "shmat", "shmdt", "shmctl",
    "msgget", "msgsnd", "msgrcv", "msgctl",
    "semget", "semop", "semtimedop", "semtimedop_time64", "semctl",
    "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
    "mq_timedsend_time64", "mq_timedreceive_time64",
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
class SeccompProgram:
    buffer: ctypes.Array[Any]  # the BPF instructions, kept alive for the prctl
    fprog: ctypes.Structure  # struct sock_fprog pointing into buffer
    skipped: tuple[str, ...]  # syscall names this platform does not have


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _seccomp_rules(s: Any) -> list[tuple[int, str | int, tuple[Any, ...]]]:
    eperm = s.ERRNO(errno.EPERM)
    denied = _EPERM_SYSCALLS + _METADATA_SYSCALLS + IPC_SYSCALLS
    rules: list[tuple[int, str | int, tuple[Any, ...]]] = [(eperm, name, ()) for name in denied]
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
def seccomp_program() -> SeccompProgram | str:
    """Compile the filter once; a plain-words reason string if we cannot."""
    if not LINUX:
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
    return SeccompProgram(buffer, fprog, tuple(dict.fromkeys(skipped)))
