"""``grade watch``: one warm grading session beside the student's editor.

The zygote, the course's snapshot and the reference answers are made once;
every save then grades the exercises whose files changed with the same
``runner.grade`` call that ``grade exerciseN`` makes (fresh rooms, the same
walls, limits and verdicts), so a result seen here is the result the student
gets. Files are watched with watchfiles (inotify through Rust's notify: events,
not polling, and it groups an editor's write-then-rename into one change).

Which saves count is an allow-list: a file named like a submission file
(``*.py``, ``*.ipynb``, not hidden); an editor's swap and backup files
(``.exercise3.py.swp``, ``exercise3.py~``, ``4913``, ``.#exercise3.py``) are
never a reason to grade.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from rich.console import Console

from grader.course.catalogue import Course, ExerciseSpec
from grader.course.notebooks import exercises_answered, is_notebook
from grader.course.submissions import Submission, read_submission
from grader.errors import UserError
from grader.options import GradeOptions
from grader.outputs import terminal
from grader.outputs.html import format_points
from grader.results import ExerciseResult, SandboxStatus, SubmissionResult
from grader.engine.session import GradingSession
from grader.sandbox.client import Zygote, ZygoteLost

SUBMISSION_SUFFIXES = (".py", ".ipynb")
# How long the folder must stay quiet after a change before grading (ms): an
# editor's atomic save (write a temporary file, rename it) lands well within it.
QUIET_MS = 10
IDLE_MS = 200  # how often an idle watch wakes up (to notice that it should stop)


@dataclass(frozen=True)
class Watched:
    """What is watched: a folder, and the one file in it when the submission is a file."""

    folder: Path
    only: str | None = None  # a single file's or notebook's name; None: the whole folder

    @classmethod
    def of(cls, submission: Path) -> Watched:
        submission = submission.resolve()
        return cls(submission, None) if submission.is_dir() else cls(submission.parent, submission.name)

    @property
    def submission(self) -> Path:
        return self.folder / self.only if self.only else self.folder


def is_submission_file(name: str) -> bool:
    """A file name a save of the student's work can have (an allow-list)."""
    return name.endswith(SUBMISSION_SUFFIXES) and not name.startswith((".", "~")) and "~" not in name


def exercises_touched(changed: Iterable[Path], watched: Watched, specs: Sequence[ExerciseSpec],
                      others: Iterable[str] = ()) -> list[ExerciseSpec]:
    """The exercises a set of changed files calls for grading again, in course order.

    A single watched file grades every chosen exercise; in a folder,
    ``exerciseN.py`` / ``exerciseN.ipynb`` grades its exercise, a notebook
    named otherwise the exercises it may answer, the file of an exercise not
    chosen (``others``) nothing, and any other module (a helper the exercises
    may import) every chosen exercise.
    """
    names = {path.name for path in changed
             if path.parent == watched.folder and is_submission_file(path.name)
             and (watched.only is None or path.name == watched.only)}
    if not names:
        return []
    if watched.only is not None:
        return list(specs)
    filenames = [spec.filename for spec in specs]
    wanted: set[str] = set()
    for name in names:
        if is_notebook(Path(name)):
            wanted.update(exercises_answered(name, filenames))
        elif name in filenames:
            wanted.add(name)
        elif name not in others:
            wanted.update(filenames)
    return [spec for spec in specs if spec.filename in wanted]


def score_changes(before: Mapping[str, ExerciseResult], after: Iterable[ExerciseResult]) -> list[str]:
    """"exercise3: 3/10 → 10/10" for each exercise graded again (its first grade: "exercise3: 3/10")."""
    lines = []
    for exercise in after:
        now = f"{format_points(exercise.score)}/{format_points(exercise.max_score)}"
        previous = before.get(exercise.exercise_id)
        was = None if previous is None else f"{format_points(previous.score)}/{format_points(previous.max_score)}"
        lines.append(f"{exercise.exercise_id}: {now}" if was is None
                     else f"{exercise.exercise_id}: {was} → {now}" + ("" if was != now else " (unchanged)"))
    return lines


@dataclass
class WatchState:
    """The latest result of every exercise, in course order."""

    order: Sequence[str]
    latest: dict[str, ExerciseResult] = field(default_factory=dict)

    def merge(self, result: SubmissionResult) -> tuple[SubmissionResult, list[str]]:
        """The whole picture after ``result`` (which holds the exercises just graded), and what changed."""
        changes = score_changes(self.latest, result.exercises)
        for exercise in result.exercises:
            self.latest[exercise.exercise_id] = exercise
        merged = tuple(self.latest[i] for i in self.order if i in self.latest)
        return replace(result, exercises=merged), changes


class WarmGrader:
    """A grading session and the course's references kept warm; ``grade`` is ``grade exerciseN``'s grading."""

    def __init__(self, course: Course, specs: Sequence[ExerciseSpec], options: GradeOptions, zygote: Zygote) -> None:
        from grader.engine.snapshot import CourseFiles  # noqa: PLC0415

        self.session = GradingSession.on(zygote)  # the caller's zygote, closed by the caller
        self.course, self.specs, self.options = course, list(specs), options
        self._walls: SandboxStatus | None = None  # the zygote's canary, tried on its first run
        self.references = self.session.runner.default_references(course, CourseFiles.read(self.specs))

    def grade(self, submission: Path, specs: Sequence[ExerciseSpec]) -> SubmissionResult:
        chosen = read_submission(submission, [s.filename for s in specs])  # the one boundary
        try:
            return self._grade(chosen, specs)
        except ZygoteLost:  # its rooms are gone (the machine killed it): start again, grade again
            self.session.restart()
            self._walls = None
            return self._grade(chosen, specs)

    def _grade(self, chosen: Submission, specs: Sequence[ExerciseSpec]) -> SubmissionResult:
        run = self.session.grade(self.course, [chosen], specs, options=self.options, references=self.references,
                                 sandbox=self._walls)
        self._walls = run.sandbox
        return run.results[0]

    def close(self) -> None:
        self.session.close()  # a zygote started here after one was lost; never the caller's


def changes(watched: Watched, *, stop: Callable[[], bool] | None = None) -> Iterator[set[Path]]:
    """Each batch of changed submission files, as the editor finishes saving
    them; an empty batch every ``IDLE_MS`` when nothing changed, the first one
    once the watch is in place (so that nothing saved after it is missed)."""
    import watchfiles  # noqa: PLC0415 - only this command needs it

    def wanted(_change: watchfiles.Change, path: str) -> bool:
        name = Path(path).name
        return is_submission_file(name) and (watched.only is None or name == watched.only)

    for batch in watchfiles.watch(watched.folder, watch_filter=wanted, recursive=False, step=QUIET_MS,
                                  debounce=1000, rust_timeout=IDLE_MS, yield_on_timeout=True,
                                  stop_event=_StopFlag(stop) if stop else None):
        yield {Path(path) for _, path in batch}


class _StopFlag:
    """watchfiles' stop_event, answered by a function (a test's way to end the loop)."""

    def __init__(self, stop: Callable[[], bool]) -> None:
        self._stop = stop

    def is_set(self) -> bool:
        return self._stop()


@dataclass(frozen=True)
class WatchRound:
    """What one save gave: the result of every exercise so far, what changed, how long it took."""

    result: SubmissionResult | None
    changes: list[str]
    elapsed_s: float
    watched: Watched
    problem: str | None = None  # why the saved files could not be graded (they are waited out)


def watch(course: Course, *, exercise_ids: Sequence[str] | None, submission: Path | None,
          options: GradeOptions, zygote: Zygote, show: Callable[[WatchRound], None],
          stop: Callable[[], bool] | None = None) -> None:
    """Grade every chosen exercise once, then again on every save, calling
    ``show`` after each round; returns when ``stop()`` says so (Ctrl-C: KeyboardInterrupt)."""
    specs = [course.exercise(i) for i in exercise_ids] if exercise_ids else list(course.exercises)
    watched = Watched.of(submission or course.root / "exercises")
    grader = WarmGrader(course, specs, options, zygote)
    state = WatchState([s.id for s in specs])
    others = {spec.filename for spec in course.exercises} - {spec.filename for spec in specs}
    first = True
    try:
        for changed in changes(watched, stop=stop):  # the first (empty) batch: the watch is in place
            touched = specs if first else exercises_touched(changed, watched, specs, others)
            first = False
            if touched:
                show(_round(grader, state, watched, touched))
    finally:
        grader.close()


def _round(grader: WarmGrader, state: WatchState, watched: Watched, specs: Sequence[ExerciseSpec]) -> WatchRound:
    started = time.perf_counter()
    if not watched.submission.exists():  # moved away mid-save: the next save brings it back
        return WatchRound(None, [], 0.0, watched, problem=f"{watched.submission.name} is gone; waiting for it")
    try:
        result = grader.grade(watched.submission, specs)
    except UserError as error:  # e.g. a notebook named after another exercise: said, and waited out
        return WatchRound(None, [], time.perf_counter() - started, watched, problem=str(error))
    merged, changed = state.merge(result)
    return WatchRound(merged, changed, time.perf_counter() - started, watched)


class WatchView:
    """What ``grade watch`` shows after each save: the screen redrawn in place
    (appended to, in a log) with ``grade exerciseN``'s lines, what changed, and
    the report refreshed."""

    def __init__(self, console: Console, *, summary: bool, report: Path | None, course: Course | None = None,
                 who: str | None = None) -> None:
        self.console, self.summary, self.report, self.who = console, summary, report, who
        self.course_title = course.title if course is not None else ""
        # What each exercise is worth in the course: a student copy checks part of it, and says so.
        self.worth = {spec.id: spec.points for spec in course.exercises} if course is not None else None

    def show(self, round_: WatchRound) -> None:
        console = self.console
        if console.is_terminal:
            console.clear()
        else:
            console.rule(style="dim")
        if round_.result is not None:
            terminal.print_result(console, round_.result, summary=self.summary, worth=self.worth)
            for change in round_.changes:
                console.print(terminal.shown(change, "bold"))
            if self.report is not None:
                from grader.outputs.html import write_html  # noqa: PLC0415 - jinja: only when a report is asked

                written = write_html(round_.result, self.report, course_title=self.course_title, who=self.who,
                                     worth=self.worth)
                console.print(f"HTML report: {written}", style="dim")
        if round_.problem:
            console.print(terminal.shown(round_.problem, "bold red", multiline=True))
        console.print(terminal.shown(f"graded in {round_.elapsed_s:.2f} s · watching {round_.watched.submission} "
                                     "(save to grade again, Ctrl-C to stop)", "dim"))
