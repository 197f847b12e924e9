"""Answer marks: a compact fingerprint of how a submission answered each call.

For similarity across a class (``grader.similarity``), each answer the
grader judged becomes one short mark ``<status>:<hash>``: the status says
whose answer it is (``r`` the reference's, ``m`` a declared known mistake's,
``w`` a wrong answer no known mistake gives, ``e`` an error), the hash says
what it was, rounded so that float noise does not split equal answers:
values to ``SIGNIFICANT_DIGITS`` significant digits (anything smaller than
``ZERO_BELOW`` is 0), with shapes and dtypes, and an error's kind and type
(not its message, which can quote a student's own names). The call is part
of the hash, so two marks are equal only when two submissions gave the same
answer to the same question. Made from the judgements of the batch's own run:
no submission is asked anything again.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from typing import Any

import torch

from grader.engine.checks import Judgement, compare_replies
from grader.engine.protocol import Reply, Request, request_key
from grader.engine.same_answers import answers_as_reference

SIGNIFICANT_DIGITS = 3
ZERO_BELOW = 1e-6
MAX_ELEMENTS = 1 << 16  # a larger tensor is marked by its first elements, its shape and its sum
_REPLY_PARTS = ("value", "input_grads", "param_grads", "grad_error", "after", "target_after", "after_grads")


def answer_marks(judgements: Iterable[Judgement]) -> tuple[str, ...]:
    """One mark per call, in the order the calls were made."""
    return tuple(mark(judgement, request, expected, got, difference) for judgement in judgements
                 for request, expected, got, difference in zip(judgement.requests, judgement.expected,
                                                               judgement.answers, judgement.differences,
                                                               strict=True))


def mark(judgement: Judgement, request: Request, expected: Reply, got: Reply, difference: object) -> str:
    """The mark of one answer; ``difference``: how it differs from the reference's answer
    ``expected``, as judged."""
    if got.error is not None:
        status, answer = "e", [got.error.get("kind", ""), got.error.get("type", "")]
    elif difference is None:
        # The reference's answer, whatever its noise (a model's random start differs from room to
        # room, and from a local batch to a cluster): every right answer to a call is one mark.
        status, answer = "r", ["the reference's"]
    else:
        answer = [_rounded(getattr(got, part)) for part in _REPLY_PARTS]
        status = "m" if _a_known_mistake(judgement, request, expected, got) else "w"
    digest = hashlib.blake2b(repr((request_key(request), answer)).encode(), digest_size=5).hexdigest()
    return f"{status}:{digest}"


def _a_known_mistake(judgement: Judgement, request: Request, expected: Reply, got: Reply) -> bool:
    """Whether a declared mistake answers this call as the student did (their
    replies are cached: each mistake answers each call once per class). A mistake
    that answers it as the reference does cannot: the student's answer is not the reference's."""
    check = judgement.check
    for mistake in check.mistakes():
        answer = mistake.subject.run(request)
        if answers_as_reference(answer, expected):
            continue
        if compare_replies(answer, got, rtol=check.rtol, atol=check.atol) is None:
            return True
    return False


def _rounded(value: Any) -> Any:
    """``value`` with every number rounded and every tensor as (dtype, shape, rounded elements)."""
    if isinstance(value, torch.Tensor):
        flat = value.detach().reshape(-1)
        head = flat[:MAX_ELEMENTS]
        if head.dtype.is_floating_point or head.dtype.is_complex:
            # _round's common case inline: a tensor's elements are most of what is rounded.
            numbers = [float(format(x, _FORMAT)) if ZERO_BELOW <= abs(x) < math.inf else _round(x)
                       for x in head.double().real.tolist()]
        else:
            numbers = head.tolist()
        tail = _round(float(flat[MAX_ELEMENTS:].double().sum())) if flat.numel() > MAX_ELEMENTS else None
        return ("tensor", str(value.dtype), tuple(value.shape), numbers, tail)
    if isinstance(value, float):
        return _round(value)
    if isinstance(value, dict):
        return sorted((str(k), _rounded(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return value


def _round(number: float) -> float | str:
    if math.isnan(number) or math.isinf(number):
        return str(number)
    if abs(number) < ZERO_BELOW:
        return 0.0
    return float(format(number, _FORMAT))


_FORMAT = f".{SIGNIFICANT_DIGITS - 1}e"
