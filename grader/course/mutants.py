"""Known mistakes as files: each mistake's mutant, written where a run can grade it.

A known mistake (``course.toml``'s ``[[exercises.mistakes]]``) is the
solution with one find/replace edit (``ExerciseSpec.mutant_source``). ``grade
verify`` grades the mutants to check that each mistake loses points with its
own hint, and ``grade release`` records their answers so that a student copy
can show the hints; both write them here, as one folder submission each.
Torch-free.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from grader.course.catalogue import CourseError, ExerciseSpec, MistakeSpec
from grader.course.forbidden import ForbidRule
from grader.course.submissions import Submission

MutantKey = tuple[str, str]  # (exercise id, mistake id)


def mutant_name(exercise_id: str, mistake_id: str) -> str:
    """The submission name a mutant is graded and reported under."""
    return f"mutant-{exercise_id}-{mistake_id}"


def rule_key(index: int) -> str:
    """The mutant key of an exercise's ``index``-th forbid rule."""
    return f"forbid{index + 1}"


def write_mutants(specs: Sequence[ExerciseSpec], folder: Path, *, rules: bool = False
                  ) -> tuple[dict[MutantKey, Submission], dict[MutantKey, str]]:
    """One folder submission per known mistake of ``specs`` (and with
    ``rules``, per forbid rule with a mutant), under ``folder``, holding the
    mutant as ``exerciseN.py``; and, by the same keys, the edits that cannot
    be applied, with why (a problem to report, not a crash)."""
    mutants: dict[MutantKey, Submission] = {}
    problems: dict[MutantKey, str] = {}
    for spec in specs:
        edits: list[tuple[str, MistakeSpec | ForbidRule]] = [(m.id, m) for m in spec.mistakes]
        if rules:
            edits += [(rule_key(i), rule) for i, rule in enumerate(spec.forbid) if rule.find]
        for edit_id, mistake in edits:
            key, name = (spec.id, edit_id), mutant_name(spec.id, edit_id)
            try:
                source = spec.mutant_source(mistake)
            except CourseError as error:
                problems[key] = str(error)
                continue
            (folder / name).mkdir()
            (folder / name / spec.filename).write_text(source, encoding="utf-8")
            mutants[key] = Submission(name=name, files={spec.filename: folder / name / spec.filename})
    return mutants, problems
