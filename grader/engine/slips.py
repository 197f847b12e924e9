"""Slips of a formula and of a result's kind, read from the call that was asked.

``diagnosis`` reads two values alone; the slips here also read the call's
arguments, because the evidence is there: a loss that averages by N - 1
where N arguments' elements were averaged, a mean of differences that
matches the reference's mean of squared differences once the square is
taken away, a constant answer that is one of the arguments itself, one
number where the reference returns a list of them. Each detector checks
the reference's own answer against what it recognises first (the
reference *is* a mean of squared differences of two arguments), so none of
them needs to know which exercise it reads.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from grader.engine.diagnosis import Diagnosis

RTOL, ATOL = 1e-4, 1e-5

WORDS: dict[str, str] = {
    "divides_by_n_minus_one": "Your answer is exactly {n}/{m} of the expected one, and {n} is the number of "
                              "elements: it divides by N - 1 = {m}, one fewer than the number of elements, "
                              "where an average divides by N = {n}.",
    "kept_dimension": "Your answer holds the right value, but in a tensor of shape {got} where a 0-dim tensor (a "
                      "single number, shape ()) is expected: a reduction along one dimension (dim=0) keeps the "
                      "other dimensions; reduce over all elements (.mean() or .sum() with no dim) instead.",
    "absolute_difference": "Your answer averages the absolute differences (an L1 error) where the squared "
                           "differences are expected: each difference is made positive with abs() instead of "
                           "being squared.",
    "difference_not_squared": "Your answer averages the plain differences, not squared: positive and negative "
                              "differences cancel out. Square each difference before averaging it.",
    "entry_copied": "Your answer holds the right value of entry {index} in every entry: the other entries are a "
                    "copy of it, computed the same way (a line copied without changing what it moves, say), "
                    "where each should move its own input.",
    "argument_repeated": "Your answer is the value of `{name}` itself, repeated for every element, where the "
                         "expected answer changes with the input from element to element: it uses `{name}` "
                         "where the input belongs.",
    "number_not_list": "Your function returns one number where a list of {count} numbers is expected: only the "
                       "last value is kept. Append each value (one per epoch or step) to a list and return the "
                       "whole list.",
    "list_not_number": "Your function returns a list where one number is expected: return the single value "
                       "itself.",
    # data: datasets and loaders
    "length_one_short": "Your dataset's len() is one fewer than the number of samples it holds (off by one): the "
                        "last sample is never used. len() of a dataset is its number of samples.",
    "length_one_long": "Your dataset's len() is one more than the number of samples it holds (off by one): "
                       "len() of a dataset is its number of samples.",
    "batch_of_one": "Your loader gives one sample per batch: a DataLoader given no batch_size makes batches of 1. "
                    "Pass the batch size asked for (batches of {expected}).",
    "whole_column": "Your item holds a whole tensor of the data ({rows} entries, one for every sample) where one "
                    "sample's value is expected: index it with idx, as the other part of the item is.",
}


def _diagnosis(kind: str, **fields: Any) -> Diagnosis:
    return Diagnosis(kind, WORDS[kind].format(**fields))


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float = RTOL, atol: float = ATOL) -> bool:
    return a.shape == b.shape and torch.allclose(a.double(), b.double(), rtol=rtol, atol=atol, equal_nan=True)


def _scalar(value: Any) -> float | None:
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point():
        return float(value.detach().reshape(()))
    if type(value) in (int, float):
        return float(value)
    return None


def diagnose_slip(expected: torch.Tensor, got: Any, args: Sequence[Any], names: Sequence[Any] | None, *,
                  n_elements: int | None = None) -> Diagnosis | None:
    """How ``got`` differs from the reference's ``expected`` on a call with
    ``args`` (named ``names``, as in the student's signature), when the
    difference is one of the slips this module knows; None otherwise."""
    if not isinstance(got, torch.Tensor) or got.dtype != expected.dtype:
        return None
    want, have = expected.detach().double(), got.detach().double()
    if want.dim() == 0 and have.numel() == 1 and have.dim() > 0:
        return _diagnosis("kept_dimension", got=tuple(have.shape)) if _close(have.reshape(()), want) else None
    if have.shape != want.shape:
        return None
    return (_n_minus_one(want, have, n_elements) or _squared_difference_slip(want, have, args)
            or _entry_copied(want, have) or _argument_repeated(want, have, args, names))


def _n_minus_one(want: torch.Tensor, have: torch.Tensor, n: int | None) -> Diagnosis | None:
    if not n or n < 3 or not bool(want.abs().gt(ATOL).any()):
        return None
    return _diagnosis("divides_by_n_minus_one", n=n, m=n - 1) if _close(have, want * n / (n - 1)) else None


def _squared_difference_slip(want: torch.Tensor, have: torch.Tensor, args: Sequence[Any]) -> Diagnosis | None:
    """The reference is the mean (or sum) of squared differences of two arguments: is the student's
    the same with abs() or with no square in place of the square?"""
    if want.dim() != 0:
        return None
    tensors = [a.detach().double() for a in args if isinstance(a, torch.Tensor) and a.is_floating_point()
               and a.numel() > 1]
    for i, first in enumerate(tensors):
        for second in tensors[i + 1:]:
            if first.shape != second.shape:
                continue
            gap = first - second
            for reduce in (torch.mean, torch.sum):
                if not _close(reduce(gap ** 2), want):
                    continue
                if _close(have, reduce(gap.abs())):
                    return _diagnosis("absolute_difference")
                if _close(have, reduce(gap)) or _close(have, reduce(-gap)):
                    return _diagnosis("difference_not_squared")
    return None


def _entry_copied(want: torch.Tensor, have: torch.Tensor) -> Diagnosis | None:
    """Every entry holds one entry's expected value (the reference's entries differ)."""
    flat, expected = have.flatten(), want.flatten()
    if flat.numel() < 2 or _close(expected, expected[0].expand_as(expected)):
        return None
    for index in range(expected.numel()):
        if _close(flat, expected[index].expand_as(flat)):
            return _diagnosis("entry_copied", index=index)
    return None


def _argument_repeated(want: torch.Tensor, have: torch.Tensor, args: Sequence[Any],
                       names: Sequence[Any] | None) -> Diagnosis | None:
    """A constant answer (the reference's varies) equal to a single-number argument."""
    flat, expected = have.flatten(), want.flatten()
    varies = not _close(expected, expected[0].expand_as(expected))
    if flat.numel() < 2 or not varies or not _close(flat, flat[0].expand_as(flat)):
        return None
    for index, arg in enumerate(args):
        value = _scalar(arg)
        if value is not None and math.isclose(float(flat[0]), value, rel_tol=RTOL, abs_tol=ATOL):
            name = names[index] if names is not None and index < len(names) and isinstance(names[index], str) \
                else f"argument {index + 1}"
            return _diagnosis("argument_repeated", name=name)
    return None


def diagnose_kind(expected: Any, got: Any) -> Diagnosis | None:
    """A single number where the reference returns a list of numbers, or the reverse."""
    def numbers(value: Any) -> bool:
        return type(value) is list and len(value) > 1 and all(_scalar(v) is not None for v in value)

    if numbers(expected) and _scalar(got) is not None:
        return _diagnosis("number_not_list", count=len(expected))
    if _scalar(expected) is not None and type(expected) is not torch.Tensor and type(got) is list:
        return _diagnosis("list_not_number")
    return None


def data_words(kind: str, got: Any, expected: Any) -> str:
    """Words for a dataset's or loader's count that differs (``kind``: "length" or "batch_size"), or ""."""
    if kind == "length" and type(got) is int and type(expected) is int:
        found = {expected - 1: "length_one_short", expected + 1: "length_one_long"}.get(got)
        return _diagnosis(found).message if found and expected > 1 else ""
    if kind == "batch_size" and got == 1 and type(expected) is int and expected > 1:
        return _diagnosis("batch_of_one", expected=expected).message
    return ""


def diagnose_sample(expected: Any, got: Any) -> Diagnosis | None:
    """A part of a dataset's item that is the whole tensor it should have been indexed from."""
    if isinstance(expected, torch.Tensor) and isinstance(got, torch.Tensor) and got.dim() == expected.dim() + 1 \
            and tuple(got.shape[1:]) == tuple(expected.shape) and got.shape[0] > 1:
        return _diagnosis("whole_column", rows=got.shape[0])
    return None


__all__ = ["WORDS", "data_words", "diagnose_kind", "diagnose_sample", "diagnose_slip"]
