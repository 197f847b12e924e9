"""Where a loss curve's marks go in its small inline SVG (``templates/_curves.html.j2``).

Worked out here rather than by template macros: a report draws a few curves of tens of
epochs each, and a macro call per point was a third of a report's rendering. Every
number is what the template's own arithmetic gave (``round(…, 1)``, written by ``str``)."""
from __future__ import annotations

from dataclasses import dataclass

from grader.results import LossCurve

WIDTH, HEIGHT, PAD = 320, 120, 24


@dataclass(frozen=True)
class Mark:
    """A dot on an epoch where the student's loss differs."""

    epoch: int
    cx: float
    cy: float


@dataclass(frozen=True)
class CurveFigure:
    epochs: int  # the x axis runs from epoch 1 to this one
    student_points: str  # a polyline's ``points``: "x,y x,y "
    reference_points: str
    marks: tuple[Mark, ...]
    differing: int  # how many epochs differ
    parted_x: float | None  # where the curves part, and where its words are anchored
    anchor: str


def curve_figure(curve: LossCurve) -> CurveFigure:
    """The figure of ``curve``: the student's line (NaNs left out), the reference's, the dots."""
    finite = [v for v in (*curve.student, *curve.reference) if -1e300 <= v <= 1e300]  # never NaN
    low = min(finite) if finite else 0
    high = max(finite) if finite else 1
    span = (high - low) if high > low else 1
    n = max([len(curve.differs), len(curve.student), 2])

    def x(k: float) -> float:
        return round(PAD + (WIDTH - 2 * PAD) * k / (n - 1), 1)

    def y(v: float) -> float:
        return round(HEIGHT - PAD - (HEIGHT - 2 * PAD) * ((v - low) / span), 1)

    def points(values: list[float]) -> str:
        return "".join(f"{x(k)},{y(v)} " for k, v in enumerate(values))

    student = curve.student
    marks = tuple(Mark(k + 1, x(k), y(student[k]) if student[k] == student[k] else HEIGHT - PAD)
                  for k, differs in enumerate(curve.differs) if differs and k < len(student))
    parted = curve.parted_at
    at = parted / (n - 1) if parted is not None else 0.5
    return CurveFigure(epochs=n, student_points=points([v for v in student if v == v]),
                       reference_points=points(list(curve.reference)), marks=marks,
                       differing=sum(1 for d in curve.differs if d), parted_x=x(parted) if parted is not None else None,
                       anchor="start" if at < 0.2 else "end" if at > 0.8 else "middle")
