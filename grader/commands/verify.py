"""``grade verify``: check that the course itself is sound before students see it.

For every exercise declared in ``course.toml``: the reference solution earns
every point of its hidden suite and that suite carries exactly the declared
points; the untouched stub earns nothing; each known mistake (its mutant, the
solution with one edit) loses points and is told its own hint; each rule of
what the exercise forbids is enforced (its mutant, the solution edited to use
the forbidden thing, loses points, each to the rule's message); and grading is
reproducible (same seed, same results; another seed, full marks again).
Known mistakes are graded at MISTAKE_SEEDS seeds (the course's, then the
next ones): a test that lets one pass at some seed is a defect of the suite.

A course with public tests is also released into a temporary folder (``grade
release``) and its student copy graded: against the recorded values, the
solutions earn every public point, the stubs none, and every known mistake
loses public points and shows its hint.

The shape follows pip-tools' ``diff``/``sync``: ``verify_course`` grades every
verification submission (three pytest sessions in all, one zygote, two more
for the release) and the pure ``*_check`` functions turn the
``SubmissionResult``s into ``VerifyCheck`` records, which the table and the
JUnit XML are rendered from.
"""
from __future__ import annotations

import dataclasses
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.verdicts import Verdict
from grader.errors import GraderFailure
from grader.inert import inert
from grader.course.catalogue import Course, ExerciseSpec, MistakeSpec
from grader.course.forbidden import ForbidRule
from grader.engine.evidence import shows_hint
from grader.sandbox.client import Zygote
from grader.results import ExerciseResult, SandboxStatus, SubmissionResult, TestResult
from grader.course.submissions import Submission
from grader.course.mutants import rule_key, write_mutants

MIN_MISTAKES = 3
MISTAKE_SEEDS = 3  # seeds at which every known mistake must lose points with its hint
SOLUTIONS, STUBS = "solutions", "stubs"


class VerifyError(GraderFailure):
    """The course could not be graded at all (e.g. a hidden suite that does not import)."""


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
    return found or ExerciseResult(spec.id, spec.title, (), seed=result.seed, problem="no hidden test ran")


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


# -- acting: write mutants, grade, collect ----------------------------------------

def verify_course(course: Course, *, seed: int | None = None, zygote: Zygote | None = None) -> VerifyReport:
    """Grade the course's solutions, stubs and known-mistake mutants, and check
    what a sound course guarantees (see the module docstring).

    Pytest sessions sharing one zygote: everything at ``seed`` (default: the
    course's) and at ``seed + 1``, the known mistakes at the seeds after that
    up to MISTAKE_SEEDS, and solutions and stubs again at ``seed``. Pass a
    ``zygote`` to reuse one; otherwise one is started here,
    before anything imports a solution, and closed at the end. Raises
    ``VerifyError`` when the hidden suites cannot run at all.
    """
    own_zygote = zygote is None
    zygote = zygote or Zygote.start()  # first: it warms up while this process imports torch
    started = time.monotonic()
    seed = course.seed if seed is None else seed
    file_checks = {spec.id: files_check(spec) for spec in course.exercises}
    specs = [spec for spec in course.exercises if file_checks[spec.id].passed]
    runs, sandbox, release = None, SandboxStatus(), None
    mutant_problems: dict[tuple[str, str], str] = {}
    try:
        if specs:
            runs, mutant_problems, sandbox = _grade_all(course, specs, seed, zygote)
            if len(specs) == len(course.exercises) and _releasable(course, runs):
                release = verify_release(course, zygote)
    finally:
        if own_zygote:
            zygote.close()

    checks: list[VerifyCheck] = []
    for spec in course.exercises:
        if runs is not None and file_checks[spec.id].passed:
            checks.extend(exercise_checks(spec, runs, mutant_problems))
            if release is not None:
                checks.extend(release_checks(spec, _exercise(runs.solutions, spec), release))
        else:
            checks.append(file_checks[spec.id])
    return VerifyReport(course_title=course.title, seed=seed, exercise_ids=course.ids, checks=tuple(checks),
                        sandbox=sandbox, elapsed_s=round(time.monotonic() - started, 1))


def _grade_all(course: Course, specs: Sequence[ExerciseSpec], seed: int, zygote: Zygote
               ) -> tuple[VerifyRuns, dict[tuple[str, str], str], SandboxStatus]:
    from grader.engine import runner  # noqa: PLC0415 - imports torch and the solutions' loader: after the zygote

    solutions = Submission(name=SOLUTIONS, files={spec.filename: spec.solution for spec in specs})
    stubs = Submission(name=STUBS, files={spec.filename: spec.stub for spec in specs})

    def grade(submissions: Sequence[Submission], at_seed: int) -> tuple[dict[str, SubmissionResult], SandboxStatus]:
        try:
            run = runner.grade(course, submissions, specs, options=runner.GradeOptions(seed=at_seed), zygote=zygote)
        except runner.GraderError as error:
            raise VerifyError(str(error)) from error
        graded = {r.submission: r for r in run.results}
        # A submission is missing only when no hidden test was collected at all.
        by_name = {s.name: graded.get(s.name) or SubmissionResult(s.name, (), seed=at_seed) for s in submissions}
        return by_name, run.sandbox

    with tempfile.TemporaryDirectory(prefix="torchgrade-verify-") as scratch:
        mutants, mutant_problems = write_mutants(specs, Path(scratch), rules=True)
        first, sandbox = grade([solutions, stubs, *mutants.values()], seed)
        other, _ = grade([solutions, stubs, *mutants.values()], seed + 1)
        later = [(seed + n, grade(list(mutants.values()), seed + n)[0]) for n in range(2, MISTAKE_SEEDS)]
    again, _ = grade([solutions, stubs], seed)
    at_seeds = [(seed + 1, other), *later][:MISTAKE_SEEDS - 1]
    runs = VerifyRuns(
        seed=seed, solutions=first[SOLUTIONS], stubs=first[STUBS],
        mutants={key: first[submission.name] for key, submission in mutants.items()},
        solutions_again=again[SOLUTIONS], stubs_again=again[STUBS],
        solutions_other_seed=other[SOLUTIONS], stubs_other_seed=other[STUBS],
        mutants_other_seeds=tuple((at, {key: graded[submission.name] for key, submission in mutants.items()})
                                  for at, graded in at_seeds),
    )
    return runs, mutant_problems, sandbox


# -- the release: the student copy, graded against its recorded values ------------------

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


def _releasable(course: Course, runs: VerifyRuns) -> bool:
    """A course with public tests is meant to be released; a student copy is one already."""
    return not course.is_student_copy and any(t.visibility == "public"
                                              for e in runs.solutions.exercises for t in e.tests)


def verify_release(course: Course, zygote: Zygote) -> ReleaseRuns:
    """Build the student copy in a temporary folder and grade the solutions,
    the copy's stubs and every known mistake's mutant with it."""
    from grader.engine import runner  # noqa: PLC0415 - after the zygote
    from grader.course.catalogue import load_course  # noqa: PLC0415
    from grader.commands.release import ReleaseError, build_release  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="torchgrade-verify-release-") as scratch:
        try:
            release = build_release(course, Path(scratch) / "copy", zygote=zygote, committed=False)
        except ReleaseError as error:
            return ReleaseRuns(problem=str(error))
        except runner.GraderError as error:
            raise VerifyError(str(error)) from error
        copy = load_course(release.root)
        solutions = Submission(name=SOLUTIONS, files={spec.filename: spec.solution for spec in course.exercises})
        stubs = Submission(name=STUBS, files={spec.filename: spec.stub for spec in copy.exercises})
        (Path(scratch) / "mutants").mkdir()
        mutants, _ = write_mutants(course.exercises, Path(scratch) / "mutants")
        try:
            run = runner.grade(copy, [solutions, stubs, *mutants.values()], copy.exercises, zygote=zygote)
        except runner.GraderError as error:
            raise VerifyError(f"the released copy: {error}") from error
    graded = {r.submission: r for r in run.results}
    return ReleaseRuns(solutions=graded.get(SOLUTIONS), stubs=graded.get(STUBS),
                       mutants={key: graded[m.name] for key, m in mutants.items() if m.name in graded})


# -- rendering ----------------------------------------------------------------------

PASS_MARK, FAIL_MARK = "✓", "✗"


def report_table(report: VerifyReport) -> Table:
    """One section per exercise: its verdict, then a row per check."""
    table = Table(box=box.SIMPLE_HEAD, title=f"grade verify — {report.course_title}", title_justify="left",
                  caption=f"seed {report.seed}; {len(report.checks)} checks in {report.elapsed_s:g} s",
                  caption_justify="left")
    table.add_column("Exercise", no_wrap=True)
    table.add_column("Check", no_wrap=True)
    table.add_column("")
    table.add_column("Detail", overflow="fold")
    for n, exercise_id in enumerate(report.exercise_ids):
        passed = report.exercise_passed(exercise_id)
        checks = report.checks_for(exercise_id)
        verdict = Text.assemble((exercise_id, "bold"), " ",
                                ("PASS", "bold green") if passed else ("FAIL", "bold red"))
        for i, check in enumerate(checks):
            table.add_row(verdict if i == 0 else "",
                          Text(inert(check.name)),
                          Text(PASS_MARK, "bold green") if check.passed else Text(FAIL_MARK, "bold red"),
                          Text(inert(check.detail, multiline=True), style="dim" if check.passed else "red"),
                          end_section=i == len(checks) - 1 and n < len(report.exercise_ids) - 1)
    return table


def print_report(console: Console, report: VerifyReport) -> None:
    from grader.outputs.terminal import print_sandbox_warning  # noqa: PLC0415

    print_sandbox_warning(console, report.sandbox)
    console.print(report_table(report))
    failed = [i for i in report.exercise_ids if not report.exercise_passed(i)]
    if not report.exercise_ids:
        console.print(Text("verify failed: course.toml declares no exercises", style="bold red"))
    elif failed:
        console.print(Text(f"verify failed: {len(report.failures)} failing checks in {', '.join(failed)}",
                           style="bold red"))
    else:
        console.print(Text(f"verify passed: {len(report.exercise_ids)} exercises, {len(report.checks)} checks",
                           style="bold green"))


def junit_xml(report: VerifyReport) -> ET.ElementTree:
    """JUnit XML as CI systems read it: a <testsuite> per exercise, a <testcase> per check.
    A check's words can quote a submission's: made inert (no control character,
    which XML 1.0 cannot even hold, and no escape sequence for a CI log)."""
    root = ET.Element("testsuites", name="grade verify", tests=str(len(report.checks)),
                      failures=str(len(report.failures)), time=f"{report.elapsed_s:g}")
    for exercise_id in report.exercise_ids:
        checks = report.checks_for(exercise_id)
        suite = ET.SubElement(root, "testsuite", name=exercise_id, tests=str(len(checks)),
                              failures=str(sum(not c.passed for c in checks)), errors="0", skipped="0")
        for check in checks:
            case = ET.SubElement(suite, "testcase", classname=f"verify.{exercise_id}", name=inert(check.name))
            detail = inert(check.detail, multiline=True)
            if check.passed:
                ET.SubElement(case, "system-out").text = detail
            else:
                ET.SubElement(case, "failure", message=inert(check.detail), type="VerifyFailure").text = detail
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(report: VerifyReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    junit_xml(report).write(path, encoding="utf-8", xml_declaration=True)
    return path
