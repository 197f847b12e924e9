"""Loss curves: where a reply holds losses per epoch (a list of numbers, or a
pair of them: train and test), the student's against the reference's, for the
report. A tuple of numbers is not a curve: a function answering several
things at once (``(loss, accuracy)``) answers a tuple, losses come in a list.
Found by the reply's shape, never by exercise name; bounded (a few hundred
epochs at most). Hidden tests keep no reference value: only which
epochs differ and where the curves part, as their messages say."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from grader.results import LossCurve

MAX_EPOCHS = 500
LABELS = {1: ("loss",), 2: ("train", "test")}


def _series(value: Any, tuples: bool = False) -> list[float] | None:
    if (isinstance(value, list) or tuples and isinstance(value, tuple)) and 2 <= len(value) <= MAX_EPOCHS \
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return [float(v) for v in value]
    return None


def per_epoch(value: Any, tuples: bool = False) -> list[list[float]] | None:
    """The losses per epoch ``value`` holds, one series or a (train, test) pair; else None.
    ``tuples``: a tuple of numbers is a series too (a student's answer, read against the reference's)."""
    if (single := _series(value, tuples)) is not None:
        return [single]
    if isinstance(value, list | tuple) and len(value) == 2:
        pair = [_series(v, tuples) for v in value]
        if all(s is not None for s in pair):
            return [s for s in pair if s is not None]
    return None


def _close(a: float, b: float, rtol: float, atol: float) -> bool:
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= atol + rtol * abs(b)


def loss_curves(expected: Any, got: Any, *, rtol: float, atol: float, reveal_values: bool) -> tuple[LossCurve, ...]:
    """The curves of one question, or () when its answers hold no losses per epoch."""
    want = per_epoch(expected)
    if want is None:
        return ()
    have = per_epoch(got, tuples=True) or [[] for _ in want]
    if len(have) != len(want):
        have = [[] for _ in want]
    curves = []
    for label, reference, student in zip(LABELS[len(want)], want, have, strict=True):
        differs = tuple(k >= len(student) or not _close(student[k], r, rtol, atol) for k, r in enumerate(reference))
        parted = next((k for k, d in enumerate(differs) if d), None)
        curves.append(LossCurve(label=label, student=tuple(student[:MAX_EPOCHS]),
                                reference=tuple(reference) if reveal_values else (),
                                differs=differs, parted_at=parted))
    return tuple(curves)


def first_curves(pairs: Sequence[tuple[Any, Any]], *, rtol: float, atol: float,
                 reveal_values: bool) -> tuple[LossCurve, ...]:
    """The curves of the first failing question that has them, else of the first that has them."""
    found = [c for want, got in pairs if (c := loss_curves(want, got, rtol=rtol, atol=atol,
                                                            reveal_values=reveal_values))]
    return next((c for c in found if any(curve.parted_at is not None for curve in c)), found[0] if found else ())
