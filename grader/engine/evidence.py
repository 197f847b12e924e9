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


# For each kind of error ``explain.explain_error`` knows, the code that makes it: its explanation is
# given as a hint only where the student's file holds some of that code (an error alone is no evidence).
_CAUSES: dict[str, re.Pattern[str]] = {
    "no_grad_fn": re.compile(r"no_grad|inference_mode|\.detach\(|\.item\(|torch\.tensor\(|\.data\b|float\("
                             r"|requires_grad(?:_\()?\s*=?\s*False"),
    "inplace_leaf": re.compile(r"[-+*/]=|\.\w+_\(|\]\s*=[^=]"),
    "inplace_saved": re.compile(r"[-+*/]=|\.\w+_\(|\]\s*=[^=]"),
    "dtype": re.compile(r"double|float64|dtype\s*=\s*float\b|numpy|\.long\(|int64|\.int\("),
    "backward_twice": re.compile(r"\.backward\("),
    "item_many": re.compile(r"\.item\(|\bfloat\("),
    "backward_non_scalar": re.compile(r"\.backward\("),
    "no_super_init": re.compile(r"class\s+\w+\s*\("),
    "grad_is_none": re.compile(r"\.grad\b"),
    "none_in_list": re.compile(r"\.grad\b"),
    "numpy_requires_grad": re.compile(r"\.numpy\("),
    "mean_of_integers": re.compile(r"mean\("),
    "no_kernel": re.compile(r"\^"),
    "integer_kernel": re.compile(r"\b\w*(?:loss|criterion)\w*\s*\([^()]*,"),
}
_COMMENT = re.compile(r"#.*$", flags=re.MULTILINE)


def cause_shows_in(kind: str, source: str) -> bool:
    """Whether ``source`` (comments left out) holds code that makes an error of ``kind``."""
    pattern = _CAUSES.get(kind)
    return pattern is not None and pattern.search(_COMMENT.sub("", source)) is not None


def shows_hint(shown: str | None, hint: str) -> bool:
    """Whether a failure's hint ``shown`` gives a known mistake's ``hint``: that hint comes first, then
    the detectors' words about the same answer, on lines of their own (``checks.Judgement.failure``)."""
    return shown is not None and (shown == hint or shown.startswith(f"{hint}\n"))


__all__ = ["cause_shows_in", "edit_shows_in", "shows_hint", "tokens"]
