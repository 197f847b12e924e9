"""Grading a whole class: ``grade batch SUBMISSIONS --out OUT``.

The parent (this module, imported by the CLI) never imports torch, a
solution or a hidden suite. It lists the entries of SUBMISSIONS, decides which
need grading, and hands each of ``jobs`` worker processes a static share.
A worker is a fresh interpreter (``python -I -c ... worker_main``): it starts
its own zygote first, then runs ONE ``runner.grade`` session over its share,
writes ``OUT/<name>/report.html`` and ``results.json`` the moment each
submission is finished, and tells the parent with one JSON line on stdout.
Like pytest-xdist's workers, a worker imports nothing from its controller
and only plain data crosses; a worker that dies becomes retries and, at
worst, rows that say "the grader failed on this submission", never a
crashed batch.

``results.json`` is the record: the gradebook and the class summary are
rebuilt from the files in OUT alone (``build_outputs``), so an interrupted
run leaves a consistent OUT and ``--resume`` grades only what is missing or
stale. The class numbers are small pure functions (``summarize`` and its
helpers), rendered by ``templates/summary.html.j2``.
"""
from __future__ import annotations

import csv
import ctypes
import io
import json
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import grader
from grader.verdicts import LIMIT_VERDICTS, Verdict
from grader.course.catalogue import Course, ExerciseSpec
from grader.outputs.results_json import from_gradescope, to_gradescope
from grader.outputs.files import write_atomic
from grader.results import ExerciseResult, SandboxStatus, SubmissionResult, TestResult

RESULTS_FILE, REPORT_FILE = "results.json", "report.html"
GRADEBOOK_FILE, INDEX_FILE = "gradebook.csv", "index.html"
GRADER_FAILED = "the grader failed on this submission"
GRADER_FAILED_TEST = "grader_failed"  # the stand-in test of a row the grader could not grade
MAX_ATTEMPTS = 2  # a submission left unfinished by this many crashed workers gets a failed row
HISTOGRAM_BINS = 10
FREQUENT_HINTS = 10
STOP_GRACE_S = 5.0  # after SIGTERM, how long workers get to close their zygotes before SIGKILL
EXIT_INTERRUPTED = 130

_GRADER_PARENT = str(Path(grader.__file__).resolve().parent.parent)
# -I: the worker must not import a student's torch.py from the working
# directory, nor obey PYTHON* variables; the grader's own folder is added back.
_WORKER_BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); "
                "from grader.commands.batch import worker_main; raise SystemExit(worker_main())")


class BatchError(RuntimeError):
    """The batch could not run at all (a broken suite, a zygote that cannot start)."""


# ---------------------------------------------------------------------------
# Entries: what SUBMISSIONS holds, and which of it needs grading
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """One submission in SUBMISSIONS: its name (the entry without extension) and path."""

    name: str
    path: Path


def sort_key(name: str) -> tuple[str, str]:
    """Submissions are listed by name, case-insensitively (then exactly, for ties)."""
    return name.casefold(), name


def name_entries(paths: Sequence[Path]) -> list[Entry]:
    """Name each entry after itself without its extension (``alice.zip`` → ``alice``).

    Two entries that would share a name (``alice/`` and ``alice.zip``) keep
    their full names instead, so neither's results overwrite the other's.
    """
    stems = Counter(_stem(p) for p in paths)
    entries = [Entry(_stem(p) if stems[_stem(p)] == 1 else p.name, p) for p in paths]
    return sorted(entries, key=lambda e: sort_key(e.name))


def _stem(path: Path) -> str:
    return path.name if path.is_dir() else path.stem


def list_entries(folder: Path, *, exclude: Path | None = None) -> tuple[list[Entry], list[str]]:
    """The entries of ``folder`` by name, and the hidden ones left out (``.DS_Store``).

    ``exclude`` (OUT, when it sits inside SUBMISSIONS) is never an entry.
    """
    paths, hidden = [], []
    skip = exclude.resolve() if exclude is not None else None
    for path in folder.iterdir():
        if path.name.startswith("."):
            hidden.append(path.name)
        elif skip is None or path.resolve() != skip:
            paths.append(path)
    return name_entries(paths), sorted(hidden)


def entry_mtime(path: Path) -> float:
    """When an entry last changed: a folder's own mtime misses edits of the
    files inside, so take the newest of the folder and its top-level files."""
    newest = path.stat().st_mtime
    if path.is_dir():
        for child in path.iterdir():
            try:
                newest = max(newest, child.lstat().st_mtime)
            except OSError:
                pass
    return newest


def read_result(folder: Path) -> SubmissionResult | None:
    """``folder/results.json`` as a result, or None if missing or unreadable."""
    try:
        return from_gradescope(json.loads((folder / RESULTS_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_up_to_date(entry: Entry, out: Path, *, seed: int, exercise_ids: Sequence[str]) -> bool:
    """Whether ``--resume`` may keep this entry's results: written after the
    entry last changed, with the same seed and exercises, and not a row the
    grader failed on."""
    path = out / entry.name / RESULTS_FILE
    try:
        if path.stat().st_mtime < entry_mtime(entry.path):
            return False
    except OSError:
        return False
    result = read_result(path.parent)
    return (result is not None and result.seed == seed
            and [e.exercise_id for e in result.exercises] == list(exercise_ids)
            and not grader_failed(result))


def grader_failed(result: SubmissionResult) -> bool:
    return any(t.name == GRADER_FAILED_TEST for e in result.exercises for t in e.tests)


def round_robin(items: Sequence, shares: int) -> list[list]:
    """Deal ``items`` into at most ``shares`` non-empty lists, in turn."""
    return [list(items[k::shares]) for k in range(min(shares, len(items)))]


# ---------------------------------------------------------------------------
# Files in OUT
# ---------------------------------------------------------------------------
def write_submission(out: Path, result: SubmissionResult, hidden_visibility: Mapping[str, str] | None = None) -> Path:
    """The student's report, then ``results.json``: written last, it marks the
    submission as finished for ``--resume`` and for the gradebook.
    ``hidden_visibility``: the course's, for results.json (see to_gradescope)."""
    from grader.outputs.html import write_html  # noqa: PLC0415 - Jinja only where pages are written

    folder = out / result.submission
    write_html(result, folder / REPORT_FILE)
    write_atomic(folder / RESULTS_FILE, json.dumps(to_gradescope(result, hidden_visibility=hidden_visibility), indent=1) + "\n")
    return folder


def failed_result(name: str, specs: Sequence[ExerciseSpec], seed: int, reason: str) -> SubmissionResult:
    """The row for a submission the grader itself could not grade: zero points,
    each exercise's points at stake, and the reason in plain words."""
    exercises = tuple(ExerciseResult(
        exercise_id=spec.id, title=spec.title, seed=seed, problem=GRADER_FAILED,
        tests=(TestResult(name=GRADER_FAILED_TEST, title=GRADER_FAILED, max_points=spec.points, passed=False,
                          message=reason, verdict=Verdict.GRADER_ERROR),))
        for spec in specs)
    return SubmissionResult(submission=name, exercises=exercises, seed=seed)


def with_problem(result: SubmissionResult, problem: str | None) -> SubmissionResult:
    """Say why a submission could not be graded on every exercise (the runner
    words a missing file per exercise; "the zip holds ../evil.py" says more)."""
    if not problem:
        return result
    return replace(result, exercises=tuple(replace(e, problem=problem) for e in result.exercises))


def collect_results(out: Path, names: Iterable[str] | None = None) -> list[SubmissionResult]:
    """Every ``OUT/*/results.json`` (only those of ``names`` if given), by name."""
    if not out.is_dir():
        return []
    wanted = set(names) if names is not None else None
    folders = [p for p in out.iterdir() if p.is_dir() and (wanted is None or p.name in wanted)]
    results = [result for result in map(read_result, folders) if result is not None]
    return sorted(results, key=lambda r: sort_key(r.submission))


def exercise_columns(results: Sequence[SubmissionResult], course_ids: Sequence[str]) -> list[str]:
    """The gradebook's exercise columns: the course's, in its order, that any
    result holds (all of the course's while there is no result yet)."""
    present = {e.exercise_id for r in results for e in r.exercises}
    if not present:
        return list(course_ids)
    return [i for i in course_ids if i in present] + sorted(present - set(course_ids))


def _spreadsheet_safe(text: str) -> str:
    # A cell starting with = + - @ is a formula to Excel and LibreOffice; a
    # submission's name is chosen by a student.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def gradebook_rows(results: Sequence[SubmissionResult], columns: Sequence[str]) -> list[list[str]]:
    """Header and one row per submission: points earned per exercise and in total.

    A row the grader failed on has empty cells, not zeros: it is not a score,
    and an empty cell is not uploaded to a course platform as one.
    """
    from grader.outputs.html import format_points  # noqa: PLC0415

    rows = [["submission", *columns, "total"]]
    for result in sorted(results, key=lambda r: sort_key(r.submission)):
        by_id = {e.exercise_id: e for e in result.exercises}
        scored = not grader_failed(result)
        rows.append([_spreadsheet_safe(result.submission),
                     *(format_points(by_id[c].score) if c in by_id and scored else "" for c in columns),
                     format_points(result.score) if scored else ""])
    return rows


def gradebook_csv(rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# The class summary: pure functions of the results
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ExerciseStats:
    exercise_id: str
    title: str
    max_points: float
    mean: float
    median: float
    full_marks: int  # submissions with every point of this exercise
    submitted: int  # submissions that handed in this exercise's file
    count: int  # submissions graded on it (not submitted counts as zero points)


@dataclass(frozen=True)
class TestStats:
    exercise_id: str
    name: str
    title: str
    max_points: float
    passed: int
    attempted: int  # submissions that handed in the exercise

    @property
    def pass_rate(self) -> float:
        return self.passed / self.attempted if self.attempted else 0.0


@dataclass(frozen=True)
class HintCount:
    exercise_id: str
    hint: str
    count: int  # submissions shown this hint


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int


@dataclass(frozen=True)
class ClassSummary:
    count: int  # submissions with a score (rows the grader failed on are only in grader_failed)
    max_total: float
    mean_total: float
    median_total: float
    exercises: tuple[ExerciseStats, ...]
    histogram: tuple[Bin, ...]
    tests: tuple[TestStats, ...]
    hints: tuple[HintCount, ...]
    verdicts: tuple[tuple[str, int], ...]  # verdict, submissions that got it; most frequent first
    problems: tuple[tuple[str, str], ...]  # (submission, why it could not be graded)
    grader_failed: tuple[str, ...]
    sandbox: SandboxStatus
    seeds: tuple[int, ...]


def mean_median(values: Sequence[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    return round(statistics.fmean(values), 2), float(statistics.median(values))


def histogram(totals: Sequence[float], max_total: float, bins: int = HISTOGRAM_BINS) -> tuple[Bin, ...]:
    """Totals counted in ``bins`` equal ranges over [0, max_total]; the last
    range includes its top (full marks), the others do not."""
    if max_total <= 0:
        return (Bin(0.0, 0.0, len(totals)),)
    width = max_total / bins
    counts = [0] * bins
    for total in totals:
        counts[min(max(int(total / width), 0), bins - 1)] += 1
    return tuple(Bin(round(k * width, 6), round((k + 1) * width, 6), n) for k, n in enumerate(counts))


def exercise_stats(results: Sequence[SubmissionResult], exercise_ids: Sequence[str]) -> tuple[ExerciseStats, ...]:
    stats = []
    for exercise_id in exercise_ids:
        graded = [e for r in results for e in r.exercises if e.exercise_id == exercise_id]
        if not graded:
            continue
        mean, median = mean_median([e.score for e in graded])
        stats.append(ExerciseStats(exercise_id=exercise_id, title=graded[0].title,
                                   max_points=max(e.max_score for e in graded), mean=mean, median=median,
                                   full_marks=sum(e.full_marks for e in graded),
                                   submitted=sum(e.submitted for e in graded), count=len(graded)))
    return tuple(stats)


def pass_rates(results: Sequence[SubmissionResult], exercise_ids: Sequence[str]) -> tuple[TestStats, ...]:
    """Every hidden test's pass rate among the submissions that handed in its
    exercise, most failed first (then in course and suite order)."""
    seen: dict[tuple[str, str], list] = {}  # (exercise, test) -> [title, max_points, passed, attempted]
    for result in results:
        for exercise in result.exercises:
            if not exercise.submitted:
                continue
            for test in exercise.tests:
                if test.name == GRADER_FAILED_TEST:
                    continue
                entry = seen.setdefault((exercise.exercise_id, test.name), [test.title, test.max_points, 0, 0])
                entry[2] += test.passed
                entry[3] += 1
    order = {exercise_id: n for n, exercise_id in enumerate(exercise_ids)}
    stats = [TestStats(exercise_id, name, title, points, passed, attempted)
             for (exercise_id, name), (title, points, passed, attempted) in seen.items()]
    position = {(s.exercise_id, s.name): n for n, s in enumerate(stats)}
    stats.sort(key=lambda s: (s.pass_rate, order.get(s.exercise_id, len(order)), position[(s.exercise_id, s.name)]))
    return tuple(stats)


def frequent_hints(results: Sequence[SubmissionResult], limit: int = FREQUENT_HINTS) -> tuple[HintCount, ...]:
    """The hints shown most often, counting each submission once per hint."""
    counts: Counter[tuple[str, str]] = Counter()
    for result in results:
        counts.update({(e.exercise_id, t.hint) for e in result.exercises for t in e.tests
                       if t.hint and not t.passed})
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(HintCount(exercise_id, hint, n) for (exercise_id, hint), n in ranked[:limit])


def verdict_counts(results: Sequence[SubmissionResult]) -> tuple[tuple[str, int], ...]:
    """How many submissions got each verdict (time limit, crashed, ...) at least once."""
    counts: Counter[str] = Counter()
    for result in results:
        counts.update({t.verdict for e in result.exercises for t in e.tests if t.verdict})
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def class_sandbox(results: Sequence[SubmissionResult]) -> SandboxStatus:
    """Walls every submission had; every warning any of them was graded with."""
    if not results:
        return SandboxStatus()
    walls = set(results[0].sandbox.walls).intersection(*(r.sandbox.walls for r in results))
    missing = dict.fromkeys(m for r in results for m in r.sandbox.missing)
    return SandboxStatus(walls=tuple(w for w in results[0].sandbox.walls if w in walls), missing=tuple(missing))


def summarize(results: Sequence[SubmissionResult], exercise_ids: Sequence[str]) -> ClassSummary:
    """The class's numbers; rows the grader failed on are listed, not counted in them."""
    scored = [r for r in results if not grader_failed(r)]
    totals = [r.score for r in scored]
    max_total = max((r.max_score for r in scored), default=0.0)
    mean, median = mean_median(totals)
    problems = []
    for result in results:
        problem = next((e.problem for e in result.exercises if e.problem and not e.submitted), None)
        if problem and not any(e.submitted for e in result.exercises) and not grader_failed(result):
            problems.append((result.submission, problem))
    return ClassSummary(
        count=len(scored), max_total=max_total, mean_total=mean, median_total=median,
        exercises=exercise_stats(scored, exercise_ids), histogram=histogram(totals, max_total),
        tests=pass_rates(scored, exercise_ids), hints=frequent_hints(scored),
        verdicts=verdict_counts(scored), problems=tuple(problems),
        grader_failed=tuple(r.submission for r in results if grader_failed(r)),
        sandbox=class_sandbox(results), seeds=tuple(sorted({r.seed for r in results})),
    )


def render_summary(summary: ClassSummary, results: Sequence[SubmissionResult], *, title: str,
                   ungraded: Sequence[str] = ()) -> str:
    """The class summary page (``OUT/index.html``): self-contained, no scripts.
    ``ungraded``: submissions listed but without results (an interrupted batch)."""
    from grader.outputs.html import template_environment  # noqa: PLC0415

    columns = [s.exercise_id for s in summary.exercises]
    return template_environment().get_template("summary.html.j2").render(
        summary=summary, results=results, columns=columns, title=title, sandbox=summary.sandbox, ungraded=ungraded,
        report_file=REPORT_FILE, results_file=RESULTS_FILE, gradebook_file=GRADEBOOK_FILE)


def build_outputs(out: Path, course: Course, names: Iterable[str] | None = None) -> ClassSummary:
    """Rebuild ``gradebook.csv`` and ``index.html`` from the ``results.json`` files in OUT."""
    names = None if names is None else list(names)
    results = collect_results(out, names)
    columns = exercise_columns(results, course.ids)
    write_atomic(out / GRADEBOOK_FILE, gradebook_csv(gradebook_rows(results, columns)))
    summary = summarize(results, columns)
    graded = {r.submission for r in results}
    ungraded = sorted((n for n in set(names or ()) if n not in graded), key=sort_key)
    write_atomic(out / INDEX_FILE, render_summary(summary, results, title=course.title, ungraded=ungraded))
    return summary


# ---------------------------------------------------------------------------
# The parent: plan, run workers, survive their deaths, rebuild OUT
# ---------------------------------------------------------------------------
@dataclass
class BatchOutcome:
    out: Path
    summary: ClassSummary
    graded: list[str] = field(default_factory=list)  # finished in this run
    skipped: list[str] = field(default_factory=list)  # up to date (--resume)
    failed: list[str] = field(default_factory=list)  # the grader failed on them in this run
    hidden: list[str] = field(default_factory=list)  # hidden entries of SUBMISSIONS left out
    not_listed: int = 0  # results in OUT for entries no longer in SUBMISSIONS, left out
    interrupted: bool = False
    jobs: int = 0
    elapsed_s: float = 0.0
    worker_errors: list[str] = field(default_factory=list)  # stderr tails of workers that died


@dataclass
class _Worker:
    process: subprocess.Popen
    names: list[str]  # in the order it grades them
    log: Path
    done: set[str] = field(default_factory=set)
    error: str | None = None


def worker_command() -> list[str]:
    return [sys.executable, "-I", "-c", _WORKER_BOOT, _GRADER_PARENT]


def run_batch(submissions: Path, out: Path, course: Course, *, exercise_ids: Sequence[str] | None = None,
              jobs: int | None = None, resume: bool = False, seed: int | None = None,
              timeout_s: float | None = None, memory_mb: int | None = None, require_sandbox: bool = False,
              isolate: str = "submission", on_progress: Callable[[dict], None] | None = None,
              command: Sequence[str] | None = None) -> BatchOutcome:
    """Grade every entry of ``submissions`` into ``out`` with ``jobs`` worker processes.

    ``on_progress`` receives plain dicts: ``{"event": "planned", "total": n,
    "skipped": k}`` once, then ``{"event": "graded" | "failed", "submission":
    name, ...}`` per submission and ``{"event": "retry", ...}`` when a worker
    died. Ctrl-C stops the workers, keeps finished results and returns with
    ``interrupted`` set. Raises ``BatchError`` if the grader cannot run at
    all. ``command`` replaces the worker command (for tests).
    """
    started = time.monotonic()
    specs = [course.exercise(i) for i in exercise_ids] if exercise_ids else list(course.exercises)
    seed = course.seed if seed is None else seed
    out.mkdir(parents=True, exist_ok=True)
    entries, hidden = list_entries(submissions, exclude=out)
    ids = [s.id for s in specs]
    pending = [e for e in entries if not (resume and is_up_to_date(e, out, seed=seed, exercise_ids=ids))]
    pending_names = {e.name for e in pending}
    outcome = BatchOutcome(out=out, summary=summarize([], ids), hidden=hidden,
                           skipped=[e.name for e in entries if e.name not in pending_names])
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(pending) or 1))
    outcome.jobs = jobs if pending else 0
    report = on_progress or (lambda event: None)
    report({"event": "planned", "total": len(pending), "skipped": len(outcome.skipped), "jobs": outcome.jobs})
    from grader.engine.snapshot import CourseFiles  # noqa: PLC0415 - torch-free

    job = {"course": str(course.root), "out": str(out.resolve()), "exercises": ids,
           # What the workers will run, fingerprinted before any of them (or any sandbox) starts.
           "course_files": CourseFiles.read(specs).fingerprints(),
           "options": {"seed": seed, "timeout_s": timeout_s, "memory_mb": memory_mb,
                       "require_sandbox": require_sandbox, "isolate": isolate}}
    scheduler = _Scheduler(job, command or worker_command(), jobs, report, outcome, specs, seed, out)
    try:
        scheduler.run([[(e.name, str(e.path.resolve())) for e in share] for share in round_robin(pending, jobs)])
    except KeyboardInterrupt:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        try:
            scheduler.stop()
            outcome.interrupted = True
        finally:
            signal.signal(signal.SIGINT, previous)
    except BatchError:
        scheduler.stop()
        build_outputs(out, course, [e.name for e in entries])  # OUT stays consistent with what finished
        raise
    except BaseException:
        scheduler.stop()
        raise
    finally:
        scheduler.remove_logs()
    listed = [e.name for e in entries]
    outcome.not_listed = len({p.name for p in out.iterdir() if (p / RESULTS_FILE).is_file()} - set(listed))
    outcome.summary = build_outputs(out, course, listed)
    outcome.elapsed_s = round(time.monotonic() - started, 3)
    return outcome


class _Scheduler:
    """Keeps up to ``jobs`` workers busy with shares; a dead worker's unfinished
    submissions go to new workers (the one it was grading alone, as the
    likely cause), and after ``MAX_ATTEMPTS`` become failed rows."""

    def __init__(self, job: dict, command: Sequence[str], jobs: int, report: Callable[[dict], None],
                 outcome: BatchOutcome, specs: Sequence[ExerciseSpec], seed: int, out: Path) -> None:
        self.job, self.command, self.jobs, self.report = job, list(command), jobs, report
        self.outcome, self.specs, self.seed, self.out = outcome, specs, seed, out
        self.events: queue.Queue = queue.Queue()
        self.running: list[_Worker] = []
        self.attempts: Counter[str] = Counter()
        self.paths: dict[str, str] = {}
        self.logs: list[Path] = []

    def run(self, shares: list[list[tuple[str, str]]]) -> None:
        waiting = deque(shares)
        for share in shares:
            self.paths.update(share)
        while waiting or self.running:
            while waiting and len(self.running) < self.jobs:
                self._start(waiting.popleft())
            try:
                worker, line = self.events.get(timeout=1.0)
            except queue.Empty:
                continue
            if line is None:
                waiting.extend(self._finished(worker))
            else:
                self._handle(worker, line)

    def _start(self, share: list[tuple[str, str]]) -> None:
        log = Path(tempfile.mkstemp(prefix="torchgrade-batch-worker-", suffix=".log")[1])
        self.logs.append(log)
        with log.open("wb") as stderr:
            process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                       cwd=self.job["course"], text=True, encoding="utf-8", errors="replace",
                                       start_new_session=True)  # Ctrl-C reaches the parent, which stops them
        worker = _Worker(process=process, names=[name for name, _ in share], log=log)
        self.running.append(worker)
        threading.Thread(target=self._read, args=(worker,), daemon=True).start()
        try:
            process.stdin.write(json.dumps({**self.job, "entries": [{"name": n, "path": p} for n, p in share]}))
            process.stdin.close()
        except OSError:
            pass  # it died at once: its end of stdout says so

    def _read(self, worker: _Worker) -> None:
        for line in worker.process.stdout:
            self.events.put((worker, line))
        self.events.put((worker, None))

    def _handle(self, worker: _Worker, line: str) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            return  # not ours: workers keep their stdout for the protocol, but be lenient
        if not isinstance(event, dict):
            return
        if event.get("event") == "graded" and event.get("submission") in worker.names:
            worker.done.add(event["submission"])
            self.outcome.graded.append(event["submission"])
            self.report(event)
        elif event.get("event") == "error":
            worker.error = str(event.get("message", "the grader could not run"))

    def _finished(self, worker: _Worker) -> list[list[tuple[str, str]]]:
        code = worker.process.wait()
        self.running.remove(worker)
        if worker.error is not None:
            raise BatchError(worker.error)
        unfinished = [n for n in worker.names if n not in worker.done]
        if not unfinished:
            return []
        why = _exit_reason(code)
        self.outcome.worker_errors.append(f"a worker {why}:\n{_tail(worker.log)}".rstrip())
        alone: list[tuple[str, str]] = []  # the one it was grading: the likely cause
        together: list[tuple[str, str]] = []  # the ones waiting behind it: never started
        for position, name in enumerate(unfinished):
            self.attempts[name] += 1
            if self.attempts[name] >= MAX_ATTEMPTS:
                write_submission(self.out, failed_result(
                    name, self.specs, self.seed,
                    f"{GRADER_FAILED}: its grading process {why}, twice. This is not the submission's "
                    "score; grade it again with --resume, and report it if it happens again."))
                self.outcome.failed.append(name)
                self.report({"event": "failed", "submission": name})
            else:
                (alone if position == 0 else together).append((name, self.paths[name]))
        retries = [share for share in (alone, together) if share]
        if retries:
            self.report({"event": "retry", "submissions": [n for share in retries for n, _ in share], "reason": why})
        return retries

    def stop(self) -> None:
        """SIGTERM every worker (each closes its zygote, whose sandboxes die
        with it), then SIGKILL whatever is left after a grace period."""
        for worker in self.running:
            _signal_group(worker.process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for worker in self.running:
            try:
                worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(worker.process, signal.SIGKILL)
                worker.process.wait()
        self.running.clear()

    def remove_logs(self) -> None:
        for log in self.logs:
            log.unlink(missing_ok=True)


def _signal_group(process: subprocess.Popen, number: int) -> None:
    try:
        os.killpg(process.pid, number)  # the worker leads its own session
    except (ProcessLookupError, PermissionError):
        pass


def _exit_reason(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


def _tail(path: Path, limit: int = 2000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-limit:]
    except OSError:
        return ""


# ---------------------------------------------------------------------------
# The worker: a fresh interpreter grading its share in one session
# ---------------------------------------------------------------------------
def worker_main() -> int:
    """Read a job (JSON on stdin), grade it, write OUT/<name>/, report lines on stdout."""
    protocol = _claim_stdout()
    _die_with_parent()
    signal.signal(signal.SIGTERM, _interrupt)  # the parent stops us: close the zygote on the way out
    from grader.sandbox.client import Zygote, ZygoteError  # noqa: PLC0415

    zygote = Zygote.start()  # first: it warms up while this process imports torch and the suites
    unpacked = Path(tempfile.mkdtemp(prefix="torchgrade-batch-"))
    try:
        job = json.loads(sys.stdin.read())  # at once: the parent waits on the pipe before starting the next worker
        from grader.engine import runner  # noqa: PLC0415 - after the zygote started
        from grader.course.catalogue import CourseError, load_course  # noqa: PLC0415
        from grader.course.submissions import from_entry  # noqa: PLC0415

        try:
            course = load_course(Path(job["course"]))
            specs = [course.exercise(i) for i in job["exercises"]]
            filenames = [s.filename for s in specs]
            out = Path(job["out"])
            submissions = [from_entry(Path(e["path"]), filenames, name=e["name"], unpack_to=unpacked / str(n))
                           for n, e in enumerate(job["entries"])]
            problems = {s.name: s.problem for s in submissions if s.problem}

            def finished(result: SubmissionResult) -> None:
                if _stopping.is_set():
                    return  # a session cut short may finish a submission with tests missing: not a result
                result = with_problem(result, problems.get(result.submission))
                write_submission(out, result, course.hidden_visibility)
                verdicts = sorted({t.verdict for e in result.exercises for t in e.tests if t.verdict})
                _send(protocol, {"event": "graded", "submission": result.submission, "score": result.score,
                                 "max_score": result.max_score, "verdicts": verdicts,
                                 "problem": result.submission in problems})

            runner.grade(course, submissions, specs, options=runner.GradeOptions(**job["options"]),
                         zygote=zygote, on_result=finished, keep_results=False,
                         expected_files=job.get("course_files"))
        except (ZygoteError, runner.GraderError, CourseError) as error:
            _send(protocol, {"event": "error", "message": str(error)})
            return 3
        return 0
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    finally:
        zygote.close()
        shutil.rmtree(unpacked, ignore_errors=True)


def _claim_stdout() -> io.TextIOWrapper:
    """Keep stdout for the protocol: anything else printing to fd 1 (a library,
    a warning) goes to stderr instead of into the parent's JSON stream."""
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return protocol


def _send(protocol: io.TextIOWrapper, event: dict) -> None:
    protocol.write(json.dumps(event) + "\n")
    protocol.flush()


def _die_with_parent() -> None:
    """If the parent is killed outright, its workers must not grade on unseen."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(EXIT_INTERRUPTED)


_stopping = threading.Event()


def _interrupt(signum, frame) -> None:
    _stopping.set()
    raise KeyboardInterrupt


# ---------------------------------------------------------------------------
# The terminal: a progress bar while it runs, one screen at the end
# ---------------------------------------------------------------------------
# Verdicts (grader.sandbox.client) that mean a submission's process hit a wall or died.


class ProgressBar:
    """``on_progress`` for ``run_batch`` drawing a rich progress bar; use as a context manager."""

    def __init__(self, console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415
        from rich.progress import TimeRemainingColumn  # noqa: PLC0415

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                                 console=console, transient=False)
        self.task = None
        self.last = ""

    def __enter__(self) -> "ProgressBar":
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def __call__(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "planned":
            workers = "1 worker" if event["jobs"] == 1 else f"{event['jobs']} workers"
            description = f"grading with {workers}" if event["total"] else "nothing to grade"
            self.task = self.progress.add_task(description, total=event["total"])
        elif kind in ("graded", "failed") and self.task is not None:
            self.progress.update(self.task, advance=1)
        elif kind == "retry":
            self.progress.console.print(f"a worker {event['reason']}; grading {len(event['submissions'])} "
                                        "submission(s) again in a new one", style="yellow", highlight=False)


def print_summary(console, outcome: BatchOutcome) -> None:
    """One screen: what was graded, what went wrong, where the files are."""
    from rich.text import Text  # noqa: PLC0415

    from grader.outputs.html import format_points  # noqa: PLC0415
    from grader.outputs.terminal import print_sandbox_warning  # noqa: PLC0415

    summary = outcome.summary
    print_sandbox_warning(console, summary.sandbox)
    head = "Interrupted: " if outcome.interrupted else ""
    line = f"{head}graded {len(outcome.graded)} submission(s) in {outcome.elapsed_s:.1f} s"
    if outcome.jobs:
        line += f" with {outcome.jobs} worker(s)"
    if outcome.skipped:
        line += f"; {len(outcome.skipped)} already up to date (--resume)"
    console.print(Text(line + ".", style="bold yellow" if outcome.interrupted else "bold"))
    if summary.count:
        console.print(f"Class: {summary.count} submission(s); total mean {format_points(summary.mean_total)}, "
                      f"median {format_points(summary.median_total)} of {format_points(summary.max_total)} points.",
                      highlight=False)
    verdicts = dict(summary.verdicts)
    limits = {v: n for v, n in verdicts.items() if v in LIMIT_VERDICTS}
    if limits:
        console.print("Submissions that hit a time or memory limit, or crashed: "
                      + ", ".join(f"{verdict} {n}" for verdict, n in limits.items()), highlight=False)
    elif summary.count:
        console.print("No submission hit a time or memory limit or crashed.")
    if verdicts.get(Verdict.IMPORT_ERROR):
        console.print(f"Submissions with a file that could not be imported: {verdicts[Verdict.IMPORT_ERROR]}",
                      highlight=False)
    if summary.problems:
        console.print(Text(f"{len(summary.problems)} could not be graded (zero points):", style="yellow"))
        for name, problem in summary.problems[:10]:
            console.print(Text.assemble("  ", (name, "bold"), ": ", problem))
        if len(summary.problems) > 10:
            console.print(f"  … and {len(summary.problems) - 10} more (see {INDEX_FILE})")
    if summary.grader_failed:
        console.print(Text(f"The grader failed on {len(summary.grader_failed)}: "
                           f"{', '.join(summary.grader_failed[:10])} — grade again with --resume", style="bold red"))
        for error in outcome.worker_errors[:2]:
            console.print(Text(error, style="dim"))
    if outcome.hidden:
        console.print(f"Left out hidden entries: {', '.join(outcome.hidden)}", style="dim", highlight=False)
    if outcome.not_listed:
        console.print(f"Left out {outcome.not_listed} result(s) in {outcome.out} whose submission is no longer "
                      "in the submissions folder", style="dim", highlight=False)
    console.print(Text.assemble("Class summary: ", (str(outcome.out / INDEX_FILE), "bold"), "\nGradebook: ",
                                (str(outcome.out / GRADEBOOK_FILE), "bold"),
                                f"\nPer submission: {outcome.out}/<submission>/{REPORT_FILE} and {RESULTS_FILE}"))
    if outcome.interrupted:
        console.print("Run the same command with --resume to grade the rest.", style="yellow")


if __name__ == "__main__":
    sys.exit(worker_main())
