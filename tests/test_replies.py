"""A student's reply is read against its request (grader.engine.replies) and its
output is capped by the trusted side (grader.sandbox.captured): each malformed
shape is a plain-words MalformedReply, never a skipped check or a grader error."""
from __future__ import annotations

import math
import struct
import types

import pytest
import torch

from grader.engine.checks import GradeFailure, compare_replies
from grader.engine.plugin import MAX_MESSAGE_CHARS, _failure_fields
from grader.engine.protocol import Build, Call, Inspect, Reply
from grader.engine.replies import (
    MAX_ITEMS,
    MAX_NAME_CHARS,
    MAX_TEXT_CHARS,
    MalformedReply,
    read_reply,
)
from grader.sandbox import captured, wire
from grader.sandbox.untrusted import executor

X = torch.arange(3.0, requires_grad=True)
GRAD_CALL = Call("model", (X, 2.0, torch.ones(())), cotangent=torch.ones(3))
AFTER_CALL = Call("train", (X.detach(), Build("torch.nn.Linear", (1, 1)), 5), after=True)
INSPECT = Inspect(Build("torch.nn.Linear", (1, 1)))


def _honest(request, module_source: str = "") -> dict:
    """What an unmodified room answers, through the wire as the grader reads it."""
    module = types.ModuleType("submission")
    exec(module_source, module.__dict__)
    reply = executor.run_request(module, wire.decode(request.encoded), catch=Exception)
    return wire.decode(wire.encode(reply, lenient=True))


HONEST_MODEL = "def model(x, w, b):\n    return w * x + b\n"
HONEST_TRAIN = "def train(x, model, epochs):\n    x.add_(1)\n    return [1.0] * epochs\n"


def test_honest_answers_are_read_unchanged():
    reply, cuts = read_reply(GRAD_CALL, _honest(GRAD_CALL, HONEST_MODEL))
    assert cuts == ()
    assert torch.equal(reply.value, 2 * X.detach() + 1)
    assert torch.equal(reply.input_grads[0], torch.full((3,), 2.0)) and reply.input_grads[1:] == [None, None]
    assert reply.param_grads == {}
    reply, _ = read_reply(AFTER_CALL, _honest(AFTER_CALL, HONEST_TRAIN))
    assert reply.value == [1.0] * 5 and reply.after[2] is None
    assert reply.after[1]["is_module"] and [p["name"] for p in reply.after[1]["parameters"]] == ["weight", "bias"]
    reply, _ = read_reply(INSPECT, _honest(INSPECT))
    assert reply.value["type"] == "Linear"


def test_an_honest_error_is_read_as_the_submissions_error():
    reply, _ = read_reply(GRAD_CALL, _honest(GRAD_CALL, "def model(x, w, b):\n    raise ValueError('no')\n"))
    assert reply.error["type"] == "ValueError" and reply.error["message"] == "no"


def _forged(request, source: str, change) -> dict:
    data = _honest(request, source)
    change(data)
    return data


def _set(key, value):
    return lambda data: data.__setitem__(key, value)


MALFORMED = {
    # a reply with fewer gradients than arguments would skip checks if compared pairwise
    "fewer gradients": (GRAD_CALL, HONEST_MODEL, _set("input_grads", []), "0 gradients came back for 3 arguments"),
    "a number where a list belongs": (GRAD_CALL, HONEST_MODEL, _set("input_grads", 7),
                                      "the gradients are the number 7"),
    "a list where a tensor belongs": (GRAD_CALL, HONEST_MODEL, lambda d: d["input_grads"].__setitem__(0, [2.0] * 3),
                                      "argument 1 is a list, expected a tensor"),
    "a gradient of another shape": (GRAD_CALL, HONEST_MODEL, lambda d: d["input_grads"].__setitem__(0, torch.ones(2)),
                                    "expected float32 (3,) like the argument"),
    "a gradient for an argument without grad": (GRAD_CALL, HONEST_MODEL,
                                                lambda d: d["input_grads"].__setitem__(1, torch.ones(())),
                                                "that argument does not require grad"),
    "no gradient and no reason": (GRAD_CALL, HONEST_MODEL, lambda d: d.pop("input_grads"), "has no input_grads"),
    "an int of 400 digits": (GRAD_CALL, HONEST_MODEL, _set("value", 10 ** 400), "an integer of 401 digits"),
    "an int of 400 digits deep inside": (GRAD_CALL, HONEST_MODEL, _set("value", {"a": [1, (2, -10 ** 400)]}),
                                         "an integer of 401 digits"),
    "a field nobody asked for": (GRAD_CALL, HONEST_MODEL, _set("after", []), "fields nobody asked for: 'after'"),
    "no value": (GRAD_CALL, HONEST_MODEL, lambda d: d.pop("value"), "has no value"),
    "an error that is not a dict": (GRAD_CALL, HONEST_MODEL, lambda d: (d.clear(), d.update(error="boom")),
                                    "the error is a str"),
    "an error of an unknown kind": (GRAD_CALL, HONEST_MODEL,
                                    lambda d: (d.clear(), d.update(error={"type": "E", "message": "", "kind": "x"})),
                                    "unknown kind"),
    "fewer states after the call": (AFTER_CALL, HONEST_TRAIN, lambda d: d["after"].pop(),
                                    "2 arguments came back after the call, for 3"),
    "a state where none belongs": (AFTER_CALL, HONEST_TRAIN, lambda d: d["after"].__setitem__(2, 5),
                                   "expected nothing"),
    "a list where a tensor state belongs": (AFTER_CALL, HONEST_TRAIN, lambda d: d["after"].__setitem__(0, [1.0]),
                                            "argument 1 after the call is a list, expected a tensor"),
    "NaN where a count belongs": (INSPECT, "", lambda d: d["value"]["children"].append(
        {"name": "c", "type": "Linear", "in_features": math.nan, "out_features": 1}),
        "the number nan, expected a count"),
    "infinity in a shape": (INSPECT, "", lambda d: d["value"]["parameters"][0].__setitem__("shape", [math.inf, 1]),
                            "the number inf, expected a count"),
    "a number where the parameter list belongs": (INSPECT, "", lambda d: d["value"].__setitem__("parameters", 5),
                                                  "the parameters of the module is the number 5, expected a list"),
    "a parameter whose value disagrees with its shape": (
        INSPECT, "", lambda d: d["value"]["parameters"][0].__setitem__("value", torch.ones(3)), "but its value is"),
    "a parameter without requires_grad": (INSPECT, "", lambda d: d["value"]["parameters"][0].pop("requires_grad"),
                                          "has no requires_grad"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_each_malformed_answer_is_rejected_in_plain_words(case):
    request, source, change, words = MALFORMED[case]
    with pytest.raises(MalformedReply) as caught:
        read_reply(request, _forged(request, source, change))
    assert words in str(caught.value)
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize("answer", [None, 5, [], "text", ("a",)])
def test_an_answer_that_is_no_dict_is_rejected(answer):
    with pytest.raises(MalformedReply, match="the answer is"):
        read_reply(GRAD_CALL, answer)


def test_names_and_text_are_cut_with_a_note():
    data = _honest(GRAD_CALL, HONEST_MODEL)
    data["param_grads"] = {"w" * (3 << 20): None}
    data["value"] = ["x" * (MAX_TEXT_CHARS + 5)]
    reply, cuts = read_reply(GRAD_CALL, data)
    (name,) = reply.param_grads
    assert len(name) == MAX_NAME_CHARS + 1 and name.endswith("…")
    assert len(reply.value[0]) == MAX_TEXT_CHARS + 1
    assert any("3,145,728 characters" in cut for cut in cuts) and len(cuts) == 2


def test_an_error_message_is_cut_and_lone_surrogates_made_printable():
    data = {"error": {"type": "E" * 1000, "message": "\ud800" + "m" * 10 ** 6, "kind": "student"}}
    reply, cuts = read_reply(GRAD_CALL, data)
    assert len(reply.error["message"]) == MAX_TEXT_CHARS + 1 and len(reply.error["type"]) == MAX_NAME_CHARS + 1
    reply.error["message"].encode("utf-8")  # no lone surrogate left to break a report
    assert len(cuts) == 2


def test_too_many_parameters_are_cut_with_a_note():
    data = _honest(INSPECT)
    data["value"]["parameters"] *= MAX_ITEMS
    reply, cuts = read_reply(INSPECT, data)
    assert len(reply.value["parameters"]) == MAX_ITEMS and "2,000 came back" in cuts[0]


def test_comparisons_never_pair_up_fewer_entries_than_expected():
    """Trusted replies are not read through replies: the comparison itself checks lengths."""
    want = Reply(value=torch.ones(3), input_grads=[torch.ones(3), None], param_grads={},
                 after=[torch.ones(3), None])
    for got in (Reply(value=torch.ones(3), input_grads=[], param_grads={}, after=want.after),
                Reply(value=torch.ones(3), input_grads=want.input_grads, param_grads={}, after=[]),
                Reply(value=torch.ones(3), input_grads=want.input_grads, param_grads={}, after=None)):
        difference = compare_replies(want, got, rtol=1e-6, atol=1e-6)
        assert difference is not None and "expected 2" in str(difference)


def test_the_trusted_side_caps_output_whatever_the_room_says():
    kept, dropped = "", 0
    for _ in range(5):
        kept, dropped = captured.append(kept, dropped, *captured.take({"output": "x" * 1000, "dropped": 3}), 2500)
    assert len(kept) == 2500 and dropped == 5 * 1000 - 2500 + 5 * 3


@pytest.mark.parametrize("reply", [{"output": 5}, {"dropped": math.nan}, {"dropped": math.inf}, {"dropped": -1},
                                   {"dropped": 10 ** 400}, {"dropped": True}, {"dropped": 2.0}])
def test_malformed_output_fields_are_rejected(reply):
    with pytest.raises(captured.MalformedOutput):
        captured.take(reply)


def test_a_message_of_too_many_items_is_refused_before_it_is_parsed():
    """A 64 MB reply of "[],[],..." once cost the grader ~3 GB and ~100 s to decode."""
    head = b"[" + b"[]," * wire.MAX_ITEMS + b"[]]"
    with pytest.raises(wire.WireError, match="more than"):
        wire.decode(struct.pack(">I", len(head)) + head)
    small = [[]] * 1000
    assert wire.decode(wire.encode(small)) == small


def _raised_in_a_hidden_suite(error_source: str) -> BaseException:
    """An exception whose traceback runs through a (fake) hidden suite file."""
    code = compile(f"def test_secret_check():\n    {error_source}\n", "/course/suites/test_exercise9.py", "exec")
    namespace: dict = {}
    exec(code, namespace)
    try:
        namespace["test_secret_check"]()
    except BaseException as error:
        return error
    raise AssertionError("nothing was raised")


@pytest.mark.parametrize("source", ["raise TypeError('zip argument #2 must support iteration')",
                                    "assert [1, 2] == [1, 2, 3]"])
def test_a_failure_inside_a_hidden_suite_never_shows_the_suite(source, caplog):
    error = _raised_in_a_hidden_suite(source)
    with caplog.at_level("INFO", logger="torchgrade"):
        fields = _failure_fields(error)
    for leak in ("suites/", "test_exercise9", "test_secret_check", "Traceback", "zip argument", "[1, 2]"):
        assert leak not in fields["message"], leak
    if isinstance(error, TypeError):
        assert fields["verdict"] == "grader error" and "not the submission's fault" in fields["message"]
        assert "suites/test_exercise9.py" in caplog.text  # the instructor still gets the traceback


def test_a_suite_authors_own_assertion_words_are_kept():
    error = AssertionError("the loss must be a 0-dim tensor\nassert reply.value.dim() == 0")
    assert _failure_fields(error)["message"] == "the loss must be a 0-dim tensor"


def test_a_failure_message_is_bounded():
    message = _failure_fields(GradeFailure("x" * 10 ** 7))["message"]
    assert len(message) < MAX_MESSAGE_CHARS + 100 and "10,000,000 characters" in message


def test_a_type_name_that_no_report_could_hold_is_made_printable():
    data = _honest(GRAD_CALL, HONEST_MODEL)
    data["value"] = wire.Unsupported("Liar\ud800")
    reply, _ = read_reply(GRAD_CALL, data)
    assert reply.value.type_name == "Liar?"


def test_a_title_is_the_docstrings_whole_first_paragraph():
    from grader.engine.plugin import docstring_title
    doc = """grad_by_autograd gives [dL/dw, dL/db] with backward(), and leaves the caller's w and b as they were: no
    gradient left in them.

    More words for the reader of the suite."""
    assert docstring_title(doc, "test_x") == ("grad_by_autograd gives [dL/dw, dL/db] with backward(), and leaves the "
                                              "caller's w and b as they were: no gradient left in them.")
    assert docstring_title(None, "test_x") == "test_x"
