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

import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.errors import GraderFailure
from grader.inert import inert
from grader.course.catalogue import Course, ExerciseSpec
from grader.engine.session import GradingSession
from grader.options import GradeOptions, GraderError
from grader.sandbox.client import Zygote
from grader.results import SandboxStatus, SubmissionResult
from grader.course.submissions import Submission
from grader.course.mutants import write_mutants
from grader.commands.verify_checks import (  # the checks, named here too: verify's public face
    MISTAKE_SEEDS, ReleaseRuns, SOLUTIONS, STUBS, VerifyCheck, VerifyReport, VerifyRuns, _exercise, exercise_checks,
    files_check, release_checks)


class VerifyError(GraderFailure):
    """The course could not be graded at all (e.g. a hidden suite that does not import)."""


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
    started = time.monotonic()
    seed = course.seed if seed is None else seed
    file_checks = {spec.id: files_check(spec) for spec in course.exercises}
    specs = [spec for spec in course.exercises if file_checks[spec.id].passed]
    runs, sandbox, release = None, SandboxStatus(), None
    mutant_problems: dict[tuple[str, str], str] = {}
    with GradingSession.on(zygote) as session:
        if specs:
            runs, mutant_problems, sandbox = _grade_all(course, specs, seed, session)
            if len(specs) == len(course.exercises) and _releasable(course, runs):
                release = verify_release(course, session.zygote)

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


def _grade_all(course: Course, specs: Sequence[ExerciseSpec], seed: int, session: GradingSession
               ) -> tuple[VerifyRuns, dict[tuple[str, str], str], SandboxStatus]:
    solutions = Submission(name=SOLUTIONS, files={spec.filename: spec.solution for spec in specs})
    stubs = Submission(name=STUBS, files={spec.filename: spec.stub for spec in specs})

    def grade(submissions: Sequence[Submission], at_seed: int) -> tuple[dict[str, SubmissionResult], SandboxStatus]:
        try:
            run = session.grade(course, submissions, specs, options=GradeOptions(seed=at_seed))
        except GraderError as error:
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

def _releasable(course: Course, runs: VerifyRuns) -> bool:
    """A course with public tests is meant to be released; a student copy is one already."""
    return not course.is_student_copy and any(t.visibility == "public"
                                              for e in runs.solutions.exercises for t in e.tests)


def verify_release(course: Course, zygote: Zygote) -> ReleaseRuns:
    """Build the student copy in a temporary folder and grade the solutions,
    the copy's stubs and every known mistake's mutant with it."""
    from grader.course.catalogue import load_course  # noqa: PLC0415
    from grader.commands.release import ReleaseError, build_release  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="torchgrade-verify-release-") as scratch:
        try:
            release = build_release(course, Path(scratch) / "copy", zygote=zygote, committed=False)
        except ReleaseError as error:
            return ReleaseRuns(problem=str(error))
        except GraderError as error:
            raise VerifyError(str(error)) from error
        copy = load_course(release.root)
        solutions = Submission(name=SOLUTIONS, files={spec.filename: spec.solution for spec in course.exercises})
        stubs = Submission(name=STUBS, files={spec.filename: spec.stub for spec in copy.exercises})
        (Path(scratch) / "mutants").mkdir()
        mutants, _ = write_mutants(course.exercises, Path(scratch) / "mutants")
        try:
            run = GradingSession.on(zygote).grade(copy, [solutions, stubs, *mutants.values()], copy.exercises)
        except GraderError as error:
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
