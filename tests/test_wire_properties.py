"""Property-based (hypothesis) checks of the two layers a room's bytes cross: the channel's framing and
``wire.decode``. Whatever arrives, the only exceptions are the declared refusals; valid messages round-trip."""
from __future__ import annotations

import json
import socket
import struct
import time

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.sandbox import wire
from grader.sandbox.channel import Channel, ChannelClosed, ChannelTimeout, FrameTooLarge, socket_pair

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Plain JSON, with the wire's own markers among the keys, so that forged markers are tried too.
MARKERS = st.sampled_from(["$t", "$tuple", "$dict", "$unsupported", "rg", "x"])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(MARKERS | st.text(max_size=4), inner, max_size=3),
    max_leaves=20)


def framed(head: bytes, blob: bytes = b"") -> bytes:
    return struct.pack(">I", len(head)) + head + blob


def refused_or_decoded(data: bytes) -> None:
    try:
        wire.decode(data)
    except wire.WireError:
        pass


@FAST
@given(st.binary(max_size=512))
def test_decode_refuses_any_bytes_with_its_own_error_only(data):
    refused_or_decoded(data)


@FAST
@given(JSON, st.just(b"") | st.binary(max_size=64))
def test_decode_refuses_any_json_tree_with_its_own_error_only(tree, blob):
    refused_or_decoded(framed(json.dumps(tree).encode(), blob))


def tensor_blob() -> bytes:
    """The safetensors part of a message carrying one tensor (key "0")."""
    message = wire.encode(torch.ones(1))
    (head_len,) = struct.unpack_from(">I", message)
    return message[4 + head_len:]


@FAST
@given(JSON, st.sampled_from([b"", tensor_blob()]))
def test_decode_refuses_a_tree_that_names_any_tensor_with_its_own_error_only(key, blob):
    refused_or_decoded(framed(json.dumps({"$t": key, "rg": True}).encode(), blob))


TENSORS = st.builds(lambda shape, dtype, grad: torch.zeros(shape, dtype=dtype).requires_grad_(grad and dtype.is_floating_point),
                    st.lists(st.integers(0, 3), max_size=3),
                    st.sampled_from([torch.float32, torch.float64, torch.int64, torch.bool, torch.uint8]),
                    st.booleans())
PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=8)
    | TENSORS,
    lambda inner: (st.lists(inner, max_size=4) | st.lists(inner, max_size=4).map(tuple)
                   | st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=12)


def same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, torch.Tensor):
        return a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad and torch.equal(a, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return a == b
    return a == b


@FAST
@given(PLAIN)
def test_plain_data_round_trips(value):
    assert same(wire.decode(wire.encode(value)), value)


# -- the channel: frames over a stream socket ------------------------------------------

def pair() -> tuple[Channel, socket.socket]:
    ours, theirs = socket_pair()
    return Channel(ours), theirs


@FAST
@given(st.lists(st.binary(max_size=2048), max_size=6))
def test_frames_round_trip_whole_and_in_order(frames):
    channel, theirs = pair()
    sender = Channel(theirs)
    try:
        sender.send(frames, time.monotonic() + 5)
        assert [channel.receive(4096, time.monotonic() + 5) for _ in frames] == frames
    finally:
        channel.close()
        sender.close()


@FAST
@given(st.binary(max_size=256), st.integers(0, 300))
def test_any_byte_stream_ends_in_a_frame_or_a_declared_refusal(stream, max_bytes):
    channel, theirs = pair()
    try:
        theirs.sendall(stream)
        theirs.shutdown(socket.SHUT_WR)
        started = time.monotonic()
        for _ in range(len(stream) + 1):
            try:
                frame = channel.receive(max_bytes, time.monotonic() + 0.05)
            except (ChannelClosed, ChannelTimeout, FrameTooLarge):
                break
            assert len(frame) <= max_bytes
        assert time.monotonic() - started < 5  # every call ended by its deadline
    finally:
        channel.close()
        theirs.close()
