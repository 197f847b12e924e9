"""Options are closed sets: a typo is refused where it is made, never silently taken for a default."""
from __future__ import annotations

import json

import pytest

from grader.options import GradeOptions, Isolation


def test_isolation_is_an_enum_and_a_typo_is_refused():
    assert GradeOptions(isolate="exercise").isolate is Isolation.EXERCISE  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exercize"):
        GradeOptions(isolate="exercize")  # type: ignore[arg-type]


def test_options_cross_to_a_worker_as_json_and_back():
    options = GradeOptions(seed=3, timeout_s=2.5, isolate=Isolation.EXERCISE, public_only=True)
    assert GradeOptions.from_plain(json.loads(json.dumps(options.to_plain()))) == options
    with pytest.raises(TypeError):
        GradeOptions.from_plain({**options.to_plain(), "isolation": "exercise"})  # an unknown field


def test_a_test_s_visibility_and_an_exercise_s_scope_are_closed_sets():
    from grader.results import ExerciseResult, TestResult
    from grader.words import Scope, Visibility

    test = TestResult("t", "t", 1.0, True, visibility="public")  # type: ignore[arg-type]
    assert test.visibility is Visibility.PUBLIC and test.visibility == "public" and f"{test.visibility}" == "public"
    with pytest.raises(ValueError, match="pubic"):
        TestResult("t", "t", 1.0, True, visibility="pubic")  # type: ignore[arg-type]
    assert ExerciseResult("e", "e", (), seed=0, scope="public").scope is Scope.PUBLIC  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="everything"):
        ExerciseResult("e", "e", (), seed=0, scope="everything")  # type: ignore[arg-type]


def test_an_export_format_is_a_closed_set(tmp_path):
    from grader.record import exports
    from grader.record.database import ClassRecord, RecordError

    assert exports.ExportFormat("moodle") is exports.ExportFormat.MOODLE
    with ClassRecord.open(tmp_path) as record, pytest.raises(RecordError, match="unknown export format 'canvs'"):
        exports.export(record, format="canvs", students=[], path=tmp_path / "x.csv", assignment="hw")
