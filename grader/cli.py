"""The ``grade`` command: parse options, call the library, print.

    grade exercise3 [--submission PATH]   grade one exercise
    grade [all]                           grade every exercise, with a summary table
    grade list                            the course's exercises
    grade batch SUBMISSIONS --out OUT     grade a whole class
    grade verify                          check the course itself (CI)
    grade gradescope OUT.zip              the autograder package for Gradescope
    grade release OUT                     write the student copy: stubs, grader, public tests
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from grader.course.catalogue import CourseError
from grader.options import GradeOptions, GraderError
from grader.course.submissions import SubmissionError

EXIT_FULL_MARKS, EXIT_POINTS_MISSING, EXIT_USAGE, EXIT_GRADER_ERROR = 0, 1, 2, 3


class _ExerciseDefaultGroup(click.Group):
    """``grade exercise3`` and ``grade`` run the hidden ``exercise`` command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["exercise", *args]
        return super().parse_args(ctx, args)


def run() -> None:
    """The console script: ``main``, then exit without tearing torch's heap
    down module by module (~0.2 s); every file is written and closed by then."""
    try:
        main()
        code = 0
    except SystemExit as exiting:
        code = exiting.code if isinstance(exiting.code, int) else (0 if exiting.code is None else 1)
        if isinstance(exiting.code, str):
            print(exiting.code, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@click.group(cls=_ExerciseDefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Grade PyTorch exercises: `grade exercise3`, `grade` (all), `grade list`,
    `grade batch`, `grade verify`, `grade release OUT`."""


def _isolate_option(function):
    return click.option(
        "--isolate", type=click.Choice(["submission", "exercise"]), default="submission", show_default=True,
        help="One sandbox per submission, serving its exercises in turn and replaced as soon as an exercise "
             "changes anything a later one could see; or one sandbox per exercise (slower).")(function)


def _course_option(function):
    return click.option("--course", "course_root", type=click.Path(file_okay=False, path_type=Path),
                        help="The course folder (holding course.toml). Default: found from here upwards.")(function)


@main.command("exercise", hidden=True)
@click.argument("exercise", required=False, default="all")
@click.option("--submission", type=click.Path(path_type=Path),
              help="A file, a notebook (.ipynb), or a folder of exerciseN.py files or notebooks. "
                   "Default: the course's exercises/ folder.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the HTML report. Default: reports/<exercise>.html")
@click.option("--no-report", is_flag=True, help="Do not write an HTML report.")
@click.option("--json", "as_json", is_flag=True, help="Print results in Gradescope's results.json schema.")
@click.option("--seed", type=int, help="Seed for the hidden tests' inputs (default: the course's).")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.1), help="Seconds each exercise may run in all.")
@click.option("--memory", "memory_mb", type=click.IntRange(min=64), help="Memory (MB) each exercise may use, on top of the warm sandbox.")
@click.option("--require-sandbox", is_flag=True, help="Refuse to grade if a sandbox wall is missing here.")
@_isolate_option
@_course_option
def exercise_command(exercise: str, submission: Path | None, report_path: Path | None, no_report: bool,
                     as_json: bool, seed: int | None, timeout_s: float | None, memory_mb: int | None,
                     require_sandbox: bool, isolate: str, course_root: Path | None) -> None:
    from grader.commands.grade import grade_local  # noqa: PLC0415 - keeps `grade --help` fast

    exercise_ids = None if exercise == "all" else [exercise]
    options = GradeOptions(seed=seed, timeout_s=timeout_s, memory_mb=memory_mb, require_sandbox=require_sandbox,
                           isolate=isolate)
    try:
        course, result = grade_local(exercise_ids=exercise_ids, submission=submission, course_root=course_root,
                                options=options)
    except (CourseError, SubmissionError) as error:
        raise click.UsageError(str(error)) from None
    except GraderError as error:
        click.echo(f"grade: {error}", err=True)
        sys.exit(EXIT_GRADER_ERROR)

    if as_json:
        from grader.outputs.results_json import to_gradescope  # noqa: PLC0415

        click.echo(json.dumps(to_gradescope(result, hidden_visibility=course.hidden_visibility), indent=2))
    else:
        _print_result(result, summary=exercise_ids is None)
    if not no_report:
        from grader.outputs.html import write_html  # noqa: PLC0415

        path = write_html(result, report_path or Path("reports") / f"{exercise}.html")
        click.echo(f"HTML report: {path}", err=as_json)
    sys.exit(EXIT_FULL_MARKS if result.max_score > 0 and result.score == result.max_score else EXIT_POINTS_MISSING)


def _print_result(result, *, summary: bool) -> None:
    from grader.outputs import terminal  # noqa: PLC0415

    console = terminal.make_console()
    terminal.print_sandbox_warning(console, result.sandbox)
    for exercise in result.exercises:
        terminal.print_exercise(console, exercise)
    if summary:
        terminal.print_summary_table(console, result)
    console.print(f"seed {result.seed} (replay with --seed {result.seed})", style="dim")


@main.command("list")
@_course_option
def list_command(course_root: Path | None) -> None:
    """The course's exercises, with titles and points."""
    from grader.course.catalogue import load_course  # noqa: PLC0415

    try:
        course = load_course(course_root)
    except CourseError as error:
        raise click.UsageError(str(error)) from None
    for spec in course.exercises:
        click.echo(f"{spec.id:<12} {spec.points:>5g} pts  {spec.title}")


@main.command("verify")
@click.option("--junit-xml", "junit_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the checks as JUnit XML (for CI) to this file.")
@click.option("--seed", type=int, help="Seed for the hidden tests' inputs (default: the course's); seed+1 too.")
@_course_option
def verify_command(junit_path: Path | None, seed: int | None, course_root: Path | None) -> None:
    """Check the course: solutions earn full marks, stubs zero, known mistakes their hints."""

    from grader.course.catalogue import load_course  # noqa: PLC0415
    # Not grader.engine.runner here: it imports torch, and verify_course starts the zygote first.
    from grader.commands.verify import VerifyError, print_report, verify_course, write_junit  # noqa: PLC0415

    try:
        course = load_course(course_root)
    except CourseError as error:
        raise click.UsageError(str(error)) from None
    try:
        report = verify_course(course, seed=seed)
    except VerifyError as error:  # a hidden suite that cannot even run fails the course
        click.echo(f"grade verify: {error}", err=True)
        sys.exit(1)
    from grader.outputs.terminal import make_console  # noqa: PLC0415

    print_report(make_console(), report)
    if junit_path is not None:
        click.echo(f"JUnit XML: {write_junit(report, junit_path)}")
    sys.exit(0 if report.passed else 1)


@main.command("batch")
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for gradebook.csv, index.html and one folder per submission.")
@click.option("--jobs", type=click.IntRange(min=1), help="Worker processes (default: one per CPU).")
@click.option("--exercise", "exercise_ids", multiple=True, help="Grade only this exercise (repeatable). Default: all.")
@click.option("--resume", is_flag=True, help="Grade only submissions without up-to-date results in OUT.")
@click.option("--seed", type=int, help="Seed for the hidden tests' inputs (default: the course's).")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.1), help="Seconds each exercise may run in all.")
@click.option("--memory", "memory_mb", type=click.IntRange(min=64), help="Memory (MB) each exercise may use, on top of the warm sandbox.")
@click.option("--require-sandbox", is_flag=True, help="Refuse to grade if a sandbox wall is missing here.")
@_isolate_option
@_course_option
def batch_command(submissions: Path, out: Path, jobs: int | None, exercise_ids: tuple[str, ...], resume: bool,
                  seed: int | None, timeout_s: float | None, memory_mb: int | None, require_sandbox: bool,
                  isolate: str, course_root: Path | None) -> None:
    """Grade a class: every folder, .zip or notebook in SUBMISSIONS, into OUT."""

    from grader.commands import batch  # noqa: PLC0415 - imports no torch: the workers do
    from grader.outputs.terminal import make_console  # noqa: PLC0415
    from grader.course.catalogue import load_course  # noqa: PLC0415

    try:
        course = load_course(course_root)
        for exercise_id in exercise_ids:
            course.exercise(exercise_id)
    except CourseError as error:
        raise click.UsageError(str(error)) from None
    console = make_console()
    try:
        with batch.ProgressBar(console) as progress:
            outcome = batch.run_batch(submissions, out, course, exercise_ids=list(exercise_ids) or None, jobs=jobs,
                                      resume=resume, seed=seed, timeout_s=timeout_s, memory_mb=memory_mb,
                                      require_sandbox=require_sandbox, isolate=isolate, on_progress=progress)
    except batch.BatchError as error:
        click.echo(f"grade batch: {error}", err=True)
        sys.exit(EXIT_GRADER_ERROR)
    batch.print_summary(console, outcome)
    if outcome.interrupted:
        sys.exit(batch.EXIT_INTERRUPTED)
    sys.exit(EXIT_GRADER_ERROR if outcome.failed else 0)


@main.command("release")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@_course_option
def release_command(out: Path, course_root: Path | None) -> None:
    """Write the student copy of the course to OUT: the stubs, the grader, the
    public tests and the reference's recorded answers; no solution, no hidden test."""
    from grader.course.catalogue import load_course  # noqa: PLC0415
    from grader.commands.release import ReleaseError, build_release  # noqa: PLC0415

    try:
        course = load_course(course_root)
        release = build_release(course, out)
    except (CourseError, ReleaseError) as error:
        raise click.UsageError(str(error)) from None
    except GraderError as error:
        click.echo(f"grade release: {error}", err=True)
        sys.exit(EXIT_GRADER_ERROR)
    tests = sum(len(names) for names in release.public_tests.values())
    click.echo(f"Wrote the student copy of {course.title!r} to {release.root}: {len(release.files)} files, "
               f"{tests} public tests in {len(release.public_tests)} exercises.")
    for exercise_id, names in release.public_tests.items():
        click.echo(f"  {exercise_id}: {', '.join(names) or 'no public test'}")
    click.echo(f"Try it as a student would: cd {release.root}, then follow its README.md")


@main.command("gradescope")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@_course_option
def gradescope_command(out: Path, course_root: Path | None) -> None:
    """Write OUT (a .zip), the autograder to upload to a Gradescope programming assignment."""
    from grader.commands.gradescope import PackageError, build_package  # noqa: PLC0415
    from grader.course.catalogue import load_course  # noqa: PLC0415

    try:
        package = build_package(load_course(course_root), out)
    except (CourseError, PackageError) as error:
        raise click.UsageError(str(error)) from None
    size_kb = package.path.stat().st_size / 1024
    click.echo(f"Wrote {package.path} ({len(package.files)} files, {size_kb:.0f} KB): setup.sh and run_autograder "
               "at its root, with the course and the grader.")
    click.echo("Upload it as the autograder of a Gradescope programming assignment (Ubuntu 22.04 or newer base "
               "image, 2 GB of memory or more); students submit exerciseN.py files, a zip or notebooks.")
