"""Views, probes, nested builds and seeded calls (issue 18's generic capabilities):
honest answers read unchanged and compared in words; a room that lies in a view or
a probe's record is a MalformedReply; existing requests keep their encodings."""
from __future__ import annotations

import copy
import types
from pathlib import Path

import pytest
import torch

from grader.engine.checks import compare_replies
from grader.engine.protocol import Build, Call, Inspect
from grader.engine.replies import MalformedReply, read_reply
from grader.engine.subjects import ModuleSubject
from grader.sandbox import wire
from grader.sandbox.untrusted import executor, probes, views

ROOT = Path(__file__).resolve().parents[1]
X, Y = torch.randn(20, 4, generator=torch.Generator().manual_seed(0)), torch.arange(20) % 3
LOADERS = ("the training loader", "the validation loader", "the test loader")
MAKE_LOADERS = Call("make_loaders", (Build("torch.utils.data.TensorDataset", (X, Y)),
                                     Build("probe.seeded_generator", (5,))), views=True, seed=3, parts=LOADERS)
PROBED = Build("torch.nn.Sequential", (Build("torch.nn.Linear", (4, 3)), Build("probe.ModeProbe"),
                                       Build("torch.nn.Dropout", (0.5,))),
               state={"0.weight": torch.ones(3, 4), "0.bias": torch.zeros(3)})
EVALUATE = Call("evaluate", (PROBED, X), after=True, seed=1)
EVALUATE_SOURCE = ("import torch\n"
                   "def evaluate(model, x):\n    model.eval()\n    with torch.inference_mode():\n"
                   "        return model(x).sum().item()\n")


def _module(source: str) -> types.ModuleType:
    module = types.ModuleType("submission")
    exec(source, module.__dict__)
    return module


def _answer(request, source: str) -> dict:
    """What a room answers, through the wire as the grader reads it."""
    reply = executor.run_request(_module(source), wire.decode(request.encoded), catch=Exception)
    return wire.decode(wire.encode(reply, lenient=True))


def _solution(n: int) -> str:
    return (ROOT / "solutions" / f"exercise{n}.py").read_text()


def test_existing_requests_keep_their_encodings():
    build, call = Build("torch.nn.Linear", (1, 1)), Call("model", (1.0,))
    assert "tagged" not in build.to_plain() and {"seed", "views"}.isdisjoint(call.to_plain())
    nested = Build("torch.utils.data.DataLoader", (Build("torch.utils.data.TensorDataset", (X, Y)),))
    assert nested.to_plain()["tagged"] is True
    assert Call("f", seed=1).key != Call("f").key and Call("f", views=True).key != Call("f").key
    assert Call("f", parts=("a",)).key == Call("f").key  # words only, never sent


def test_honest_loaders_are_read_and_compared_in_words():
    data = _answer(MAKE_LOADERS, _solution(8))
    reply, cuts = read_reply(MAKE_LOADERS, data)
    assert cuts == ()
    train, val, _ = reply.value
    assert (train["batch_size"], train["shuffled"], train["generator"]) == (10, True, "argument 1")
    assert train["dataset"]["dataset"] == {"view": "argument", "index": 0} and not val["shuffled"]
    assert len(train["dataset"]["indices"]) == 14 and len(train["batches"]) == 2
    shuffled = _answer(MAKE_LOADERS, _solution(8).replace("batch_size=10, shuffle=False)", "batch_size=10, "
                                                          "shuffle=True)", 1))
    found = compare_replies(reply, read_reply(MAKE_LOADERS, shuffled)[0], rtol=1e-5, atol=1e-5,
                            parts=LOADERS)
    assert found is not None and str(found) == "the validation loader shuffles its samples: it should give them in order"


def test_a_seeded_call_leaves_the_graders_random_state_alone():
    before = torch.random.get_rng_state()
    first = ModuleSubject(_module(_solution(8))).run(MAKE_LOADERS)
    assert torch.equal(torch.random.get_rng_state(), before)
    again = ModuleSubject(_module(_solution(8))).run(MAKE_LOADERS)
    assert compare_replies(first, again, rtol=0, atol=0) is None


def test_probes_record_how_the_model_ran_and_the_words_say_so():
    honest, _ = read_reply(EVALUATE, _answer(EVALUATE, EVALUATE_SOURCE))
    assert honest.after[0]["probes"] == [{"name": "1", "calls": 1, "records": [
        {"training": False, "grad": False, "inference": True, "batch": 20}]}]
    careless, _ = read_reply(EVALUATE, _answer(EVALUATE, EVALUATE_SOURCE.replace("    model.eval()\n", "")))
    found = compare_replies(honest, careless, rtol=1e-5, atol=1e-5, names=["model", "x"])
    assert found is not None and "was in training mode, expected evaluation mode" in str(found)
    assert str(found).startswith("`model`: in forward call 1 of 1")


def _lie(data: dict, change) -> dict:
    forged = copy.deepcopy(data)
    change(forged)
    return forged


@pytest.mark.parametrize("change, words", [
    (lambda d: d["value"][0].update(batches=[[X[:1], Y[:1]]] * (views.MAX_BATCHES + 1)), "at most"),
    (lambda d: d["value"][0]["dataset"].update(length=999), "expected 999"),
    (lambda d: d["value"][0].update(generator="argument 7"), "generator"),
    (lambda d: d["value"][0].update(generator=["argument", 1]), "generator"),
    (lambda d: d["value"][0].update(view="bomb"), "unknown kind"),
    (lambda d: d["value"][0].update(batch_size=-1), "count"),
    (lambda d: d["value"][0].update(shuffled="yes"), "True or False"),
    (lambda d: d["value"][0].update(extra=1), "nobody asked for"),
    (lambda d: d["value"][0]["dataset"].update(dataset={"view": "argument", "index": 2}), "below 2"),
    (lambda d: d.update(value=({"view": "argument", "index": 0},)), "description"),
    (lambda d: d["value"][0]["dataset"]["indices"].__setitem__(0, 2 ** 70), "count"),
])
def test_a_room_lying_in_a_view_is_malformed(change, words):
    honest = _answer(MAKE_LOADERS, _solution(8))
    with pytest.raises(MalformedReply, match=words):
        read_reply(MAKE_LOADERS, _lie(honest, change))


@pytest.mark.parametrize("change, words", [
    (lambda p: p.update(calls=5), "holds 1 records"),
    (lambda p: p["records"][0].update(training="no"), "True or False"),
    (lambda p: p["records"][0].update(batch=-3), "count"),
    (lambda p: p["records"][0].update(extra=True), "nobody asked for"),
    (lambda p: p.update(records=[p["records"][0]] * (probes.MAX_RECORDS + 1), calls=10 ** 6), "records"),
])
def test_a_room_lying_in_a_probe_record_is_malformed(change, words):
    honest = _answer(EVALUATE, EVALUATE_SOURCE)
    with pytest.raises(MalformedReply, match=words):
        read_reply(EVALUATE, _lie(honest, lambda d: change(d["after"][0]["probes"][0])))


def test_nested_builds_and_probes_build_alike_and_unknown_probes_are_missing_names():
    inspected = executor.run_request(_module(""), wire.decode(Inspect(PROBED).encoded))
    assert [c["type"] for c in inspected["value"]["children"]] == ["Linear", "ModeProbe", "Dropout"]
    missing = executor.run_request(_module(""), wire.decode(Call("probe.nothing", ()).encoded))
    assert missing["error"]["kind"] == "missing name"


# A room that lies: the submission rewrites the room's own view and probe code.
FORGED_VIEW = '''
import sys
from torch.utils.data import DataLoader, random_split
views = sys.modules["grader.sandbox.untrusted.views"]
views._loader = lambda loader, args, depth: {
    "view": "loader", "type": "DataLoader", "batch_size": 10, "drop_last": False, "num_workers": 0,
    "sampler": "RandomSampler", "shuffled": True, "generator": "argument 1",
    "dataset": {"view": "subset", "type": "Subset", "length": 10 ** 6, "indices": list(range(3)),
                "dataset": {"view": "argument", "index": 0}}, "batches": []}

def make_loaders(dataset, generator):
    return tuple(DataLoader(s, batch_size=10) for s in random_split(dataset, [0.7, 0.2, 0.1]))
'''
FORGED_PROBE = '''
import sys
import torch
probes = sys.modules["grader.sandbox.untrusted.probes"]
probes.probe_records = lambda module: [{"name": "1", "calls": 3, "records": [{"training": True, "grad": 1,
                                        "inference": False, "batch": 10}]}]

def trainer(model, loss_fn, optimizer, X_train, y_train, X_test, y_test, epochs):
    return [0.0] * epochs, [0.0] * epochs
'''


@pytest.mark.parametrize("exercise, source", [("exercise8", FORGED_VIEW), ("exercise10", FORGED_PROBE)],
                         ids=["view", "probe"])
def test_a_room_that_rewrites_its_views_or_probes_gets_a_sandbox_error(course, zygote, tmp_path, exercise, source):
    from grader.engine import runner
    from grader.course.submissions import Submission

    (tmp_path / f"{exercise}.py").write_text(source)
    submission = Submission(name="liar", files={f"{exercise}.py": tmp_path / f"{exercise}.py"})
    result = runner.grade(course, [submission], [course.exercise(exercise)], zygote=zygote).results[0]
    graded = result.exercises[0]
    lied = [t for t in graded.tests if t.verdict == "sandbox error"]
    assert graded.score == 0 and lied, [(t.name, t.verdict, t.message[:200]) for t in graded.tests]
    assert all("malformed answer" in t.message for t in lied)


def test_a_message_shows_probes_as_what_they_are_never_by_their_names():
    """A student never wrote a probe: a recording layer is left out of a model's description, a model put in
    evaluation mode says so, a seeded generator is a torch.Generator."""
    model = Build("probe.eval_mode", (Build("torch.nn.Sequential", (Build("torch.nn.Linear", (4, 8)),
                                                                     Build("probe.ModeProbe"),
                                                                     Build("torch.nn.Dropout", (0.25,)))),))
    words = Call("evaluate", (model, Build("probe.seeded_generator", (7,)))).describe()

    assert words == ("evaluate(nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.25)) in evaluation mode, "
                     "torch.Generator(seed 7))")
    assert "probe" not in words
