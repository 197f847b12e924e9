"""Walls around one sandbox child: namespaces, rlimits, no-new-privs, Landlock, privilege drop, seccomp.

The zygote (a warm python that imported torch and holds no secrets) calls
``readable_paths()`` once, which also builds what every child will reuse (the
Landlock rule plan and the compiled seccomp program). It then forks one child
per submission; right after the fork, before any student code runs, the child
calls ``apply_walls``. A wall the machine lacks is skipped and named in plain
words in ``WallReport.missing``, never raised; ``canary_report`` then checks
from inside a walled child that the walls really hold, so the grader can fail
closed (ARCHITECTURE.md: a missing wall is said, never assumed;
checks in a room are conveniences).

This module puts the walls up in order; each family lives in its own module
(``namespaces``, ``rlimits``, ``landlock``, ``privileges``,
``seccomp_filter``, ``canary``; what a room may read: ``readable``). It is
on the untrusted side: they import only the stdlib, pyseccomp and
``grader.sandbox.limits``.

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
private namespaces (issue 23: an IPC namespace, a mount namespace with the
scratch tmpfs) cost ~0.5 ms median a child (0.7 ms p90), measured the same
way with 40 forks. The larger filter is compiled as a binary search (libseccomp's optimize level
2), so a syscall's cost barely grows with the rule count.
"""
from __future__ import annotations

import ctypes
import errno
import os
import resource
import sys
from dataclasses import dataclass

from grader.sandbox.limits import Limits
from grader.sandbox.untrusted import landlock, namespaces, privileges, readable as readable_module, rlimits, \
    seccomp_filter
from grader.sandbox.untrusted.canary import canary_report
from grader.sandbox.untrusted.kernel import LINUX, prctl
from grader.sandbox.untrusted.privileges import NOBODY, ROOM_ID_BASE, ROOM_TASKS, capabilities

_MIB = 1024 * 1024

__all__ = ["NOBODY", "ROOM_ID_BASE", "ROOM_TASKS", "WallReport", "apply_walls", "canary_report", "capabilities",
           "prepare_walls", "readable_paths"]


@dataclass(frozen=True)
class WallReport:
    applied: tuple[str, ...]  # e.g. ("rlimits", "no_new_privs", "landlock", "seccomp")
    missing: tuple[str, ...]  # plain words, e.g. ("landlock: kernel has no Landlock (ENOSYS)",)


def readable_paths() -> tuple[str, ...]:
    """Paths a sandbox may read (never write): the interpreter's stdlib,
    site-packages entries (but NOT a ``grader`` package folder in
    site-packages, NOR any path that contains a ``solutions`` dir or course
    repo), shared libs (/usr/lib, /lib, /lib64, /usr/lib64, /etc/ld.so.cache),
    /dev/null, /dev/urandom, /dev/zero. Computed once in the zygote
    (``readable.library_paths``).

    Calling it also prepares, once, what ``apply_walls`` reuses in every child
    (the Landlock plan for these paths and the compiled seccomp program), so
    call it in the zygote before the first fork.
    """
    result = readable_module.library_paths()
    prepare_walls(result)
    return result


def prepare_walls(readable: tuple[str, ...]) -> None:
    """Build, once, what every child reuses: the Landlock plan for ``readable``
    and the compiled seccomp program. ``readable_paths`` calls this; call it
    yourself in the zygote if you pass other paths to ``apply_walls``."""
    landlock.landlock_plan(tuple(readable))
    seccomp_filter.seccomp_program()
    if LINUX and os.geteuid() == 0:  # what the privilege drop reuses
        privileges.library_hidden_from_others(tuple(readable))
        privileges.capset_arguments(1 << privileges.CAP_DAC_READ_SEARCH)


def apply_walls(scratch_dir: str, limits: Limits, readable: tuple[str, ...], *, cpu_s: int | None = None,
                run_as: int | None = None) -> WallReport:
    """Wall in the calling (freshly forked, single-threaded) child: its own
    IPC namespace and a tmpfs of ``limits.scratch_mb`` over ``scratch_dir``
    in a mount namespace of its own (the room's total disk quota), rlimits,
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
    landlock_plan = landlock.landlock_plan(readable)
    seccomp = seccomp_filter.seccomp_program()
    # First, while the child is still root (or may become root of a user
    # namespace): what it mounts here, Landlock's scratch rule then names.
    applied, missing = namespaces.enter_private_namespaces(scratch_dir, limits.scratch_mb * _MIB)

    _note("rlimits", _rlimit_problems(limits, seccomp, limits.cpu_s if cpu_s is None else cpu_s), applied, missing)
    no_new_privs_problems = _no_new_privs_problems()
    _note("no_new_privs", no_new_privs_problems, applied, missing)
    _note("landlock", _landlock_problems(landlock_plan, scratch_dir, no_new_privs=not no_new_privs_problems),
          applied, missing)
    # After Landlock (its rules open paths the room's user may not reach) and
    # before seccomp (which refuses the chown that hands scratch over).
    if LINUX and os.geteuid() == 0:
        dropped, problem = privileges.drop_privileges(scratch_dir, readable, run_as)
        applied += [dropped] if dropped else []
        missing += [problem] if problem else []
    _note("seccomp", _seccomp_problems(seccomp), applied, missing)
    return WallReport(tuple(applied), tuple(missing))


def _note(wall: str, problems: list[str], applied: list[str], missing: list[str]) -> None:
    """``wall`` applied if it had no problem; its problems missing otherwise."""
    if problems:
        missing += problems
    else:
        applied.append(wall)


def _rlimit_problems(limits: Limits, seccomp: seccomp_filter.SeccompProgram | str, cpu_s: int) -> list[str]:
    if not hasattr(resource, "setrlimit"):  # pragma: no cover
        return ["rlimits: the resource module cannot set limits here"]
    return rlimits.apply_rlimits(limits, fork_walled_elsewhere=not isinstance(seccomp, str), cpu_s=cpu_s)


def _no_new_privs_problems() -> list[str]:
    if not LINUX:  # pragma: no cover
        return [f"no_new_privs: not available on {sys.platform}"]
    try:
        prctl(seccomp_filter.PR_SET_NO_NEW_PRIVS, 1)
    except OSError as error:
        return [f"no_new_privs: prctl refused ({error.strerror})"]
    return []


def _landlock_problems(plan: landlock.LandlockPlan | str, scratch_dir: str, *, no_new_privs: bool) -> list[str]:
    if isinstance(plan, str):
        return [plan]
    if not no_new_privs and os.geteuid() != 0:
        return ["landlock: needs no-new-privs, which failed"]
    try:
        landlock.apply_landlock(plan, scratch_dir)
    except OSError as error:
        code = errno.errorcode.get(error.errno or 0, str(error.errno))
        return [f"landlock: the kernel refused the ruleset ({code}: {error.strerror})"]
    return []


def _seccomp_problems(seccomp: seccomp_filter.SeccompProgram | str) -> list[str]:
    if isinstance(seccomp, str):
        return [seccomp]
    try:
        prctl(seccomp_filter.PR_SET_SECCOMP, seccomp_filter.SECCOMP_MODE_FILTER, ctypes.byref(seccomp.fprog))
    except OSError as error:
        code = errno.errorcode.get(error.errno or 0, str(error.errno))
        return [f"seccomp: the kernel refused the filter ({code}: {error.strerror})"]
    return []

