"""Raw calls into the kernel that several wall families share: libc, syscall(2), prctl(2).

Untrusted side: imports only the stdlib.
"""
from __future__ import annotations

import ctypes
from typing import Any
import os
import sys

LINUX = sys.platform.startswith("linux")

if LINUX:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.prctl.restype = ctypes.c_int
else:  # pragma: no cover - exercised on non-Linux only
    libc = None  # type: ignore[assignment]


def raise_errno() -> None:
    code = ctypes.get_errno()
    raise OSError(code, os.strerror(code))


def syscall(number: int, *args: Any) -> int:
    """Raw syscall; raises OSError with the kernel's errno on failure."""
    result = libc.syscall(ctypes.c_long(number), *args)
    if result < 0:
        raise_errno()
    return int(result)


def prctl(option: int, *args: Any) -> None:
    """prctl(2) with unsigned-long arguments (ints) or pointers (``byref``)."""
    values = [ctypes.c_ulong(arg) if isinstance(arg, int) else arg for arg in args]
    values += [ctypes.c_ulong(0)] * (4 - len(values))
    if libc.prctl(ctypes.c_int(option), *values) != 0:
        raise_errno()
