"""How an exception raised beside student code is told to the grader: bounded plain data.

Type, message, the submission's own frames and a kind (a missing name, a
structure that does not match, memory, an exit, a full disk), each bounded; a
hostile ``__str__`` or type name cannot escape or grow the reply.
"""
from __future__ import annotations

import errno
import os
import sys
import traceback
from types import TracebackType
from typing import Any

MAX_TEXT = 2000
_MEMORY_WORDS = ("can't allocate memory", "DefaultCPUAllocator", "out of memory")


class MissingName(Exception):
    """The submission does not define a name the exercise asks for."""


class StructureMismatch(Exception):
    """A built module cannot be matched to the reference's parameters."""


# A write past the file-size rlimit (EFBIG) or the scratch tmpfs's size (ENOSPC; EDQUOT on a quota'd disk).
_DISK_ERRNOS = frozenset({errno.EFBIG, errno.ENOSPC, errno.EDQUOT})


def describe_exception(error: BaseException, filename: str | None) -> dict[str, Any]:
    """Type, message and the submission's own frames, as bounded text."""
    kind = "student"
    if isinstance(error, MissingName):
        kind = "missing name"
    elif isinstance(error, StructureMismatch):
        kind = "structure"
    elif isinstance(error, MemoryError) or (isinstance(error, RuntimeError)
                                            and any(w in _safe_str(error) for w in _MEMORY_WORDS)):
        kind = "memory"
    elif isinstance(error, SystemExit):
        kind = "exit"
    elif isinstance(error, OSError) and error.errno in _DISK_ERRNOS:
        kind = "disk"
    # The room compiles the exercise under its own name (zygote._OwnNameLoader);
    # a module compiled under its path (the reference) is matched by its path.
    names = {filename, os.path.basename(filename)} if filename else set()
    frames = _own_frames(error.__traceback__, names)
    where = "".join(traceback.format_list(frames[-4:]))
    message = _safe_str(error)
    if isinstance(error, SyntaxError) and type(error.filename) is str and error.filename in names:
        message, where = _syntax_error(error)
    return {
        "type": _safe_type_name(error),
        "message": message[:MAX_TEXT],
        "traceback": where[-MAX_TEXT:],
        "kind": kind,
    }


def _own_frames(tb: TracebackType | None, names: set[str]) -> list[traceback.FrameSummary]:
    """The traceback's frames in the files ``names``, as ``traceback.extract_tb``
    gives them. Only those frames are extracted: extracting all would read the
    source of every torch frame, a room's first error costing it milliseconds."""
    if getattr(sys, "tracebacklimit", None) is not None:  # limits count every frame: extract them all
        return [f for f in traceback.extract_tb(tb) if f.filename in names]
    own = []
    while tb is not None:
        if tb.tb_frame.f_code.co_filename in names:
            own.append(tb)
        tb = tb.tb_next
    chain = None
    for entry in reversed(own):
        chain = TracebackType(chain, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return list(traceback.extract_tb(chain))


def _syntax_error(error: SyntaxError) -> tuple[str, str]:
    """A syntax error's words without its "(file, line N)", and its place as a
    traceback frame, so that the grader cites it like any other (a notebook's
    cell and line)."""
    message = error.msg if type(error.msg) is str else _safe_str(error)
    if type(error.lineno) is not int:
        return message, ""
    where = f'  File "{error.filename}", line {error.lineno}\n'
    if type(error.text) is str and error.text.strip():
        where += f"    {error.text.strip()}\n"
    return message, where


def _safe_str(error: BaseException) -> str:
    try:
        text = str(error)
        return text if type(text) is str else "<unprintable>"
    except BaseException:  # noqa: BLE001 - a hostile __str__ must not escape
        return "<unprintable>"


def _safe_type_name(error: BaseException) -> str:
    name = type(error).__name__
    return name if type(name) is str else "Exception"
