"""How a student's answer differs from the reference's, in a beginner's words.

A mismatch message says *that* two answers differ; a diagnosis says *how*:
exactly N times too large, the sign flipped, one epoch short, the loss
recorded after the step. Every detector here is a pure function of values
the grader already holds (the reference's answer, the student's answer, and
for trajectories the reference's answers under a few variations the caller
computes), so none of them needs code written for one exercise.

Each detection is a ``Diagnosis``: a stable ``kind`` (for tests, reports and
known-mistake matching) and a ``message`` that points at the likely cause
without giving the answer away. Every kind has its own wording (``WORDS``):
two different mistakes never read the same.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

RTOL, ATOL = 1e-4, 1e-5
# What a shape diagnosis may compute from a student's tensor: it reduces along
# each dimension, and a reduction of an empty tensor is as large as its other
# sizes say (``torch.empty(0, 2**40).sum(0)`` asks for 2**40 numbers from a
# reply of ~100 bytes). So only a tensor holding elements, few of them, in few
# dimensions is diagnosed: the cost stays bounded by what was received.
MAX_DIAGNOSED_ELEMENTS = 1 << 20
MAX_DIAGNOSED_DIMS = 8

# One template per kind: two different mistakes never get the same words.
WORDS: dict[str, str] = {
    # values of the same shape
    "sign": "Your answer has the right size but the opposite sign everywhere: somewhere a difference "
            "is taken the other way round, or a minus is missing or extra.",
    "factor_n": "Your answer is exactly {n} times too large, and {n} is the number of elements: the "
                "expected answer averages over the {n} elements, and yours adds them up.",
    "factor_1_over_n": "Your answer is exactly {n} times too small, and {n} is the number of elements: it "
                       "divides by the number of elements once too often, or averages where it should add up.",
    "factor_len": "Your answer is exactly {ratio} times too large: you divide by len(), which on this "
                  "{rows}-row input counts only the rows (the first dimension), not all {n} elements.",
    "double": "Your answer is exactly 2 times too large everywhere: a factor 2 is extra, or something is "
              "counted twice.",
    "half": "Your answer is exactly 2 times too small (half the expected value) everywhere: a factor 2 is missing, "
            "for example the one that differentiating a square brings down.",
    "factor": "Your answer is the expected one multiplied by {factor:.4g} everywhere: the computation "
              "is right up to a constant factor.",
    "offset": "Your answer is off by the same amount ({offset:+.4g}) everywhere: a constant term is added, "
              "subtracted or left out (look at the bias and at any + or - of a constant).",
    "square_root": "Your answer is the square root of the expected value: a square root is taken that the "
                   "formula does not have (an RMSE, not a mean squared error).",
    "squared": "Your answer is the square of the expected value: something is squared once more than "
               "the formula asks.",
    "clipped": "Your answer matches wherever the expected value is positive but is 0 where it is negative: "
               "something clips negative values, such as a ReLU activation.",
    "sigmoid": "Your output is the expected one passed through a sigmoid (every value squeezed between 0 and 1): "
               "the last layer's output is returned as it is, with no activation after it.",
    "softmax": "Your output is the softmax of the expected one (each row turned into probabilities that add up "
               "to 1): return the raw scores (logits); nn.CrossEntropyLoss applies the softmax itself.",
    "log_softmax": "Your output is the log-softmax of the expected one (each row shifted by its own constant): "
                   "return the raw scores (logits); nn.CrossEntropyLoss applies the log-softmax itself, so "
                   "applying it first does it twice.",
    "swapped_entries": "Your answer holds the right numbers in the wrong order: entries {first} and {second} are "
                       "swapped.",
    "swapped_arguments": "Your answer is what the right computation gives with `{first}` and `{second}` swapped: "
                         "check the order in which they are used or passed.",
    "argument_ignored": "Your answer is what the computation gives with {other} instead of the `{name}` it was "
                        "given: the function uses one of its own, hard-coded, where it should use the argument "
                        "passed in.",
    # shapes and dtypes
    "transposed": "Your answer has the right values but is transposed: shape {got} instead of {expected} "
                  "(rows and columns are exchanged).",
    "reshaped": "Your answer has the right values in the wrong shape: {got} instead of {expected}.",
    "not_summed": "Your answer keeps one entry per element where their sum is expected: shape {got} "
                  "instead of {expected}, and adding up along dimension {dim} gives the expected values.",
    "not_averaged": "Your answer keeps one entry per element where their average is expected: shape {got} "
                    "instead of {expected}, and averaging along dimension {dim} gives the expected values.",
    "broadcast": "Your answer has shape {got} instead of {expected}: two tensors of different shapes "
                 "(such as (N, 1) and (N,)) were combined, and broadcasting paired every entry of one with "
                 "every entry of the other.",
    "float64": "Your answer is float64 (double precision) where float32 is expected: a tensor made with "
               "dtype=float, torch.float64 or .double() turns everything it touches into float64.",
    "constant": "Your answer is the same number everywhere, while the expected one changes from entry to "
                "entry: an input that should make a difference is not used.",
    "number_not_tensor": "Your answer is a Python number, not a tensor of shape {shape}: the answer needs one "
                         "value per element of the input.",
    "returned_copy": "Your function returns a copy, not the very tensor it was given: the caller's tensor must "
                     "be the one that changes (update it in place and return it).",
    "python_number": "Your answer is a plain Python number, not a tensor: .item() or float() turns a tensor "
                     "into a number and drops autograd's record of how it was computed.",
    "no_gradient": "Your answer carries no gradient: autograd cannot trace it back to the inputs, because it "
                   "was computed under torch.no_grad(), detached, or rebuilt from plain numbers.",
    "modified_input": "Your function changed its argument `{name}` in place: an operation ending in _ "
                      "(add_, mul_), or +=, -=, *= on a tensor you were given, changes the caller's tensor too.",
    "unchanged_argument": "Your function leaves `{name}` exactly as it was given, where it should change it in "
                          "place: it never moves. Either the update makes a new tensor (`{name} = {name} - ...` only "
                          "rebinds your own local name; the caller's tensor changes only in place: {name}.data -= "
                          "..., or -= inside torch.no_grad()), or the step sees no gradient (zero_grad() or "
                          ".grad = None between backward() and the step, or the step before backward()).",
    "update_reversed": "Your function changes `{name}` by the right amount in the opposite direction: a step "
                       "of gradient descent goes against the gradient (minus learning rate times gradient).",
    "update_times_count": "Your function changes `{name}` in the right direction, but exactly {count} times as far "
                          "as expected, and {count} is the number of {what}: a sum where a mean belongs (the loss "
                          "adds up the errors instead of averaging them), so every step is {count} times too large.",
    "never_moves": "Your training never moves `{name}`: it ends exactly where it started. Its steps see no "
                   "gradient: zero_grad() (or .grad = None) between backward() and the step, or the step before "
                   "backward(); the order is zero_grad(), forward, loss, backward(), step().",
    "update_scaled": "Your function changes `{name}` in the right direction, but {factor:.3g} times as far as "
                     "expected: check the learning rate and how often the step is applied.",
    # autograd state of a tensor argument after the call (``Call(after_grads=True)``)
    "requires_grad_switched_on": "Your function switched requires_grad on for the tensor `{name}` it was given "
                                 "(requires_grad_() or .requires_grad = True on the caller's tensor): the caller's "
                                 "tensor must stay as it was. Make a fresh leaf tensor from its value and use that.",
    "requires_grad_switched_off": "Your function switched requires_grad off for the tensor `{name}` it was given "
                                  "(requires_grad_(False) or .requires_grad = False): autograd no longer tracks "
                                  "the caller's tensor.",
    "requires_grad_as_given": "Your function leaves `{name}.requires_grad` as it was given ({got}); after the call "
                              "it should be {expected}.",
    "grad_left_behind": "Your function leaves a gradient in `{name}.grad`: backward() stores each gradient in "
                        ".grad, and the next backward() adds to it, so it piles up unless it is cleared. Clear it "
                        "(`{name}.grad = None`) once it has been used, or call backward() on fresh tensors of your "
                        "own rather than on the caller's.",
    "grad_missing": "`{name}.grad` is None after your function, where a gradient belongs: your function cleared "
                    "it, or its backward() never reached `{name}` (a .detach(), torch.no_grad() or a copy in "
                    "between).",
    "grad_added_to_old": "`{name}.grad` holds the new gradient plus the one it already had: backward() adds to "
                         ".grad, so the old gradient must be cleared before backward().",
    "grad_changed": "Your function changed the gradient the caller's `{name}.grad` already held: backward() "
                    "through the caller's tensor adds to it. Leave the caller's tensor out of backward() (use a "
                    "fresh leaf tensor made from its value).",
    # trajectories
    "epoch_too_few": "Your training stops one epoch early: it ran {got} epochs where {expected} were asked for.",
    "epoch_too_many": "Your training runs one epoch too many: {got} epochs where {expected} were asked for.",
    "epochs_off": "Your training ran {got} epochs where {expected} were asked for: check the loop's range.",
    "recorded_after_step": "Each loss you record is the next epoch's: your loss is measured after the step "
                           "has updated the parameters, not before it.",
    "recorded_before_step": "Each value you record is the one expected for the epoch before (your first comes "
                            "before any training): you measure before the epoch's training step, where it is "
                            "measured after it. Check the order: train first, then measure (the test pass after "
                            "the step).",
    "step_twice": "Your parameters move twice as far each epoch as gradient descent moves them: the update "
                  "(the step, or the learning rate in it) is applied twice.",
    "accumulating": "Your steps use gradients that pile up from epoch to epoch: backward() adds to .grad, "
                    "and the old gradient is never cleared before the next one is computed.",
    "stale_gradient": "Your first step uses a gradient that was already there before training started: "
                      "clearing the gradient only after the step is too late for the first epoch.",
    "losses_unchanging": "Your loss is the same every epoch: the model never moves. Its steps see no gradient: "
                         "zero_grad() (or .grad = None) between backward() and the step, or the step before "
                         "backward(); the order is zero_grad(), forward, loss, backward(), step().",
    "first_epoch_right": "Your first epoch's loss is right and the later ones are not: each step moves the "
                         "parameters differently from the optimizer's own step.",
}


@dataclass(frozen=True)
class Diagnosis:
    kind: str  # a key of WORDS
    message: str  # beginner words: the likely cause, not the answer


def _diagnosis(kind: str, **fields: Any) -> Diagnosis:
    return Diagnosis(kind, WORDS[kind].format(**fields))


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float, atol: float) -> bool:
    return a.shape == b.shape and torch.allclose(a.double(), b.double(), rtol=rtol, atol=atol, equal_nan=True)


def _as_tensor(value: Any) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return torch.tensor(float(value), dtype=torch.float64)
    return None


def diagnose(expected: torch.Tensor, got: Any, *, n_elements: int | None = None, n_rows: int | None = None,
             rtol: float = RTOL, atol: float = ATOL) -> Diagnosis | None:
    """How ``got`` differs from the reference's tensor ``expected``, or None
    when no detector recognises the difference (or there is none).

    ``n_elements`` is the number of elements of the input the answer was
    computed from (the N of a mean), ``n_rows`` its first dimension (what
    len() gives): with them, "N times too large" and "len() instead of
    numel()" are told apart from other factors."""
    expected = expected.detach()
    if not isinstance(got, torch.Tensor):
        if isinstance(got, (int, float)) and not isinstance(got, bool):
            if expected.numel() == 1:
                return _diagnosis("python_number")
            return _diagnosis("number_not_tensor", shape=tuple(expected.shape))
        return None
    got = got.detach()
    if got.shape != expected.shape:
        return _shape_difference(expected, got, rtol, atol)
    if got.dtype != expected.dtype:
        if got.dtype == torch.float64 and expected.dtype == torch.float32:
            return _diagnosis("float64")
        return None
    if _close(got, expected, rtol, atol):
        return None
    return _value_difference(expected.double(), got.double(), n_elements, n_rows, rtol, atol)


def diagnosable(tensor: torch.Tensor) -> bool:
    """Whether a student's tensor is small enough to compute on beyond comparing it."""
    return 0 < tensor.numel() <= MAX_DIAGNOSED_ELEMENTS and tensor.dim() <= MAX_DIAGNOSED_DIMS


def _shape_difference(expected: torch.Tensor, got: torch.Tensor, rtol: float, atol: float) -> Diagnosis | None:
    if not diagnosable(got):
        return None
    shapes = {"got": tuple(got.shape), "expected": tuple(expected.shape)}
    want, have = expected.double(), got.double()
    if got.dim() == 2 and expected.dim() == 2 and _close(have.T, want, rtol, atol):
        return _diagnosis("transposed", **shapes)
    if got.numel() == expected.numel() and _close(have.reshape(expected.shape), want, rtol, atol):
        return _diagnosis("reshaped", **shapes)
    for dim in range(got.dim()):
        for kind, reduce in (("not_summed", torch.sum), ("not_averaged", torch.mean)):
            reduced = reduce(have, dim=dim)
            if reduced.numel() == expected.numel() and _close(reduced.reshape(expected.shape), want, rtol, atol):
                return _diagnosis(kind, dim=dim, **shapes)
    if got.numel() > expected.numel() and broadcasts_to(expected.shape, got.shape):
        return _diagnosis("broadcast", **shapes)
    return None


def broadcasts_to(shape: Sequence[int], target: Sequence[int]) -> bool:
    """Whether ``shape`` broadcasts to ``target`` itself, by torch's rules: aligned from the right,
    each size equal or 1. (torch.broadcast_shapes says the same, but its first call imports sympy,
    0.3-1.3 s of a cold `grade exerciseN` with a wrong answer.)"""
    return len(shape) <= len(target) and all(
        size == wanted or size == 1 for size, wanted in zip(reversed(shape), reversed(target), strict=False))


def _value_difference(want: torch.Tensor, have: torch.Tensor, n_elements: int | None, n_rows: int | None,
                      rtol: float, atol: float) -> Diagnosis | None:
    found = _scaled_difference(want, have, n_elements, n_rows, rtol, atol)
    return found if found is not None else _reshaped_values_difference(want, have, rtol, atol)


def _scaled_difference(want: torch.Tensor, have: torch.Tensor, n_elements: int | None, n_rows: int | None,
                       rtol: float, atol: float) -> Diagnosis | None:
    """The answer as the reference's turned around, scaled, passed through an activation, shifted or flat."""
    if _close(have, -want, rtol, atol):
        return _diagnosis("sign")
    factor = _constant_factor(want, have, rtol, atol)
    if factor is not None:
        found = _factor_diagnosis(factor, n_elements, n_rows)
        if found.kind != "factor" or want.numel() > 1:
            return found
    activation = _activation(want, have, rtol, atol)
    if activation is not None:  # before the offset: a one-row log-softmax is a constant shift too
        return _diagnosis(activation)
    offset = (have - want).flatten()
    # A single number differs from another by "an offset" and "a factor"
    # alike: those two are evidence only where several entries agree on them.
    if want.numel() > 1 and torch.allclose(offset, offset[0].expand_as(offset), rtol=rtol, atol=atol):
        return _diagnosis("offset", offset=float(offset[0]))
    flat = have.flatten()
    # (A constant reference was already matched by a factor or an offset above.)
    if want.numel() > 1 and _close(flat, flat[0].expand_as(flat), rtol, atol):
        return _diagnosis("constant")
    return None


def _reshaped_values_difference(want: torch.Tensor, have: torch.Tensor, rtol: float, atol: float) -> Diagnosis | None:
    """The answer as the reference's square root, square, clipped at 0, or with two entries swapped."""
    if bool((want >= 0).all()):
        if _close(have, want.sqrt(), rtol, atol):
            return _diagnosis("square_root")
    if _close(have, want ** 2, rtol, atol) and not _close(want ** 2, want, rtol, atol):
        return _diagnosis("squared")
    if bool((want < 0).any()) and _close(have, want.clamp(min=0), rtol, atol):
        return _diagnosis("clipped")
    if want.dim() == 1 and want.numel() >= 2:
        swapped = _swapped_pair(want, have, rtol, atol)
        if swapped is not None:
            return _diagnosis("swapped_entries", first=swapped[0], second=swapped[1])
    return None


def _activation(want: torch.Tensor, have: torch.Tensor, rtol: float, atol: float) -> str | None:
    """The activation that turns the expected output into the student's, if one does: a sigmoid
    elementwise, a softmax or log-softmax along the last dimension (of a 2-D output, one row per sample)."""
    if _close(have, torch.sigmoid(want), rtol, atol):
        return "sigmoid"
    if want.dim() == 2 and want.shape[-1] > 1:
        for kind, turn in (("softmax", torch.softmax), ("log_softmax", torch.log_softmax)):
            if _close(have, turn(want, dim=-1), rtol, atol):
                return kind
    return None


def _constant_factor(want: torch.Tensor, have: torch.Tensor, rtol: float, atol: float) -> float | None:
    """The constant c with have == c * want, if there is one (and want is not all zeros)."""
    norm = float((want * want).sum())
    if norm == 0.0:
        return None
    factor = float((have * want).sum()) / norm
    if factor == 0.0 or not math.isfinite(factor) or not _close(have, factor * want, rtol, atol):
        return None
    return factor


def _near(value: float, target: float) -> bool:
    return math.isclose(value, target, rel_tol=1e-3)


def _factor_diagnosis(factor: float, n_elements: int | None, n_rows: int | None) -> Diagnosis:
    if n_elements and n_elements > 2:
        if _near(factor, n_elements):
            return _diagnosis("factor_n", n=n_elements)
        if _near(factor, 1 / n_elements):
            return _diagnosis("factor_1_over_n", n=n_elements)
    if n_elements and n_rows and n_rows != n_elements and _near(factor, n_elements / n_rows):
        return _diagnosis("factor_len", ratio=_integer(n_elements / n_rows), rows=n_rows, n=n_elements)
    if _near(factor, 2):
        return _diagnosis("double")
    if _near(factor, 0.5):
        return _diagnosis("half")
    return _diagnosis("factor", factor=factor)


def _integer(value: float) -> int | float:
    return int(round(value)) if _near(value, round(value)) else value


def _swapped_pair(want: torch.Tensor, have: torch.Tensor, rtol: float, atol: float) -> tuple[int, int] | None:
    wrong = (~torch.isclose(have, want, rtol=rtol, atol=atol)).nonzero().flatten().tolist()
    if len(wrong) != 2:
        return None
    i, j = wrong
    swapped = want.clone()
    swapped[i], swapped[j] = want[j], want[i]
    return (i, j) if _close(have, swapped, rtol, atol) else None


def swapped_arguments(got: Any, swapped: Mapping[tuple[str, str], torch.Tensor], *,
                      rtol: float = RTOL, atol: float = ATOL) -> Diagnosis | None:
    """Whether ``got`` is the reference's answer with two arguments exchanged.

    ``swapped`` maps a pair of argument names (as in the student's
    signature) to the reference's answer on the same call with those two
    arguments exchanged; the caller computes them."""
    if not isinstance(got, torch.Tensor):
        return None
    for (first, second), answer in swapped.items():
        if _close(got.detach(), answer.detach(), rtol, atol):
            return _diagnosis("swapped_arguments", first=first, second=second)
    return None


def carries_no_gradient(expected_requires_grad: bool, got_requires_grad: bool) -> Diagnosis | None:
    """The answer should be part of autograd's graph and is not."""
    return _diagnosis("no_gradient") if expected_requires_grad and not got_requires_grad else None


def returned_copy(returned_is_argument: bool, expected_is_argument: bool) -> Diagnosis | None:
    """The reference returns the very tensor it was given (updated in
    place) and the student's function returns another one."""
    return _diagnosis("returned_copy") if expected_is_argument and not returned_is_argument else None


def modified_inputs(before: Sequence[Any], after: Sequence[Any], names: Sequence[str], *,
                    rtol: float = RTOL, atol: float = ATOL) -> Diagnosis | None:
    """The first argument (named as in the student's signature) whose value
    changed during the call; ``before`` and ``after`` are the arguments'
    values before and after it."""
    for name, old, new in zip(names, before, after, strict=False):
        old_t, new_t = _as_tensor(old), _as_tensor(new)
        if old_t is None or new_t is None:
            continue
        if old_t.shape != new_t.shape or not _close(old_t, new_t, rtol, atol):
            return _diagnosis("modified_input", name=name)
    return None


# --- trajectories ------------------------------------------------------------

def _values(values: Sequence[Any]) -> list[torch.Tensor] | None:
    tensors = [t for t in (_as_tensor(v) for v in values) if t is not None]
    return tensors if len(tensors) == len(values) else None


def _same_path(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor], rtol: float, atol: float) -> bool:
    return len(a) == len(b) and all(_close(x, y, rtol, atol) for x, y in zip(a, b, strict=True))


def diagnose_losses(expected: Sequence[Any], got: Sequence[Any], *, longer: Sequence[Any] | None = None,
                    doubled_step: Sequence[Any] | None = None, accumulating: Sequence[Any] | None = None,
                    stale_gradient: Sequence[Any] | None = None,
                    rtol: float = RTOL, atol: float = ATOL) -> Diagnosis | None:
    """How a per-epoch record (the losses a training function returns)
    differs from the reference's ``expected`` record.

    The optional sequences are the reference's records under variations the
    caller computes: ``longer`` with one more epoch, ``doubled_step`` with
    twice the learning rate (a step applied twice), ``accumulating`` with
    gradients never cleared, ``stale_gradient`` with gradients cleared only
    after each step (from a model that starts out holding gradients)."""
    if len(got) > len(expected) + 1:  # no detector below reads a record that much longer
        return None
    want, have = _values(expected), _values(got)
    if want is None or have is None:
        return None
    if _same_path(have, want, rtol, atol):
        return None
    if len(have) != len(want):
        return _epochs_difference(want, have, longer, rtol, atol)
    # have == want returned above, so a variant equal to the reference never matches here.
    found = _variant_losses(have, {"step_twice": doubled_step, "accumulating": accumulating,
                                   "stale_gradient": stale_gradient}, rtol, atol)
    return found if found is not None else _shifted_losses(want, have, rtol, atol)


def _epochs_difference(want: Sequence[torch.Tensor], have: Sequence[torch.Tensor], longer: Sequence[Any] | None,
                       rtol: float, atol: float) -> Diagnosis | None:
    """A record one epoch short, or one epoch long (the reference's ``longer`` record, or its own plus one)."""
    n = len(want)
    if len(have) == n - 1 and _same_path(have, want[:-1], rtol, atol):
        return _diagnosis("epoch_too_few", got=n - 1, expected=n)
    if len(have) == n + 1:
        reference = _values(longer) if longer is not None else None
        if (reference is not None and _same_path(have, reference, rtol, atol)
                or _same_path(have[:n], want, rtol, atol)):
            return _diagnosis("epoch_too_many", got=n + 1, expected=n)
    return None


def _variant_losses(have: Sequence[torch.Tensor], variants: dict[str, Sequence[Any] | None],
                    rtol: float, atol: float) -> Diagnosis | None:
    """The kind of the first variation of training (kind -> the reference's record under it) ``have`` follows."""
    for kind, variant in variants.items():
        path = _values(variant) if variant is not None else None
        if path is not None and _same_path(have, path, rtol, atol):
            return _diagnosis(kind)
    return None


def _shifted_losses(want: Sequence[torch.Tensor], have: Sequence[torch.Tensor],
                    rtol: float, atol: float) -> Diagnosis | None:
    """A record of as many epochs, measured one step late or early, never moving, or right only at first."""
    n = len(want)
    if n >= 2 and _same_path(have[:-1], want[1:], rtol, atol):
        return _diagnosis("recorded_after_step")
    if n >= 3 and _same_path(have[1:], want[:-1], rtol, atol):
        return _diagnosis("recorded_before_step")
    if n >= 2 and _same_path(have, [have[0]] * n, rtol, atol) and not _same_path(want, [want[0]] * n, rtol, atol):
        return _diagnosis("losses_unchanging")
    if n >= 2 and _close(have[0], want[0], rtol, atol):
        return _diagnosis("first_epoch_right")
    return None


def diagnose_final_state(path: Sequence[torch.Tensor], got: Any, n_epochs: int, *,
                         doubled_step: torch.Tensor | None = None, accumulating: torch.Tensor | None = None,
                         stale_gradient: torch.Tensor | None = None,
                         rtol: float = RTOL, atol: float = ATOL) -> Diagnosis | None:
    """How the parameters a training function ends with differ from the
    reference's after ``n_epochs`` epochs.

    ``path[k]`` is the reference's state after k epochs, for k = 0 .. at
    least n_epochs + 1; the keyword tensors are the reference's final state
    under the variations ``diagnose_losses`` describes."""
    have = _as_tensor(got)
    if have is None:
        return None
    if _close(have, path[n_epochs].detach(), rtol, atol):
        return None
    for kind, variant in (("step_twice", doubled_step), ("accumulating", accumulating),
                          ("stale_gradient", stale_gradient)):
        if variant is not None and _close(have, variant.detach(), rtol, atol):
            return _diagnosis(kind)
    for epochs, state in enumerate(path):
        if epochs != n_epochs and _close(have, state.detach(), rtol, atol):
            kind = {n_epochs - 1: "epoch_too_few", n_epochs + 1: "epoch_too_many"}.get(epochs, "epochs_off")
            return _diagnosis(kind, got=epochs, expected=n_epochs)
    return None


__all__ = ["WORDS", "Diagnosis", "carries_no_gradient", "diagnose", "diagnose_final_state", "diagnose_losses",
           "modified_inputs", "returned_copy", "swapped_arguments"]
