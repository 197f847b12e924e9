"""Plain-data wire format between the grader and a sandbox.

A message is a JSON tree plus one safetensors blob for its tensors. Decoding
runs no code (no pickle, no ``torch.load``): JSON gives numbers, strings,
lists and markers; safetensors gives dense tensors and rejects forged
headers. Both sides import this module; it knows nothing of tests.

Frame: 4-byte big-endian JSON length, JSON (UTF-8), then safetensors bytes.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

import safetensors
import torch
from safetensors.torch import load as _load_tensors
from safetensors.torch import save as _save_through_numpy

_HEADER = struct.Struct(">I")
MAX_DEPTH = 64
# Lists, dicts and their items in one message. A 64 MB message of "[],[],..."
# would otherwise cost the reader ~3 GB and ~100 s; plain data a sandbox
# sends (tensors travel apart, in the safetensors blob) has few.
MAX_ITEMS = 1 << 18
# Dimensions of one tensor: torch's own limit, past which every operation on it
# raises. An empty tensor may have huge sizes (``torch.empty(0, 2**40)`` is
# ~100 bytes); what a reader computes from one is bounded where it computes.
MAX_TENSOR_DIMS = 64

# Markers are dict keys that cannot clash with a user's dict: user dicts are
# always wrapped in {"$dict": [[key, value], ...]}.
_TENSOR, _TUPLE, _DICT, _UNSUPPORTED = "$t", "$tuple", "$dict", "$unsupported"


class WireError(ValueError):
    """A message that is not plain data, or is malformed."""


@dataclass(frozen=True)
class Unsupported:
    """A value that could not cross the boundary; only its type's name does."""

    type_name: str

    def __str__(self) -> str:
        return self.type_name


def encode(value: Any, *, lenient: bool = False) -> bytes:
    """Encode plain data. With ``lenient`` (the sandbox side), anything that is
    not plain data becomes ``Unsupported(type name)`` instead of an error, so
    the grader can say "returned Liar, expected torch.Tensor"."""
    tree, tensors = split(value, lenient=lenient)
    head = json.dumps(tree, separators=(",", ":")).encode()
    blob = _save_tensors(tensors) if tensors else b""
    return _HEADER.pack(len(head)) + head + blob


def decode(data: bytes) -> Any:
    if len(data) < _HEADER.size:
        raise WireError("message too short")
    (head_len,) = _HEADER.unpack_from(data)
    if head_len > len(data) - _HEADER.size:
        raise WireError("message header longer than the message")
    head = data[_HEADER.size:_HEADER.size + head_len]
    # Counted before parsing, at C speed (an upper bound: commas in strings count too).
    items = head.count(b",") + head.count(b"[") + head.count(b"{")
    if items > MAX_ITEMS:
        raise WireError(f"message holds more than {MAX_ITEMS:,} items")
    try:
        tree = json.loads(head)
    except (ValueError, RecursionError) as error:
        raise WireError(f"message is not valid JSON: {error}") from None
    blob = data[_HEADER.size + head_len:]
    try:
        tensors = _load_tensors(blob) if blob else {}
    except Exception as error:  # noqa: BLE001 - safetensors raises its own error types
        raise WireError(f"tensor payload rejected: {error}") from None
    for tensor in tensors.values():
        if tensor.dim() > MAX_TENSOR_DIMS:
            raise WireError(f"a tensor of {tensor.dim()} dimensions (at most {MAX_TENSOR_DIMS})")
    return join(tree, tensors)


def _save_tensors(tensors: dict[str, torch.Tensor]) -> bytes:
    """safetensors bytes for contiguous CPU tensors. safetensors' own ``save``
    copies each tensor through numpy (~60 us per small tensor); handing its
    serializer the tensors' memory directly gives the same bytes ~30x faster.
    ``tensors`` keeps the memory alive for the call."""
    if not hasattr(safetensors, "TensorSpec"):  # safetensors < 0.8
        return _save_through_numpy(tensors)
    spec = safetensors.TensorSpec
    specs = {key: spec(dtype=_dtype_name(t.dtype), shape=t.shape, data_ptr=t.data_ptr(), data_len=t.nbytes)
             for key, t in tensors.items()}
    return bytes(safetensors.serialize(specs))


_DTYPE_NAMES: dict[torch.dtype, str] = {}


def _dtype_name(dtype: torch.dtype) -> str:
    """safetensors' name of a dtype ("float32"), made once per dtype (``str`` of a dtype costs ~1 us)."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype).removeprefix("torch.")
    return name


def split(value: Any, *, lenient: bool = False) -> tuple[Any, dict[str, torch.Tensor]]:
    """Plain data as a JSON-able tree and the tensors it refers to (for files:
    JSON beside a .safetensors file)."""
    tensors: dict[str, torch.Tensor] = {}
    return _to_tree(value, tensors, lenient, 0), tensors


def join(tree: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """The inverse of ``split``; validates the tree like ``decode``."""
    return _from_tree(tree, tensors, 0)


# Exact types that stand for themselves in a tree, both ways. Lists and dicts hold
# mostly these: their items are taken in place, without a call each (a message has
# ~20 nodes; the calls were most of the cost of encoding and decoding one).
_PLAIN = frozenset({type(None), bool, int, float, str})


def _to_tree(value: Any, tensors: dict[str, torch.Tensor], lenient: bool, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    kind = type(value)  # exact types only: subclasses may lie about themselves
    if kind in _PLAIN:
        return value
    if kind is torch.Tensor:
        return _tensor_to_tree(value, tensors, lenient)
    if kind is list:
        return _items_to_tree(value, tensors, lenient, depth + 1)
    if kind is tuple:
        return {_TUPLE: _items_to_tree(value, tensors, lenient, depth + 1)}
    if kind is dict:
        return _dict_to_tree(value, tensors, lenient, depth)
    if kind is Unsupported:
        return {_UNSUPPORTED: value.type_name}
    return _unsupported(value, lenient, type(value).__name__)


def _items_to_tree(values: list[Any] | tuple[Any, ...], tensors: dict[str, torch.Tensor], lenient: bool,
                   depth: int) -> list[Any]:
    """The items of a list or tuple at ``depth`` (past MAX_DEPTH, any item goes to _to_tree, which refuses it)."""
    if depth > MAX_DEPTH:
        return [_to_tree(v, tensors, lenient, depth) for v in values]
    return [v if type(v) in _PLAIN else _to_tree(v, tensors, lenient, depth) for v in values]


def _tensor_to_tree(value: torch.Tensor, tensors: dict[str, torch.Tensor], lenient: bool) -> dict[str, Any]:
    # ``is_cpu``, not ``device.type``: making a device object costs more than the rest of this function.
    if value.layout != torch.strided or value.is_quantized or not value.is_cpu:
        return _unsupported(value, lenient, f"{value.layout} {value.device.type} tensor")
    key = str(len(tensors))
    # The bytes are written before this call returns: a view is enough
    # (no copy), once lazy negation/conjugation bits are made real.
    plain = value.detach()
    if plain.is_conj() or plain.is_neg() or not plain.is_contiguous():
        plain = plain.resolve_conj().resolve_neg().contiguous()
    tensors[key] = plain
    return {_TENSOR: key, "rg": bool(value.requires_grad)}


def _dict_to_tree(value: dict[Any, Any], tensors: dict[str, torch.Tensor], lenient: bool,
                  depth: int) -> dict[str, Any]:
    items = []
    inner = depth + 1
    for key, item in value.items():
        if type(key) is not str:
            return _unsupported(value, lenient, f"dict with {type(key).__name__} keys")
        items.append([key, item if inner <= MAX_DEPTH and type(item) in _PLAIN
                      else _to_tree(item, tensors, lenient, inner)])
    return {_DICT: items}


def _unsupported(value: Any, lenient: bool, name: str) -> dict[str, Any]:
    if not lenient:
        raise WireError(f"cannot send a {name}")
    return {_UNSUPPORTED: type(value).__name__}


def _from_tree(tree: Any, tensors: dict[str, torch.Tensor], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if type(tree) in _PLAIN:
        return tree
    if type(tree) is list:
        return _items_from_tree(tree, tensors, depth + 1)
    if type(tree) is dict and len(tree) in (1, 2):
        if _TENSOR in tree:
            return _tensor_from_tree(tree, tensors)
        if len(tree) == 1:
            return _tagged_from_tree(tree, tensors, depth)
    raise WireError(f"unexpected value in message: {str(tree)[:80]}")


def _items_from_tree(items: list[Any], tensors: dict[str, torch.Tensor], depth: int) -> list[Any]:
    """A list's items at ``depth`` (past MAX_DEPTH, any item goes to _from_tree, which refuses it)."""
    if depth > MAX_DEPTH:
        return [_from_tree(v, tensors, depth) for v in items]
    return [v if type(v) in _PLAIN else _from_tree(v, tensors, depth) for v in items]


def _tensor_from_tree(tree: dict[str, Any], tensors: dict[str, torch.Tensor]) -> torch.Tensor:
    tensor = tensors.get(tree[_TENSOR]) if type(tree[_TENSOR]) is str else None
    if tensor is None:
        raise WireError("message refers to a tensor it does not carry")
    return tensor.requires_grad_(True) if tree.get("rg") is True and tensor.is_floating_point() else tensor


def _tagged_from_tree(tree: dict[str, Any], tensors: dict[str, torch.Tensor], depth: int) -> Any:
    """A one-key tree: a tuple, a dict (as its pairs) or an unsupported value's type name."""
    if _TUPLE in tree and type(tree[_TUPLE]) is list:
        return tuple(_items_from_tree(tree[_TUPLE], tensors, depth + 1))
    if _DICT in tree and type(tree[_DICT]) is list:
        out = {}
        inner = depth + 1
        for pair in tree[_DICT]:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise WireError("malformed dict entry")
            item = pair[1]
            out[pair[0]] = item if inner <= MAX_DEPTH and type(item) in _PLAIN else _from_tree(item, tensors, inner)
        return out
    if _UNSUPPORTED in tree and type(tree[_UNSUPPORTED]) is str:
        return Unsupported(tree[_UNSUPPORTED][:200])
    raise WireError(f"unexpected value in message: {str(tree)[:80]}")
