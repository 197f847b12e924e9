"""Why an answer differs, in a beginner's words: ``diagnose_difference`` dispatches a difference to the
detectors that read its kind (``diagnosis``, ``detectors``, ``structure``, ``slips``, ``formulas``),
and ``localised_words`` is the last resort (``localise``): which part is right and which is not."""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import torch

from grader.engine import detectors, diagnosis, formulas, localise, slips, structure
from grader.engine.difference import Difference, _argument_words, _with
from grader.engine.protocol import Build, Call, Reply, Request


def _grad_state_words(request: Request, difference: Difference) -> str | None:
    """Why an argument's requires_grad or .grad differs, from what it was given."""
    args = request.args if isinstance(request, Call) else ()
    grads = request.grads if isinstance(request, Call) else ()
    index = difference.index if difference.index is not None else len(args)
    given = args[index] if index < len(args) else None
    name = difference.where.split(" after")[0].strip("`").removesuffix(".grad").removeprefix("the .grad of ")
    if difference.part == "requires_grad":
        was = bool(given.requires_grad) if isinstance(given, torch.Tensor) else False
        if difference.got is was or not isinstance(difference.got, bool):
            return diagnosis.WORDS["requires_grad_as_given"].format(name=name, got=difference.got,
                                                                    expected=difference.expected)
        kind = "requires_grad_switched_on" if difference.got else "requires_grad_switched_off"
        return diagnosis.WORDS[kind].format(name=name)
    if difference.expected is None:
        return diagnosis.WORDS["grad_left_behind"].format(name=name)
    if difference.got is None:
        return diagnosis.WORDS["grad_missing"].format(name=name)
    old, want, have = grads[index] if index < len(grads) else None, difference.expected, difference.got
    if not (isinstance(old, torch.Tensor) and isinstance(want, torch.Tensor) and isinstance(have, torch.Tensor)
            and have.shape == want.shape == old.shape):
        return None
    if torch.allclose(have.double(), (want + old).double(), rtol=1e-4, atol=1e-5):  # the old one kept, once too often
        return diagnosis.WORDS["grad_added_to_old"].format(name=name)
    if torch.allclose(want.double(), old.double(), rtol=1e-4, atol=1e-5):  # the caller's gradient was to stay as it was
        return diagnosis.WORDS["grad_changed"].format(name=name)
    return None


def _part_of(value: Any, parts: Sequence[str], where: str) -> Any:
    """The item of a result that ``where`` (a difference's place) is about: a named part of a tuple
    result, then down its items (``[1]``) and keys (`` test``) to the first list of numbers (a record
    per epoch), or the whole value."""
    rest = where.removeprefix("the result") if where.startswith("the result") else None
    if parts and type(value) in (tuple, list) and len(value) == len(parts):
        for part, item in zip(parts, value, strict=True):
            if where == part or where.startswith(f"{part}["):
                value, rest = item, where.removeprefix(part)
    for step in _PLACE.finditer(rest or ""):
        if _numbers(value):
            break
        index, key = step["index"], step["key"]
        if index is not None and type(value) in (tuple, list) and int(index) < len(value):
            value = value[int(index)]
        elif key is not None and type(value) is dict and key in value:
            value = value[key]
        else:
            break
    return value


_PLACE = re.compile(r"\[(?P<index>\d+)\]| (?P<key>[^\s\[]+)")


def _records_lengths(want: Any, got: Any) -> tuple[int, int] | None:
    """(n, m) when every list of numbers in the reference's tuple result has n items and every
    one in the student's has m: records per epoch (or batch, or sample), counted."""
    if type(want) not in (tuple, list) or type(got) is not type(want) or len(want) != len(got):
        return None
    if not all(type(w) is list and type(g) is list for w, g in zip(want, got, strict=True)):
        return None
    n, m = {len(w) for w in want}, {len(g) for g in got}
    return (n.pop(), m.pop()) if len(n) == len(m) == 1 else None


def _calls_words(want: Reply, got: Reply, difference: Difference) -> str | None:
    """A model that ran too often or too rarely, when its records say why: as many calls per
    record as the reference's, with one record more or fewer (an epoch too many or too few)."""
    lengths = _records_lengths(want.value, got.value)
    if lengths is None or not isinstance(difference.expected, int) or not isinstance(difference.got, int):
        return None
    n, m = lengths
    if n == m or n == 0 or m == 0 or difference.expected * m != difference.got * n:
        return None
    kind = {n - 1: "epoch_too_few", n + 1: "epoch_too_many"}.get(m, "epochs_off")
    return diagnosis.WORDS[kind].format(got=m, expected=n)


def diagnose_difference(request: Request, difference: Difference, *, rtol: float, atol: float,
                        want: Reply | None = None, got: Reply | None = None,
                        source: Callable[[], str | None] | None = None) -> str | None:
    """How the student's answer differs (``diagnosis``), in a beginner's
    words, or None. Needs no expected value in its words. ``source``: the
    student's code, for the structure detectors that read it."""
    words = _built_words(request, difference, want, got, source) or _losses_words(request, difference, want, got,
                                                                                  rtol=rtol, atol=atol)
    if words:
        return words
    by_part = _PART_WORDS.get(difference.part)
    if by_part is not None:
        return by_part(difference, want, got)
    if difference.part in ("requires_grad", "held_grad"):
        words = _grad_state_words(request, difference)
        if words or difference.part == "requires_grad" or difference.expected is None or difference.got is None:
            return words
    args = request.args if isinstance(request, Call) else ()
    words = _changed_argument_words(args, difference)
    if words:
        return words
    if not isinstance(difference.expected, torch.Tensor):
        kind = slips.diagnose_kind(want.value, got.value) if want is not None and got is not None \
            and difference.where == "the result" else None
        return kind.message if kind else detectors.difference_words(difference)
    return _tensor_words(args, difference, got, rtol=rtol, atol=atol)


def _built_words(request: Request, difference: Difference, want: Reply | None, got: Reply | None,
                 source: Callable[[], str | None] | None) -> str | None:
    """A module built differently, or parameters multiplied where they should not be."""
    return structure_words(difference, want, got, source) or (
        formulas.multiplied_parameters_words(_given_state(request), want.param_grads, got.param_grads)
        if want is not None and got is not None and difference.part == "value" else None)


def _losses_words(request: Request, difference: Difference, want: Reply | None, got: Reply | None, *,
                  rtol: float, atol: float) -> str | None:
    """A record per epoch (the losses train returns): one short or long, or one step late."""
    if want is None or got is None or difference.part != "value":
        return None
    parts = getattr(request, "parts", ())
    mine, theirs = _part_of(got.value, parts, difference.where), _part_of(want.value, parts, difference.where)
    if not (_numbers(theirs) and _numbers(mine)):
        return None
    found_path = diagnosis.diagnose_losses(theirs, mine, rtol=max(rtol, 1e-4), atol=max(atol, 1e-5))
    return found_path.message if found_path is not None else None


def _calls_part_words(difference: Difference, want: Reply | None, got: Reply | None) -> str | None:
    if want is None or got is None:
        return None
    return _calls_words(want, got, difference) or detectors.extra_calls_words(
        _records_lengths(want.value, got.value), difference.expected, difference.got)


def _view_part_words(difference: Difference, _want: Reply | None, _got: Reply | None) -> str | None:
    """Samples and batches of a loader: data, not a computation."""
    sample = slips.diagnose_sample(difference.expected, difference.got)
    return sample.message if sample else detectors.changed_data_words(difference)


def _fixed_words(words: dict[str, str], kind: str) -> Callable[[Difference, Reply | None, Reply | None], str]:
    return lambda _difference, _want, _got: words[kind]


# The parts of an answer whose difference has one reading: part -> its words.
_PART_WORDS: dict[str, Callable[[Difference, Reply | None, Reply | None], str | None]] = {
    "calls": _calls_part_words,
    "view": _view_part_words,
    "no_grad": _fixed_words(diagnosis.WORDS, "no_gradient"),
    "copy": _fixed_words(diagnosis.WORDS, "returned_copy"),
    "zero_start": _fixed_words(detectors.WORDS, "zero_start"),
}


def _changed_argument_words(args: Sequence[Any], difference: Difference) -> str | None:
    """An argument the student's code changed (the reference leaves it as given), or updated wrongly."""
    if difference.part != "after" or difference.index is None or difference.index >= len(args):
        return None
    given = args[difference.index]
    if isinstance(given, torch.Tensor) and isinstance(difference.expected, torch.Tensor) \
            and given.shape == difference.expected.shape \
            and torch.equal(given.detach().to(difference.expected.dtype), difference.expected):
        name = difference.where.removesuffix(" after the call").strip("`")
        return diagnosis.WORDS["modified_input"].format(name=name)
    data = [a for i, a in enumerate(args) if i != difference.index and isinstance(a, torch.Tensor)
            and a.numel() > 1]
    return _update_words(given, difference, samples=data[0].shape[0] if data and data[0].dim() else None)


def _tensor_words(args: Sequence[Any], difference: Difference, got: Reply | None, *,
                  rtol: float, atol: float) -> str | None:
    """A tensor answer that differs: an argument returned, a slip, a product of sums, then ``diagnosis``."""
    sizes = [a for a in args if isinstance(a, torch.Tensor) and a.numel() > 1]
    n_elements = sizes[0].numel() if sizes else None
    n_rows = sizes[0].shape[0] if sizes else None
    names = got.arg_names if got is not None else None
    # Both answers identified as arguments: stronger evidence than an entry that happens to equal one.
    returned = detectors.returned_argument_words(difference.expected, difference.got, args, names)
    if returned:
        return returned
    slip = slips.diagnose_slip(difference.expected, difference.got, args, names,
                               n_elements=n_elements) if difference.part == "value" else None
    if slip is not None:
        return slip.message
    product = formulas.product_of_sums_words(difference.expected, difference.got, args) \
        if difference.part == "value" else None
    if product:
        return product
    found = diagnosis.diagnose(difference.expected, difference.got, n_elements=n_elements, n_rows=n_rows,
                               rtol=max(rtol, 1e-4), atol=max(atol, 1e-5))
    if found:
        return found.message
    return detectors.negative_words(difference.expected, difference.got) or detectors.difference_words(difference)


def structure_words(difference: Difference, want: Reply | None, got: Reply | None,
                    source: Callable[[], str | None] | None) -> str | None:
    """Why a module is built differently (``structure``): from its description, or from the
    gradients its parameters got."""
    if want is None or got is None or difference.part != "value":
        return None
    if isinstance(want.value, dict) and want.value.get("is_module"):
        found = structure.diagnose_module(want.value, got.value, source)
    else:
        found = structure.diagnose_gradients(want.param_grads, got.param_grads)
    return found.message if found else None


def _given_state(request: Request) -> dict[str, Any] | None:
    """The state a called module was built with (its parameters' values), or None."""
    target = getattr(request, "target", None)
    return target.state if isinstance(target, Build) else None


def localised_words(request: Request, difference: Difference, want: Reply, got: Reply) -> str | None:
    """The last resort of a hint (``localise``): which part of the answer is right and which is not."""
    if difference.part != "value":
        return None
    parts = getattr(request, "parts", ())
    mine, theirs = _part_of(got.value, parts, difference.where), _part_of(want.value, parts, difference.where)
    words = localise.parts_words(want.value, got.value, parts) or (
        localise.record_words(theirs, mine) if _numbers(theirs) and _numbers(mine) else None) or \
        localise.entries_words(difference.expected, difference.got, _entry_notes(difference.expected, difference.got))
    if words or difference.where != "the result":
        return words
    if isinstance(getattr(request, "target", None), Build):
        return localise.gradients_words(want.param_grads, got.param_grads)
    args = request.args if isinstance(request, Call) else ()
    trained = next((i for i, a in enumerate(args) if isinstance(a, Build) and a.state), None)
    if trained is None or type(want.after) is not list or type(got.after) is not list \
            or trained >= min(len(want.after), len(got.after)):
        return None
    return localise.trained_model_words(_argument_words(got.arg_names, trained).strip("`"), want.after[trained],
                                        got.after[trained])


def _entry_notes(expected: Any, got: Any) -> dict[int, str]:
    """For each entry of a short vector: how it relates to the expected one, when it is a whole multiple."""
    if not (isinstance(expected, torch.Tensor) and isinstance(got, torch.Tensor)) or expected.shape != got.shape \
            or expected.dim() != 1 or expected.numel() > 4:
        return {}
    notes = {}
    for index, (want, have) in enumerate(zip(expected.tolist(), got.tolist(), strict=True)):
        ratio = have / want if abs(want) > 1e-6 else math.nan
        if math.isfinite(ratio) and abs(ratio) >= 2 and math.isclose(ratio, round(ratio), rel_tol=1e-4):
            notes[index] = f"is exactly {round(ratio)} times the expected value"
        elif math.isclose(ratio, -1, rel_tol=1e-4):
            notes[index] = "has the wrong sign"
    return notes


def _returned_argument(difference: Difference, want: Reply) -> Difference:
    """A difference in the result, where the reference returns an argument it updates in place, is
    read as that argument's change (how far it moved, or not at all)."""
    if difference.part == "value" and want.returns_arg is not None and difference.where == "the result":
        return _with(difference, part="after", index=want.returns_arg)
    return difference


def _never_moved(request: Request, difference: Difference, got: Reply) -> str | None:
    """An argument the reference changes (a tensor updated in place, a model trained) that the
    student's code leaves exactly as it was given: before any other reading of the difference,
    since "0 epochs" or "a factor 0" would only describe the same standstill."""
    args = request.args if isinstance(request, Call) else ()
    index = difference.index
    if difference.part != "after" or index is None or index >= len(args):
        return None
    given, name = args[index], difference.where.split(" after the call")[0].split(":")[0].strip("`")
    if isinstance(given, torch.Tensor):
        have = difference.got
        unchanged = isinstance(have, torch.Tensor) and have.shape == given.shape and torch.equal(
            have.detach(), given.detach().to(have.dtype))
        moved = isinstance(difference.expected, torch.Tensor) and not torch.equal(
            difference.expected.detach(), given.detach().to(difference.expected.dtype))
        return diagnosis.WORDS["unchanged_argument"].format(name=name) if unchanged and moved else None
    if isinstance(given, Build) and given.state and type(got.after) is list and index < len(got.after):
        module = got.after[index]
        values = {p.get("name"): p.get("value") for p in module.get("parameters", [])} \
            if isinstance(module, dict) and module.get("is_module") else {}
        if values and set(values) == set(given.state) and all(
                isinstance(v, torch.Tensor) and v.shape == given.state[k].shape and torch.equal(v, given.state[k])
                for k, v in values.items()):
            return diagnosis.WORDS["never_moves"].format(name=name)
    return None


def _update_words(given: Any, difference: Difference, samples: int | None = None) -> str | None:
    """How an argument the reference changes in place was changed instead:
    not at all, or by the expected change reversed or scaled."""
    want, have = difference.expected, difference.got
    if not (isinstance(given, torch.Tensor) and isinstance(want, torch.Tensor) and isinstance(have, torch.Tensor)) \
            or not given.shape == want.shape == have.shape or not given.is_floating_point():
        return None
    start = given.detach().double()
    expected_change, change = want.double() - start, have.double() - start
    if not bool(expected_change.count_nonzero()):
        return None
    name = difference.where.removesuffix(" after the call").strip("`")
    if not bool(change.abs().gt(1e-7).any()):
        return diagnosis.WORDS["unchanged_argument"].format(name=name)
    found = diagnosis.diagnose(expected_change, change, rtol=1e-3, atol=1e-6)
    if found is not None and found.kind == "sign":
        return diagnosis.WORDS["update_reversed"].format(name=name)
    if found is not None and found.kind in ("double", "half", "factor"):
        ratio = float((change.norm() / expected_change.norm()).item())
        if samples and samples > 2 and math.isclose(ratio, samples, rel_tol=1e-3):
            return diagnosis.WORDS["update_times_count"].format(name=name, count=samples, what="samples")
        return diagnosis.WORDS["update_scaled"].format(name=name, factor=ratio)
    return None


def _numbers(value: Any) -> bool:
    return type(value) is list and len(value) > 1 and all(type(v) in (float, int) for v in value)
