"""What ``grade batch`` shows in the terminal: a progress bar while it runs, one screen at the end.

Both read only the controller's plain progress events and its ``BatchOutcome``.
Names, problems and notes can hold what a submission wrote (an entry's name, a
zip member's): they are printed through ``terminal.shown`` (inert, no markup).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from grader.commands.batch.events import Failed, Graded, Planned, ProgressEvent, Retry
from grader.record.classbook import GRADEBOOK_FILE, INDEX_FILE, REPORT_FILE, RESULTS_FILE, SUBMISSIONS_FOLDER
from grader.verdicts import LIMIT_VERDICTS, Verdict
from grader.words import counted

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID

    from grader.commands.batch.sink import BatchOutcome


class ProgressBar:
    """``on_progress`` for ``run_batch`` drawing a rich progress bar; use as a context manager."""

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415
        from rich.progress import TimeRemainingColumn  # noqa: PLC0415

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                                 console=console, transient=False)
        self.task: TaskID | None = None

    def __enter__(self) -> ProgressBar:
        # Drawn from the plan on ("planned"), not here: a course that fails to
        # load leaves no empty bar above its error message.
        self.task = None
        return self

    def __exit__(self, *_exc: object) -> None:
        self.progress.stop()

    def __call__(self, event: ProgressEvent) -> None:
        if isinstance(event, Planned):
            workers = "1 worker" if event.jobs == 1 else f"{event.jobs} workers"
            description = f"grading with {workers}" if event.total else "nothing to grade"
            self.task = self.progress.add_task(description, total=event.total)
            self.progress.start()
        elif isinstance(event, (Graded, Failed)) and self.task is not None:
            self.progress.update(self.task, advance=1)
        elif isinstance(event, Retry):
            from grader.outputs.terminal import shown  # noqa: PLC0415

            again = counted(len(event.submissions), 'submission')
            self.progress.console.print(shown(f"a worker {event.reason}; grading {again} again in a new one",
                                              "yellow"))


def print_summary(console: Console, outcome: BatchOutcome) -> None:
    """One screen: what was graded, what went wrong, where the files are."""
    from rich.text import Text  # noqa: PLC0415

    from grader.outputs.terminal import print_sandbox_warning, shown  # noqa: PLC0415

    print_sandbox_warning(console, outcome.summary.sandbox)
    console.print(Text(headline(outcome) + ".", style="bold yellow" if outcome.interrupted else "bold"))
    _print_class(console, outcome)
    _print_trouble(console, outcome)
    for text, style in remarks(outcome):
        console.print(shown(text, style))
    console.print(Text.assemble("Class summary: ", shown(str(outcome.out / INDEX_FILE), "bold"), "\nGradebook: ",
                                shown(str(outcome.out / GRADEBOOK_FILE), "bold"),
                                "\nPer submission: ",
                                shown(f"{outcome.out / SUBMISSIONS_FOLDER}/<submission>/{REPORT_FILE} "
                                      f"and {RESULTS_FILE}")))
    if outcome.interrupted:
        console.print("Run the same command with --resume to grade the rest.", style="yellow")


def headline(outcome: BatchOutcome) -> str:
    """How many were graded, how fast, by how many workers, how many skipped."""
    head = "Interrupted: " if outcome.interrupted else ""
    line = f"{head}graded {counted(len(outcome.graded), 'submission')} in {outcome.elapsed_s:.1f} s"
    if outcome.jobs:
        line += f" with {counted(outcome.jobs, 'worker')}"
    if outcome.skipped:
        line += f"; {len(outcome.skipped)} already up to date (--resume)"
    return line


def _print_class(console: Console, outcome: BatchOutcome) -> None:
    """The class's scores, and the submissions that hit a limit or could not be imported."""
    from grader.outputs.html import format_points  # noqa: PLC0415

    summary = outcome.summary
    if summary.count:
        console.print(f"Class: {counted(summary.count, 'submission')}; total mean {format_points(summary.mean_total)}, "
                      f"median {format_points(summary.median_total)} of {format_points(summary.max_total)} points.",
                      highlight=False)
    verdicts = dict(summary.verdicts)
    limits = {v: n for v, n in verdicts.items() if v in LIMIT_VERDICTS}
    if limits:
        console.print("Submissions that hit a time, memory or disk limit, or crashed: "
                      + ", ".join(f"{verdict} {n}" for verdict, n in limits.items()), highlight=False)
    elif summary.count:
        console.print("No submission hit a time, memory or disk limit or crashed.")
    if verdicts.get(Verdict.IMPORT_ERROR):
        console.print(f"Submissions with a file that could not be imported: {verdicts[Verdict.IMPORT_ERROR]}",
                      highlight=False)


def _print_trouble(console: Console, outcome: BatchOutcome) -> None:
    """Submissions that could not be graded (zero points) and those the grader failed on."""
    from rich.text import Text  # noqa: PLC0415

    from grader.outputs.terminal import shown  # noqa: PLC0415

    summary = outcome.summary
    if summary.problems:
        console.print(Text(f"{len(summary.problems)} could not be graded (zero points):", style="yellow"))
        for name, problem in summary.problems[:10]:
            console.print(Text.assemble("  ", shown(name, "bold"), ": ", shown(problem)))
        if len(summary.problems) > 10:
            console.print(f"  … and {len(summary.problems) - 10} more (see {INDEX_FILE})")
    if summary.grader_failed:
        console.print(shown(f"The grader failed on {len(summary.grader_failed)}: "
                            f"{', '.join(summary.grader_failed[:10])} — grade again with --resume", "bold red"))
        for error in outcome.worker_errors[:2]:
            console.print(shown(error, "dim", multiline=True))


def remarks(outcome: BatchOutcome) -> list[tuple[str, str]]:
    """What else the run did, each as (text, style): hidden entries left out, notes, results replaced,
    ``--only``, submissions restored or removed, and those in the record but not in SUBMISSIONS."""
    said: list[tuple[str, str]] = []
    if outcome.hidden:
        said.append((f"Left out hidden entries: {', '.join(outcome.hidden)}", "dim"))
    said += [(f"Note: {note}.", "") for note in outcome.notes]
    if outcome.replaced:
        said.append((f"Graded again {counted(outcome.replaced, 'earlier exercise result')} "
                     f"(a submission's exercises count one each); `grade history {outcome.out}` shows what "
                     "changed.", "dim"))
    if outcome.only:
        said.append((f"Graded only {', '.join(outcome.only)} (--only); every other result in the class "
                     "record is as it was.", "dim"))
    if outcome.restored:
        said.append((f"Back in the class: {', '.join(outcome.restored)} (removed before; "
                     f"`grade history {outcome.out}` shows it).", "dim"))
    if outcome.removed:
        said.append((f"Removed from the class (--prune): {', '.join(outcome.removed)}; kept in the record, "
                     f"`grade history {outcome.out}` shows it.", "bold"))
    if outcome.not_listed:
        listed = ", ".join(outcome.not_listed[:10]) + (" …" if len(outcome.not_listed) > 10 else "")
        said.append((f"{counted(len(outcome.not_listed), 'submission')} in the class record "
                     f"{'is' if len(outcome.not_listed) == 1 else 'are'} not in this "
                     f"submissions folder ({listed}): kept as they were. To remove them, run again "
                     "with --prune.", "dim"))
    return said
