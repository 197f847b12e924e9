"""Call(after_grads=True): each tensor argument's autograd state after the call
(whether it requires grad, the .grad it holds), answered by the executor, read
strictly against its request, compared in the student's words, and recorded."""
from __future__ import annotations

import types

import pytest
import torch

from grader.engine.checks import Call, compare_replies, diagnose_difference
from grader.engine.protocol import Reply
from grader.engine.recordings import load_recordings, save_recordings
from grader.engine.replies import MalformedReply, read_reply
from grader.sandbox import wire
from grader.sandbox.untrusted import executor

W = torch.tensor(0.5)
X = torch.arange(3.0)
OLD = torch.tensor(2.0)


def _request(w: torch.Tensor = W, grads: tuple = ()) -> Call:
    return Call("grad_of", (X, w, 1.5), after=True, after_grads=True, grads=grads)


FRESH_LEAF = ("def grad_of(x, w, b):\n    w = w.detach().clone().requires_grad_()\n"
              "    (w * x).sum().backward()\n    return w.grad\n")
CALLERS_W = "def grad_of(x, w, b):\n    w.requires_grad_()\n    (w * x).sum().backward()\n    return w.grad.clone()\n"
CLEARS = ("def grad_of(x, w, b):\n    (w * x).sum().backward()\n    g = w.grad.clone()\n"
          "    w.grad = None\n    return g\n")
ZEROES = ("def grad_of(x, w, b):\n    (w * x).sum().backward()\n    g = w.grad.clone()\n"
          "    w.grad.zero_()\n    return g\n")
KEEPS = "def grad_of(x, w, b):\n    (w * x).sum().backward()\n    return w.grad.clone()\n"


def _answer(request: Call, source: str) -> Reply:
    """A room's honest answer, through the wire and the strict reader, as the grader gets it."""
    module = types.ModuleType("submission")
    exec(source, module.__dict__)
    data = wire.decode(wire.encode(executor.run_request(module, wire.decode(request.encoded), catch=Exception),
                                   lenient=True))
    return read_reply(request, data)[0]


def _words(request: Call, want: Reply, got: Reply) -> str:
    difference = compare_replies(want, got, rtol=1e-5, atol=1e-6, names=got.arg_names)
    assert difference is not None
    return f"{difference} {diagnose_difference(request, difference, rtol=1e-5, atol=1e-6) or ''}"


def test_the_request_keeps_its_encoding_unless_asked():
    """Recordings made before the field existed keep their keys."""
    plain = Call("f", (X,), after=True)
    assert "after_grads" not in plain.to_plain()
    assert Call("f", (X,), after=True, after_grads=True).key != plain.key


def test_each_tensor_arguments_state_comes_back_and_a_float_has_none():
    reply = _answer(_request(), FRESH_LEAF)
    assert reply.after_grads == [{"requires_grad": False, "grad": None}, {"requires_grad": False, "grad": None},
                                 None]
    reply = _answer(_request(), CALLERS_W)
    assert reply.after_grads[1]["requires_grad"] and torch.equal(reply.after_grads[1]["grad"], X.sum())


def test_requires_grad_switched_on_for_the_callers_tensor_is_named():
    request = _request()
    words = _words(request, _answer(request, FRESH_LEAF), _answer(request, CALLERS_W))
    assert "`w` requires grad after the call" in words and "switched requires_grad on" in words


def test_a_gradient_left_behind_is_named_and_zeros_count_as_cleared():
    w = W.clone().requires_grad_()
    request = _request(w)
    want = _answer(request, CLEARS)
    assert compare_replies(want, _answer(request, ZEROES), rtol=1e-5, atol=1e-6) is None
    words = _words(request, want, _answer(request, KEEPS))
    assert "`w.grad` holds a gradient after the call, expected None" in words and "`w.grad = None`" in words
    assert "is None after your function" in _words(request, _answer(request, KEEPS), want)


def test_a_gradient_added_to_the_callers_old_one_is_named():
    w = W.clone().requires_grad_()
    request = _request(w, grads=(None, OLD))
    keeps_old = "def grad_of(x, w, b):\n    return x.sum()\n"
    adds_to_old = "def grad_of(x, w, b):\n    (w * x).sum().backward()\n    return x.sum()\n"
    assert "changed the gradient the caller's `w.grad` already held" in _words(
        request, _answer(request, keeps_old), _answer(request, adds_to_old))
    clears_first = "def grad_of(x, w, b):\n    w.grad = None\n    (w * x).sum().backward()\n    return x.sum()\n"
    assert "plus the one it already had" in _words(request, _answer(request, clears_first),
                                                   _answer(request, adds_to_old))


def test_an_argument_left_as_given_or_moved_the_wrong_way_is_named():
    request = Call("step", (torch.tensor([1.0, 2.0]),), after=True)
    want = _answer(request, "def step(p):\n    p.data -= 0.5\n")
    assert "exactly as it was given" in _words(request, want, _answer(request, "def step(p):\n    p = p - 0.5\n"))
    assert "opposite direction" in _words(request, want, _answer(request, "def step(p):\n    p.data += 0.5\n"))
    assert "2 times as far" in _words(request, want, _answer(request, "def step(p):\n    p.data -= 1.0\n"))


def _lie(change) -> dict:
    request = _request()
    module = types.ModuleType("submission")
    exec(FRESH_LEAF, module.__dict__)
    data = wire.decode(wire.encode(executor.run_request(module, wire.decode(request.encoded), catch=Exception)))
    change(data)
    return data


LIES = {
    "one state short": (lambda d: d["after_grads"].pop(), "2 arguments' gradients came back after the call, for 3"),
    "a state for a float": (lambda d: d["after_grads"].__setitem__(2, {"requires_grad": False, "grad": None}),
                            "that argument is not a tensor"),
    "a grad of another shape": (lambda d: d["after_grads"][1].__setitem__("grad", torch.ones(2)),
                                "expected float32 () like the argument"),
    "a grad of another dtype": (lambda d: d["after_grads"][1].__setitem__("grad", torch.ones((), dtype=torch.float64)),
                                "expected float32 () like the argument"),
    "requires_grad that is no flag": (lambda d: d["after_grads"][1].__setitem__("requires_grad", 1),
                                      "expected True or False"),
    "a state without its grad": (lambda d: d["after_grads"][1].pop("grad"), "has no grad"),
    "a state with more fields": (lambda d: d["after_grads"][1].__setitem__("grad_fn", None), "nobody asked for"),
    "no states at all": (lambda d: d.pop("after_grads"), "has no after_grads"),
    "a number for the list": (lambda d: d.__setitem__("after_grads", 3), "expected a list of 3"),
}


@pytest.mark.parametrize("case", LIES, ids=list(LIES))
def test_a_room_lying_about_the_autograd_state_is_refused_in_plain_words(case):
    change, words = LIES[case]
    with pytest.raises(MalformedReply, match=words.replace("(", r"\(").replace(")", r"\)")):
        read_reply(_request(), _lie(change))


def test_states_not_asked_for_are_refused():
    request = Call("grad_of", (X, W, 1.5), after=True)
    data = _lie(lambda d: None)
    with pytest.raises(MalformedReply, match="nobody asked for: 'after_grads'"):
        read_reply(request, data)


def test_recordings_carry_the_state(tmp_path):
    request = _request()
    reply = _answer(request, CALLERS_W)
    save_recordings(tmp_path, {"exercise6": {"reference": {request.key: reply}}})
    loaded = load_recordings(tmp_path, "exercise6")["reference"][request.key]
    assert loaded.after_grads[1]["requires_grad"] and torch.equal(loaded.after_grads[1]["grad"], X.sum())
    assert loaded.after_grads[2] is None
