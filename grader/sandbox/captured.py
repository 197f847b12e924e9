"""What a room printed, kept within its cap by the trusted side.

The room caps its own stdout/stderr, but that cap is an object the
submission can reach and lift (ARCHITECTURE.md: the room is the submission's): here each
reply's ``output`` and ``dropped`` are checked for their types, and what is
kept never grows past the limit, whatever the room claims. Torch-free: the
sandbox client imports it before torch is loaded.
"""
from __future__ import annotations

from typing import Any

# The room says how much its own cap dropped; more than this is no count.
MAX_DROPPED = 1 << 53


class MalformedOutput(ValueError):
    """A reply's ``output``/``dropped`` fields are not text and a count."""


def take(reply: dict[str, Any]) -> tuple[str, int]:
    """Remove ``output`` and ``dropped`` from a decoded reply and check them.
    Raises MalformedOutput."""
    text, dropped = reply.pop("output", ""), reply.pop("dropped", 0)
    if type(text) is not str:
        raise MalformedOutput(f"its output is {type(text).__name__}, expected text")
    if type(dropped) is not int or not 0 <= dropped <= MAX_DROPPED:
        shown = repr(dropped) if type(dropped) is not int else f"an integer of {len(str(abs(dropped)))} digits"
        raise MalformedOutput(f"it says it dropped {shown[:40]} characters of output, expected a count")
    return text, dropped


def append(kept: str, dropped: int, text: str, more_dropped: int, limit_chars: int) -> tuple[str, int]:
    """``kept`` with as much of ``text`` as fits in ``limit_chars``; the rest is counted as dropped."""
    room = max(0, limit_chars - len(kept))
    if len(text) > room:
        dropped += len(text) - room
        text = text[:room]
    return kept + printable(text), dropped + more_dropped


def printable(text: str) -> str:
    """Text that any report can be written in: lone surrogates (JSON can carry
    them) become replacement characters."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text
