"""Submission text made inert (grader.inert), and what reaches the terminal
through the CLI: the bytes of ``grade exerciseN`` and ``grade batch`` hold no
escape sequence of a submission, and rich markup in it prints as written."""
from __future__ import annotations

import os
import unicodedata
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.inert import inert
from grader.results import ExerciseResult, MismatchRow, TestResult

REPO = Path(__file__).resolve().parent.parent
HOSTILE = REPO / "tests" / "hostile"
ACTING = ("Cc", "Cf", "Cs", "Zl", "Zp")  # what a terminal or a reader acts on instead of showing it


def test_every_character_but_the_printable_ones_becomes_a_visible_escape():
    # The basic plane, the emoji, the tag characters and the last private ones (all of them: ~10 s).
    codes = [*range(0x10000), *range(0x1F000, 0x1FB00), *range(0xE0000, 0xE0200), *range(0x10FF00, 0x110000)]
    every = "".join(map(chr, codes))
    for multiline in (False, True):
        kept = "\n\t" if multiline else ""
        made = inert(every, multiline=multiline)
        assert not [ch for ch in set(made) if ch not in kept and unicodedata.category(ch) in ACTING]
        assert inert(made, multiline=multiline) == made  # inert twice changes nothing


@pytest.mark.parametrize("text, shown", [
    ("\x1b[31mred", "\\x1b[31mred"), ("\x9b2J", "\\x9b2J"), ("over\rwrite", "over\\rwrite"),
    ("\x1b]52;c;eA==\x07", "\\x1b]52;c;eA==\\x07"), ("a\u202eb\u2066", "a\\u202eb\\u2066"),
    ("back\x08\x7f", "back\\x08\\x7f"), ("tag\U000e0041", "tag\\U000e0041"), ("line\u2028", "line\\u2028"),
])
def test_controls_and_bidi_read_as_python_escapes(text, shown):
    assert inert(text) == shown


def test_newlines_pass_only_where_the_field_has_lines():
    assert inert("a\nb\tc\r\nd", multiline=True) == "a\nb\tc\nd"
    assert inert("a\nb\tc") == "a\\nb\\tc"


@pytest.mark.parametrize("honest", ["model(x, w, b) differs in 3 of 7 elements", "é 中文 😀 ✓ ✗ — …",
                                    "C:\\Users\\ana\\x1b.py", "no\u00a0break", "[bold]as written[/bold]"])
def test_honest_text_is_left_as_it_is(honest):
    assert inert(honest) == inert(honest, multiline=True) == honest


def test_a_result_holds_only_inert_text_whoever_builds_it():
    test = TestResult("t", "title", 1.0, False, message="got \x1b[2J\nthere", hint="\u202ehint")
    exercise = ExerciseResult("exercise1", "T", (test,), seed=1, problem="p\x1b", output="out\x1b]8;;\x07\n",
                              notes=("one\nline\x1b",))
    assert test.message == "got \\x1b[2J\nthere" and test.hint == "\\u202ehint"
    assert exercise.problem == "p\\x1b" and exercise.output == "out\\x1b]8;;\\x07\n"
    assert exercise.notes == ("one\\nline\\x1b",)
    assert MismatchRow("w\x1b", "1", "2", "1").index == "w\\x1b"


# ---------------------------------------------------------------------------
# The bytes a terminal receives
# ---------------------------------------------------------------------------
def acting_bytes(output: bytes) -> list[str]:
    """Characters of ``output`` a terminal would act on, but newlines."""
    return [ch for ch in output.decode("utf-8") if ch != "\n" and unicodedata.category(ch) in ACTING]


@pytest.fixture
def in_course(monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("COLUMNS", "200")  # the fake line stays on one line, as a terminal would draw it
    return CliRunner()


def test_grade_exercise_prints_an_escaping_message_as_visible_escapes(in_course):
    result = in_course.invoke(main, ["exercise1", "--submission", str(HOSTILE / "escape_sequences_in_message.py"),
                                     "--no-report"])
    assert result.exit_code == 1, result.output
    out = result.stdout_bytes
    assert acting_bytes(out) == []
    text = out.decode()
    assert "\\x1b]52;c;" in text and "\\x1b]8;;https://example.invalid/" in text and "\\u202e" in text
    assert "[bold red]markup[/bold red]" in text  # rich markup of a submission prints as written
    assert "score: 3/10" in text


def test_grade_batch_shows_names_and_refusals_as_visible_escapes(tmp_path):
    submissions, out = tmp_path / "class", tmp_path / "out"
    submissions.mkdir()
    solution = (REPO / "solutions" / "exercise1.py").read_text()
    for name in ("line\nClass: 40 submission(s); total mean 10", "red\x1b[31m", ".hidden[bold red]"):
        (submissions / name).mkdir()
        (submissions / name / "exercise1.py").write_text(solution)
    with zipfile.ZipFile(submissions / "member.zip", "w") as archive:  # refused: its member is a link
        link = zipfile.ZipInfo("\x1b[2J\x1b[H\x1b[32mAll 40 graded 10/10\x1b[0m/exercise1.py")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    env = {"COLUMNS": "200"}
    result = CliRunner().invoke(main, ["batch", str(submissions), "--out", str(out), "--exercise", "exercise1",
                                       "--jobs", "1", "--course", str(REPO)], env=env)
    printed = result.stdout_bytes
    assert acting_bytes(printed) == [], printed.decode()
    text = printed.decode()
    assert not any(line.startswith("Class: 40") for line in text.splitlines())  # no line forged by a name
    assert "\\x1b[2J\\x1b[H" in text  # the refused zip's member, shown
    assert ".hidden[bold red]" in text  # a hidden entry's name, no markup applied
    gradebook = (out / "gradebook.csv").read_bytes()
    assert b"\x1b" not in gradebook and b"Class: 40" not in gradebook.replace(b"\\nClass: 40", b"")
    assert os.path.isdir(out)
