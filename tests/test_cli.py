"""The `grade` command, as a student uses it."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.commands import grade
from grader.course.catalogue import load_course
from grader.commands.batch import controller
from grader.commands.gradescope import PackageError
from grader.commands.release import ReleaseError
from grader.commands.verify import VerifyError
from grader.course.catalogue import CourseError
from grader.course.submissions import SubmissionError
from grader.errors import GraderFailure, UserError
from grader.options import GradeOptions, GraderError
from grader.sandbox.client import ZygoteError

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def in_course(monkeypatch):
    monkeypatch.chdir(REPO)
    return CliRunner()


def test_grading_the_stub_explains_the_failure_and_writes_a_report(in_course, tmp_path):
    report = tmp_path / "out" / "exercise1.html"
    result = in_course.invoke(main, ["exercise1", "--report", str(report)])
    assert result.exit_code == 1, result.output
    assert "✗" in result.output and "0/10" in result.output
    assert "look at what w multiplies" in " ".join(result.output.split())
    assert f"HTML report: {report}" in result.output
    html = report.read_text()
    assert "Fix the model" in html and "look at what w multiplies" in html and "<script" not in html


def test_full_marks_exit_zero_and_json_follows_gradescope_schema(in_course, tmp_path):
    result = in_course.invoke(main, ["exercise4", "--submission", str(REPO / "solutions" / "exercise4.py"),
                                     "--json", "--no-report"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["score"] == data["max_score"] == 10
    assert {"name", "score", "max_score", "status", "output"} <= set(data["tests"][0])
    assert all(test["status"] == "passed" for test in data["tests"])


def test_grade_all_prints_a_summary_table(in_course, tmp_path):
    result = in_course.invoke(main, ["all", "--submission", str(REPO / "solutions"), "--no-report"])
    assert result.exit_code == 0, result.output
    course = load_course(REPO)
    for exercise in course.ids:
        assert exercise in result.output
    total = f"{sum(spec.points for spec in course.exercises):g}"
    assert f"{total}/{total}" in result.output


@pytest.mark.parametrize("args", [["exercise99"], ["exercise1", "--submission", "/no/such/file.py"],
                                  ["exercise1", "--timeout", "-3"]])
def test_bad_usage_exits_2_with_a_message(in_course, args):
    result = in_course.invoke(main, args)
    assert result.exit_code == 2
    assert "Error" in result.output


def test_grade_list_shows_titles_and_points(in_course):
    result = in_course.invoke(main, ["list"])
    assert result.exit_code == 0
    assert "Two neurons with nn.Parameter" in result.output and "10 pts" in result.output


def test_the_console_script_grades_a_folder_outside_the_course(tmp_path):
    """The installed `grade`, run from another folder, finds the course through --course."""
    shutil.copy(REPO / "solutions" / "exercise3.py", tmp_path / "exercise3.py")
    grade = shutil.which("grade") or str(Path(sys.executable).parent / "grade")
    done = subprocess.run([grade, "exercise3", "--course", str(REPO), "--submission", str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "reports" / "exercise3.html").is_file()


def test_the_zygote_starts_before_the_grader_imports_torch(tmp_path):
    """A student waits for one torch import, not two in a row: `grade exerciseN`
    starts the zygote (which imports torch) before this process imports it."""
    probe = (
        "import sys\n"
        "from grader.sandbox import client as isolation\n"
        "original = isolation.Zygote.start.__func__\n"
        "def start(cls, **options):\n"
        "    print('torch imported at zygote start:', 'torch' in sys.modules, file=sys.stderr)\n"
        "    return original(cls, **options)\n"
        "isolation.Zygote.start = classmethod(start)\n"
        "from grader.cli import main\n"
        "main(['exercise3', '--no-report', '--course', sys.argv[1]])\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(REPO)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert "torch imported at zygote start: False" in done.stderr, done.stderr


def test_json_shows_hidden_tests_when_the_course_says(tmp_path):
    """`--json` (like batch's and Gradescope's results.json) takes each
    exercise's gradescope_hidden_visibility from course.toml."""
    for folder in ("exercises", "solutions", "suites"):
        (tmp_path / folder).symlink_to(REPO / folder)
    marker = 'suite = "suites/test_exercise4.py"\n'
    text = (REPO / "course.toml").read_text()
    assert marker in text
    (tmp_path / "course.toml").write_text(text.replace(marker, marker + 'gradescope_hidden_visibility = "after_due_date"\n'))
    result = CliRunner().invoke(main, ["exercise4", "--course", str(tmp_path), "--json", "--no-report",
                                       "--submission", str(REPO / "solutions" / "exercise4.py")])
    assert result.exit_code == 0, result.output
    visibilities = [test["visibility"] for test in json.loads(result.stdout)["tests"]]
    assert "visible" in visibilities and "after_due_date" in visibilities
    assert "after_published" not in visibilities


def test_output_to_a_log_is_not_cut_at_80_columns(monkeypatch):
    from grader.outputs.terminal import LOG_WIDTH, make_console

    monkeypatch.delenv("COLUMNS", raising=False)
    assert make_console().width == LOG_WIDTH > 80  # pytest's captured stdout is not a terminal
    monkeypatch.setenv("COLUMNS", "100")
    assert make_console().width == 100


def test_help_answers_without_importing_torch():
    """`grade --help` and every command's help answer at once: nothing behind them is imported."""
    probe = ("import sys\n"
             "from click.testing import CliRunner\n"
             "from grader.cli import main\n"
             "for args in sys.argv[1:]:\n"
             "    result = CliRunner().invoke(main, [*args.split(), '--help'])\n"
             "    assert result.exit_code == 0 and 'Usage:' in result.output, (args, result.output)\n"
             "assert 'torch' not in sys.modules, 'torch imported'\n")
    commands = ["", "exercise3", "list", "batch", "verify", "release", "gradescope"]
    done = subprocess.run([sys.executable, "-c", probe, *commands], capture_output=True, text=True, timeout=60,
                          cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("error", [CourseError, SubmissionError, ReleaseError, PackageError])
def test_errors_the_user_can_fix_are_user_errors(error):
    assert issubclass(error, UserError) and not issubclass(error, GraderFailure)


@pytest.mark.parametrize("error", [GraderError, ZygoteError, VerifyError, controller.BatchError])
def test_errors_of_a_grader_that_cannot_run_are_grader_failures(error):
    assert issubclass(error, GraderFailure) and not issubclass(error, UserError)


@pytest.mark.parametrize("error, status", [
    (SubmissionError("/no/such/file.py does not exist"), 2),
    (CourseError("no course.toml here or above"), 2),
    (GraderError("the hidden suites could not run: boom"), 3),
    (ZygoteError("the sandbox zygote did not start"), 3),  # was a traceback before the two bases
])
def test_a_failure_is_a_message_and_its_kind_s_exit_status_not_a_traceback(monkeypatch, error, status):
    def fail(**_: object) -> None:
        raise error

    monkeypatch.setattr(grade, "grade_local", fail)
    result = CliRunner().invoke(main, ["exercise1", "--no-report"])
    assert result.exit_code == status, result.output
    assert str(error) in result.output and "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # handled, not escaped


def test_shared_options_reach_every_command_as_one_grade_options(monkeypatch, tmp_path):
    seen = {}

    def grade_local(**kwargs: object) -> None:
        seen["exercise"] = kwargs["options"]
        raise GraderError("stop here")

    def grade_batch(submissions: Path, out: Path, **kwargs: object) -> None:
        seen["batch"] = kwargs["options"]
        raise controller.BatchError("stop here")

    monkeypatch.setattr(grade, "grade_local", grade_local)
    monkeypatch.setattr(controller, "grade_batch", grade_batch)
    flags = ["--seed", "5", "--timeout", "2", "--memory", "100", "--require-sandbox", "--isolate", "exercise"]
    alone = CliRunner().invoke(main, ["exercise3", *flags])
    batch = CliRunner().invoke(main, ["batch", str(tmp_path), "--out", str(tmp_path / "out"), *flags])
    expected = GradeOptions(seed=5, timeout_s=2.0, memory_mb=100, require_sandbox=True, isolate="exercise")
    assert seen == {"exercise": expected, "batch": expected}
    assert alone.exit_code == batch.exit_code == 3
    assert "grade: stop here" in alone.output and "grade batch: stop here" in batch.output


def test_batch_with_an_exercise_the_course_lacks_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["batch", str(tmp_path), "--out", str(tmp_path / "out"),
                                       "--exercise", "exercise99", "--course", str(REPO)])
    assert result.exit_code == 2 and "no exercise named 'exercise99'" in result.output
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_help_lists_the_commands_by_who_uses_them_the_student_s_own_first():
    text = CliRunner().invoke(main, ["--help"]).output
    students, instructors, authors = (text.index(title) for title in
                                      ("For students:", "For instructors:", "For course authors:"))
    assert students < instructors < authors
    section = {name: title for title, names in (("students", ("exerciseN", "watch", "list")),
                                                ("instructors", ("batch", "history", "override", "export")),
                                                ("authors", ("verify", "release", "gradescope")))
               for name in names}
    starts = {"students": students, "instructors": instructors, "authors": authors}
    ends = {"students": instructors, "instructors": authors, "authors": len(text)}
    for name, title in section.items():
        assert f"\n  {name} " in text[starts[title]:ends[title]], name
    assert "--submission" in text[students:instructors] and "--json" in text and "--no-report" in text


def test_an_exercise_s_help_names_it_and_says_what_it_does():
    text = CliRunner().invoke(main, ["exercise3", "--help"], prog_name="grade").output
    assert text.startswith("Usage: grade exercise3 [OPTIONS]\n")
    assert "Grade one exercise of your work" in text and "--no-report" in text


def test_the_summary_table_lines_up_every_exercise_s_title_exercise10_too():
    from rich.console import Console

    from grader.outputs import terminal
    from grader.results import ExerciseResult, SubmissionResult, TestResult

    exercises = tuple(ExerciseResult(f"exercise{n}", f"Title {n}", (TestResult("t", "t", 1.0, True),), seed=0)
                      for n in (1, 9, 10))
    console = Console(record=True, width=100, color_system=None)
    terminal.print_summary_table(console, SubmissionResult("me", exercises, seed=0))
    lines = console.export_text().splitlines()
    assert len({line.index("Title") for line in lines if "Title" in line}) == 1, lines


def test_the_time_a_local_grade_reports_is_the_whole_time_it_took(monkeypatch, tmp_path):
    import time
    from types import SimpleNamespace

    from grader.engine import runner
    from grader.results import SubmissionResult
    from grader.sandbox import client

    class NoZygote:
        def warm(self, features) -> None:
            pass

        def close(self, wait: bool) -> None:
            pass

    def slow_grade(course, submissions, specs, **kwargs):
        time.sleep(0.5)  # the sandbox and torch starting, as the student waits for them
        return SimpleNamespace(results=[SubmissionResult("me", (), seed=0, elapsed_s=0.1)])

    monkeypatch.setattr(client.Zygote, "start", staticmethod(lambda *a, **k: NoZygote()))
    monkeypatch.setattr(runner, "grade", slow_grade)
    _, result = grade.grade_local(exercise_ids=["exercise1"], submission=REPO / "solutions", course_root=REPO)
    assert result.elapsed_s >= 0.5


def test_a_student_copy_says_how_many_of_an_exercise_s_points_it_checks():
    from rich.console import Console

    from grader.outputs import terminal
    from grader.results import ExerciseResult, SubmissionResult, TestResult

    public = ExerciseResult("exercise1", "Fix the model", (TestResult("t", "t", 7.0, False),), seed=0, scope="public")
    console = Console(record=True, width=200, color_system=None)
    terminal.print_result(console, SubmissionResult("me", (public,), seed=0), summary=False, worth={"exercise1": 10})
    text = console.export_text()
    assert "score: 0/7" in text and "7 of 10 points are checked locally" in text
    assert terminal.checked_locally(replace(public, scope="all"), 10) is None


def test_a_student_copy_s_report_and_watch_say_how_many_points_are_checked_and_whose_work_it_is(tmp_path):
    from rich.console import Console

    from grader.commands.watch import WatchRound, Watched, WatchView
    from grader.course.catalogue import load_course
    from grader.outputs.html import render_html
    from grader.results import ExerciseResult, SubmissionResult, TestResult

    public = ExerciseResult("exercise1", "Fix the model", (TestResult("t", "t", 7.0, False),), seed=0, scope="public")
    result = SubmissionResult("exercises", (public,), seed=0)
    page = render_html(result, course_title="How models learn", who="Your work", worth={"exercise1": 10})
    assert "<title>Your work — How models learn</title>" in page
    assert "7 of 10 points are checked locally" in page
    assert "<title>ken — How models learn" in render_html(replace(result, submission="ken"),
                                                         course_title="How models learn")
    console = Console(record=True, width=200, color_system=None)
    view = WatchView(console, summary=False, report=tmp_path / "r.html", course=load_course(REPO), who="Your work")
    view.show(WatchRound(result, [], 0.1, Watched.of(tmp_path)))
    assert "7 of 10 points are checked locally" in console.export_text()
    assert f"<title>Your work — {load_course(REPO).title}" in (tmp_path / "r.html").read_text()
