"""Scoring: small pure functions, the only place points are computed."""
from __future__ import annotations

from collections.abc import Iterable, Mapping


def test_points(passed: bool, max_points: float) -> float:
    """A test earns all its points or none; partial credit comes from several tests."""
    return float(max_points) if passed else 0.0


def exercise_score(outcomes: Iterable[tuple[bool, float]]) -> float:
    return total(test_points(passed, points) for passed, points in outcomes)


def exercise_max_score(max_points: Iterable[float]) -> float:
    return total(max_points)


def total(points: Iterable[float]) -> float:
    # Points are small multiples of 0.5; round away float noise from sums.
    return round(sum(points), 6)


def effective_points(graded: Mapping[str, float], overrides: Mapping[str, float]) -> dict[str, float]:
    """Each exercise's points as they count: set by hand where an override is in force, else as graded."""
    return {exercise_id: overrides.get(exercise_id, points) for exercise_id, points in graded.items()}


def full_marks(score: float, max_score: float) -> bool:
    """Every point there was to earn (an exercise worth nothing has no full marks to earn)."""
    return max_score > 0 and score >= max_score


def percent(score: float, max_score: float) -> float:
    return 0.0 if max_score <= 0 else round(100.0 * score / max_score, 1)
