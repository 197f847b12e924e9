"""``grade verify``: the course checks itself, and a new exercise needs no engine code.

End to end: a throwaway course with one new exercise, declared only in its
``course.toml``, verifies clean; the same course, broken in known ways, is
reported with exactly those failures; the repository's course verifies clean,
through the library and once through the CLI. The check functions are pure,
so their edge cases are unit-tested on hand-built results.
"""
from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.course.catalogue import ExerciseSpec, MistakeSpec, load_course
from grader.cli import main
from grader.sandbox.client import Zygote
from grader.sandbox.limits import Limits
from grader.results import ExerciseResult
from grader.results import TestResult as GradedTest  # renamed so pytest does not collect it
from grader.commands.verify import junit_xml, verify_course
from grader.commands.verify_checks import (
    VerifyCheck,
    VerifyReport,
    files_check,
    mistake_check,
    mistake_count_check,
    reference_check,
    result_difference,
    same_seed_check,
    stub_check,
)


SOLUTION = '''\
"""Exercise 6 - double it (reference solution)."""


def double(x):
    return 2 * x
'''

STUB = '''\
"""Exercise 6 - double it.

double(x) returns a tensor twice as large as x, element by element.
"""


def double(x):
    raise NotImplementedError("double: multiply x by two")
'''

SUITE = '''\
"""Hidden suite for exercise 6."""
import pytest

from grader.engine.checks import Call, randn


@pytest.mark.points(2)
def test_double(check, rng):
    """double(x) is 2 * x, with its gradient."""
    for shape in [(4,), (2, 3)]:
        check.same(Call("double", (randn(rng, *shape, requires_grad=True),), cotangent=randn(rng, *shape)))
'''

MISTAKES = {
    "identity": ("return 2 * x", "return x", "Your result is x itself: double means multiply by two."),
    "square": ("return 2 * x", "return x * x", "Your result grows like x squared: doubling multiplies by two."),
    "detached": ("return 2 * x", "return 2 * x.detach()",
                 "Your result has no gradient: do not detach x from the graph."),
}


def write_course(root: Path, *, suite_name: str, points: float = 2, stub: str = STUB, suite: str = SUITE,
                 mistakes: dict[str, tuple[str, str, str]] = MISTAKES) -> Path:
    """A one-exercise course: the files, and the one [[exercises]] block that declares it."""
    for folder in ("exercises", "solutions", "suites"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "exercises" / "exercise6.py").write_text(stub)
    (root / "solutions" / "exercise6.py").write_text(SOLUTION)
    (root / "suites" / suite_name).write_text(suite)
    blocks = "".join(textwrap.dedent(f'''
        [[exercises.mistakes]]
        id = "{mistake_id}"
        hint = "{hint}"
        find = "{find}"
        replace = "{replace}"
        ''') for mistake_id, (find, replace, hint) in mistakes.items())
    (root / "course.toml").write_text(textwrap.dedent(f'''\
        [course]
        title = "Throwaway"
        seed = 7

        [[exercises]]
        id = "exercise6"
        title = "Double it"
        points = {points}
        stub = "exercises/exercise6.py"
        solution = "solutions/exercise6.py"
        suite = "suites/{suite_name}"
        ''') + blocks)
    return root


@pytest.fixture(scope="module")
def zygote():
    zygote = Zygote.start()
    yield zygote
    zygote.close()


def failed_checks(report: VerifyReport) -> dict[str, str]:
    return {check.name: check.detail for check in report.failures}


# -- end to end ------------------------------------------------------------------------

# Each throwaway course names its suite file differently: pytest imports a test
# file under its basename, and one process cannot hold two files of one name.
def test_a_new_exercise_declared_only_in_course_toml_verifies(tmp_path, zygote):
    course = load_course(write_course(tmp_path, suite_name="test_exercise6.py"))

    report = verify_course(course, zygote=zygote)

    assert report.exercise_ids == ("exercise6",)
    assert failed_checks(report) == {}
    assert report.passed
    names = [check.name for check in report.checks_for("exercise6")]
    assert names == ["declared files exist", "points match course.toml", "reference earns full marks",
                     "stub earns zero", "at least 3 known mistakes", "mistake identity", "mistake square",
                     "mistake detached", "same seed, same results", "another seed (8)"]


def test_a_broken_exercise_is_reported_check_by_check(tmp_path, zygote):
    # Broken five ways: the declared points (which the catalogue cannot check
    # against a marker whose value is a name: verify checks what ran); a stub
    # that already works, and prints its process id, so no two runs agree; a
    # mistake no test catches; a mistake indistinguishable from another, so
    # its own hint never shows.
    mistakes = {**MISTAKES, "commuted": ("return 2 * x", "return x * 2", "Harmless: still doubles."),
                "times_one": ("return 2 * x", "return 1 * x", "Never shown: identity's hint wins.")}
    stub = SOLUTION + "\nimport os\nprint('stub loaded in process', os.getpid())\n"
    suite = SUITE.replace("@pytest.mark.points(2)", "POINTS = 2\n\n\n@pytest.mark.points(POINTS)")
    course = load_course(write_course(tmp_path, suite_name="test_exercise6_broken.py", points=3,
                                      stub=stub, suite=suite, mistakes=mistakes))

    report = verify_course(course, seed=11, zygote=zygote)

    failures = failed_checks(report)
    assert set(failures) == {"points match course.toml", "stub earns zero", "mistake commuted",
                             "mistake times_one", "same seed, same results", "another seed (12)"}
    assert "carry 2 points; course.toml declares 3" in failures["points match course.toml"]
    assert failures["stub earns zero"].startswith("the stub of exercise6 earns 2 points: it holds an answer")
    assert "test_double" in failures["stub earns zero"]
    assert "still earns 2/2" in failures["mistake commuted"]
    assert "hint is never shown; hints shown instead: " + MISTAKES["identity"][2] in failures["mistake times_one"]
    assert failures["same seed, same results"].startswith("stubs, two runs at seed 11: output differs")
    assert not report.exercise_passed("exercise6") and not report.passed


def test_grade_verify_passes_a_sound_course_and_writes_one_junit_suite_per_exercise(tmp_path):
    """Every check passes (the solution earns every point, the stub none, each known mistake loses points
    with its hint): the command exits 0 and writes one suite per exercise, a case per mistake. (The course in
    this repository is verified by `.ci/run`'s own `grade verify` step, after the tests: not twice.)"""
    course = write_course(tmp_path / "course", suite_name="test_exercise6_junit.py")
    junit = tmp_path / "verify.xml"

    outcome = CliRunner().invoke(main, ["verify", "--course", str(course), "--junit-xml", str(junit)])

    assert outcome.exit_code == 0, outcome.output
    assert "verify passed" in outcome.output
    root = ET.parse(junit).getroot()
    suites = list(root.iter("testsuite"))
    assert [suite.get("name") for suite in suites] == list(load_course(course).ids) == ["exercise6"]
    assert root.get("failures") == "0" and not list(root.iter("failure"))
    assert sum(case.get("name", "").startswith("mistake ") for case in suites[0].iter("testcase")) == len(MISTAKES)


def test_grade_verify_exits_1_and_lists_the_failures_when_a_check_fails(tmp_path):
    course = write_course(tmp_path / "course", suite_name="test_exercise6_cli.py", stub=SOLUTION)
    junit = tmp_path / "verify.xml"

    outcome = CliRunner().invoke(main, ["verify", "--course", str(course), "--junit-xml", str(junit)])

    assert outcome.exit_code == 1, outcome.output
    assert "verify failed" in outcome.output and "FAIL" in outcome.output
    failed = [case.get("name") for case in ET.parse(junit).iter("testcase") if case.find("failure") is not None]
    assert failed == ["stub earns zero", "another seed (8)"]


def test_grade_verify_without_a_course_is_a_usage_error(tmp_path):
    outcome = CliRunner().invoke(main, ["verify", "--course", str(tmp_path)])

    assert outcome.exit_code == 2
    assert "course.toml" in outcome.output


# -- the pure checks ---------------------------------------------------------------------

HINT = "Your result is x itself: double means multiply by two."
SPEC = ExerciseSpec(id="exercise6", title="Double it", points=3, stub=Path("stub.py"), solution=Path("sol.py"),
                    suite=Path("test_exercise6.py"), limits=Limits(),
                    mistakes=(MistakeSpec(id="identity", hint=HINT, find="2 * x", replace="x"),))


def graded(*tests: GradedTest) -> ExerciseResult:
    return ExerciseResult("exercise6", "Double it", tests, seed=7)


def test_a_mistake_passes_only_when_it_loses_points_and_shows_its_own_hint():
    mistake = SPEC.mistakes[0]
    caught = graded(GradedTest("test_a", "a", 1, True), GradedTest("test_b", "b", 2, False, hint=HINT))
    uncaught = graded(GradedTest("test_a", "a", 1, True), GradedTest("test_b", "b", 2, True))
    other_hint = graded(GradedTest("test_b", "b", 2, False, hint="Another mistake's hint."))

    assert mistake_check(SPEC, mistake, caught).passed
    assert "still earns 3/3" in mistake_check(SPEC, mistake, uncaught).detail
    assert not mistake_check(SPEC, mistake, other_hint).passed
    assert "Another mistake's hint." in mistake_check(SPEC, mistake, other_hint).detail
    assert not mistake_check(SPEC, mistake, None, "mistake 'identity' must find its text exactly once").passed


def test_a_reference_that_fails_a_test_is_reported_with_the_failure():
    check = reference_check(SPEC, graded(GradedTest("test_a", "a", 1, True),
                                         GradedTest("test_b", "b", 2, False, message="expected 2.0\ngot 3.0")))
    assert not check.passed and check.detail == "1/3; failing: test_b (expected 2.0)"
    assert reference_check(SPEC, graded(GradedTest("test_a", "a", 3, True))).passed


def test_an_exercise_needs_three_mistakes_and_its_declared_files():
    assert mistake_count_check(SPEC).detail == "1 declared; declare at least 3 in course.toml"
    assert not mistake_count_check(SPEC).passed
    assert files_check(SPEC).detail == "missing: stub stub.py, solution sol.py, suite test_exercise6.py"


def test_a_stub_may_pass_only_tests_without_points():
    imports = GradedTest("test_imports", "the file imports", 0, True)
    assert stub_check(SPEC, graded(imports, GradedTest("test_b", "b", 3, False))).passed
    check = stub_check(SPEC, graded(imports, GradedTest("test_b", "b", 3, True)))
    assert not check.passed and "test_b (3 pts)" in check.detail


def test_a_stub_on_which_no_test_ran_proves_nothing():
    check = stub_check(SPEC, graded(GradedTest("test_imports", "the file imports", 0, True)))
    assert not check.passed and "nothing was checked" in check.detail


def test_two_runs_that_differ_name_the_test_and_field():
    first = graded(GradedTest("test_b", "b", 2, False, message="expected 2.0, got 3.0"))
    second = graded(GradedTest("test_b", "b", 2, False, message="expected 2.0, got 3.5"))

    assert result_difference(first, first) is None
    assert "test_b: message differs" in result_difference(first, second)
    assert not same_seed_check(SPEC, 7, [("solutions", first, second)]).passed
    assert same_seed_check(SPEC, 7, [("solutions", first, first)]).passed


def test_junit_has_one_testsuite_per_exercise_and_a_failure_per_failed_check():
    report = VerifyReport(course_title="c", seed=1, exercise_ids=("exercise1", "exercise2"), checks=(
        VerifyCheck("exercise1", "reference earns full marks", True, "10/10"),
        VerifyCheck("exercise2", "reference earns full marks", True, "10/10"),
        VerifyCheck("exercise2", "stub earns zero", False, "passes on the untouched stub: test_x (2 pts)"),
    ))

    root = ET.fromstring(ET.tostring(junit_xml(report).getroot()))

    suites = root.findall("testsuite")
    assert [(s.get("name"), s.get("tests"), s.get("failures")) for s in suites] == [
        ("exercise1", "1", "0"), ("exercise2", "2", "1")]
    failure = suites[1].findall("testcase")[1].find("failure")
    assert failure.get("message") == "passes on the untouched stub: test_x (2 pts)"
    assert not report.passed and report.exercise_passed("exercise1")
    assert not VerifyReport(course_title="empty", seed=1, exercise_ids=(), checks=()).passed



def _lucky_at(seed: int) -> bool:
    """Whether the mutant below answers right at ``seed``: the first element
    of both inputs of test_double is negative."""
    import torch

    from grader.engine.plugin import seed_for

    rng = torch.Generator().manual_seed(seed_for(seed, "exercise6", "test_double"))
    first = torch.randn((4,), generator=rng)
    torch.randn((4,), generator=rng)
    second = torch.randn((2, 3), generator=rng)
    return bool(first[0] < 0 and second.flatten()[0] < 0)


def test_a_known_mistake_that_passes_by_luck_at_another_seed_fails_verify(tmp_path, zygote):
    seed = next(s for s in range(500) if not _lucky_at(s) and _lucky_at(s + 1))
    mistakes = {**MISTAKES, "lucky": ("return 2 * x", "return 2 * x if x.flatten()[0] < 0 else 3 * x",
                                      "Your result triples x when x starts positive.")}
    course = load_course(write_course(tmp_path, suite_name="test_exercise6_lucky.py", mistakes=mistakes))

    report = verify_course(course, seed=seed, zygote=zygote)

    failures = failed_checks(report)
    assert set(failures) == {"mistake lucky"}, failures
    assert failures["mistake lucky"].startswith(f"at seed {seed + 1}: the mutant still earns")
