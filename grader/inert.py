"""Text a submission controls, made inert for every place it is shown or stored.

A student's exception message, printed output, file, zip member or entry name
can hold terminal escape sequences (ESC, CSI, OSC 8 links, OSC 52 clipboard
writes), carriage returns and backspaces that redraw a line, and bidi
overrides that reorder what a reader sees. ``inert`` lets through only what
is plainly printable (``str.isprintable``, plus the space separators) and, in
a multi-line field, newlines and tabs; every other character is shown as a
visible escape, as Python writes it in a string literal: ``\\x1b``, ``\\r``,
``\\x9b``, ``\\u202e``. The escapes are for reading, not for decoding: a
backslash the student wrote is kept as it is.
"""
from __future__ import annotations

import unicodedata

_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_MULTILINE_KEPT = frozenset("\n\t")


def shortened(text: str, limit: int, *, mark: str = "…") -> str:
    """``text`` whole when it has at most ``limit`` characters, else its start and ``mark``, ``limit`` in all:
    the one way the grader cuts a text it shows to a bound."""
    return text if len(text) <= limit else text[:max(0, limit - len(mark))] + mark


def inert(text: str, *, multiline: bool = False) -> str:
    """``text`` with every character that is not plainly printable shown as
    a visible escape. ``multiline``: newlines and tabs are kept (a message, a
    captured output), and a CRLF line ending reads as a newline; otherwise
    (a name, a title, a zip member) they are escaped too."""
    if text.isprintable():  # the common case, at C speed
        return text
    if multiline:
        text = text.replace("\r\n", "\n")
        if text.replace("\n", "").replace("\t", "").isprintable():
            return text
    kept = _MULTILINE_KEPT if multiline else frozenset()
    return "".join(ch if ch in kept or printable(ch) else escape(ch) for ch in text)


def is_inert(text: str, *, multiline: bool = False) -> bool:
    """Whether ``inert`` would leave ``text`` as it is."""
    return inert(text, multiline=multiline) == text


def printable(ch: str) -> bool:
    """The allow-list: a character that draws itself and nothing else."""
    # isprintable refuses every separator but the ASCII space; the other space
    # separators (no-break, ideographic, ...) draw nothing but a space. Line and
    # paragraph separators (U+2028/9, category Zl/Zp) stay escaped.
    return ch.isprintable() or unicodedata.category(ch) == "Zs"


def escape(ch: str) -> str:
    """A character off the allow-list as a visible escape, as Python writes it in a string literal."""
    named = _NAMED_ESCAPES.get(ch)
    if named:
        return named
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
