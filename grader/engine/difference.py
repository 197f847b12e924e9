"""What differs between a student's answer and the reference's, in words: the ``Difference`` every
comparison returns, and the small helpers that name values, arguments and parameters in it."""
from __future__ import annotations

import reprlib
from collections.abc import Callable, Sequence
from typing import Any

import torch

from grader.engine.protocol import ASPECTS, Request
from grader.results import MismatchRow
from grader.sandbox.wire import Unsupported

TABLE_ROWS = 6


# A difference's words, worked out only when read: (message, table, diagnosis).
Words = tuple[str, tuple[MismatchRow, ...], "str | None"]


class Difference:
    """The first way two values differ: where, in words, and what the detectors need.

    ``message`` says how ``where`` differs; ``table``: the mismatching elements;
    ``diagnosis``: the message without any expected value, for hidden tests (their
    inputs are the same at every submission, so expected values could be collected;
    None: ``message`` shows none). ``part``: which part of the reply differs ("value",
    "grad", "after", "no_grad", "copy", "requires_grad" and "held_grad": an argument's
    autograd state after the call), ``expected`` and ``got``: the two values that differ.

    ``worded``, instead of the words: how to work them out when first read. Most
    differences are only asked whether they exist (is a known mistake's answer the
    student's?); a tensor's statistics and table are worth working out only for the
    few a report shows."""

    __slots__ = ("where", "part", "expected", "got", "index", "_words")

    def __init__(self, where: str, message: str = "", table: tuple[MismatchRow, ...] = (),
                 diagnosis: str | None = None, *, part: str = "value", expected: Any = None, got: Any = None,
                 index: int | None = None, worded: Callable[[], Words] | None = None) -> None:
        self.where, self.part, self.expected, self.got, self.index = where, part, expected, got, index
        self._words: Words | Callable[[], Words] = worded if worded is not None else (message, table, diagnosis)

    @property
    def message(self) -> str:
        return self._read()[0]

    @property
    def table(self) -> tuple[MismatchRow, ...]:
        return self._read()[1]

    @property
    def diagnosis(self) -> str | None:
        return self._read()[2]

    def _read(self) -> Words:
        if callable(self._words):
            self._words = self._words()
        return self._words

    def moved(self, *, part: str, index: int | None) -> "Difference":
        """The same difference, found in ``part`` of the reply (its words still unread if they are)."""
        return Difference(self.where, part=part, expected=self.expected, got=self.got, index=index,
                          worded=self._read)

    def words(self, *, reveal_values: bool) -> str:
        return f"{self.where} {self.message if reveal_values or self.diagnosis is None else self.diagnosis}".strip()

    def __str__(self) -> str:
        return f"{self.where} {self.message}".strip()

    def __repr__(self) -> str:
        return (f"Difference(where={self.where!r}, message={self.message!r}, part={self.part!r}, "
                f"index={self.index!r})")


def _judged(request: Request) -> frozenset[str]:
    return getattr(request, "judged", frozenset(ASPECTS))


def _argument_words(names: Sequence[Any] | None, index: int) -> str:
    name = names[index] if names is not None and index < len(names) else None
    return f"`{name}`" if isinstance(name, str) and name else f"argument {index + 1}"


def _with(difference: Difference, *, part: str, index: int | None) -> Difference:
    return difference.moved(part=part, index=index)


def _count_difference(where: str, got: Any, expected: Sequence[Any]) -> Difference:
    """A reply with another number of entries than its request asked for is never compared pairwise."""
    have = f"{len(got)} came back" if type(got) is list else f"{_kind(got)} came back"
    return Difference(where, f"do not match the arguments: {have}, expected {len(expected)}")


def _roughly(gap: float) -> str:
    """A difference to one significant digit, without its sign: enough to
    judge how wrong an answer is, too coarse to read the expected value back."""
    return f"{abs(gap):.1g}"


def _names(names: Sequence[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _parameter_list(parameters: dict[str, Any]) -> str:
    return ", ".join(f"{name} {tuple(p['shape'])}" for name, p in parameters.items())


def _dtype(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def _kind(value: Any) -> str:
    if isinstance(value, Unsupported):
        return f"a {value.type_name} (not plain data)"
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if value is None:
        return "None"
    return f"a {type(value).__name__}"


def _short(value: Any) -> str:
    """At most 80 characters of a value's repr, never the repr of all of it (a reply may hold 2**18 items)."""
    text = _SHORT_REPR.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# Enough of every kind to fill 80 characters, so only a long value reads differently from its full repr.
_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel, _SHORT_REPR.maxstring, _SHORT_REPR.maxother = 6, 200, 200
_SHORT_REPR.maxlist = _SHORT_REPR.maxtuple = _SHORT_REPR.maxdict = _SHORT_REPR.maxset = 40
