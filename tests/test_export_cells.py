"""Every column of every export is safe in a spreadsheet: one rule (``exports.to_csv``), tested with hostile values
in every field a roster, a submission or a note can fill."""
from __future__ import annotations

import csv

import pytest

from grader.record import exports
from grader.record.database import ClassRecord
from grader.record.roster import Student
from grader.results import ExerciseResult, SubmissionResult, TestResult

# What Excel and LibreOffice read as a formula (or as the start of one, after a tab or a carriage return).
HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
           "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def hostile_student(number: int, value: str) -> Student:
    return Student(submission=f"{value}{number}", name=value, id=value, sis_user_id=value, sis_login_id=value,
                   email=value, section=value)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, list[list[str]]]:
    folder = tmp_path_factory.mktemp("exports")
    students = [hostile_student(n, value) for n, value in enumerate(HOSTILE)]
    with ClassRecord.open(folder / "out") as record:
        run = record.begin_run(grader_version="0.1.0", seed=0, course_title="c", course_fingerprint="v1",
                               exercise_ids=("exercise1",))
        for student in students:
            tests = (TestResult(name="test_a", title="a", max_points=5.0, passed=False, message="=1+1 wrong"),)
            record.store(run, SubmissionResult(submission=student.submission, seed=0, exercises=(
                ExerciseResult(exercise_id="exercise1", title="e", tests=tests, seed=0),)), files_hash="h")
            record.set_override(student.submission, "exercise1", 3, HOSTILE[0])  # a note an instructor wrote
        written = {}
        for format in exports.FORMATS:
            path = folder / f"{format}.csv"
            exports.export(record, format=format, students=students, path=path, assignment="@HW1 (12)",
                           course_ids=("exercise1",))
            with path.open(encoding="utf-8", newline="") as file:
                written[format] = list(csv.reader(file))
    return written


@pytest.mark.parametrize("format", exports.FORMATS)
def test_no_cell_of_an_export_starts_a_formula(exported, format):
    rows = exported[format]
    assert len(rows) > len(HOSTILE)  # every student has a row
    risky = [cell for row in rows for cell in row
             if cell.startswith(FORMULA_STARTS) and not exports._PLAIN_NUMBER.fullmatch(cell)]
    assert risky == []


def test_a_hostile_value_is_kept_as_text_not_dropped(exported):
    assert "'" + HOSTILE[0] in {cell for row in exported["csv"] for cell in row}
    assert exported["canvas"][0][-1] == "'@HW1 (12)"  # the assignment's name, which the instructor typed
    ids = {row[1] for row in exported["canvas"][2:]}  # Canvas's ID column, as the roster gave it
    assert "'" + HOSTILE[0] in ids
    emails = {row[1] for row in exported["moodle"][1:]}  # Moodle's email column
    assert "'" + HOSTILE[1] in emails


def test_a_grade_goes_out_as_a_number():
    assert exports.to_csv([["-2", "7.5", "-x"]]) == "-2,7.5,'-x\r\n"
