"""The judging half of ``grade verify``: pure functions from graded results to ``VerifyCheck`` records.

``verify`` grades the course's solutions, stubs and known-mistake mutants (and
its student copy); everything here only reads those ``SubmissionResult``s, so
each check is tested without a sandbox, as pip-tools' pure ``diff`` beside its
acting ``sync``.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from grader.course.catalogue import ExerciseSpec, MistakeSpec
from grader.course.forbidden import ForbidRule
from grader.course.mutants import rule_key
from grader.engine.evidence import shows_hint
from grader.results import ExerciseResult, SandboxStatus, SubmissionResult, TestResult
from grader.status import Status
from grader.verdicts import Verdict

MIN_MISTAKES = 3
MISTAKE_SEEDS = 3  # seeds at which every known mistake must lose points with its hint
SOLUTIONS, STUBS = "solutions", "stubs"


@dataclass(frozen=True)
class VerifyCheck:
    exercise_id: str
    name: str  # what is checked, in plain words: "stub earns zero"
    passed: bool
    detail: str = ""  # what was found: why it failed, or the evidence it passed


@dataclass(frozen=True)
class VerifyReport:
    course_title: str
    seed: int
    exercise_ids: tuple[str, ...]
    checks: tuple[VerifyCheck, ...]
    sandbox: SandboxStatus = dataclasses.field(default_factory=SandboxStatus)
    elapsed_s: float = 0.0

    def checks_for(self, exercise_id: str) -> tuple[VerifyCheck, ...]:
        return tuple(c for c in self.checks if c.exercise_id == exercise_id)

    def exercise_passed(self, exercise_id: str) -> bool:
        checks = self.checks_for(exercise_id)
        return bool(checks) and all(c.passed for c in checks)

    @property
    def failures(self) -> tuple[VerifyCheck, ...]:
        return tuple(c for c in self.checks if not c.passed)

    @property
    def passed(self) -> bool:
        # A course with no exercises verifies nothing: that is not a pass.
        return bool(self.exercise_ids) and all(self.exercise_passed(i) for i in self.exercise_ids)


@dataclass(frozen=True)
class VerifyRuns:
    """Everything ``verify`` graded, by role. Keys of ``mutants``: (exercise id, mistake id,
    or ``rule_key`` of a forbid rule)."""

    seed: int
    solutions: SubmissionResult
    stubs: SubmissionResult
    mutants: Mapping[tuple[str, str], SubmissionResult]
    solutions_again: SubmissionResult  # same seed, a new pytest session
    stubs_again: SubmissionResult
    solutions_other_seed: SubmissionResult  # seed + 1
    stubs_other_seed: SubmissionResult
    # The known mistakes' mutants again, at each of MISTAKE_SEEDS - 1 other
    # seeds (seed + 1, seed + 2, ...): a mistake must lose points with its
    # hint at every one, or a test lets it pass by luck.
    mutants_other_seeds: tuple[tuple[int, Mapping[tuple[str, str], SubmissionResult]], ...] = ()


# -- pure checks: results in, VerifyCheck out -----------------------------------

def _exercise(result: SubmissionResult, spec: ExerciseSpec) -> ExerciseResult:
    found = next((e for e in result.exercises if e.exercise_id == spec.id), None)
    # A suite that collects no test leaves nothing to grade: checks then see 0 points.
    return found or ExerciseResult(spec.id, spec.title, (), seed=result.seed, status=Status.GRADED,
                                   problem="no hidden test ran")


def _points(value: float) -> str:
    return f"{value:g}"


def _why(test: TestResult) -> str:
    lines = test.message.strip().splitlines()
    if test.verdict == Verdict.GRADER_ERROR and lines:
        return lines[-1]  # a traceback: its last line names the exception
    return (lines[0] if lines else "") or test.verdict or "failed"


def _failed_tests(exercise: ExerciseResult) -> str:
    return "; ".join(f"{t.name} ({_why(t)})" for t in exercise.tests if not t.passed)


def points_check(spec: ExerciseSpec, solution: ExerciseResult) -> VerifyCheck:
    suite_points = solution.max_score
    passed = suite_points == spec.points
    detail = (f"{_points(suite_points)} in the suite, as declared" if passed else
              f"the suite's tests carry {_points(suite_points)} points; course.toml declares {_points(spec.points)} "
              "(or its markers, read without running it, add up to that)")
    return VerifyCheck(spec.id, "points match course.toml", passed, detail)


def reference_check(spec: ExerciseSpec, solution: ExerciseResult, *, name: str = "reference earns full marks"
                    ) -> VerifyCheck:
    score = f"{_points(solution.score)}/{_points(solution.max_score)}"
    if solution.problem:
        return VerifyCheck(spec.id, name, False, f"{score}: {solution.problem}")
    if solution.full_marks:
        return VerifyCheck(spec.id, name, True, score)
    return VerifyCheck(spec.id, name, False, f"{score}; failing: {_failed_tests(solution) or 'no tests ran'}")


def stub_check(spec: ExerciseSpec, stub: ExerciseResult, *, name: str = "stub earns zero") -> VerifyCheck:
    """The stub scores nothing, and every test that carries points fails on it
    (a test worth 0 points may pass: it can check, say, that the file imports)."""
    passing = [t for t in stub.tests if t.passed and t.max_points > 0]
    if not any(t.max_points > 0 for t in stub.tests):
        return VerifyCheck(spec.id, name, False, "no test with points ran on the stub: nothing was checked")
    if passing:
        names = ", ".join(f"{t.name} ({_points(t.max_points)} pts)" for t in passing)
        # Said plainly: a stub that earns points holds an answer (edited in the checkout, or never emptied).
        return VerifyCheck(spec.id, name, False,
                           f"the stub of {spec.id} earns {_points(stub.score)} points: it holds an answer "
                           f"(of {_points(stub.max_score)}; tests passing: {names})")
    return VerifyCheck(spec.id, name, True, f"0/{_points(stub.max_score)}; every test with points fails")


def mistake_count_check(spec: ExerciseSpec, minimum: int = MIN_MISTAKES) -> VerifyCheck:
    count = len(spec.mistakes)
    passed = count >= minimum
    detail = f"{count} declared" + ("" if passed else f"; declare at least {minimum} in course.toml")
    return VerifyCheck(spec.id, f"at least {minimum} known mistakes", passed, detail)


def mistake_check(spec: ExerciseSpec, mistake: MistakeSpec, mutant: ExerciseResult | None,
                  problem: str | None = None) -> VerifyCheck:
    """The mutant loses points, and a failing test shows the mistake's own hint."""
    name = f"mistake {mistake.id}"
    if problem is not None or mutant is None:
        return VerifyCheck(spec.id, name, False, problem or "the mutant was not graded")
    score = f"{_points(mutant.score)}/{_points(mutant.max_score)}"
    if mutant.full_marks:
        return VerifyCheck(spec.id, name, False, f"the mutant still earns {score}: no hidden test catches this mistake")
    hinted = [t.name for t in mutant.tests if not t.passed and shows_hint(t.hint, mistake.hint)]
    if not hinted:
        shown = sorted({t.hint for t in mutant.tests if not t.passed and t.hint})
        seen = f"; hints shown instead: {' | '.join(shown)}" if shown else "; no failing test showed any hint"
        return VerifyCheck(spec.id, name, False, f"the mutant scores {score} but its hint is never shown{seen}")
    more = f" (+{len(hinted) - 1} more)" if len(hinted) > 1 else ""
    return VerifyCheck(spec.id, name, True, f"{score}; hint on {hinted[0]}{more}")


def forbid_check(spec: ExerciseSpec, index: int, rule: ForbidRule, mutant: ExerciseResult | None,
                 problem: str | None = None) -> VerifyCheck:
    """The rule's mutant (the solution edited to use what the rule forbids)
    loses points, and every point it loses is lost to the rule, with its message."""
    name = f"forbids {rule.uses} (rule {index + 1})"
    if not rule.find:
        return VerifyCheck(spec.id, name, False, "no mutant to check it with: give the rule find and replace, an "
                                                 "edit of the solution that uses what it forbids")
    if problem is not None or mutant is None:
        return VerifyCheck(spec.id, name, False, problem or "the mutant was not graded")
    score = f"{_points(mutant.score)}/{_points(mutant.max_score)}"
    if mutant.full_marks:
        return VerifyCheck(spec.id, name, False, f"the mutant uses {rule.uses} and still earns {score}: "
                                                 "the rule is not enforced")
    failing = [t for t in mutant.tests if not t.passed]
    # The findings are the message, why they are forbidden the hint (engine/forbidding.py).
    other = [t for t in failing if t.verdict != Verdict.FORBIDDEN or rule.why not in (t.hint or "")]
    if other:
        return VerifyCheck(spec.id, name, False, f"the mutant scores {score}, but not only because of the rule: "
                                                 f"{_failed_tests(dataclasses.replace(mutant, tests=tuple(other)))}")
    return VerifyCheck(spec.id, name, True, f"{score}; refused on {', '.join(t.name for t in failing)}")


def result_difference(first: ExerciseResult, second: ExerciseResult) -> str | None:
    """Where two gradings of the same submission differ (None: identical), in words.

    Exercise results hold no timings (``SubmissionResult.elapsed_s`` is the
    only one), so they can be compared whole."""
    if first == second:
        return None
    for field in dataclasses.fields(ExerciseResult):
        if field.name == "tests":
            continue
        if getattr(first, field.name) != getattr(second, field.name):
            return f"{field.name} differs: {getattr(first, field.name)!r} vs {getattr(second, field.name)!r}"
    if [t.name for t in first.tests] != [t.name for t in second.tests]:
        return "different tests ran"
    for a, b in zip(first.tests, second.tests, strict=True):  # same names: same length
        for field in dataclasses.fields(a):
            if getattr(a, field.name) != getattr(b, field.name):
                return f"{a.name}: {field.name} differs ({getattr(a, field.name)!r} vs {getattr(b, field.name)!r})"
    return "the results differ"  # pragma: no cover - a difference the walk above does not name


def same_seed_check(spec: ExerciseSpec, seed: int,
                    pairs: Sequence[tuple[str, ExerciseResult, ExerciseResult]]) -> VerifyCheck:
    """``pairs``: (submission name, first run, second run) for each rerun submission."""
    name = "same seed, same results"
    for submission, first, second in pairs:
        difference = result_difference(first, second)
        if difference is not None:
            return VerifyCheck(spec.id, name, False, f"{submission}, two runs at seed {seed}: {difference}")
    return VerifyCheck(spec.id, name, True, f"{' and '.join(p[0] for p in pairs)} identical")


def other_seed_check(spec: ExerciseSpec, solution: ExerciseResult, stub: ExerciseResult) -> VerifyCheck:
    name = f"another seed ({solution.seed})"  # the seed the run used, not the one it was asked for
    reference = reference_check(spec, solution, name=name)
    if not reference.passed:
        return dataclasses.replace(reference, detail=f"reference {reference.detail}")
    empty = stub_check(spec, stub, name=name)
    if not empty.passed:
        return empty  # its detail names the stub already
    return VerifyCheck(spec.id, name, True, f"reference {reference.detail}, stub {empty.detail.split(';')[0]}")


def files_check(spec: ExerciseSpec) -> VerifyCheck:
    missing = [f"{role} {path}" for role, path in (("stub", spec.stub), ("solution", spec.solution),
                                                   ("suite", spec.suite)) if not path.is_file()]
    if missing:
        return VerifyCheck(spec.id, "declared files exist", False, "missing: " + ", ".join(missing))
    return VerifyCheck(spec.id, "declared files exist", True, "stub, solution, suite")


def exercise_checks(spec: ExerciseSpec, runs: VerifyRuns, mutant_problems: Mapping[tuple[str, str], str]
                    ) -> list[VerifyCheck]:
    """Every check of one graded exercise, in the order the table shows them."""
    solution, stub = _exercise(runs.solutions, spec), _exercise(runs.stubs, spec)
    checks = [files_check(spec), points_check(spec, solution), reference_check(spec, solution),
              stub_check(spec, stub), mistake_count_check(spec)]
    for mistake in spec.mistakes:
        key = (spec.id, mistake.id)
        mutant = _exercise(runs.mutants[key], spec) if key in runs.mutants else None
        check = mistake_check(spec, mistake, mutant, mutant_problems.get(key))
        for other_seed, mutants in runs.mutants_other_seeds:
            if not check.passed:
                break
            again = mistake_check(spec, mistake, _exercise(mutants[key], spec) if key in mutants else None)
            if not again.passed:
                check = dataclasses.replace(again, detail=f"at seed {other_seed}: {again.detail}")
        checks.append(check)
    for index, rule in enumerate(spec.forbid):
        key = (spec.id, rule_key(index))
        mutant = _exercise(runs.mutants[key], spec) if key in runs.mutants else None
        checks.append(forbid_check(spec, index, rule, mutant, mutant_problems.get(key)))
    checks.append(same_seed_check(spec, runs.seed, [
        (SOLUTIONS, solution, _exercise(runs.solutions_again, spec)),
        (STUBS, stub, _exercise(runs.stubs_again, spec)),
    ]))
    checks.append(other_seed_check(spec, _exercise(runs.solutions_other_seed, spec),
                                   _exercise(runs.stubs_other_seed, spec)))
    return checks


@dataclass(frozen=True)
class ReleaseRuns:
    """The student copy of the course, graded. Keys of ``mutants``: (exercise id, mistake id)."""

    solutions: SubmissionResult | None = None
    stubs: SubmissionResult | None = None
    mutants: Mapping[tuple[str, str], SubmissionResult] = dataclasses.field(default_factory=dict)
    problem: str | None = None  # why no copy could be built


def release_checks(spec: ExerciseSpec, course_solution: ExerciseResult, release: ReleaseRuns) -> list[VerifyCheck]:
    """In the copy, against recorded values: the public tests are the ones the
    course marks public, the solution earns all their points, the stub none,
    and every known mistake loses points with its own hint.
    ``course_solution``: the solution graded by the course itself (every test)."""
    if release.problem is not None or release.solutions is None or release.stubs is None:
        return [VerifyCheck(spec.id, "release: builds", False, release.problem or "the copy was not graded")]
    solution, stub = _exercise(release.solutions, spec), _exercise(release.stubs, spec)
    public = sorted((t.name, t.max_points) for t in course_solution.tests if t.visibility == "public")
    shipped = sorted((t.name, t.max_points) for t in solution.tests)
    name = "release: public tests"
    if not public:
        tests = VerifyCheck(spec.id, name, False, "no public test: a student with the copy can check nothing; mark "
                                                  "some with @pytest.mark.public (or visibility = \"public\")")
    elif shipped != public:
        tests = VerifyCheck(spec.id, name, False, f"the copy runs {[n for n, _ in shipped]}; "
                                                  f"the course marks public {[n for n, _ in public]}")
    else:
        tests = VerifyCheck(spec.id, name, True, f"{len(public)} tests, {_points(sum(p for _, p in public))} "
                                                 f"of {_points(spec.points)} points")
    caught, missed = 0, []
    for mistake in spec.mistakes:
        key = (spec.id, mistake.id)
        mutant = _exercise(release.mutants[key], spec) if key in release.mutants else None
        check = mistake_check(spec, mistake, mutant)
        if check.passed:
            caught += 1
        else:
            missed.append(f"{mistake.id}: {check.detail.replace('no hidden test', 'no public test')}")
    mistakes = VerifyCheck(spec.id, "release: mistakes lose public points", not missed,
                           "; ".join(missed) if missed else f"{caught} of {caught}, each with its hint")
    return [tests, reference_check(spec, solution, name="release: reference earns public points"),
            stub_check(spec, stub, name="release: stub earns zero"), mistakes]
