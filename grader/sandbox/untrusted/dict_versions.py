"""Whether many dicts changed, read from their version tags (PEP 509) in place.

CPython 3.10-3.13 stamps a dict with a new version tag on every change. A
room's tripwires (``tripwires.NamespaceBaseline``) read the tags of ~900
namespaces after every exercise; reading each through its own
``ctypes.c_uint64.from_address`` costs ~0.7 ms a check, and iterating over
the dicts themselves would write their reference counts (and so copy
hundreds of pages in a forked room). ``VersionReader`` reads them all at C
speed (~50 us): one read-only view of memory per cluster of nearby
addresses, and ``operator.itemgetter`` over the tags' places in it.

Untrusted side: the standard library only.
"""
from __future__ import annotations

import ctypes
import operator
import sys
from collections.abc import Callable
from typing import Any

# PyDictObject: refcount, type, ma_used, ma_version_tag
VERSION_OFFSET = 3 * ctypes.sizeof(ctypes.c_ssize_t)
_TAG = ctypes.sizeof(ctypes.c_uint64)
# Addresses further apart than this are read through views of their own, so
# that no view spans the gap between the heap and the mapped arenas.
_CLUSTER_GAP = 64 << 20


def read_one_by_one(addresses: tuple[int, ...]) -> tuple[int, ...]:
    """The 64-bit words at ``addresses``, each read on its own."""
    read = ctypes.c_uint64.from_address
    return tuple(read(address).value for address in addresses)


def versions_readable() -> bool:
    """Whether this interpreter keeps a version tag where we read it, that
    changes on every kind of change (it does on CPython 3.10-3.13)."""
    if sys.implementation.name != "cpython" or ctypes.sizeof(ctypes.c_uint64) != ctypes.sizeof(ctypes.c_ssize_t):
        return False
    probe: dict[str, Any] = {"a": 1}
    where = (id(probe) + VERSION_OFFSET,)
    seen = [read_one_by_one(where)[0]]
    changes: tuple[Callable[[dict[str, Any]], object], ...] = (
        lambda d: d.__setitem__("a", 2), lambda d: d.__setitem__("b", 1), lambda d: d.pop("a"))
    for change in changes:
        change(probe)
        seen.append(read_one_by_one(where)[0])
    return len(set(seen)) == len(seen) and ctypes.c_ssize_t.from_address(id(probe) + 16).value == len(probe)


class VersionReader:
    """Reads the 64-bit words at fixed, 8-byte aligned ``addresses`` (in their
    order) at C speed. The caller keeps what lives there alive."""

    def __init__(self, addresses: tuple[int, ...]) -> None:
        order = sorted(range(len(addresses)), key=addresses.__getitem__)
        self._views: list[tuple[memoryview, Callable[[memoryview], tuple[int, ...]]]] = []
        start = 0
        for end in range(1, len(order) + 1):
            if end == len(order) or addresses[order[end]] - addresses[order[end - 1]] > _CLUSTER_GAP:
                self._views.append(_cluster_view([addresses[i] for i in order[start:end]]))
                start = end
        # Read in address order; ``_unsorted`` puts each word back at its address's place.
        place = [0] * len(order)
        for position, index in enumerate(order):
            place[index] = position
        self._unsorted = _getter(place)

    def __call__(self) -> tuple[int, ...]:
        words: tuple[int, ...] = ()
        for view, get in self._views:
            words += get(view)
        return self._unsorted(words)


def _cluster_view(addresses: list[int]) -> tuple[memoryview, Callable[[memoryview], tuple[int, ...]]]:
    """One view of the words from the lowest to the highest of ``addresses``
    (sorted), and the getter of theirs in it."""
    low, high = addresses[0], addresses[-1]
    if any(address % _TAG for address in addresses):
        raise ValueError("a version tag that is not 8-byte aligned")
    words = (ctypes.c_uint64 * ((high - low) // _TAG + 1)).from_address(low)
    return memoryview(words).cast("B").cast("Q"), _getter([(address - low) // _TAG for address in addresses])


def _getter(indexes: list[int]) -> Callable[[Any], tuple[Any, ...]]:
    """``operator.itemgetter`` that always answers a tuple (of one index, or none, too)."""
    if not indexes:
        return lambda _sequence: ()
    if len(indexes) == 1:
        only = indexes[0]
        return lambda sequence: (sequence[only],)
    return operator.itemgetter(*indexes)


def version_reader(addresses: tuple[int, ...]) -> Callable[[], tuple[int, ...]]:
    """A reader of the words at ``addresses``: ``VersionReader`` where it reads
    what one-by-one reads do (checked here), the one-by-one reads otherwise."""
    try:
        reader = VersionReader(addresses)
        if reader() == read_one_by_one(addresses):
            return reader
    except (ValueError, TypeError, OverflowError, MemoryError):
        pass
    return lambda: read_one_by_one(addresses)
