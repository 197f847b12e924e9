"""The Gradescope autograder: the package `grade gradescope` builds, and
`run_autograder` run from it in a folder laid out like Gradescope's
/autograder (with the already-installed grader: setup.sh's installs are only
read and syntax-checked here) on the solutions, a stub, a known mistake in a
notebook and a hostile submission; every results.json checked against
Gradescope's specification."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_notebook

from grader.commands import gradescope as autograder
from grader.course.catalogue import CourseError, load_course
from grader.cli import main
from grader.outputs.results_json import to_gradescope
from grader.results import ExerciseResult, SubmissionResult
from grader.results import TestResult as GradedTest  # not collected by pytest

HERE = Path(__file__).resolve().parent
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
OUTPUT_FORMATS = {"text", "html", "simple_format", "md", "ansi"}
# Every exercise of the course, as its file is named: derived, so a new exercise needs no edit here.
EXERCISES = [spec.filename for spec in load_course(Path(__file__).resolve().parents[1]).exercises]
TEST_FIELDS = {"name": str, "number": str, "score": (int, float), "max_score": (int, float), "status": str,
               "output": str, "visibility": str}


def gradescope_problems(data: object) -> list[str]:
    """Where ``data`` departs from Gradescope's results.json specification
    (the fields this grader writes, with their types and allowed values)."""
    if not isinstance(data, dict):
        return ["results.json is not an object"]
    problems = _top_level_problems(data)
    for index, test in enumerate(data.get("tests") or []):
        problems += _test_problems(index, test)
    if not problems and data["tests"] and abs(data["score"] - sum(t["score"] for t in data["tests"])) > 1e-9:
        problems.append("score is not the sum of the tests' scores")
    return problems


def _top_level_problems(data: dict) -> list[str]:
    problems = []
    number = (int, float)
    for key, kind in {"score": number, "execution_time": number, "output": str, "output_format": str,
                      "stdout_visibility": str, "tests": list}.items():
        if not isinstance(data.get(key), kind) or isinstance(data.get(key), bool):
            problems.append(f"{key} is {data.get(key)!r}")
    if data.get("output_format") not in OUTPUT_FORMATS:
        problems.append(f"output_format {data.get('output_format')!r}")
    if data.get("stdout_visibility") not in VISIBILITIES:
        problems.append(f"stdout_visibility {data.get('stdout_visibility')!r}")
    return problems


def _test_problems(index: int, test: dict) -> list[str]:
    problems = []
    for key, kind in TEST_FIELDS.items():
        if not isinstance(test.get(key), kind) or isinstance(test.get(key), bool):
            problems.append(f"tests[{index}].{key} is {test.get(key)!r}")
    if test.get("status") not in ("passed", "failed"):
        problems.append(f"tests[{index}].status {test.get('status')!r}")
    if test.get("visibility") not in VISIBILITIES:
        problems.append(f"tests[{index}].visibility {test.get('visibility')!r}")
    return problems


# ---------------------------------------------------------------------------
# results.json (pure)
# ---------------------------------------------------------------------------
def _result() -> SubmissionResult:
    tests = (GradedTest(name="test_a", title="a works", max_points=2, passed=True, visibility="public"),
             GradedTest(name="test_b", title="b works", max_points=3, passed=False, visibility="hidden",
                        message="the result has shape (), expected (7,)", hint="look at w", verdict=""))
    exercise = ExerciseResult(exercise_id="exercise1", title="Fix the model", tests=tests, seed=7,
                              notes=("exercise1.ipynb: left out 1 IPython line(s)",))
    return SubmissionResult(submission="alice", exercises=(exercise,), seed=7, elapsed_s=1.5)


def test_results_follow_the_specification_with_message_and_hint():
    data = to_gradescope(_result())
    assert gradescope_problems(data) == []
    passed, failed = data["tests"]
    assert (passed["number"], passed["visibility"], passed["output"]) == ("1.1", "visible", "")
    assert (failed["number"], failed["visibility"], failed["score"]) == ("1.2", "after_published", 0)
    assert failed["output"] == "the result has shape (), expected (7,)\nHint: look at w"
    assert data["execution_time"] == 1.5 and data["stdout_visibility"] == "hidden"
    assert data["output"].startswith("alice: 2/5 points (exercise1 2/5); seed 7.")
    assert "Notes: exercise1.ipynb: left out 1 IPython line(s)" in data["output"]


def test_an_exercise_s_tests_have_the_same_numbers_graded_alone_or_with_the_others():
    (exercise,) = _result().exercises
    second = replace(exercise, exercise_id="exercise2")
    alone = to_gradescope(SubmissionResult(submission="a", exercises=(second,), seed=7))
    together = to_gradescope(SubmissionResult(submission="a", exercises=(exercise, second), seed=7))
    assert [t["number"] for t in alone["tests"]] == ["2.1", "2.2"] == [t["number"] for t in together["tests"]][2:]
    unnumbered = to_gradescope(SubmissionResult(submission="a", seed=7, exercises=(
        replace(exercise, exercise_id="intro"), replace(exercise, exercise_id="training"))))
    assert [t["number"] for t in unnumbered["tests"]] == ["1.1", "1.2", "2.1", "2.2"]


def test_the_summary_says_which_exercise_a_note_is_about():
    from dataclasses import replace

    from grader.outputs.results_json import summary_line

    tests = (GradedTest("t", "t", 1.0, True),)
    exercises = (ExerciseResult("exercise1", "E1", tests, seed=1, notes=("zip had junk", "changed its sandbox")),
                 ExerciseResult("exercise2", "E2", tests, seed=1, notes=("zip had junk",)))
    line = summary_line(SubmissionResult("alice", exercises, seed=1))
    assert "Notes: zip had junk; exercise1: changed its sandbox." in line
    assert "Notes" not in summary_line(SubmissionResult("bob", tuple(replace(e, notes=()) for e in exercises), seed=1))


def test_hidden_tests_visibility_is_set_per_exercise():
    data = to_gradescope(_result(), hidden_visibility={"exercise1": "after_due_date"})
    assert [t["visibility"] for t in data["tests"]] == ["visible", "after_due_date"]


def test_the_course_declares_the_visibility_and_a_wrong_one_is_refused(tmp_path):
    text = (HERE.parent / "course.toml").read_text()
    marker = 'suite = "suites/test_exercise2.py"\n'
    (tmp_path / "course.toml").write_text(text.replace(marker, marker + 'gradescope_hidden_visibility = "hidden"\n'))
    course = load_course(tmp_path)
    assert [s.gradescope_hidden_visibility for s in course.exercises[:3]] == ["after_published", "hidden",
                                                                             "after_published"]
    (tmp_path / "course.toml").write_text(text.replace(marker, marker + 'gradescope_hidden_visibility = "soon"\n'))
    with pytest.raises(CourseError, match="gradescope_hidden_visibility 'soon'"):
        load_course(tmp_path)


def test_a_grader_that_fails_still_writes_a_complete_results_file(tmp_path, monkeypatch):
    def broken(root, course_root=None):
        raise RuntimeError("the hidden suite's secret line")

    monkeypatch.setattr(autograder, "grade_root", broken)
    assert autograder.run(tmp_path) == 0
    data = json.loads((tmp_path / "results" / "results.json").read_text())
    assert gradescope_problems(data) == [] and data["score"] == 0
    student, instructors = data["tests"]
    assert student["visibility"] == "visible" and "not your score" in student["output"]
    assert "secret line" not in data["output"] + student["output"]  # internals only for instructors
    assert instructors["visibility"] == "hidden" and "RuntimeError" in instructors["output"]


@pytest.mark.parametrize("layout, graded", [
    ({"exercise1.py": "x = 1", "exercise2.py": "x = 2"}, ["exercise1.py", "exercise2.py"]),
    ({"hw/exercise3.py": "x = 3", "__MACOSX/hw/._exercise3.py": ""}, ["exercise3.py"]),
    ({"Homework 1.ipynb": "notebook"}, EXERCISES),
    ({"work.zip": "zip of exercise4.py"}, ["exercise4.py"]),
])
def test_the_upload_may_be_loose_files_a_folder_a_zip_or_a_notebook(tmp_path, layout, graded):
    upload = tmp_path / "submission"
    for name, text in layout.items():
        (upload / name).parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".zip"):
            with zipfile.ZipFile(upload / name, "w") as archive:
                archive.writestr("exercise4.py", "x = 4")
        elif name.endswith(".ipynb"):
            nbformat.write(new_notebook(cells=[new_code_cell("x = 5")]), upload / name)
        else:
            (upload / name).write_text(text)
    found = autograder.find_submission(upload, EXERCISES, unpack_to=tmp_path / "unpacked")
    assert found.problem is None and sorted(found.files) == sorted(graded) and found.name == "submission"


def test_an_upload_without_answers_says_what_it_holds(tmp_path):
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "hw.py").write_text("x = 1")
    found = autograder.find_submission(tmp_path / "submission", EXERCISES, unpack_to=tmp_path / "unpacked")
    assert found.files == {} and f"holds none of {EXERCISES[0]} … {EXERCISES[-1]} (it holds: hw.py)" in found.problem


# ---------------------------------------------------------------------------
# The package
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def package(course, tmp_path_factory):
    out = tmp_path_factory.mktemp("package") / "autograder.zip"
    result = CliRunner().invoke(main, ["gradescope", str(out), "--course", str(course.root)])
    assert result.exit_code == 0, result.output
    return out


def test_the_package_holds_the_scripts_at_its_root_the_course_and_the_grader(package, course):
    with zipfile.ZipFile(package) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    for script in ("setup.sh", "run_autograder"):
        assert (infos[script].external_attr >> 16) & 0o777 == 0o755
    names = set(infos)
    assert {"pyproject.toml", "course.toml", "grader/__init__.py", "grader/commands/gradescope.py",
            "grader/sandbox/untrusted/zygote.py"} <= names
    for spec in course.exercises:
        assert {spec.stub, spec.solution, spec.suite} <= {course.root / n for n in names}
    assert set(course.student_files) <= names  # its course.toml names them: the autograder loads it
    assert not any(n.startswith(("tests/", "benchmarks/", ".")) or "__pycache__" in n for n in names)


def test_the_package_grades_at_a_seed_no_student_copy_holds(package, course, tmp_path):
    """Its course.toml gains a grading seed (derived from the solutions and hidden suites, so the same course
    gives the same package); the autograder grades at it, and a declared grading_seed is kept as written."""
    with zipfile.ZipFile(package) as archive:
        packaged = archive.read("course.toml").decode()
    (tmp_path / "course.toml").write_text(packaged)
    seed = autograder.package_grading_seed(course)
    assert f"grading_seed = {seed}" in packaged and seed != course.seed
    assert autograder.with_grading_seed(packaged, 5) == packaged  # declared once: kept
    assert "[course]\ngrading_seed = 5" in autograder.with_grading_seed('title = "x"\n', 5)


def test_caches_and_hidden_files_are_left_out_and_a_course_file_may_not_replace_grader_code(course, tmp_path):
    (tmp_path / "grader" / ".cache").mkdir(parents=True)
    (tmp_path / "grader" / ".cache" / "x.py").write_text("")
    (tmp_path / "grader" / "kept.py").write_text("")
    assert [p.name for p in autograder._tree(tmp_path / "grader")] == ["kept.py"]
    clash = tmp_path / "course"
    shutil.copytree(course.root, clash, ignore=shutil.ignore_patterns("tests", "benchmarks", ".*", "reports", "*.egg-info"))
    files = autograder.package_files(load_course(clash))
    assert files["suites/test_exercise1.py"] == clash / "suites" / "test_exercise1.py"
    (clash / "grader" / "cli.py").write_text("# not the grader's")
    (clash / "course.toml").write_text((clash / "course.toml").read_text().replace(
        'stub = "exercises/exercise1.py"', 'stub = "grader/cli.py"'))
    with pytest.raises(autograder.PackageError, match="the course's grader/cli.py would replace the grader's own"):
        autograder.package_files(load_course(clash))


def test_the_same_course_gives_the_same_bytes(package, course, tmp_path):
    again = autograder.build_package(course, tmp_path / "again.zip")
    assert again.path.read_bytes() == package.read_bytes()


def test_setup_installs_pinned_cpu_torch_and_the_grader_only(package, tmp_path):
    with zipfile.ZipFile(package) as archive:
        setup = archive.read("setup.sh").decode()
        run_script = archive.read("run_autograder").decode()
    pinned = version("torch").split("+")[0]
    assert f"pip install --no-cache-dir torch=={pinned} --index-url https://download.pytorch.org/whl/cpu" in setup
    assert "pip install --no-cache-dir /autograder/source\n" in setup
    installs = [line for line in setup.splitlines() if " install " in line]
    # apt's python, pip itself, torch, the grader, and the course's requirements (matplotlib): nothing else
    assert len(installs) == 5 and installs[-1].endswith("pip install --no-cache-dir 'matplotlib>=3.7'")
    for name, text in (("setup.sh", setup), ("run_autograder", run_script)):
        (tmp_path / name).write_text(text)
        checked = subprocess.run(["bash", "-n", str(tmp_path / name)], capture_output=True, text=True)
        assert checked.returncode == 0, (name, checked.stderr)
        assert text.startswith("#!/usr/bin/env bash\n")


def test_a_name_that_is_not_a_zip_is_a_usage_error(tmp_path, course):
    result = CliRunner().invoke(main, ["gradescope", str(tmp_path / "autograder.tar"), "--course", str(course.root)])
    assert result.exit_code == 2 and "must end in .zip" in result.output


# ---------------------------------------------------------------------------
# run_autograder, in a folder laid out like /autograder
# ---------------------------------------------------------------------------
def _autograder_root(package: Path, where: Path) -> Path:
    root = where / "autograder"
    (root / "submission").mkdir(parents=True)
    with zipfile.ZipFile(package) as archive:
        archive.extractall(root / "source")  # our own package: its names are known
    for script in ("setup.sh", "run_autograder"):
        (root / "source" / script).chmod(0o755)
    toml = root / "source" / "course.toml"
    marker = 'suite = "suites/test_exercise2.py"\n'
    toml.write_text(toml.read_text().replace(marker, marker + 'gradescope_hidden_visibility = "after_due_date"\n'))
    return root


def _run_autograder(root: Path, *, python: str = sys.executable) -> tuple[dict, subprocess.CompletedProcess]:
    env = {**os.environ, "TORCHGRADE_AUTOGRADER_ROOT": str(root), "TORCHGRADE_AUTOGRADER_PYTHON": python}
    done = subprocess.run([str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads((root / "results" / "results.json").read_text())
    assert gradescope_problems(data) == [], gradescope_problems(data)
    return data, done


def _zip_folder(folder: Path, out: Path) -> None:
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(folder.glob("*.py")):
            archive.writestr(f"work/{path.name}", path.read_bytes())


@pytest.fixture(scope="module")
def gradescope_runs(package, course, tmp_path_factory):
    """run_autograder on four submissions: the solutions as loose files, the
    stubs in a zip, a known mistake in a notebook, and a hostile submission
    (a segfault in exercise 1, a hunt for the solutions in exercise 2)."""
    runs = {}
    for case in ("solutions", "stub", "mistake", "hostile"):
        root = _autograder_root(package, tmp_path_factory.mktemp(case))
        submission = root / "submission"
        if case == "solutions":
            for spec in course.exercises:
                shutil.copy(spec.solution, submission / spec.filename)
        elif case == "stub":
            _zip_folder(course.root / "exercises", submission / "my_work.zip")
        elif case == "mistake":
            spec = course.exercise("exercise1")
            source = spec.mutant_source(next(m for m in spec.mistakes if m.id == "bias_ignored"))
            nbformat.write(new_notebook(cells=[new_code_cell("%matplotlib inline"), new_code_cell(source)]),
                           submission / "exercise1.ipynb")
        else:
            shutil.copy(HERE / "hostile" / "segfault.py", submission / "exercise1.py")
            shutil.copy(HERE / "hostile" / "reads_solutions.py", submission / "exercise2.py")
        runs[case] = _run_autograder(root)
    return runs


def _tests_of(data: dict, exercise_id: str) -> list[dict]:
    return [t for t in data["tests"] if t["name"].startswith(f"{exercise_id}: ")]


def test_the_solutions_earn_every_point(gradescope_runs, course):
    data, done = gradescope_runs["solutions"]
    assert data["score"] == sum(s.points for s in course.exercises) == sum(t["max_score"] for t in data["tests"])
    assert all(t["status"] == "passed" for t in data["tests"])
    assert data["output"] in done.stdout  # the summary, in the log instructors see
    assert f"seed {autograder.package_grading_seed(course)}" in data["output"]  # the package's, not the course's


def test_public_tests_are_visible_and_hidden_ones_follow_the_course(gradescope_runs):
    data, _ = gradescope_runs["solutions"]
    visibilities = {t["visibility"] for t in data["tests"]}
    assert visibilities == {"visible", "after_published", "after_due_date"}
    assert {t["visibility"] for t in _tests_of(data, "exercise2")} <= {"visible", "after_due_date"}
    assert "after_due_date" not in {t["visibility"] for t in _tests_of(data, "exercise1")}


def test_the_stub_in_a_zip_earns_nothing_and_says_why(gradescope_runs):
    data, _ = gradescope_runs["stub"]
    assert data["score"] == 0 and len(data["tests"]) > 10
    assert all(t["output"] for t in data["tests"] if t["status"] == "failed" and t["max_score"] > 0)
    assert any("Hint: " in t["output"] for t in data["tests"])


def test_a_known_mistake_in_a_notebook_loses_points_with_its_hint(gradescope_runs, course):
    data, _ = gradescope_runs["mistake"]
    spec = course.exercise("exercise1")
    hint = next(m for m in spec.mistakes if m.id == "bias_ignored").hint
    exercise1 = _tests_of(data, "exercise1")
    assert 0 < sum(t["score"] for t in exercise1) < spec.points
    assert any(hint in t["output"] for t in exercise1 if t["status"] == "failed")
    assert all("exercise2.py was not submitted" in t["output"] for t in _tests_of(data, "exercise2"))
    assert "`%matplotlib inline`" in data["output"]


def test_a_hostile_submission_gets_a_complete_honest_results_file(gradescope_runs):
    data, _ = gradescope_runs["hostile"]
    exercise1, exercise2 = _tests_of(data, "exercise1"), _tests_of(data, "exercise2")
    assert any("[crashed]" in t["output"] for t in exercise1) and sum(t["score"] for t in exercise1) == 3
    assert sum(t["score"] for t in exercise2) == 0
    assert all("no reference solution was reachable" in t["output"] for t in exercise2)
    assert data["score"] == 3


def test_run_autograder_writes_results_even_when_python_cannot_start(package, tmp_path):
    root = _autograder_root(package, tmp_path)
    data, done = _run_autograder(root, python="/bin/false")
    assert data["score"] == 0 and "exit status 1" in data["output"]
    assert "without writing" in done.stderr


def test_a_sandbox_lost_while_grading_is_told_apart_from_one_that_never_started():
    from grader.commands.gradescope import describe_failure
    from grader.sandbox.client import ZygoteError, ZygoteLost

    lost = describe_failure(ZygoteLost("lost the sandbox zygote: [Errno 9] Bad file descriptor\n/tmp/x.log"))
    assert "stopped while grading" in lost and "Errno" not in lost and "/tmp" not in lost
    assert "could not start" in describe_failure(ZygoteError("the sandbox zygote did not start:\nboom"))
