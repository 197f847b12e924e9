"""Comparing two replies (``compare_replies``) and two plain values (``first_difference``): the first way
the student's answer differs from the reference's, in our own words built from the statistics
``torch.testing.assert_close`` reports (mismatched elements, the greatest differences and where).
Modules, datasets, loaders and probes' records are compared in ``compare_objects``."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

# A module import both ways round (``compare_objects`` compares the values inside objects with ``first_difference``).
from grader.engine import compare_objects
from grader.engine.difference import (TABLE_ROWS, Difference, _argument_words, _count_difference, _dtype, _kind,
    _roughly, _short, _with)
from grader.engine.protocol import ASPECTS, Reply
from grader.results import MismatchRow


def compare_replies(expected: Reply, got: Reply, *, rtol: float, atol: float,
                    names: Sequence[Any] | None = None, parts: Sequence[str] = (),
                    judged: frozenset[str] = frozenset(ASPECTS)) -> Difference | None:
    """The first way ``got`` differs from ``expected``, or None. ``names``:
    the arguments' names in the student's signature, for the words;
    ``parts``: what each item of a tuple result is ("the training loader");
    ``judged``: the aspects compared (``protocol.ASPECTS``)."""
    if expected.error is not None or got.error is not None:
        return _error_difference(expected, got)
    # How the code ran a model (its probes' records) explains what it computed: compared first.
    difference = (_modes_difference(expected, got, names, judged)
                  or _result_difference(expected, got, rtol=rtol, atol=atol, names=names, parts=parts, judged=judged)
                  or _gradients_difference(expected, got, rtol=rtol, atol=atol, names=names)
                  or _after_difference(expected, got, rtol=rtol, atol=atol, names=names, judged=judged))
    if difference:
        return difference
    if expected.after_grads is not None:
        difference = _grad_state_difference(expected.after_grads, got.after_grads, rtol=rtol, atol=atol, names=names)
        if difference:
            return difference
    if expected.target_after is not None:
        return first_difference(expected.target_after, got.target_after, rtol=rtol, atol=atol,
                                where="the module after the call")
    return None


def _error_difference(expected: Reply, got: Reply) -> Difference | None:
    """Two replies of which one raised: alike only when both raised the same error."""
    same = (expected.error is not None and got.error is not None
            and expected.error.get("type") == got.error.get("type")
            and expected.error.get("message") == got.error.get("message"))
    return None if same else Difference("the call", "raised an error" if got.error else "did not raise")


def _modes_difference(expected: Reply, got: Reply, names: Sequence[Any] | None,
                      judged: frozenset[str]) -> Difference | None:
    """How the code ran a model: the modes its probes recorded, for each argument."""
    modes = {"modes", "inference_mode"} & judged
    for index, want in enumerate(expected.after or () if modes else ()):
        have = got.after[index] if type(got.after) is list and index < len(got.after) else None
        difference = compare_objects._probes_difference(want, have, f"{_argument_words(names, index)}:", modes)
        if difference:
            return _with(difference, part="calls" if difference.part == "calls" else "after", index=index)
    return None


def _result_difference(expected: Reply, got: Reply, *, rtol: float, atol: float, names: Sequence[Any] | None,
                       parts: Sequence[str], judged: frozenset[str]) -> Difference | None:
    """How the result differs: part by part for a tuple result whose parts are named."""
    if "value" not in judged:
        return None
    if parts and type(expected.value) in (tuple, list) and type(got.value) is type(expected.value) \
            and len(got.value) == len(expected.value) == len(parts):
        return next((d for want, have, part in zip(expected.value, got.value, parts, strict=True)
                     if (d := first_difference(want, have, rtol=rtol, atol=atol, where=part,
                                               names=names))), None)
    structure_only = isinstance(expected.value, dict) and expected.value.get("is_module") and expected.after is None
    return first_difference(expected.value, got.value, rtol=rtol, atol=atol,
                            where="the result", values=not structure_only, names=names)


def _gradients_difference(expected: Reply, got: Reply, *, rtol: float, atol: float,
                          names: Sequence[Any] | None) -> Difference | None:
    """How the gradients differ: w.r.t. each input, then the parameters'."""
    if expected.input_grads is None and expected.param_grads is None:
        return None
    if got.grad_error or got.input_grads is None:
        why = got.grad_error or "no gradient came back"
        part = "no_grad" if "grad_fn" in why else "value"
        return Difference("the gradient", f"could not be computed: {why}", part=part)
    if type(got.input_grads) is not list or len(got.input_grads) != len(expected.input_grads or ()):
        return _count_difference("the gradients", got.input_grads, expected.input_grads or ())
    for index, (want, have) in enumerate(zip(expected.input_grads or (), got.input_grads, strict=True)):
        difference = first_difference(want, have, rtol=rtol, atol=atol,
                                      where=f"the gradient w.r.t. {_argument_words(names, index)}")
        if difference:
            return _with(difference, part="grad", index=index)
    return first_difference(expected.param_grads or {}, got.param_grads or {}, rtol=rtol, atol=atol,
                            where="the parameters' gradients")


def _after_difference(expected: Reply, got: Reply, *, rtol: float, atol: float, names: Sequence[Any] | None,
                      judged: frozenset[str]) -> Difference | None:
    """How the arguments differ after the call, then whether the result is the very argument expected."""
    if expected.after is None or "after" not in judged:
        return None
    if type(got.after) is not list or len(got.after) != len(expected.after):
        return _count_difference("the arguments after the call", got.after, expected.after)
    for index, (want, have) in enumerate(zip(expected.after, got.after, strict=True)):
        difference = first_difference(want, have, rtol=rtol, atol=atol,
                                      where=f"{_argument_words(names, index)} after the call")
        if difference:
            return _with(difference, part="after", index=index)
    if expected.returns_arg is not None and got.returns_arg != expected.returns_arg:
        return Difference("the result", f"is not the very tensor passed as "
                                        f"{_argument_words(names, expected.returns_arg)}", part="copy")
    return None


def _grad_state_difference(expected: list[Any], got: Any, *, rtol: float, atol: float,
                           names: Sequence[Any] | None) -> Difference | None:
    """How the tensor arguments' autograd state after the call differs:
    whether each requires grad, then the .grad it holds."""
    if type(got) is not list or len(got) != len(expected):
        return _count_difference("the arguments' gradients after the call", got, expected)
    for index, (want, have) in enumerate(zip(expected, got, strict=True)):
        if want is None:  # not a tensor
            continue
        name = _argument_words(names, index)
        if type(have) is not dict:
            return Difference(name, "came back without its autograd state", part="requires_grad", index=index)
        if have["requires_grad"] != want["requires_grad"]:
            words = "requires grad after the call, expected it not to" if have["requires_grad"] else \
                "does not require grad after the call, expected it to"
            return Difference(name, words, part="requires_grad", expected=want["requires_grad"],
                              got=have["requires_grad"], index=index)
        where = f"`{name.strip('`')}.grad`" if name.startswith("`") else f"the .grad of {name}"
        want_grad, have_grad = _cleared(want["grad"]), _cleared(have["grad"])
        if want_grad is None and have_grad is not None:
            return Difference(where, "holds a gradient after the call, expected None", part="held_grad",
                              got=have_grad, index=index)
        if want_grad is not None and have_grad is None:
            return Difference(where, "is None after the call, expected a gradient", part="held_grad",
                              expected=want_grad, index=index)
        if want_grad is not None:
            difference = first_difference(want_grad, have_grad, rtol=rtol, atol=atol, where=f"{where} after the call")
            if difference:
                return _with(difference, part="held_grad", index=index)
    return None


def _cleared(grad: Any) -> Any:
    """A .grad of zeros counts as cleared: the next backward() adds to it just as it starts from None."""
    if type(grad) is torch.Tensor and not bool(grad.count_nonzero()):
        return None
    return grad


def first_difference(expected: Any, got: Any, *, rtol: float, atol: float, where: str,
                     values: bool = True, names: Sequence[Any] | None = None) -> Difference | None:
    """The first difference between two plain values, in words, or None.
    ``names``: the arguments' names, for views that point at an argument."""
    if isinstance(expected, dict) and "view" in expected:
        return compare_objects._view_difference(expected, got, rtol=rtol, atol=atol, where=where, names=names,
                                                first=first_difference)
    if isinstance(expected, torch.Tensor):
        return _tensor_difference(expected, got, rtol, atol, where) if values else None
    if isinstance(expected, dict) and expected.get("is_module"):
        return _module_value_difference(expected, got, rtol, atol, where, values)
    if type(expected) is float:
        return _float_difference(expected, got, rtol, atol, where)
    if type(expected) in (list, tuple):
        return _items_difference(expected, got, rtol=rtol, atol=atol, where=where, values=values, names=names)
    if type(expected) is dict:
        return _entries_difference(expected, got, rtol=rtol, atol=atol, where=where, values=values, names=names)
    return _plain_difference(expected, got, where)


def _module_value_difference(expected: dict[str, Any], got: Any, rtol: float, atol: float, where: str,
                             values: bool) -> Difference | None:
    found = compare_objects._module_difference(expected, got, rtol, atol, where, values, _tensor_difference)
    # "LinearModel has no parameter `bias`", not "the result LinearModel has ...".
    bare = found is not None and found.where == where == "the result" and isinstance(got, dict) \
        and found.message.startswith(str(got.get("type")))
    return Difference("", found.message, part=found.part) if bare and found is not None else found


def _float_difference(expected: float, got: Any, rtol: float, atol: float, where: str) -> Difference | None:
    if type(got) not in (float, int):
        return Difference(where, f"is {_kind(got)}, expected a Python float")
    both_nan = math.isnan(got) and math.isnan(expected)
    if not math.isclose(got, expected, rel_tol=rtol, abs_tol=atol) and not both_nan:
        return Difference(where, f"is {got:.6g}, expected {expected:.6g}",
                          diagnosis=f"is {got:.6g}, not the expected value "
                                    f"(off by about {_roughly(got - expected)})")
    return None


def _items_difference(expected: Sequence[Any], got: Any, *, rtol: float, atol: float, where: str, values: bool,
                      names: Sequence[Any] | None) -> Difference | None:
    """A list or tuple: its type, its length, then item by item."""
    if type(got) is not type(expected):
        return Difference(where, f"is {_kind(got)}, expected {_kind(expected)}")
    if len(got) != len(expected):
        return Difference(where, f"has {len(got)} items, expected {len(expected)}")
    for index, (want, have) in enumerate(zip(expected, got, strict=False)):
        difference = first_difference(want, have, rtol=rtol, atol=atol, where=f"{where}[{index}]", values=values,
                                      names=names)
        if difference:
            return difference
    return None


def _entries_difference(expected: dict[str, Any], got: Any, *, rtol: float, atol: float, where: str, values: bool,
                        names: Sequence[Any] | None) -> Difference | None:
    """A dict: its type, its keys, then entry by entry."""
    if type(got) is not dict:
        return Difference(where, f"is {_kind(got)}, expected a dict")
    if set(got) != set(expected):
        return Difference(where, f"has keys {_short(sorted(got))}, expected {_short(sorted(expected))}")
    for key in expected:
        difference = first_difference(expected[key], got[key], rtol=rtol, atol=atol, where=f"{where} {key}",
                                      values=values, names=names)
        if difference:
            return difference
    return None


def _plain_difference(expected: Any, got: Any, where: str) -> Difference | None:
    """Any other value: the same type and equal."""
    if type(got) is not type(expected) or got != expected:
        return Difference(where, f"is {_short(got)}, expected {_short(expected)}",
                          diagnosis=f"is {_short(got)}, not the expected value" if type(got) is type(expected)
                          else f"is {_kind(got)}, expected a {type(expected).__name__}")
    return None


def _tensor_difference(expected: torch.Tensor, got: Any, rtol: float, atol: float, where: str) -> Difference | None:
    shape = tuple(expected.shape)
    kept = dict(expected=expected, got=got)
    if type(got) is not torch.Tensor:
        return Difference(where, f"is {_kind(got)}, expected a torch.Tensor of shape {shape}", **kept)
    if tuple(got.shape) != shape:
        return Difference(where, f"has shape {tuple(got.shape)}, expected {shape}", **kept)
    if got.dtype != expected.dtype:
        return Difference(where, f"has dtype {_dtype(got)}, expected {_dtype(expected)}", **kept)
    if torch.equal(got, expected) or torch.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True):
        return None  # fast paths: the same values (~3 µs), or close enough (~10-50 µs)
    return Difference(where, worded=lambda: (mismatch_words(expected, got, rtol, atol),
                                             mismatch_rows(expected, got, rtol, atol),
                                             tensor_diagnosis(expected, got, rtol, atol)), **kept)


def mismatch_words(expected: torch.Tensor, got: torch.Tensor, rtol: float, atol: float) -> str:
    """What ``assert_close`` measures (mismatched elements, the greatest
    absolute and relative differences, where, and what is allowed), in our words."""
    want, have = expected.detach().double(), got.detach().double()
    bad = ~torch.isclose(have, want, rtol=rtol, atol=atol, equal_nan=True)
    allowed = f"allowed: {atol:.1g} + {rtol:.1g} × |expected|"
    if want.numel() == 1:
        w, h = want.item(), have.item()
        return f"is {h:.6g}, expected {w:.6g} (a difference of {abs(h - w):.3g}; {allowed})"
    absolute = (have - want).abs().nan_to_num(nan=math.inf)
    relative = absolute / want.abs()
    absolute, relative = torch.where(bad, absolute, 0), torch.where(bad, relative.nan_to_num(nan=math.inf), 0)
    count, total = int(bad.sum()), want.numel()
    return (f"differs from the expected values in {count} of {total} elements ({100 * count / total:.0f}%);\n"
            f"the greatest difference is {absolute.max().item():.3g}, at index {_argmax_at(absolute)}; the greatest "
            f"relative difference is {relative.max().item():.3g}, at index {_argmax_at(relative)} ({allowed}).")


def _argmax_at(gaps: torch.Tensor) -> str:
    return str(unravel(int(gaps.argmax()), gaps.shape))


def tensor_diagnosis(expected: torch.Tensor, got: torch.Tensor, rtol: float, atol: float) -> str:
    """How two same-shaped tensors differ, without the expected values:
    "differs from the expected values: 12 of 16 elements differ; the greatest
    difference is about 0.8, at index (3,)"."""
    want, have = expected.detach().double(), got.detach().double()
    bad = ~torch.isclose(have, want, rtol=rtol, atol=atol, equal_nan=True)
    gap = torch.where(bad, (have - want).abs().nan_to_num(nan=math.inf, posinf=math.inf), torch.zeros_like(want))
    worst = unravel(int(gap.argmax()), gap.shape) if gap.dim() else ()
    count, total = int(bad.sum()), want.numel()
    elements = "the element differs" if total == 1 else f"{count} of {total} elements differ"
    at = f", at index {worst}" if worst else ""
    greatest = gap[worst].item() if worst else gap.item()
    if not math.isfinite(greatest):
        return (f"differs from the expected values: {elements}; one is not a finite number where a number "
                f"was expected{at}")
    return f"differs from the expected values: {elements}; the greatest difference is about {_roughly(greatest)}{at}"


def mismatch_rows(expected: torch.Tensor, got: torch.Tensor, rtol: float, atol: float) -> tuple[MismatchRow, ...]:
    """The first TABLE_ROWS mismatching elements, and the ones with the
    greatest absolute and relative differences (the message names them), in
    index order."""
    want, have = expected.detach().double(), got.detach().double()
    bad = ~torch.isclose(have, want, rtol=rtol, atol=atol, equal_nan=True)
    positions = bad.nonzero()
    chosen = {tuple(i) for i in positions[:TABLE_ROWS].tolist()}
    if len(positions) > TABLE_ROWS:
        absolute = (have - want).abs()[bad].nan_to_num(nan=float("inf"))
        relative = absolute / want.abs()[bad]
        chosen |= {tuple(positions[int(d.argmax())].tolist())
                   for d in (absolute, relative.nan_to_num(nan=float("inf")))}
    rows = []
    for index in sorted(chosen):
        w, h = want[tuple(index)].item(), have[tuple(index)].item()
        rows.append(MismatchRow(index=str(tuple(index)) if index else "()", expected=f"{w:.6g}",
                                got=f"{h:.6g}", abs_diff=f"{abs(w - h):.3g}"))
    return tuple(rows)


def unravel(flat: int, shape: Sequence[int]) -> tuple[int, ...]:
    """The index of the ``flat``-th element of a tensor of ``shape`` (row-major), as
    ``torch.unravel_index`` gives it, without its first call's import of
    torch.fx's symbolic shapes (1-4 s, in a cold grade that has a failure to word)."""
    index = []
    for size in reversed(shape):
        flat, position = divmod(flat, size)
        index.append(position)
    return tuple(reversed(index))
