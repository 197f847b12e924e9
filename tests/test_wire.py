"""The plain-data boundary: what a sandbox sends back is data, never code."""
from __future__ import annotations

import json
import pickle
import struct

import pytest
import torch

from grader.sandbox import wire
from grader.sandbox.wire import Unsupported, WireError


def test_plain_values_round_trip_with_requires_grad():
    value = {"x": (torch.randn(3, requires_grad=True), 1.5, [None, "s", True, 7]), "e": torch.zeros(0),
             "scalar": torch.tensor(2.0), "ints": torch.arange(4)}
    back = wire.decode(wire.encode(value))
    assert back["x"][0].requires_grad and torch.equal(back["x"][0], value["x"][0])
    assert back["x"][1:] == value["x"][1:] and type(back["x"]) is tuple
    assert back["e"].shape == (0,) and back["scalar"].dim() == 0 and back["ints"].dtype == torch.int64


def test_the_sandbox_side_turns_objects_and_tensor_subclasses_into_their_type_names():
    class Liar(torch.Tensor):
        pass

    class Yes:
        def __eq__(self, other):
            return True

    back = wire.decode(wire.encode([torch.ones(2).as_subclass(Liar), Yes(), {1: 2}], lenient=True))
    assert back == [Unsupported("Liar"), Unsupported("Yes"), Unsupported("dict")]


def test_the_trusted_side_refuses_to_send_objects():
    with pytest.raises(WireError):
        wire.encode(object())


@pytest.mark.parametrize("data", [
    b"",
    struct.pack(">I", 999) + b"{}",
    struct.pack(">I", 2) + b"{]",
    struct.pack(">I", 9) + b'{"$t":"0"}',  # a tensor the message does not carry
    struct.pack(">I", 11) + b'{"$x":"evil"}',
    pickle.dumps(torch.zeros(1)),
])
def test_malformed_or_forged_messages_are_rejected(data):
    with pytest.raises(WireError):
        wire.decode(data)


def test_forged_safetensors_header_is_rejected():
    head = json.dumps({"$t": "0", "rg": False}).encode()
    forged = json.dumps({"0": {"dtype": "F32", "shape": [1 << 40], "data_offsets": [0, 1 << 42]}}).encode()
    blob = struct.pack("<Q", len(forged)) + forged + b"\0" * 16
    with pytest.raises(WireError):
        wire.decode(struct.pack(">I", len(head)) + head + blob)


def test_deep_nesting_is_an_error_not_a_crash():
    value: list = []
    for _ in range(wire.MAX_DEPTH + 5):
        value = [value]
    with pytest.raises(WireError):
        wire.encode(value)
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(WireError):
        wire.decode(struct.pack(">I", len(deep)) + deep)


def _nested(kind: str, levels: int, leaf: object) -> object:
    """``leaf`` inside ``levels`` lists, tuples or dicts (the leaf at depth ``levels``)."""
    value = leaf
    for _ in range(levels):
        value = [value] if kind == "list" else (value,) if kind == "tuple" else {"k": value}
    return value


def _framed(tree: object) -> bytes:
    head = json.dumps(tree).encode()
    return struct.pack(">I", len(head)) + head


@pytest.mark.parametrize("kind", ["list", "tuple", "dict"])
@pytest.mark.parametrize("leaf", [1.5, None, "s", True, 7])
def test_a_plain_leaf_counts_for_the_depth_limit_like_any_value(kind, leaf):
    """Plain items are taken in place (no call each): the limit must still count their depth."""
    assert wire.decode(wire.encode(_nested(kind, wire.MAX_DEPTH, leaf))) == _nested(kind, wire.MAX_DEPTH, leaf)
    with pytest.raises(WireError, match="nested too deeply"):
        wire.encode(_nested(kind, wire.MAX_DEPTH + 1, leaf))
    tree = leaf
    for _ in range(wire.MAX_DEPTH + 1):
        tree = [tree] if kind == "list" else {"$tuple": [tree]} if kind == "tuple" else {"$dict": [["k", tree]]}
    with pytest.raises(WireError, match="nested too deeply"):
        wire.decode(_framed(tree))
