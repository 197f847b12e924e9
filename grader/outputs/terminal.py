"""Terminal output with rich: what a student sees after ``grade exercise3``.

Every function takes the ``Console`` to print to, so the CLI passes its own and
tests pass a recording one. Scores come from the result records; nothing here
recomputes them. Text a submission can influence (messages, names, notes) is
printed through ``shown``: a ``Text`` object, never parsed as rich markup (a
message containing ``[bold]`` prints as written), holding the text made inert
(``grader.inert``), so no escape sequence of a submission reaches the
terminal, even from a result built elsewhere.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from grader import scoring
from grader.inert import inert
from grader.outputs.html import checked_locally, format_points, scope_line, score_state
from grader.results import ExerciseResult, SandboxStatus, SubmissionResult, TestResult

PASS_MARK, FAIL_MARK = "✓", "✗"
# Written to a file or a CI log rather than a terminal, rich would assume 80
# columns and cut test names mid-word; logs are read in wider windows.
LOG_WIDTH = 120


def make_console(*, stderr: bool = False) -> Console:
    """The console the CLI prints to: the terminal's width, or LOG_WIDTH in a log."""
    console = Console(highlight=False, stderr=stderr)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = LOG_WIDTH
    return console


def shown(text: str, style: str = "", *, multiline: bool = False) -> Text:
    """Text a submission may have written, as a rich ``Text``: inert, no markup."""
    return Text(inert(text, multiline=multiline), style=style)


_STATE_STYLES = {"full": "bold green", "partial": "bold yellow", "none": "bold red"}


def _score_style(score: float, max_score: float) -> str:
    return _STATE_STYLES[score_state(score, max_score)]


def _fraction(score: float, max_score: float) -> str:
    return f"{format_points(score)}/{format_points(max_score)}"


def _failure_details(test: TestResult) -> Group:
    """What went wrong, under a failed test: verdict, message, hint."""
    parts: list[Text] = []
    if test.verdict:
        parts.append(shown(test.verdict, "bold red"))
    if test.message:
        parts.append(shown(test.message.rstrip("\n"), "dim", multiline=True))
    if test.hint:
        parts.append(Text.assemble(("hint: ", "bold yellow"), shown(test.hint, "yellow", multiline=True)))
    return Group(*parts)


def _indented(renderable: RenderableType, spaces: int) -> Padding:
    return Padding(renderable, (0, 0, 0, spaces), expand=False)


def print_exercise(console: Console, exercise: ExerciseResult, worth: float | None = None) -> None:
    """One exercise's result: a line per test, what went wrong, then its score.
    ``worth``: what the exercise is worth in the course (a student copy checks part of it)."""
    console.print(Text.assemble(shown(exercise.exercise_id, "bold"), " — ", shown(exercise.title)))
    if exercise.problem:
        console.print(_indented(shown(exercise.problem, "bold red", multiline=True), 2))
    for note in exercise.notes:
        console.print(_indented(shown(f"note: {note}", "dim"), 2))

    titles = [shown(test.title or test.name) for test in exercise.tests]
    fractions = [_fraction(test.points, test.max_points) for test in exercise.tests]
    # Points line up in one column after the longest title (within the
    # console's width); a long failure message below does not push them away.
    points_width = max((len(f) for f in fractions), default=0)
    title_width = min(
        max((t.cell_len for t in titles), default=0),
        max(console.width - points_width - 8, 10),
    )
    for test, title, fraction in zip(exercise.tests, titles, fractions, strict=False):
        title.pad_right(title_width - title.cell_len)
        mark = (PASS_MARK, "bold green") if test.passed else (FAIL_MARK, "bold red")
        points = (fraction.rjust(points_width), "green" if test.passed else "red")
        console.print(_indented(Text.assemble(mark, " ", title, "  ", points), 2))
        if not test.passed and (test.verdict or test.message or test.hint):
            console.print(_indented(_failure_details(test), 6))

    score, max_score = exercise.score, exercise.max_score
    console.print(
        _indented(
            Text.assemble(
                ("score: ", "bold"),
                (_fraction(score, max_score), _score_style(score, max_score)),
                (f" ({scoring.percent(score, max_score)}%)", "dim"),
            ),
            2,
        )
    )
    scope = scope_line(exercise)
    if scope:
        console.print(_indented(Text(scope, style="bold"), 2))
    local = checked_locally(exercise, worth)
    if local:
        console.print(_indented(Text(local, style="bold"), 2))


def print_summary_table(console: Console, result: SubmissionResult) -> None:
    """A table of exercises with score/max and a total row (``grade``, ``grade all``)."""
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("Exercise")
    table.add_column("Score", justify="right")
    table.add_column("")
    last = len(result.exercises) - 1
    id_width = max((shown(e.exercise_id).cell_len for e in result.exercises), default=0)  # exercise10's titles too
    for i, exercise in enumerate(result.exercises):
        exercise_id = shown(exercise.exercise_id)
        exercise_id.pad_right(id_width - exercise_id.cell_len)
        table.add_row(
            Text.assemble(exercise_id, shown(f"  {exercise.title}", "dim")),
            Text(
                _fraction(exercise.score, exercise.max_score),
                style=_score_style(exercise.score, exercise.max_score),
            ),
            shown(exercise.problem or "", "red", multiline=True),
            end_section=i == last,
        )
    table.add_row(
        Text("Total", style="bold"),
        Text(
            _fraction(result.score, result.max_score),
            style=_score_style(result.score, result.max_score),
        ),
        Text(f"{scoring.percent(result.score, result.max_score)}%", style="dim"),
    )
    console.print(table)


def print_sandbox_warning(console: Console, status: SandboxStatus) -> None:
    """A loud warning listing each missing sandbox wall; prints nothing when complete."""
    if status.complete:
        return
    body = Group(
        Text("Submissions are graded without these protections:"),
        *(Text.assemble(("  • ", "bold red"), shown(wall)) for wall in status.missing),
        Text(
            "A hostile submission could interfere with its own grade. "
            "Use --require-sandbox to refuse to grade on this machine.",
            style="dim",
        ),
    )
    console.print(
        Panel(
            body,
            title=Text("WARNING: sandbox incomplete", style="bold red"),
            title_align="left",
            border_style="bold red",
        )
    )


def print_result(console: Console, result: SubmissionResult, *, summary: bool,
                 worth: Mapping[str, float] | None = None) -> None:
    """What ``grade exerciseN`` prints: the sandbox warning if any, each exercise,
    the summary table when grading them all (``summary``), then the seed to replay.
    ``worth``: each exercise's points in the course (``grade list``'s)."""
    print_sandbox_warning(console, result.sandbox)
    for exercise in result.exercises:
        print_exercise(console, exercise, (worth or {}).get(exercise.exercise_id))
    if summary:
        print_summary_table(console, result)
    console.print(f"seed {result.seed} (replay with --seed {result.seed})", style="dim")
