"""The ``grade`` command: parse options, call the library, print.

    grade exercise3 [--submission PATH]   grade one exercise
    grade [all]                           grade every exercise, with a summary table
    grade list                            the course's exercises
    grade watch [EXERCISE...]             grade again on every save, with a warm grader
    grade batch SUBMISSIONS --out OUT     grade a whole class
    grade verify                          check the course itself (CI)
    grade gradescope OUT.zip              the autograder package for Gradescope
    grade release OUT                     write the student copy: stubs, grader, public tests
    grade history OUT [SUBMISSION]        what changed in the class record, and why
    grade override OUT SUB EX POINTS      a score set by hand (--reason TEXT; --remove)
    grade export OUT --format F --roster  grades for Canvas, Moodle or a plain CSV
    grade similar OUT [--submissions S]   which submissions share rare code or rare wrong answers

Each option shared by several commands is declared once below and reused.
Errors come in two kinds (``grader.errors``): a ``UserError`` is a usage error
(exit 2), a ``GraderFailure`` a message and exit 3; the group catches both, so
no command names an error class. Everything else a command does (grading,
choosing the output, the exit status) is a library function, imported inside
the command so that ``grade --help`` answers without importing torch.
"""
from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from grader.errors import GraderFailure, UserError
from grader.options import GradeOptions, Isolation

Command = Callable[..., Any]


# ``grade --help``: each command under the people who use it (any other command: under "Other").
COMMAND_SECTIONS = (
    ("For students", ("exercise", "watch", "list")),
    ("For instructors", ("batch", "history", "override", "export", "similar")),
    ("For course authors", ("verify", "release", "gradescope")),
)
_EXERCISE_ROW = ("exerciseN", "Grade one exercise (grade exercise3), or all (grade): --submission, --json, --no-report")


class _GradeGroup(click.Group):
    """``grade exercise3`` and ``grade`` run the hidden ``exercise`` command;
    the two kinds of error become their exit statuses; ``grade --help`` lists
    the commands by who uses them."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            if args and not args[0].startswith("-"):
                ctx.meta["grade.exercise"] = args[0]  # its --help names it
            args = ["exercise", *args]
        return super().parse_args(ctx, args)

    def format_commands(self, _ctx: click.Context, formatter: click.HelpFormatter) -> None:
        placed: set[str] = set()
        width = max(len(name) for name in [*self.commands, _EXERCISE_ROW[0]])  # one column across sections
        limit = formatter.width - 6 - width
        for title, names in COMMAND_SECTIONS:
            rows = [(_EXERCISE_ROW[0].ljust(width), _EXERCISE_ROW[1]) if name == "exercise" else
                    (name.ljust(width), self.commands[name].get_short_help_str(limit))
                    for name in names if name in self.commands]
            placed.update(names)
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)
        others = [(name.ljust(width), command.get_short_help_str(limit)) for name, command in self.commands.items()
                  if name not in placed and not command.hidden]
        if others:
            with formatter.section("Other"):
                formatter.write_dl(others)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as error:
            raise click.UsageError(_inert(str(error))) from None
        except GraderFailure as error:
            command = ctx.invoked_subcommand
            click.echo(f"grade{'' if command in (None, 'exercise') else ' ' + command}: {_inert(str(error))}",
                       err=True)
            ctx.exit(error.exit_status)


class _ExerciseCommand(click.Command):
    """``grade exercise3 --help``: a usage naming the exercise, not the hidden command."""

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        exercise = ctx.meta.get("grade.exercise", "exerciseN")
        formatter.write_usage(f"{ctx.find_root().info_name or 'grade'} {exercise}", "[OPTIONS]")


def _inert(text: str) -> str:
    """What the CLI prints of words that can quote a submission (its name, a
    zip member, an override's reason): no escape sequence reaches the terminal."""
    from grader.inert import inert  # noqa: PLC0415

    return inert(text, multiline=True)


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


@click.group(cls=_GradeGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Grade PyTorch exercises. A student runs `grade exercise3` (one exercise) or
    `grade` (every one); an instructor grades a class with `grade batch`. `grade
    COMMAND --help` says more about each."""


# ---------------------------------------------------------------------------
# Options shared by several commands, declared once
# ---------------------------------------------------------------------------
course_option = click.option(
    "--course", "course_root", type=click.Path(file_okay=False, path_type=Path),
    help="The course folder (holding course.toml). Default: found from here upwards.")
threshold_option = click.option(
    "--threshold", type=click.FloatRange(0, 1), default=0.5, show_default=True,
    help="Similarity score (0 to 1) from which a pair is shown side by side and joins a group.")
seed_option = click.option("--seed", type=int, help="Seed for the hidden tests' inputs (default: the course's).")
_GRADING_OPTIONS = (
    seed_option,
    click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.1),
                 help="Seconds of CPU time each exercise may use in all (its sandbox's threads together)."),
    click.option("--memory", "memory_mb", type=click.IntRange(min=64),
                 help="Memory (MB) each exercise may use, on top of the warm sandbox."),
    click.option("--require-sandbox", is_flag=True, help="Refuse to grade if a sandbox wall is missing here."),
    click.option("--isolate", type=click.Choice([i.value for i in Isolation]), default=Isolation.SUBMISSION.value,
                 show_default=True,
                 help="One sandbox per submission, serving its exercises in turn and replaced as soon as an "
                      "exercise changes anything a later one could see; or one sandbox per exercise (slower)."),
)


def grading_options(command: Command) -> Command:
    """--seed, --timeout, --memory, --require-sandbox and --isolate, handed to
    ``command`` as one ``options: GradeOptions``."""

    @functools.wraps(command)
    def with_options(*args: Any, seed: int | None, timeout_s: float | None, memory_mb: int | None,
                     require_sandbox: bool, isolate: str, **kwargs: Any) -> Any:
        options = GradeOptions(seed=seed, timeout_s=timeout_s, memory_mb=memory_mb,
                               require_sandbox=require_sandbox, isolate=Isolation(isolate))
        return command(*args, options=options, **kwargs)

    for option in reversed(_GRADING_OPTIONS):
        with_options = option(with_options)
    return with_options


# ---------------------------------------------------------------------------
# The commands
# ---------------------------------------------------------------------------
@main.command("exercise", hidden=True, cls=_ExerciseCommand)
@click.argument("exercise", required=False, default="all")
@click.option("--submission", type=click.Path(path_type=Path),
              help="A file, a notebook (.ipynb), or a folder of exerciseN.py files or notebooks. "
                   "Default: the course's exercises/ folder.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the HTML report. Default: reports/<exercise>.html")
@click.option("--no-report", is_flag=True, help="Do not write an HTML report.")
@click.option("--json", "as_json", is_flag=True, help="Print results in Gradescope's results.json schema.")
@grading_options
@course_option
def exercise_command(exercise: str, submission: Path | None, report_path: Path | None, no_report: bool,
                     as_json: bool, options: GradeOptions, course_root: Path | None) -> None:
    """Grade one exercise of your work (`grade exercise3`), or every exercise
    with a summary table (`grade` alone): the verdict of each test and a hint
    for each failure in the terminal, and an HTML report in reports/. The
    public tests run here; the course grades with hidden tests too."""
    from grader.commands import grade  # noqa: PLC0415 - keeps `grade --help` fast

    exercise_ids = None if exercise == "all" else [exercise]
    course, result = grade.grade_local(exercise_ids=exercise_ids, submission=submission, course_root=course_root,
                                       options=options, prepare=functools.partial(
                                           grade.prepare_output, as_json=as_json, report=not no_report))
    grade.show_result(result, course, as_json=as_json, summary=exercise_ids is None,
                      report=None if no_report else grade.report_path(exercise, report_path),
                      who=grade.OWN_WORK if submission is None else None)
    sys.exit(grade.exit_status(result))


@main.command("watch")
@click.argument("exercise_ids", nargs=-1, metavar="[EXERCISE]...")
@click.option("--submission", type=click.Path(exists=True, path_type=Path),
              help="A folder of exerciseN.py files or notebooks, one file, or one notebook. "
                   "Default: the course's exercises/ folder.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to keep the HTML report. Default: reports/<exercise>.html (reports/all.html)")
@click.option("--no-report", is_flag=True, help="Do not write an HTML report.")
@grading_options
@course_option
def watch_command(exercise_ids: tuple[str, ...], submission: Path | None, report_path: Path | None,
                  no_report: bool, options: GradeOptions, course_root: Path | None) -> None:
    """Grade again on every save (default: every exercise), with a warm grader: Ctrl-C to stop."""
    from grader.sandbox.client import Zygote  # noqa: PLC0415

    zygote = Zygote.start()  # first: it warms up while this process imports torch
    from grader.commands import grade  # noqa: PLC0415
    from grader.commands.watch import WatchView, watch  # noqa: PLC0415
    from grader.course.catalogue import load_course  # noqa: PLC0415
    from grader.outputs.terminal import make_console  # noqa: PLC0415

    label = exercise_ids[0] if len(exercise_ids) == 1 else "all"
    course = load_course(course_root)
    view = WatchView(make_console(), summary=len(exercise_ids) != 1,
                     report=None if no_report else grade.report_path(label, report_path), course=course,
                     who=grade.OWN_WORK if submission is None else None)
    try:
        watch(course, exercise_ids=exercise_ids or None, submission=submission, options=options,
              zygote=zygote, show=view.show)
    except KeyboardInterrupt:
        click.echo("stopped watching")
    finally:
        zygote.close(wait=False)


@main.command("list")
@course_option
def list_command(course_root: Path | None) -> None:
    """The course's exercises, with titles and points."""
    from grader.course.catalogue import load_course  # noqa: PLC0415

    for spec in load_course(course_root).exercises:
        click.echo(f"{spec.id:<12} {spec.points:>5g} pts  {spec.title}")


@main.command("verify")
@click.option("--junit-xml", "junit_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the checks as JUnit XML (for CI) to this file.")
@seed_option
@course_option
def verify_command(junit_path: Path | None, seed: int | None, course_root: Path | None) -> None:
    """Check the course: solutions earn full marks, stubs zero, known mistakes
    their hints; at the seed, and again at seed+1."""
    from grader.course.catalogue import load_course  # noqa: PLC0415
    # Not grader.engine.runner here: it imports torch, and verify_course starts the zygote first.
    from grader.commands.verify import print_report, verify_course, write_junit  # noqa: PLC0415
    from grader.outputs.terminal import make_console  # noqa: PLC0415

    report = verify_course(load_course(course_root), seed=seed)
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
@click.option("--resume", is_flag=True,
              help="Skip submissions whose results in OUT are up to date (same files, course version and seed).")
@click.option("--force", is_flag=True,
              help="Grade even into an OUT holding another course's results or results of another seed "
                   "(they stay in the class record's history).")
@click.option("--only", "only", multiple=True, metavar="NAME",
              help="Grade only this entry of SUBMISSIONS (repeatable: --only ken --only ana); "
                   "every other result in OUT stays as it was.")
@click.option("--prune", is_flag=True,
              help="Remove from the class the submissions OUT holds that are not in SUBMISSIONS (kept in the "
                   "record; `grade history` shows each removal). Without it they stay as they were.")
@click.option("--scheduler", metavar="ADDRESS",
              help="Grade on a Dask cluster: a scheduler's address (tcp://host:8786), or local:N for a "
                   "LocalCluster of N worker processes on this machine (needs torchgrade[cluster]).")
@click.option("--similar", is_flag=True,
              help="Then compare the class (grade similar): OUT/similarity.html and similarity.csv.")
@threshold_option
@grading_options
@course_option
def batch_command(submissions: Path, out: Path, jobs: int | None, exercise_ids: tuple[str, ...], resume: bool,
                  force: bool, only: tuple[str, ...], prune: bool, scheduler: str | None, similar: bool,
                  threshold: float, options: GradeOptions, course_root: Path | None) -> None:
    """Grade a class: every folder, .zip or notebook in SUBMISSIONS, into OUT.

    Results already in OUT of submissions not in SUBMISSIONS stay as they
    were (a folder of one student re-grades that student); --prune removes
    them, --only NAME grades just the entries named."""
    # Neither imports torch: the workers do.
    from grader.commands.batch.controller import grade_batch  # noqa: PLC0415
    from grader.commands.batch.progress import ProgressBar, print_summary  # noqa: PLC0415
    from grader.outputs.terminal import make_console  # noqa: PLC0415

    console = make_console()
    with ProgressBar(console) as progress:
        outcome = grade_batch(submissions, out, course_root=course_root, exercise_ids=exercise_ids, jobs=jobs,
                              resume=resume, options=options, force=force, on_progress=progress, scheduler=scheduler,
                              only=only, prune=prune)
    print_summary(console, outcome)
    if similar and not outcome.interrupted:
        _similar(out, submissions, threshold, course_root)
    sys.exit(outcome.exit_status)


def _similar(out: Path, submissions: Path | None, threshold: float, course_root: Path | None) -> None:
    from grader.commands.similar import find_similar  # noqa: PLC0415

    report = find_similar(out=out, submissions=submissions, threshold=threshold, course_root=course_root)
    above = sum(len(report.above(exercise_id)) for exercise_id in report.pairs)
    groups = sum(len(c.members) > 2 for c in report.clusters)
    click.echo(f"Similarity: {above} pair{'' if above == 1 else 's'} at or above {threshold:g}"
               f"{f', {groups} groups of three or more' if groups else ''}"
               f"{'' if report.compared_code else ' (answers only: give --submissions to compare the code)'}; "
               f"see {report.html_path} and {report.csv_path}")


out_argument = click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))


@main.command("similar")
@out_argument
@click.option("--submissions", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The SUBMISSIONS folder graded into OUT: compare the code as the grader ran it "
                   "(without it, only the answers are compared).")
@threshold_option
@course_option
def similar_command(out: Path, submissions: Path | None, threshold: float, course_root: Path | None) -> None:
    """Which submissions in OUT share rare code or the same rare wrong answers, per exercise:
    OUT/similarity.html, OUT/similarity.csv and the class record. Evidence, not a verdict."""
    _similar(out, submissions, threshold, course_root)


@main.command("history")
@out_argument
@click.argument("submission", required=False)
@click.option("--all", "everything", is_flag=True, help="Also list re-grades that changed nothing.")
def history_command(out: Path, submission: str | None, everything: bool) -> None:
    """What changed in OUT's class record, per student: points before and after, and why."""
    from grader.commands import record as commands  # noqa: PLC0415

    click.echo(_inert(commands.show_history(out, submission, everything=everything)), nl=False)


@main.command("override")
@out_argument
@click.argument("submission")
@click.argument("exercise")
@click.argument("points", type=float, required=False)
@click.option("--reason", help="Why (required to set): the student's report, the summary and the exports show it.")
@click.option("--remove", is_flag=True, help="Remove the override in force: the grader's points count again.")
def override_command(out: Path, submission: str, exercise: str, points: float | None, reason: str | None,
                     remove: bool) -> None:
    """Set EXERCISE's POINTS for SUBMISSION by hand; it survives re-grades until --remove."""
    from grader.commands import record as commands  # noqa: PLC0415

    if remove:
        if points is not None:
            raise click.UsageError("--remove takes no POINTS")
        click.echo(_inert(commands.remove_override(out, submission, exercise)), nl=False)
        return
    if points is None or reason is None:
        raise click.UsageError("give POINTS and --reason TEXT (or --remove)")
    click.echo(_inert(commands.override(out, submission, exercise, points, reason=reason)), nl=False)


@main.command("export")
@out_argument
@click.option("--format", "format_", required=True, type=click.Choice(["canvas", "moodle", "csv"]),
              help="Canvas's gradebook import, Moodle's CSV grade import, or a plain CSV of everything.")
@click.option("--roster", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV with a header: submission, name, id, sis_user_id, sis_login_id, email, section.")
@click.option("--assignment", help='The LMS column, e.g. "Homework 1 (12345)". Default: the course title.')
@click.option("--changed-only", is_flag=True, help="Write only the grades that changed since the last export.")
@click.option("--to", "path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the file. Default: OUT/export-<format>.csv")
def export_command(out: Path, format_: str, roster: Path, assignment: str | None, changed_only: bool,
                   path: Path | None) -> None:
    """Write OUT's grades for an LMS, matched to students by the roster."""
    from grader.commands import record as commands  # noqa: PLC0415

    _, text = commands.export_grades(out, format=format_, roster=roster, path=path, assignment=assignment,
                                     changed_only=changed_only)
    click.echo(_inert(text), nl=False)


@main.command("release")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@course_option
def release_command(out: Path, course_root: Path | None) -> None:
    """Write the student copy of the course to OUT: the stubs, the grader, the
    public tests and the reference's recorded answers; no solution, no hidden test."""
    from grader.course.catalogue import load_course  # noqa: PLC0415
    from grader.commands.release import build_release  # noqa: PLC0415

    course = load_course(course_root)
    release = build_release(course, out)
    for warning in release.warnings:
        click.echo(f"warning: {warning}", err=True)
    tests = sum(len(names) for names in release.public_tests.values())
    click.echo(f"Wrote the student copy of {course.title!r} to {release.root}: {len(release.files)} files, "
               f"{tests} public tests in {len(release.public_tests)} exercises.")
    for exercise_id, names in release.public_tests.items():
        click.echo(f"  {exercise_id}: {', '.join(names) or 'no public test'}")
    click.echo(f"Try it as a student would: cd {release.root}, then follow its README.md")


@main.command("gradescope")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@course_option
def gradescope_command(out: Path, course_root: Path | None) -> None:
    """Write OUT (a .zip), the autograder to upload to a Gradescope programming assignment."""
    from grader.commands.gradescope import build_package  # noqa: PLC0415
    from grader.course.catalogue import load_course  # noqa: PLC0415

    package = build_package(load_course(course_root), out)
    size_kb = package.path.stat().st_size / 1024
    click.echo(f"Wrote {package.path} ({len(package.files)} files, {size_kb:.0f} KB): setup.sh and run_autograder "
               "at its root, with the course and the grader.")
    click.echo("Upload it as the autograder of a Gradescope programming assignment (Ubuntu 22.04 or newer base "
               "image, 2 GB of memory or more); students submit exerciseN.py files, a zip or notebooks.")
