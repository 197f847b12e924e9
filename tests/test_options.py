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
