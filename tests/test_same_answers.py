"""A known mistake that answers a call exactly as the reference does is skipped by the hint search and the
answer marks (engine/same_answers.py): skipping it must never change a hint or a mark's status."""
from __future__ import annotations

import math
from typing import Any

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.engine.compare import compare_replies
from grader.engine.protocol import Reply
from grader.engine.same_answers import answers_as_reference, same_data

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NUMBERS = st.sampled_from([0.0, -0.0, 1.0, 1.0 + 1e-9, 2.5, -3.0, math.inf, -math.inf, math.nan])
LEAVES = st.one_of(
    NUMBERS, st.integers(-3, 3), st.booleans(), st.none(), st.sampled_from(["a", "b"]),
    st.lists(NUMBERS, min_size=1, max_size=4).map(torch.tensor),
    st.lists(st.integers(-2, 2), min_size=1, max_size=4).map(torch.tensor),
)
VALUES = st.recursive(LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(st.sampled_from(["w", "b", "loss"]), inner, max_size=3)), max_leaves=6)


def _copy(value: Any, nudge: bool) -> Any:
    """Another object holding the same values; with ``nudge``, every number moved a little."""
    if isinstance(value, torch.Tensor):
        return value.clone() + (1e-7 if nudge and value.dtype.is_floating_point else 0)
    if isinstance(value, dict):
        return {k: _copy(v, nudge) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy(v, nudge) for v in value)
    if type(value) is float:
        return value + 1e-7 if nudge else -value if value == 0 else value
    return value


@st.composite
def replies(draw: st.DrawFn) -> tuple[Reply, Reply, Reply]:
    """A reference's reply, a mistake's copy of it (the same values, other objects), and a student's answer:
    the reference's nudged, or anything else."""
    value = draw(VALUES)
    grads = draw(st.none() | st.lists(VALUES, max_size=2))
    reference = Reply(value=value, input_grads=grads)
    mistake = Reply(value=_copy(value, nudge=False), input_grads=_copy(grads, nudge=False))
    got = draw(st.sampled_from(["nudged", "other"]))
    student = (Reply(value=_copy(value, nudge=True), input_grads=_copy(grads, nudge=True)) if got == "nudged"
               else Reply(value=draw(VALUES), input_grads=draw(st.none() | st.lists(VALUES, max_size=2))))
    return reference, mistake, student


@FAST
@given(replies(), st.sampled_from([frozenset({"value"}), frozenset({"value", "after", "modes"})]))
def test_a_mistake_answering_as_the_reference_matches_no_wrong_answer_and_gives_no_hint(
        found: tuple[Reply, Reply, Reply], judged: frozenset[str]) -> None:
    reference, mistake, student = found
    if not answers_as_reference(mistake, reference):
        return
    wrong = compare_replies(reference, student, rtol=1e-5, atol=1e-8, judged=judged) is not None
    if wrong:  # the answer marks ask the mistake about every aspect
        assert compare_replies(mistake, student, rtol=1e-5, atol=1e-8) is not None
    # the hint search: a mistake whose answer is the reference's is never the hint
    assert compare_replies(reference, mistake, rtol=1e-5, atol=1e-8, judged=judged) is None


@FAST
@given(VALUES, VALUES)
def test_values_called_the_same_are_never_told_apart(a: Any, b: Any) -> None:
    if same_data(a, b):
        assert compare_replies(Reply(value=a), Reply(value=b), rtol=0, atol=0) is None
        assert compare_replies(Reply(value=b), Reply(value=a), rtol=0, atol=0) is None


def test_the_same_values_in_other_objects_are_the_same_and_nans_never_are() -> None:
    value = {"w": torch.tensor([1.0, -0.0]), "loss": [0.5, (2, "a")]}
    assert answers_as_reference(Reply(value=_copy(value, nudge=False)), Reply(value=value))
    assert not answers_as_reference(Reply(value=_copy(value, nudge=True)), Reply(value=value))
    assert not same_data(torch.tensor([math.nan]), torch.tensor([math.nan])) and not same_data(math.nan, math.nan)
    assert not same_data(1, 1.0) and not same_data([1.0], (1.0,)) and not same_data(torch.tensor([1]),
                                                                                      torch.tensor([1.0]))
