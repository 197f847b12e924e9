"""A tiny reply must not cost the grader gigabytes (issue 23, part 9).

An empty tensor with huge sizes is ~100 bytes on the wire; shapes of many
dimensions, and long but empty nested lists, are cheap to send too. Each is
read and compared as the submission's failing verdict, and what the grader
computes from it stays bounded by what it received: checked here under an
address-space cap a little above what the grader already uses, so a diagnosis
that builds a tensor from the reply's sizes fails the test with an allocation
error instead of passing quietly.
"""
from __future__ import annotations

import contextlib
import json
import resource
import struct
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from grader.engine.checks import Check, GradeFailure
from grader.engine.protocol import Call, Reply
from grader.engine.replies import read_reply
from grader.engine.subjects import ModuleSubject
from grader.sandbox import wire

HEADROOM_MB = 160  # what one comparison may add to the grader's address space
REFERENCE = """
import torch

def predict(x):
    return x * 2

def losses(x):
    return [float(v) for v in x]
"""


def _reference() -> ModuleSubject:
    module = types.ModuleType("reference_for_costs")
    exec(REFERENCE, module.__dict__)
    return ModuleSubject(module)


class _Replying:
    """A student whose room sent ``value``, read as the grader reads every reply."""

    def __init__(self, value: object) -> None:
        self.value = value

    def run_many(self, requests) -> list[Reply]:
        data = wire.decode(wire.encode({"value": self.value}, lenient=True))
        return [read_reply(request, data)[0] for request in requests]

    def run(self, request) -> Reply:
        return self.run_many([request])[0]


def _vm_size_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) << 10
    raise LookupError("no VmSize")


@contextlib.contextmanager
def _address_space_cap(headroom_mb: int) -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _vm_size_bytes() + (headroom_mb << 20)
    if hard != resource.RLIM_INFINITY and hard < cap:
        pytest.skip("the address-space limit is already lower than the cap")
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _verdict(function: str, value: object) -> GradeFailure:
    check = Check(student=_Replying(value), reference=_reference(), mistakes=lambda: (), rtol=1e-5, atol=1e-8)
    request = Call(function, (torch.arange(9.0),))
    with _address_space_cap(HEADROOM_MB), pytest.raises(GradeFailure) as failure:
        check.same(request)
    return failure.value


@pytest.mark.parametrize("size", [2**25, 2**26, 2**40, 2**62], ids=lambda s: f"2^{s.bit_length() - 1}")
def test_an_empty_tensor_with_a_huge_size_is_a_wrong_shape_at_no_cost(size):
    failure = _verdict("predict", torch.empty(0, size))
    assert f"has shape (0, {size}), expected (9,)" in failure.message


@pytest.mark.parametrize("shape", [(0,) + (1,) * 63, (3,) * 10 + (0,) + (2**40,), (2,) * 16],
                         ids=["64 dims", "12 dims, empty", "16 dims, 65536 elements"])
def test_many_dimensions_are_a_wrong_shape_at_no_cost(shape):
    failure = _verdict("predict", torch.zeros(shape))
    assert f"has shape {shape}, expected (9,)" in failure.message


@pytest.mark.parametrize("value", [[[]] * 40_000, [[[[[]]]]] * 10_000, {"k" * 150 + str(i): [] for i in range(20_000)},
                                   [0.5] * 100_000],
                         ids=["40,000 empty lists", "nested empty lists", "20,000 long keys", "100,000 numbers"])
def test_long_but_empty_values_are_a_failure_with_a_short_message(value):
    failure = _verdict("losses", value)
    assert len(failure.message) < 500


def test_a_tensor_of_more_dimensions_than_torch_computes_on_is_refused_at_the_boundary():
    head = json.dumps({"$t": "0", "rg": False}).encode()
    header = json.dumps({"0": {"dtype": "F32", "shape": [0] + [1] * 999, "data_offsets": [0, 0]}}).encode()
    blob = struct.pack("<Q", len(header)) + header
    with pytest.raises(wire.WireError, match="1000 dimensions"):
        wire.decode(struct.pack(">I", len(head)) + head + blob)


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 1, 3), (2, 3, 4, 5)])
def test_the_index_of_the_greatest_difference_is_torchs(shape):
    from grader.engine.checks import unravel

    total = int(torch.tensor(shape).prod())
    assert [unravel(flat, shape) for flat in range(total)] == [
        tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), shape)) for flat in range(total)]


def test_wording_a_mismatch_imports_no_symbolic_shapes():
    """torch.unravel_index's first call imports torch.fx's symbolic shapes (1-4 s): a cold
    grade with one wrong tensor paid it before its verdict."""
    import subprocess
    import sys

    script = ("import sys, torch\n"
              "from grader.engine.checks import mismatch_words, tensor_diagnosis\n"
              "want, got = torch.zeros(2, 3), torch.arange(6.0).reshape(2, 3)\n"
              "assert '(1, 2)' in mismatch_words(want, got, 1e-6, 1e-5)\n"
              "assert '(1, 2)' in tensor_diagnosis(want, got, 1e-6, 1e-5)\n"
              "print('torch.fx.experimental.symbolic_shapes' in sys.modules)\n")
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "False"
