"""Terms of a formula combined the wrong way: a product where a sum belongs.

Two readings of what the grader observes, each checked against the
reference's own answer so that neither needs to know an exercise:

- two parameters multiplied together where each should scale the input and
  the two terms be added: the gradient reaching each is the reference's times
  the other parameter's value (d(a·b·x)/da = b·x, where d(a·x + b·x)/da = x);
- a sum of products (Σ aᵢ·bᵢ, each entry of a chain rule) computed as a
  product of sums (Σaᵢ)·(Σbᵢ): every entry of the student's answer is one
  entry of the reference's times the sum of one of the call's tensor
  arguments (or their number of elements, the sum of ones).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import permutations
from typing import Any

import torch

RTOL, ATOL = 1e-4, 1e-5

WORDS: dict[str, str] = {
    "multiplied_parameters": "Your forward multiplies `{first}` by `{second}`: the gradient reaching each is the "
                             "expected one times the other's value, as a product such as {first} * {second} * x "
                             "gives. Each of them scales the input on its own, and the terms are added.",
    "product_of_sums": "Your answer multiplies sums where a sum of products is asked: each entry is the sum over "
                       "the elements of one factor times the other (multiply element by element, then sum), "
                       "while yours sums each factor first and multiplies the sums. A product of sums is not a "
                       "sum of products.",
}


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a.detach().double(), b.detach().double(), rtol=RTOL, atol=ATOL)


def multiplied_parameters_words(state: Mapping[str, Any] | None, expected: Mapping[str, Any] | None,
                                got: Mapping[str, Any] | None) -> str | None:
    """Two parameters (of a module given ``state``) whose gradients ``got`` are the reference's
    ``expected`` ones each times the other's value, where the reference's differ from them."""
    if not state or not expected or not got:
        return None
    tensors = {n: v for n, v in state.items() if isinstance(v, torch.Tensor) and v.is_floating_point()
               and isinstance(expected.get(n), torch.Tensor) and isinstance(got.get(n), torch.Tensor)}
    for first, second in permutations(tensors, 2):
        a, b = tensors[first].detach(), tensors[second].detach()
        if a.numel() != 1 or b.numel() != 1 or _close(got[first], expected[first]):
            continue
        if _close(got[first], expected[first] * b.reshape(())) \
                and _close(got[second], expected[second] * a.reshape(())):
            return WORDS["multiplied_parameters"].format(first=first, second=second)
    return None


def product_of_sums_words(expected: Any, got: Any, args: Sequence[Any]) -> str | None:
    """A short vector whose every entry is one entry of the reference's (not 0) times the sum of a
    tensor argument or their number of elements, differing from the reference's own."""
    if not (isinstance(expected, torch.Tensor) and isinstance(got, torch.Tensor)) or expected.dim() != 1 \
            or expected.shape != got.shape or not 2 <= expected.numel() <= 4 or not expected.is_floating_point():
        return None
    want, have = expected.detach().double(), got.detach().double()
    if _close(have, want):
        return None
    tensors = [a.detach().double() for a in args if isinstance(a, torch.Tensor) and a.is_floating_point()
               and a.numel() > 1]
    sums = [t.sum() for t in tensors] + [torch.tensor(float(t.numel()), dtype=torch.double) for t in tensors[:1]]
    for base in want:
        if abs(float(base)) <= ATOL:
            continue
        if all(any(_close(entry, base * s) for s in sums) for entry in have):
            return WORDS["product_of_sums"]
    return None


__all__ = ["WORDS", "multiplied_parameters_words", "product_of_sums_words"]
