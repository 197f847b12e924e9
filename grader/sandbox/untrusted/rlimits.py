"""rlimits: memory, CPU time, file size, open files, core dumps, set in each child before student code runs.

Untrusted side: stdlib only.
"""
from __future__ import annotations

import os
import resource
import signal

from grader.sandbox.limits import Limits

_MIB = 1024 * 1024


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


def apply_rlimits(limits: Limits, *, fork_walled_elsewhere: bool, cpu_s: int) -> list[str]:
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
