"""Whether a known mistake answers a call exactly as the reference does.

Most known mistakes change one function of an exercise, so most of the calls a test makes
are answered by a mistake exactly as by the reference. Such a mistake's answer can match
no answer that differs from the reference's (``compare_replies`` is a pure function of the
two replies, and judging fewer aspects only finds fewer differences), and it never differs
from the reference's, so it is never the hint's: the hint search and the answer marks skip
it without comparing it with the student's answer. Which mistakes those are is worked out
once per class (the replies are the subjects' cached ones) with a plain equality that only
ever errs towards "not the same" (a NaN is not itself): a mistake is skipped only when its
reply is the reference's, value for value.
"""
from __future__ import annotations

from dataclasses import fields
from typing import Any

import torch

from grader.engine.protocol import Reply

_REPLY_FIELDS = tuple(f.name for f in fields(Reply))
_CACHE_LIMIT = 1 << 14

# (id of a mistake's reply, id of the reference's) -> (those two replies, whether they are the same).
# The replies are kept while their entry is, so an id is never another reply's.
_seen: dict[tuple[int, int], tuple[Reply, Reply, bool]] = {}


def answers_as_reference(answer: Reply, reference: Reply) -> bool:
    """Whether ``answer`` is ``reference``'s reply value for value (remembered for these two replies)."""
    key = (id(answer), id(reference))
    found = _seen.get(key)
    if found is not None and found[0] is answer and found[1] is reference:
        return found[2]
    same = answer is reference or all(same_data(getattr(answer, name), getattr(reference, name))
                                      for name in _REPLY_FIELDS)
    if len(_seen) >= _CACHE_LIMIT:
        _seen.clear()
    _seen[key] = (answer, reference, same)
    return same


def same_data(a: Any, b: Any) -> bool:
    """Whether two plain values (as replies hold them) are the same: types, keys, shapes, dtypes and every
    value. Never True for two values ``compare_replies`` could tell apart; False for NaNs."""
    if type(a) is not type(b):
        return False
    if isinstance(a, torch.Tensor):
        return a.dtype == b.dtype and a.shape == b.shape and a.device == b.device and bool(torch.equal(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_data(value, b[key]) for key, value in a.items())
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_data(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (str, int, float, bool, type(None))):
        return bool(a == b)
    return False  # anything else (an Unsupported, a type we do not know): never assumed the same
