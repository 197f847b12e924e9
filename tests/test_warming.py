"""What the zygote warms, and when: an exercise's needs for every room, asked for
before the zygote is ready; a course's libraries only for submissions that name them."""
from __future__ import annotations

import random
import sys
import tempfile

import torch

from grader.course.submissions import from_path
from grader.course.warming import mentioned_libraries, warm_features
from grader.sandbox.client import Budget, Sandbox, Zygote
from grader.sandbox.limits import Limits
from grader.sandbox.untrusted import executor, zygote as zygote_module

PROBE = (b"import gc, sys\nDYNAMO = 'torch._dynamo' in sys.modules\n\ndef dynamo_at_import():\n    return DYNAMO\n\n"
         b"def collector():\n    return [gc.isenabled(), list(gc.get_threshold())]\n")


def _submission(folder, source: str, helper: str | None = None):
    folder.mkdir()
    (folder / "exercise1.py").write_text(source)
    if helper is not None:
        (folder / "plots.py").write_text(helper)
    return from_path(folder, ["exercise1.py"], name=folder.name)


def test_libraries_are_warmed_for_the_submissions_that_name_them(course, tmp_path):
    exercise1 = course.exercise("exercise1")
    plain = _submission(tmp_path / "plain", "import torch\n")
    plots = _submission(tmp_path / "plots", "import matplotlib.pyplot as plt\n")
    pylab = _submission(tmp_path / "pylab", "from pylab import plot\n")
    helper = _submission(tmp_path / "helper", "import plots\n", helper="import matplotlib\n")

    assert course.warm_libraries == ("matplotlib",)
    assert mentioned_libraries(course, plain, [exercise1]) == ()
    assert warm_features(course, plain, [exercise1, course.exercise("exercise5")]) == ("optim",)
    for naming in (plots, pylab, helper):
        assert mentioned_libraries(course, naming, [exercise1]) == ("matplotlib",)


def test_a_zygote_warms_what_it_was_asked_for_before_any_fork():
    """A fork that asks for nothing finds torch.optim's first use already made
    (torch._dynamo imported) when the zygote was asked to warm it."""
    zygote = Zygote.start()
    try:
        zygote.warm(["optim"])  # before it is ready: no reply awaited
        room = Sandbox.open(zygote, {}, Limits(), Budget(10.0))
        room.load("probe.py", PROBE, Budget(10.0))
        reply = _call(room, "dynamo_at_import")
        room.close()
    finally:
        zygote.close()
    assert reply["value"] is True


def test_every_room_collects_garbage_as_a_fresh_interpreter_does(zygote):
    """The zygote imports and warms with its cyclic collector off (faster); no room inherits that:
    forked after the warm-up, or after a fork's own warm request, a room finds it on with Python's thresholds."""
    states = []
    for warm in ((), ("optim",)):
        room = Sandbox.open(zygote, {}, Limits(), Budget(10.0), warm=warm)
        room.load("probe.py", PROBE, Budget(10.0))
        states.append(_call(room, "collector")["value"])
        room.close()
    assert states == [[True, [700, 10, 10]]] * 2


def test_the_zygote_rehearses_a_room_and_puts_back_what_it_changed(monkeypatch):
    """Before its first fork the zygote serves a made-up exercise as a room does (its rooms' serving code
    then starts specialised), every round whole, and leaves its rooms what they inherited before:
    random states, streams, tempfile's folder (a room's is its TMPDIR), modules."""
    served, loaded, answered = [], [], []
    serve, load, run_request = zygote_module._serve, zygote_module._load, executor.run_request
    monkeypatch.setattr(zygote_module, "_serve", lambda *args: served.append(serve(*args)))
    monkeypatch.setattr(zygote_module, "_load", lambda *args: loaded.append(load(*args)) or loaded[-1])
    monkeypatch.setattr(executor, "run_request",
                        lambda *args, **kwargs: answered.append(run_request(*args, **kwargs)) or answered[-1])
    monkeypatch.setattr(tempfile, "tempdir", None)
    before = (torch.random.get_rng_state(), random.getstate(), sys.stdout, sys.stderr, set(sys.modules))

    zygote_module._rehearse_serving()

    assert len(served) == zygote_module._REHEARSALS
    assert [reply for _, reply in loaded] == [{"loaded": True}] * zygote_module._REHEARSALS
    assert len(answered) == 4 * zygote_module._REHEARSALS  # a call, then two at once (three answers)
    assert all("error" not in answer for answer in answered), answered[0]
    assert torch.equal(torch.random.get_rng_state(), before[0]) and random.getstate() == before[1]
    assert (sys.stdout, sys.stderr) == before[2:4] and tempfile.tempdir is None
    assert set(sys.modules) - before[4] == set()


def _call(room: Sandbox, name: str) -> dict:
    return room.request({"op": "call", "target": {"name": name}, "args": [], "kwargs": {},
                         "cotangent": None, "after": False, "autograd": False}, doing="probing")
