"""The class summary's numbers, counted one submission at a time.

``ClassTally`` takes results one by one (``add``) and keeps counts, not
results: its size is the course's (exercises, tests, hints, distinct scores),
not the class's, so the class record can stream a class of any size through
it. ``summarize`` is the same for results in a list. Pure: no I/O, no torch.
"""
from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from grader import scoring
from grader.results import SandboxStatus, SubmissionResult, TestResult
from grader.status import Status
from grader.verdicts import Verdict

HISTOGRAM_BINS = 10
FREQUENT_HINTS = 10
PER_EXERCISE = 3  # the tests most often failed and the hints most often shown, per exercise
EACH_POINT_UP_TO = 12  # an exercise worth at most this many whole points gets a bar per point
# Hints a stub or a missing file earns: they say "write the function", not what the class got wrong.
NOT_ATTEMPTED = frozenset({Verdict.NOT_IMPLEMENTED, Verdict.NOT_SUBMITTED})


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
    distribution: tuple["Bin", ...] = ()  # its scores, counted (see score_distribution)
    most_failed: tuple["TestStats", ...] = ()  # its tests that failed most often (among submitters)
    hints: tuple["HintCount", ...] = ()  # its hints shown most often (not those of a stub)


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


def grader_failed(result: SubmissionResult) -> bool:
    """Whether this is the row of a submission the grader could not grade (not a score)."""
    return any(e.status is Status.GRADER_FAILED for e in result.exercises)


def _counts(values: Mapping[float, int] | Iterable[float]) -> Mapping[float, int]:
    return values if isinstance(values, Mapping) else Counter(values)


def _nth(counts: Mapping[float, int], index: int) -> float:
    """The value at ``index`` of the values in order, each repeated as often as counted."""
    for value in sorted(counts):
        index -= counts[value]
        if index < 0:
            return value
    raise IndexError(index)


def mean_median(values: Mapping[float, int] | Iterable[float]) -> tuple[float, float]:
    """The mean (to 2 decimals) and median of ``values``: the values themselves, or
    each value with how many times it occurs (a class's scores take few values)."""
    counts = _counts(values)
    size = sum(counts.values())
    if not size:
        return 0.0, 0.0
    mean = math.fsum(itertools.chain.from_iterable(itertools.repeat(v, n) for v, n in counts.items())) / size
    return round(mean, 2), float((_nth(counts, (size - 1) // 2) + _nth(counts, size // 2)) / 2)


def histogram(totals: Mapping[float, int] | Iterable[float], max_total: float,
              bins: int = HISTOGRAM_BINS) -> tuple[Bin, ...]:
    """Totals counted in ``bins`` equal ranges over [0, max_total]; the last
    range includes its top (full marks), the others do not."""
    counts = _counts(totals)
    if max_total <= 0:
        return (Bin(0.0, 0.0, sum(counts.values())),)
    width = max_total / bins
    tally = [0] * bins
    for total, times in counts.items():
        tally[min(max(int(total / width), 0), bins - 1)] += times
    return tuple(Bin(round(k * width, 6), round((k + 1) * width, 6), n) for k, n in enumerate(tally))


def score_distribution(scores: Mapping[float, int] | Iterable[float], max_points: float) -> tuple[Bin, ...]:
    """An exercise's scores counted: a bar per point value (``low == high``) where
    the exercise is worth few whole points and every score is whole, else a histogram."""
    counts = _counts(scores)
    whole = all(float(v).is_integer() for v in counts) and float(max_points).is_integer()
    if whole and 0 < max_points <= EACH_POINT_UP_TO:
        return tuple(Bin(float(k), float(k), counts.get(k, 0)) for k in range(int(max_points) + 1))
    return histogram(counts, max_points)


def counts_as_a_hint(test: TestResult) -> bool:
    """A hint the class summary counts: a failed test's, not a stub's nor a missing file's."""
    return bool(test.hint) and not test.passed and test.verdict not in NOT_ATTEMPTED


@dataclass
class _ExerciseTally:
    title: str
    max_points: float = 0.0
    scores: Counter[float] = field(default_factory=Counter)
    full_marks: int = 0
    submitted: int = 0


@dataclass
class _TestTally:
    title: str
    max_points: float
    passed: int = 0
    attempted: int = 0


class ClassTally:
    """The class's numbers so far; ``add`` each result once, then ``summary``.
    Rows the grader failed on are listed, not counted in the numbers."""

    def __init__(self) -> None:
        self.present: dict[str, None] = {}  # exercise ids any result holds, in the order met
        self.totals: Counter[float] = Counter()
        self.max_total = 0.0
        self.exercises: dict[str, _ExerciseTally] = {}
        self.tests: dict[tuple[str, str], _TestTally] = {}  # in the order met
        self.hints: Counter[tuple[str, str]] = Counter()
        self.verdicts: Counter[str] = Counter()
        self.problems: list[tuple[str, str]] = []
        self.grader_failed: list[str] = []
        self.walls: tuple[str, ...] | None = None  # every result had them (in the first one's order)
        self.missing: dict[str, None] = {}  # any result was graded without them
        self.seeds: set[int] = set()

    def add(self, result: SubmissionResult, overrides: Mapping[str, float] | None = None) -> None:
        """Count ``result``; ``overrides`` (exercise id -> points set by hand)
        replace its exercises' points, as in the gradebook. Tests' pass rates,
        hints and verdicts stay the grader's."""
        overrides = overrides or {}
        self.present.update(dict.fromkeys(e.exercise_id for e in result.exercises))
        self.seeds.add(result.seed)
        walls = result.sandbox.walls
        self.walls = walls if self.walls is None else tuple(w for w in self.walls if w in walls)
        self.missing.update(dict.fromkeys(result.sandbox.missing))
        if grader_failed(result):
            self.grader_failed.append(result.submission)
            return
        if not any(e.submitted for e in result.exercises):
            problem = next((e.reason for e in result.exercises if e.reason), None)
            if problem:
                self.problems.append((result.submission, problem))
        points = scoring.effective_points({e.exercise_id: e.score for e in result.exercises}, overrides)
        self.totals[result.counted_score(overrides)] += 1
        self.max_total = max(self.max_total, result.max_score)
        for exercise in result.exercises:
            tally = self.exercises.setdefault(exercise.exercise_id, _ExerciseTally(exercise.title))
            tally.max_points = max(tally.max_points, exercise.max_score)
            tally.scores[points[exercise.exercise_id]] += 1
            tally.full_marks += scoring.full_marks(points[exercise.exercise_id], exercise.max_score)
            tally.submitted += exercise.submitted
            if exercise.status is Status.GRADED:
                for test in exercise.tests:
                    counted = self.tests.setdefault((exercise.exercise_id, test.name),
                                                    _TestTally(test.title, test.max_points))
                    counted.passed += test.passed
                    counted.attempted += 1
        self.hints.update({(e.exercise_id, t.hint) for e in result.exercises for t in e.tests
                           if t.hint and counts_as_a_hint(t)})
        self.verdicts.update({t.verdict for e in result.exercises for t in e.tests if t.verdict})

    def columns(self, course_ids: Sequence[str]) -> list[str]:
        """The exercises to show: the course's, in its order, that any result
        holds (all of the course's while there is no result yet), then others."""
        if not self.present:
            return list(course_ids)
        return [i for i in course_ids if i in self.present] + sorted(set(self.present) - set(course_ids))

    def summary(self, course_ids: Sequence[str]) -> ClassSummary:
        columns = self.columns(course_ids)
        mean, median = mean_median(self.totals)
        return ClassSummary(
            count=sum(self.totals.values()), max_total=self.max_total, mean_total=mean, median_total=median,
            exercises=self._exercise_stats(columns, tests := self._pass_rates(columns)),
            histogram=histogram(self.totals, self.max_total), tests=tests, hints=self._frequent_hints(),
            verdicts=tuple(sorted(self.verdicts.items(), key=lambda item: (-item[1], item[0]))),
            problems=tuple(self.problems), grader_failed=tuple(self.grader_failed),
            sandbox=SandboxStatus(walls=self.walls or (), missing=tuple(self.missing)),
            seeds=tuple(sorted(self.seeds)))

    def _exercise_stats(self, columns: Sequence[str], tests: Sequence[TestStats]) -> tuple[ExerciseStats, ...]:
        hints = self._frequent_hints(limit=len(self.hints))
        stats = []
        for exercise_id in columns:
            tally = self.exercises.get(exercise_id)
            if tally is None:
                continue
            mean, median = mean_median(tally.scores)
            stats.append(ExerciseStats(exercise_id=exercise_id, title=tally.title, max_points=tally.max_points,
                                       mean=mean, median=median, full_marks=tally.full_marks,
                                       submitted=tally.submitted, count=sum(tally.scores.values()),
                                       distribution=score_distribution(tally.scores, tally.max_points),
                                       most_failed=tuple(t for t in tests if t.exercise_id == exercise_id
                                                         and t.passed < t.attempted)[:PER_EXERCISE],
                                       hints=tuple(h for h in hints if h.exercise_id == exercise_id)[:PER_EXERCISE]))
        return tuple(stats)

    def _pass_rates(self, columns: Sequence[str]) -> tuple[TestStats, ...]:
        """Every hidden test's pass rate among the submissions that handed in its
        exercise, most failed first (then in course and suite order)."""
        order = {exercise_id: n for n, exercise_id in enumerate(columns)}
        stats = [TestStats(exercise_id, name, t.title, t.max_points, t.passed, t.attempted)
                 for (exercise_id, name), t in self.tests.items()]
        position = {(s.exercise_id, s.name): n for n, s in enumerate(stats)}
        stats.sort(key=lambda s: (s.pass_rate, order.get(s.exercise_id, len(order)), position[(s.exercise_id, s.name)]))
        return tuple(stats)

    def _frequent_hints(self, limit: int = FREQUENT_HINTS) -> tuple[HintCount, ...]:
        """The hints shown most often, counting each submission once per hint."""
        ranked = sorted(self.hints.items(), key=lambda item: (-item[1], item[0]))
        return tuple(HintCount(exercise_id, hint, n) for (exercise_id, hint), n in ranked[:limit])


def summarize(results: Iterable[SubmissionResult], course_ids: Sequence[str]) -> ClassSummary:
    """The class's numbers; rows the grader failed on are listed, not counted in them."""
    tally = ClassTally()
    for result in results:
        tally.add(result)
    return tally.summary(course_ids)
