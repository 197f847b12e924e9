"""One sandbox ("room") per submission: honest exercises share it, and
anything an exercise changes that a later exercise could see retires it, so
the next exercise is graded in a fresh room as if the first were absent."""
from __future__ import annotations

import pytest

from grader.engine import runner
from grader.options import GradeOptions
from grader.course.submissions import from_path

RETIRED = "changed its sandbox"

# Appended to a correct exercise1: each leaves something behind that a later
# exercise in the same process could see (or trip over).
LEFT_BEHIND = {
    "default_dtype": ("import torch\ntorch.set_default_dtype(torch.float64)", "default dtype"),
    "grad_mode": ("import torch\ntorch.set_grad_enabled(False)", "grad mode"),
    "torch_function": ("import torch\ntorch.stack = lambda *a, **k: torch.zeros(2)", "torch was changed (stack)"),
    "functional": ("import torch.nn.functional as F\nF.mse_loss = lambda *a, **k: 0", "mse_loss"),
    "class_method": ("import torch\ntorch.nn.Linear.forward = lambda self, x: x", "Linear was changed (forward)"),
    "tensor_method": ("import torch\ntorch.Tensor.__mul__ = lambda self, other: self", "Tensor was changed (__mul__)"),
    "code_rewritten": ("import torch\ntorch.ones_like.__class__\n"
                       "import torch.nn.functional as F\nF.relu.__code__ = (lambda input, inplace=False: input).__code__",
                       "rewritten in place"),
    "builtins": ("import builtins\nbuiltins.sum = lambda *a, **k: 0", "builtins was changed (sum)"),
    "thread": ("import threading, time\nthreading.Thread(target=time.sleep, args=(30,), daemon=True).start()",
               "thread"),
    "alarm": ("import signal\nsignal.setitimer(signal.ITIMER_REAL, 30)", "timer"),
    "signal_handler": ("import signal\nsignal.signal(signal.SIGUSR1, lambda *a: None)", "signal handler"),
    "file_written": ("open('notes.txt', 'w').write('x')", "scratch folder"),
    "chdir": ("import os\nos.chdir('/')", "working directory"),
    "environ": ("import os\nos.environ['LEFT'] = 'behind'", "environment"),
    "planted_module": ("import sys, types\nsys.modules['exercise_helpers'] = types.ModuleType('fake')", "planted"),
    # A package's submodule set by hand (as a library may set one of a plain module's): it would shadow one.
    "planted_submodule": ("import sys, types, json\njson.fake = sys.modules['json.fake'] = types.ModuleType('f')",
                          "planted"),
    # Only torch's own module may take the place of the rooms' torch._dynamo stand-in (lazy_dynamo).
    "dynamo_planted": ("import sys, types, torch\nfake = types.ModuleType('torch._dynamo')\n"
                       "sys.modules['torch._dynamo'] = torch._dynamo = fake", "torch._dynamo was loaded or replaced"),
    "trace": ("import sys\nsys.settrace(lambda *a: None)", "sys.settrace"),
    "warnings_filter": ("import warnings\nwarnings.simplefilter('error')", "warnings filters"),
    "forward_hook": ("import torch\ntorch.nn.modules.module.register_module_forward_hook(lambda m, i, o: o * 0)",
                     "global module hooks"),
    "function_mode": ("from torch.overrides import TorchFunctionMode\n"
                      "class Watching(TorchFunctionMode):\n"
                      "    def __torch_function__(self, func, types, args=(), kwargs=None):\n"
                      "        return func(*args, **(kwargs or {}))\n"
                      "Watching().__enter__()", "torch function modes"),
    "memory_used": ("import torch\ntorch.ones(96 << 20, dtype=torch.uint8).sum()", "memory"),
    "fd_kept": ("import os\nos.open(__file__, os.O_RDONLY)", "files were left open"),
    "gc_disabled": ("import gc\ngc.disable()", "gc enabled"),
    "recursion_limit": ("import sys\nsys.setrecursionlimit(80)", "recursion limit"),
    "audit_hook": ("import sys\nsys.addaudithook(lambda *a: None)", "audit hooks"),
    "signals_blocked": ("import signal\nsignal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})", "blocked"),
    "stdout_replaced": ("import io, sys\nsys.stdout = io.StringIO()", "sys.stdin/stdout/stderr"),
    # Runs when the room forgets the module, during the check: the check's own time limit ends it.
    "finalizer_loops": ("class Trap:\n    def __del__(self):\n        while True:\n            pass\ntrap = Trap()",
                        "time limit exceeded while checking"),
}


@pytest.fixture(scope="module")
def left_behind(course, zygote, tmp_path_factory):
    """Every polluting exercise1 beside a correct exercise2, graded in one session."""
    exercise1, exercise2 = course.exercise("exercise1"), course.exercise("exercise2")
    submissions = []
    for name, (code, _) in LEFT_BEHIND.items():
        folder = tmp_path_factory.mktemp(name)
        (folder / "exercise1.py").write_text(exercise1.solution.read_text() + "\n" + code + "\n")
        (folder / "exercise2.py").write_text(exercise2.solution.read_text())
        submissions.append(from_path(folder, [exercise1.filename, exercise2.filename], name=name))
    forks = zygote.forks
    run = runner.grade(course, submissions, [exercise1, exercise2], zygote=zygote)
    return {r.submission: r for r in run.results}, zygote.forks - forks


@pytest.mark.parametrize("name", LEFT_BEHIND)
def test_what_an_exercise_leaves_behind_retires_its_room(name, left_behind):
    results, _ = left_behind
    exercise1, exercise2 = results[name].exercises
    notes = " ".join(exercise1.notes)
    assert RETIRED in notes and LEFT_BEHIND[name][1] in notes, exercise1.notes
    assert exercise2.score == exercise2.max_score, [(t.name, t.message[:100]) for t in exercise2.tests if not t.passed]
    assert not exercise2.notes


def test_a_library_s_own_imports_are_not_the_student_s_change_to_the_sandbox(course, zygote, tmp_path):
    """matplotlib.pyplot puts a namespace package (mpl_toolkits) and modules made by C extensions
    (pyexpat.errors) in sys.modules: a plotting exercise1 keeps its room, without a note."""
    pytest.importorskip("matplotlib")
    result, forks = _solutions_after(course, zygote, tmp_path,
                                     "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n")
    assert [e.notes for e in result.exercises] == [(), ()]
    assert result.score == result.max_score
    assert forks == 2  # the canary, then one room for both exercises


def test_rooms_train_without_torch_dynamo_and_load_it_when_asked(course, zygote, tmp_path):
    """Rooms train without torch._dynamo (a stand-in, ``lazy_dynamo``); an exercise that asks for the
    real module (as torch.compile does) loads it in its room and is graded as usual; the room, whose
    torch the real module changed, is retired with that one reason."""
    result, forks = _solutions_after(course, zygote, tmp_path,
        "import sys, torch\n"
        "assert type(sys.modules['torch._dynamo']).__name__ == 'DynamoStandIn', 'the zygote loaded torch._dynamo'\n"
        "optimizer = torch.optim.Adam([torch.nn.Parameter(torch.ones(2))])\n"
        "optimizer.zero_grad(); optimizer.step()\n"
        "assert type(sys.modules['torch._dynamo']).__name__ == 'DynamoStandIn', 'an optimizer loaded torch._dynamo'\n"
        "assert torch._dynamo.is_compiling() is False and type(torch._dynamo).__name__ == 'module'\n")
    assert result.score == result.max_score, [t.message[:300] for e in result.exercises for t in e.tests]
    exercise1_notes, exercise2_notes = (e.notes for e in result.exercises)
    assert RETIRED in " ".join(exercise1_notes) and "torch._dynamo was loaded" in " ".join(exercise1_notes)
    assert "warnings" not in " ".join(exercise1_notes) and not exercise2_notes
    assert forks == 3  # the canary, then a room for each exercise


def _solutions_after(course, zygote, folder, exercise1_prefix):
    """Exercise 1's solution after ``exercise1_prefix``, then exercise 2's, graded in one session:
    the result and how many sandboxes the zygote forked for it."""
    exercise1, exercise2 = course.exercise("exercise1"), course.exercise("exercise2")
    (folder / "exercise1.py").write_text(exercise1_prefix + "\n" + exercise1.solution.read_text())
    (folder / "exercise2.py").write_text(exercise2.solution.read_text())
    submission = from_path(folder, [exercise1.filename, exercise2.filename], name=folder.name)
    forks = zygote.forks
    (result,) = runner.grade(course, [submission], [exercise1, exercise2], zygote=zygote).results
    return result, zygote.forks - forks


def test_each_retired_room_is_replaced_by_exactly_one_fresh_one(left_behind):
    _, forks = left_behind
    assert forks == 1 + 2 * len(LEFT_BEHIND)  # the canary, then two rooms per submission


def _honest_submissions(course, tmp_path):
    filenames = [s.filename for s in course.exercises]
    submissions = [from_path(course.root / "solutions", filenames, name="solutions"),
                   from_path(course.root / "exercises", filenames, name="stubs")]
    for spec in course.exercises:
        for mistake in spec.mistakes[:1]:  # one per exercise: each room grades a failing exercise among honest ones
            folder = tmp_path / f"{spec.id}.{mistake.id}"
            folder.mkdir()
            for other in course.exercises:  # the mistake beside every other exercise's solution
                source = other.mutant_source(mistake) if other is spec else other.solution.read_text()
                (folder / other.filename).write_text(source)
            submissions.append(from_path(folder, filenames))
    return submissions


@pytest.mark.parametrize("isolate, rooms_per_submission", [("submission", 1), ("exercise", None)])  # None: one each
def test_honest_exercises_share_one_room_unless_asked_otherwise(course, zygote, tmp_path, isolate,
                                                               rooms_per_submission):
    submissions = _honest_submissions(course, tmp_path)
    forks = zygote.forks
    run = runner.grade(course, submissions, list(course.exercises), zygote=zygote,
                       options=GradeOptions(isolate=isolate))
    rooms = rooms_per_submission or len(course.exercises)
    assert zygote.forks - forks == 1 + rooms * len(submissions)
    assert not [(r.submission, e.exercise_id, e.notes) for r in run.results for e in r.exercises if e.notes]
    scores = {r.submission: r.score for r in run.results}
    total = sum(spec.points for spec in course.exercises)
    assert scores["solutions"] == total and scores["stubs"] == 0
    assert all(0 < score < total for name, score in scores.items() if name not in ("solutions", "stubs"))


@pytest.mark.parametrize("read_versions", [True, False], ids=["version tags", "values compared"])
def test_the_namespace_check_sees_a_rebound_name_with_or_without_dict_version_tags(read_versions):
    """Where version tags cannot be read (another Python), every value is compared instead."""
    import dataclasses

    import torch

    from grader.sandbox.untrusted.tripwires import NamespaceBaseline

    baseline = NamespaceBaseline.take()
    if not read_versions:
        baseline = dataclasses.replace(baseline, addresses=None, versions=None)
    else:
        assert baseline.addresses is not None, "CPython 3.10-3.13 keeps dict version tags"
    original = torch.stack
    try:
        torch.stack = lambda *args, **kwargs: None
        assert any("torch was changed (stack)" in dirt for dirt in baseline.dirt())
    finally:
        torch.stack = original
    assert not [d for d in baseline.dirt() if "torch was changed" in d]


def test_no_scratch_folder_outlives_its_zygote(tmp_path):
    """Closed rooms' scratch folders are removed on a thread of their own (off the batch's path);
    closing the zygote waits until every one is gone."""
    import shutil
    import time

    from grader.sandbox.scratch import ScratchRemover

    folders = [tmp_path / f"room{n}" for n in range(20)]
    for folder in folders:
        (folder / "deep").mkdir(parents=True)
        (folder / "deep" / "notes.txt").write_text("x")

    def slow_remove(folder):
        time.sleep(0.01)
        shutil.rmtree(folder)

    remover = ScratchRemover(slow_remove)
    for folder in folders:
        remover.remove(folder)
    remover.flush()
    assert not any(folder.exists() for folder in folders)
