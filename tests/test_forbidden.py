"""What an exercise forbids (issue 14 §6) and what a hidden test's failure reveals (§7),
end to end: through ``runner.grade`` and ``grade batch``, in every report channel."""
from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from corpus import expectations
from rich.console import Console

from grader.commands.batch import controller
from grader.record import classbook
from grader.record.classbook import submission_folder
from grader.options import GradeOptions
from grader.course.catalogue import CourseError, load_course
from grader.course.submissions import from_path
from grader.engine import runner
from grader.outputs.html import render_html
from grader.outputs.results_json import to_gradescope
from grader.outputs.terminal import print_exercise
from grader.verdicts import Verdict

HERE = Path(__file__).resolve().parent
FORBIDDEN_CASES = sorted((HERE / "hostile" / "forbidden").glob("*.py"))


def _exercise_of(result, exercise_id):
    return next(e for e in result.exercises if e.exercise_id == exercise_id)


def _notebook(path: Path, *cells: str) -> Path:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbformat.write(notebook, path)
    return path


ex2_solution = (HERE.parent / "solutions" / "exercise2.py").read_text()
EX2_HONEST_NOTEBOOK = (
    ex2_solution,
    # a student checks the hand-written gradient with autograd, at import: allowed
    ("x = torch.randn(5); w = torch.tensor(0.5, requires_grad=True); b = torch.tensor(0.1, requires_grad=True)\n"
     "y = torch.randn(5)\nloss = ((w * x + b - y) ** 2).mean()\nloss.backward()\nprint(w.grad, grad_fn(x, y, w * x + b, w, b))"),
)
EX2_CHEATING_NOTEBOOK = (
    "import torch",
    ex2_solution.replace("import torch\n", "").replace(
        "    return torch.stack([dloss_dw.sum(), dloss_db.sum()])",
        "    with torch.enable_grad():\n        return torch.stack([dloss_dw.sum(), dloss_db.sum()])"),
)


@pytest.fixture(scope="module")
def graded(course, zygote, tmp_path_factory):
    """One session: every forbidden-use case, honest notebooks, and the reveal submissions."""
    root = tmp_path_factory.mktemp("forbidden")
    filenames = [s.filename for s in course.exercises]
    submissions = []
    for path in FORBIDDEN_CASES:
        folder = root / path.stem
        folder.mkdir()
        shutil.copy(path, folder / f"{expectations(path)['exercise']}.py")
        submissions.append(from_path(folder, filenames))
    notebooks = root / "notebooks"
    notebooks.mkdir()
    for name, cells in (("honest", EX2_HONEST_NOTEBOOK), ("cheating", EX2_CHEATING_NOTEBOOK)):
        submissions.append(from_path(_notebook(notebooks / f"{name}.ipynb", *cells), ["exercise2.py"],
                                     name=f"notebook_{name}"))
    run = runner.grade(course, submissions, [course.exercise(e) for e in ("exercise2", "exercise5", "exercise6")],
                       zygote=zygote)
    return {r.submission: r for r in run.results}


@pytest.mark.parametrize("path", FORBIDDEN_CASES, ids=lambda p: p.stem)
def test_a_forbidden_use_costs_the_points_of_its_functions(path, graded):
    expect = expectations(path)
    exercise = _exercise_of(graded[path.stem], expect["exercise"])
    failures = [t for t in exercise.tests if not t.passed]
    assert exercise.score == float(expect["points"]), [(t.name, t.verdict, t.message[:200]) for t in failures]
    assert {t.verdict for t in failures} == {Verdict(expect["verdict"])}
    assert all(expect["message"] in t.message for t in failures), [t.message for t in failures]
    rule = next(r for r in exercise_spec(expect["exercise"]).forbid)
    # The findings (the code, at its lines) are the message; why it is forbidden is the hint.
    assert all(rule.why in (t.hint or "") and re.search(r"line \d+", t.message) for t in failures)


def exercise_spec(exercise_id):
    return load_course(HERE.parent).exercise(exercise_id)


def test_train_may_use_an_optimizer_while_training_loop_may_not(graded):
    exercise = _exercise_of(graded["ex5_optimizer_in_training_loop"], "exercise5")
    by_name = {t.name: t for t in exercise.tests}
    assert by_name["test_train_with_an_optimizer"].passed
    assert not by_name["test_training_loop_follows_gradient_descent"].passed


def test_a_notebook_may_check_its_answer_with_autograd_at_import(graded):
    exercise = _exercise_of(graded["notebook_honest"], "exercise2")
    assert exercise.full_marks, [(t.name, t.message[:200]) for t in exercise.tests if not t.passed]


def test_a_notebook_finding_names_its_cell(graded):
    exercise = _exercise_of(graded["notebook_cheating"], "exercise2")
    grad_tests = [t for t in exercise.tests if t.name.startswith("test_grad_fn")]
    assert grad_tests and all(t.verdict == Verdict.FORBIDDEN for t in grad_tests)
    assert all("cell 2, line" in t.message and "torch.enable_grad" in t.message for t in grad_tests)
    assert exercise.score == 4  # dloss_fn and the model derivatives use nothing forbidden


def test_batch_gives_the_same_verdicts(course, tmp_path):
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    submissions.mkdir()
    for path in FORBIDDEN_CASES:
        folder = submissions / path.stem
        folder.mkdir()
        shutil.copy(path, folder / f"{expectations(path)['exercise']}.py")
    controller.run_batch(submissions, out, course, exercise_ids=["exercise2", "exercise5", "exercise6"], jobs=1, options=GradeOptions(timeout_s=10))
    results = {r.submission: r for r in classbook.collect_results(out)}
    for path in FORBIDDEN_CASES:
        expect = expectations(path)
        exercise = _exercise_of(results[path.stem], expect["exercise"])
        assert exercise.score == float(expect["points"]), path.stem
        assert Verdict(expect["verdict"]) in {t.verdict for t in exercise.tests if not t.passed}, path.stem
        report = (submission_folder(out, path.stem) / "report.html").read_text()
        assert expect["message"] in report


# -- §7: what a hidden test's failure reveals ------------------------------------------

# Right for tensor parameters (the public test), 0.5 off for float ones (a hidden test).
OFF_FOR_FLOATS = '''
import torch


def model(x, w, b):
    if isinstance(w, float):
        return w * x + b + 0.5
    return w * x + b


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
'''
# 0.5 off everywhere: the public test fails too.
OFF_EVERYWHERE = OFF_FOR_FLOATS.replace("    if isinstance(w, float):\n        return w * x + b + 0.5\n",
                                        "    return w * x + b + 0.5\n")


def _grade_exercise1(course, zygote, tmp_path, source: str, **changes):
    spec = dataclasses.replace(course.exercise("exercise1"), **changes)
    folder = tmp_path / f"sub{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    (folder / "exercise1.py").write_text(source)
    run = runner.grade(course, [from_path(folder, ["exercise1.py"])], [spec], zygote=zygote)
    return run.results[0]


def _channels(result) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    print_exercise(console, result.exercises[0])
    return "\n".join([console.file.getvalue(), render_html(result), json.dumps(to_gradescope(result)),
                      *(t.message for t in result.exercises[0].tests)])


def test_a_hidden_failure_shows_no_expected_value_in_any_channel(course, zygote, tmp_path):
    revealing = _grade_exercise1(course, zygote, tmp_path, OFF_FOR_FLOATS, hidden_reveals="values")
    hidden = next(t for t in revealing.exercises[0].tests if t.name == "test_model_with_float_parameters")
    assert hidden.visibility == "hidden" and hidden.table  # the values the course would otherwise show
    expected_values = {row.expected for row in hidden.table}

    result = _grade_exercise1(course, zygote, tmp_path, OFF_FOR_FLOATS)
    test = next(t for t in result.exercises[0].tests if t.name == "test_model_with_float_parameters")
    assert not test.passed and test.table == ()
    assert "differ; the greatest difference is about 0.5" in test.message
    assert "Greatest absolute difference" not in test.message
    everything = _channels(result)
    assert 'class="mismatch"' not in everything
    leaked = [value for value in expected_values if re.search(rf"(?<![\d.]){re.escape(value)}(?!\d)", everything)]
    assert leaked == []


def test_a_public_failure_keeps_its_table(course, zygote, tmp_path):
    result = _grade_exercise1(course, zygote, tmp_path, OFF_EVERYWHERE)
    public = next(t for t in result.exercises[0].tests if t.name == "test_model_with_tensor_parameters")
    assert public.visibility == "public" and not public.passed and public.table
    assert 'class="mismatch"' in render_html(result)
    hidden = next(t for t in result.exercises[0].tests if t.name == "test_model_with_float_parameters")
    assert hidden.table == ()


# -- the declaration in course.toml ------------------------------------------------------

def _course_with(tmp_path: Path, course_table: str = "", exercise_lines: str = "") -> Path:
    text = (HERE.parent / "course.toml").read_text()
    text = text.replace("[course]\n", f"[course]\n{course_table}", 1)
    text = text.replace('suite = "suites/test_exercise1.py"\n', f'suite = "suites/test_exercise1.py"\n{exercise_lines}', 1)
    for name in ("exercises", "solutions", "suites"):
        (tmp_path / name).symlink_to(HERE.parent / name)
    (tmp_path / "course.toml").write_text(text)
    return tmp_path


def test_hidden_reveals_is_a_course_setting_overridable_per_exercise(tmp_path):
    course = load_course(_course_with(tmp_path, 'hidden_reveals = "values"\n', 'hidden_reveals = "diagnosis"\n'))
    assert course.exercise("exercise1").hidden_reveals == "diagnosis"
    assert course.exercise("exercise2").hidden_reveals == "values"
    assert load_course(HERE.parent).exercise("exercise3").hidden_reveals == "diagnosis"


@pytest.mark.parametrize("course_table, exercise_lines, words", [
    ('hidden_reveals = "everything"\n', "", "hidden_reveals"),
    ("", '[[exercises.forbid]]\nuses = "numpy"\nfunctions = ["model"]\nwhy = "x"\n', "uses 'numpy'"),
    ("", '[[exercises.forbid]]\nuses = "autograd"\nwhy = "x"\n', "has no 'functions', which it must have"),
    ("", '[[exercises.forbid]]\nuses = "autograd"\nfunctions = ["model"]\n', "has no 'why', which it must have"),
    ("", '[[exercises.forbid]]\nuses = "autograd"\nfunctions = ["model"]\nwhy = "x"\nfunctoins = 1\n', "has no key 'functoins'; did you mean 'functions'"),
])
def test_a_bad_declaration_is_a_plain_error(tmp_path, course_table, exercise_lines, words):
    with pytest.raises(CourseError, match=re.escape(words)):
        load_course(_course_with(tmp_path, course_table, exercise_lines))


# -- grade verify: each rule is checked with its mutant ------------------------------------

def _graded(*tests):
    from grader.results import ExerciseResult

    return ExerciseResult("exercise2", "Gradient by hand", tuple(tests), seed=1)


def _test(name, passed, verdict=None, message="", hint=None):
    from grader.results import TestResult as Graded

    return Graded(name=name, title=name, max_points=2, passed=passed, verdict=verdict, message=message, hint=hint)


@pytest.mark.parametrize("tests, passed, words", [
    ([_test("a", True), _test("b", False, Verdict.FORBIDDEN, "grad_fn uses x", "WHY")], True, "refused on b"),
    ([_test("a", True), _test("b", True)], False, "the rule is not enforced"),
    ([_test("a", False, None, "differs"), _test("b", False, Verdict.FORBIDDEN, "x", "WHY")], False,
     "not only because"),
    ([_test("a", False, Verdict.FORBIDDEN, "another reason", "another why")], False, "not only because"),
])
def test_verify_checks_a_rule_with_its_mutant(tests, passed, words):
    from grader.commands.verify_checks import forbid_check
    from grader.course.forbidden import ForbidRule

    spec = exercise_spec("exercise2")
    rule = ForbidRule("autograd", ("grad_fn",), "WHY", find="x", replace="y")
    check = forbid_check(spec, 0, rule, _graded(*tests))
    assert check.passed is passed and words in check.detail, check


def test_verify_fails_a_rule_without_a_mutant():
    from grader.commands.verify_checks import forbid_check
    from grader.course.forbidden import ForbidRule

    check = forbid_check(exercise_spec("exercise2"), 0, ForbidRule("autograd", ("grad_fn",), "WHY"), None)
    assert not check.passed and "find and replace" in check.detail


def test_a_file_that_cannot_be_imported_gets_that_verdict_first(course, zygote, tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "exercise2.py").write_text("import torch\nexec('x = 1')\nraise LookupError('nothing here')\n"
                                         "def grad_fn(x, y, y_hat, w, b):\n    return x\n")
    run = runner.grade(course, [from_path(folder, ["exercise2.py"])], [course.exercise("exercise2")], zygote=zygote)
    tests = run.results[0].exercises[0].tests
    assert {t.verdict for t in tests} == {Verdict.IMPORT_ERROR}, [(t.verdict, t.message[:100]) for t in tests]


def test_a_notebook_that_rebinds_grad_fn_with_global_is_refused(course, zygote, tmp_path):
    """Issue 23 §5: the rebinding lives in a later cell; it scored 10/10 before."""
    honest = ex2_solution
    rebinds = ("def _installs(function):\n    global grad_fn\n    grad_fn = function\n    return function\n\n\n"
               "@_installs\ndef _by_autograd(x, y, y_hat, w, b):\n    with torch.enable_grad():\n"
               "        params = torch.tensor([float(w), float(b)], requires_grad=True)\n"
               "        loss = ((params[0] * x + params[1] - y) ** 2).mean()\n"
               "        return torch.autograd.grad(loss, params)[0]")
    path = _notebook(tmp_path / "exercise2.ipynb", honest, rebinds)
    run = runner.grade(course, [from_path(path, ["exercise2.py"])], [course.exercise("exercise2")], zygote=zygote)
    exercise = run.results[0].exercises[0]
    assert exercise.score == 0, [(t.name, t.verdict, t.message[:200]) for t in exercise.tests]
    assert all(t.verdict == Verdict.FORBIDDEN and "global grad_fn" in t.message and "cell 2, line 2" in t.message
               for t in exercise.tests), [t.message for t in exercise.tests]
