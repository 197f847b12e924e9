"""The `grade` command, as a student uses it."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main

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
    for exercise in ("exercise1", "exercise2", "exercise3", "exercise4", "exercise5"):
        assert exercise in result.output
    assert "50/50" in result.output


@pytest.mark.parametrize("args", [["exercise9"], ["exercise1", "--submission", "/no/such/file.py"],
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
        "def start(cls):\n"
        "    print('torch imported at zygote start:', 'torch' in sys.modules, file=sys.stderr)\n"
        "    return original(cls)\n"
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
    from grader.outputs.terminal import LOG_WIDTH, make_console  # noqa: PLC0415

    monkeypatch.delenv("COLUMNS", raising=False)
    assert make_console().width == LOG_WIDTH > 80  # pytest's captured stdout is not a terminal
    monkeypatch.setenv("COLUMNS", "100")
    assert make_console().width == 100
