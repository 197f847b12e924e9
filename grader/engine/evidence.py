"""Whether a known mistake's hint may be given for an error, from the code that raised it.

Two programs that raise the same error rarely share the mistake behind it:
"element 0 of tensors does not require grad" comes as well from a
``.detach()`` too many as from a ``requires_grad=True`` left out. A known
mistake is an edit of the solution (``find`` -> ``replace``); an error is
evidence of that mistake only together with the code the edit makes: the
names and operators it brings in are in the student's file, or, for an edit
that only takes code away, some of what it takes away is missing there.
Pure functions of text, read on the trusted side (the room is never asked).
"""
from __future__ import annotations

import re

_TOKEN = re.compile(r"[A-Za-z_]\w*|\d+(?:\.\d+)?|\*\*=?|//=?|->|[-+*/@%^&|<>=!]=?|[^\s\w]")
# Punctuation every program holds: never evidence of one edit or another.
_COMMON = frozenset("()[]{}.,:=")
# torch's own aliases: one function under two names is the same code.
_ALIASES = {"nelement": "numel", "multiply": "mul", "divide": "div", "subtract": "sub", "absolute": "abs",
            "clip": "clamp", "greater": "gt", "less": "lt", "negative": "neg"}


def tokens(code: str) -> set[str]:
    """The names, numbers and operators of ``code`` (comments and strings read as code: a
    coarse reading, erring towards finding the tokens)."""
    return {_ALIASES.get(t, t) for t in _TOKEN.findall(code) if t not in _COMMON}


def edit_shows_in(find: str, replace: str, source: str) -> bool:
    """Whether ``source`` holds what the edit ``find`` -> ``replace`` makes: every token it
    brings in, or, when it brings none in, at least one token it takes away is absent."""
    before, after, present = tokens(find), tokens(replace), tokens(source)
    brought, removed = after - before, before - after
    if brought:
        return brought <= present
    if removed:
        return bool(removed - present)
    # The same tokens in another order (two layers swapped): the new order itself, written as the edit writes it.
    return " ".join(replace.split()) in " ".join(source.split())


__all__ = ["edit_shows_in", "tokens"]
