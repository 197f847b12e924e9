"""Where an answer differs, when no detector can say why: the last resort of a hint.

When no known mistake and no detector explains a difference, the student
still learns which part of the answer is right and which is not, in their
own terms: the entries of a short vector ("your entry 1 is right, entry 0 is
not"), the named parts of a tuple result ("the training losses are right;
the test losses are not"), the gradients reaching each parameter of a model
("the gradient reaching `weight2` differs: look at how forward uses
`weight2`"), the entries of a record per epoch ("your first 2 values are
right"), or whether a trained model ends where it should when only the
returned number differs. Each reading states only what was compared; none
guesses a cause.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch

RTOL, ATOL = 1e-4, 1e-5

WORDS: dict[str, str] = {
    "entries": "Your {bad} {bad_is} wrong, and {good} {good_is} right: each entry is computed on its own, so "
               "compare the code of the wrong {one} with the code of the right {other}.",
    "no_entry_right": "Every entry of your answer differs{notes}: each entry is computed on its own, so check "
                      "each one's formula.",
    "parts": "Your {good} {good_are} right, and your {bad} {bad_are} not: the mistake is in what computes "
             "{those}.",
    "gradients": "Your output differs, and so does the gradient reaching {bad}{good}: look at how your forward "
                 "uses {bad_plain}.",
    "record_from": "The first {k} of your {n} recorded values {are} right; from value {first_wrong} on they differ: "
                   "what your code does after the first {k} {steps} (the update, or how each later value is "
                   "measured) differs from what is asked.",
    "record_first": "Your recorded values differ from the very first one on (all {n}): the difference is "
                    "already there before any update has taken effect, in what is measured or how.",
    "value_and_model": "The value your function returns differs, and so do the parameters of `{name}` after the "
                       "call: the training itself differs from what is asked, not only what is returned.",
    "value_not_model": "The value your function returns differs, while `{name}` ends with the right parameters: "
                       "the training is right and only what you return is computed differently.",
}


def _close(a: Any, b: Any) -> bool:
    """Two plain values alike (tensors, numbers, lists, tuples, dicts), within the grader's tolerance."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape and \
            torch.allclose(a.detach().double(), b.detach().double(), rtol=RTOL, atol=ATOL, equal_nan=True)
    if type(a) in (int, float) and type(b) in (int, float):
        return math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL)
    if type(a) in (list, tuple):
        return type(b) is type(a) and len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return type(b) is dict and set(a) == set(b) and all(_close(a[k], b[k]) for k in a)
    return bool(a == b)


def _listed(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def entries_words(expected: Any, got: Any, notes: Mapping[int, str] | None = None) -> str | None:
    """A short vector (2 to 4 entries, such as [dL/dw, dL/db]): which entries are right and which are not."""
    if not (isinstance(expected, torch.Tensor) and isinstance(got, torch.Tensor)) or expected.dim() != 1 \
            or expected.shape != got.shape or not 2 <= expected.numel() <= 4 or not expected.is_floating_point():
        return None
    right = [_close(w, h) for w, h in zip(expected, got, strict=True)]
    if all(right):
        return None
    if not any(right):
        said = "; ".join(f"entry {i} {note}" for i, note in sorted((notes or {}).items()))
        return WORDS["no_entry_right"].format(notes=f" ({said})" if said else "")
    bad = [f"entry {i}" for i, ok in enumerate(right) if not ok]
    good = [f"entry {i}" for i, ok in enumerate(right) if ok]
    return WORDS["entries"].format(bad=_listed(bad), bad_is="is" if len(bad) == 1 else "are", good=_listed(good),
                                   good_is="is" if len(good) == 1 else "are", one="one" if len(bad) == 1 else "ones",
                                   other="one" if len(good) == 1 else "ones")


def parts_words(expected: Any, got: Any, parts: Sequence[str]) -> str | None:
    """A tuple result with named parts: which parts are right and which are not (some of each)."""
    if not parts or type(expected) not in (tuple, list) or type(got) is not type(expected) \
            or not len(expected) == len(got) == len(parts):
        return None
    right = [_close(w, h) for w, h in zip(expected, got, strict=True)]
    if all(right) or not any(right):
        return None
    bad = [p.removeprefix("the ") for p, ok in zip(parts, right, strict=True) if not ok]
    good = [p.removeprefix("the ") for p, ok in zip(parts, right, strict=True) if ok]
    return WORDS["parts"].format(good=_listed(good), bad=_listed(bad), good_are="is" if len(good) == 1 else "are",
                                 bad_are="is" if len(bad) == 1 else "are", those="it" if len(bad) == 1 else "them")


def gradients_words(expected: Mapping[str, Any] | None, got: Mapping[str, Any] | None) -> str | None:
    """A model's output that differs: the parameters whose gradients differ, and those whose do not."""
    if not expected or not got:
        return None
    names = [n for n in expected if isinstance(expected[n], torch.Tensor)]
    bad = [n for n in names if not _close(expected[n], got.get(n))]
    if not bad:
        return None
    good = [n for n in names if n not in bad]
    ticked = [f"`{n}`" for n in bad]
    right = f" (the gradient reaching {_listed([f'`{n}`' for n in good])} is right)" if good else ""
    return WORDS["gradients"].format(bad=_listed(ticked), good=right, bad_plain=_listed(ticked))


def record_words(expected: Sequence[Any], got: Sequence[Any]) -> str | None:
    """A record of numbers (one per epoch, batch or step) as long as the reference's: how far it is right."""
    n = len(expected)
    if n < 2 or len(got) != n:
        return None
    k = next((i for i, (w, h) in enumerate(zip(expected, got, strict=True)) if not _close(w, h)), n)
    if k == n:
        return None
    if k == 0:
        return WORDS["record_first"].format(n=n)
    return WORDS["record_from"].format(k=k, n=n, are="is" if k == 1 else "are", first_wrong=k + 1,
                                       steps="step" if k == 1 else "steps")


def trained_model_words(name: str, expected_after: Any, got_after: Any) -> str | None:
    """A returned value that differs from a call that also trains a model (described after the call):
    whether the model's parameters end right too."""
    def values(module: Any) -> dict[str, Any] | None:
        if not (isinstance(module, dict) and module.get("is_module")):
            return None
        return {p.get("name"): p.get("value") for p in module.get("parameters", [])}

    want, have = values(expected_after), values(got_after)
    if not want or have is None:
        return None
    return WORDS["value_not_model" if _close(want, have) else "value_and_model"].format(name=name)


__all__ = ["WORDS", "entries_words", "gradients_words", "parts_words", "record_words", "trained_model_words"]
