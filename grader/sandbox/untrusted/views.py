"""Views: objects that are not plain data, described as plain data.

A request with ``views`` gets its result (and its built arguments after the
call) with every dataset, subset, data loader and generator in it replaced
by a bounded description, so the grader can compare how two loaders were
made without the objects ever leaving the room:

  {"view": "dataset", "type": name, "length": n, "items": [item, ...]}         first MAX_ITEMS items
  {"view": "subset", "type": name, "length": n, "indices": [i, ...], "dataset": D}
  {"view": "loader", "type": name, "batch_size": n|None, "drop_last": bool, "num_workers": n,
   "sampler": name, "shuffled": bool, "generator": G, "dataset": D, "batches": [batch, ...]}
  {"view": "generator", "type": name}
  {"view": "argument", "index": i}       the very object passed as argument i (below the top)

``G`` says which generator draws a shuffled loader's order: "argument i"
(the very generator passed as argument i), "global" (none given: torch's
global random state), "another", or "none" for a loader that does not
shuffle. A loader's batches are read by iterating it once, in order, at
most MAX_BATCHES. Every bound here is the room's courtesy: the grader reads
each view strictly (``grader/engine/replies.py``).

Imports only torch and the standard library (the untrusted package's rule).
"""
from __future__ import annotations

from typing import Any

import torch
from torch.utils import data

MAX_ITEMS = 256  # items of a dataset
MAX_INDICES = 4096  # indices of a subset
MAX_BATCHES = 64  # batches of a loader
MAX_DEPTH = 4  # loader -> subset -> dataset: deeper is a type name only


def viewed(value: Any, args: list[Any]) -> Any:
    """``value`` with each object that has a view replaced by it (through
    tuples, lists and dicts); anything else as it was."""
    if type(value) in (tuple, list):
        return type(value)(viewed(item, args) for item in value)
    if type(value) is dict:
        return {key: viewed(item, args) for key, item in value.items()}
    return view_of(value, args) if has_view(value) else value


def has_view(obj: Any) -> bool:
    return isinstance(obj, (data.Dataset, data.DataLoader, torch.Generator))


def view_of(obj: Any, args: list[Any], depth: int = 0) -> dict[str, Any]:
    """The description of one object; below the top, an object passed as an
    argument is named by its position instead."""
    if depth > 0:
        index = next((i for i, a in enumerate(args) if a is obj), None)
        if index is not None:
            return {"view": "argument", "index": index}
    name = type(obj).__name__[:200]
    if isinstance(obj, torch.Generator) or depth >= MAX_DEPTH:
        return {"view": "generator" if isinstance(obj, torch.Generator) else "object", "type": name}
    if isinstance(obj, data.DataLoader):
        return _loader(obj, args, depth)
    if isinstance(obj, data.Subset):
        return {"view": "subset", "type": name, "length": len(obj),
                "indices": [int(i) for i in list(obj.indices)[:MAX_INDICES]],
                "dataset": view_of(obj.dataset, args, depth + 1)}
    if isinstance(obj, data.IterableDataset):
        return {"view": "dataset", "type": name, "length": None, "items": []}
    length = len(obj)
    return {"view": "dataset", "type": name, "length": length,
            "items": [_plain(obj[i], args) for i in range(min(length, MAX_ITEMS))]}


def _loader(loader: data.DataLoader[Any], args: list[Any], depth: int) -> dict[str, Any]:
    if loader.num_workers > 0:  # the walls refuse fork: say why, not "Permission denied"
        raise RuntimeError(f"a DataLoader with num_workers={loader.num_workers} starts worker processes, which "
                           "the grader's sandbox does not allow: use num_workers=0 (the default)")
    sampler = loader.sampler
    shuffled = isinstance(sampler, data.RandomSampler)
    batches: list[Any] = []
    for batch in loader:
        if len(batches) == MAX_BATCHES:
            break
        batches.append(_plain(batch, args))
    return {"view": "loader", "type": type(loader).__name__[:200],
            "batch_size": loader.batch_size, "drop_last": bool(loader.drop_last),
            "num_workers": int(loader.num_workers), "sampler": type(sampler).__name__[:200],
            "shuffled": shuffled,
            "generator": _generator_origin(getattr(sampler, "generator", None), args) if shuffled else "none",
            "dataset": view_of(loader.dataset, args, depth + 1), "batches": batches}


def _generator_origin(generator: Any, args: list[Any]) -> str:
    if generator is None:
        return "global"
    index = next((i for i, a in enumerate(args) if a is generator), None)
    return f"argument {index}" if index is not None else "another"


def _plain(value: Any, args: list[Any]) -> Any:
    """An item or a batch as plain data: tensors detached, containers kept."""
    if type(value) in (tuple, list):
        return type(value)(_plain(item, args) for item in value)
    if type(value) is dict:
        return {key: _plain(item, args) for key, item in value.items()}
    if isinstance(value, torch.Tensor):
        return value.detach()
    return value
