"""How well the grader's feedback teaches: the accuracy corpus graded by the real engine.

    python benchmarks/feedback.py [--verbose] [--seed N]

Grades every submission in tests/accuracy/ (one pytest session, one zygote,
as `grade batch` does) and prints:

    correct accepted k/n   correct submissions given full marks on their exercise
    wrong refused k/m      wrong submissions that lost at least one point
    named k/m              wrong submissions whose feedback (messages and hints
                           of the failed tests) holds the words they declare
    internals k            submissions whose feedback shows the grader's machinery

--verbose adds one line per file. tests/test_accuracy.py runs the same
measurement and keeps the figures from sliding back.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for folder in (REPO, REPO / "tests"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from accuracy_corpus import Case, corpus, internals_in, names_the_mistake  # noqa: E402


@dataclass(frozen=True)
class Graded:
    case: Case
    full_marks: bool
    feedback: str  # messages and hints of the exercise's failed tests

    @property
    def right(self) -> bool:
        """Accepted when correct, refused when wrong."""
        return self.full_marks == self.case.correct

    @property
    def named(self) -> bool:
        return not self.case.correct and not self.full_marks and names_the_mistake(self.case, self.feedback)

    @property
    def internals(self) -> list[str]:
        return internals_in(self.feedback)


@dataclass(frozen=True)
class Figures:
    correct: int
    accepted: int
    wrong: int
    refused: int
    named: int
    internals: int

    def lines(self) -> list[str]:
        return [f"correct accepted {self.accepted}/{self.correct}",
                f"wrong refused    {self.refused}/{self.wrong}",
                f"named            {self.named}/{self.wrong}",
                f"internals        {self.internals}"]


def grade_corpus(cases: list[Case], *, zygote=None, seed: int | None = None) -> list[Graded]:
    """Grade every case on its own exercise through grader.engine.runner.grade."""
    from grader.course.catalogue import load_course
    from grader.course.submissions import Submission
    from grader.engine import runner
    from grader.options import GradeOptions

    course = load_course(REPO)
    graded = {}
    # One session per exercise, holding only that exercise's submissions: a
    # submission graded on exercises it does not answer costs time for nothing.
    for spec in course.exercises:
        mine = [case for case in cases if case.exercise == spec.id]
        if not mine:
            continue
        submissions = [Submission(name=case.name, files={spec.filename: case.path}) for case in mine]
        run = runner.grade(course, submissions, [spec], zygote=zygote, options=GradeOptions(seed=seed))
        results = {result.submission: result for result in run.results}
        for case in mine:
            exercise = results[case.name].exercises[0]
            failed = [t for t in exercise.tests if not t.passed]
            feedback = "\n".join(part for t in failed for part in (t.message, t.hint or "") if part)
            graded[case.name] = Graded(case=case, full_marks=exercise.full_marks, feedback=feedback)
    return [graded[case.name] for case in cases]


def figures(graded: list[Graded]) -> Figures:
    correct = [g for g in graded if g.case.correct]
    wrong = [g for g in graded if not g.case.correct]
    return Figures(correct=len(correct), accepted=sum(g.full_marks for g in correct),
                   wrong=len(wrong), refused=sum(not g.full_marks for g in wrong),
                   named=sum(g.named for g in wrong), internals=sum(bool(g.internals) for g in graded))


def table(graded: list[Graded]) -> list[str]:
    rows = []
    for g in graded:
        if g.case.correct:
            status = "accepted" if g.full_marks else "REFUSED"
        else:
            status = "ACCEPTED" if g.full_marks else ("named" if g.named else "unnamed")
        leak = f"  internals: {', '.join(g.internals)}" if g.internals else ""
        first = g.feedback.strip().splitlines()[0][:90] if g.feedback.strip() else ""
        rows.append(f"{status:9} {g.case.name:48} {first}{leak}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", "-v", action="store_true", help="one line per corpus file")
    parser.add_argument("--seed", type=int, default=None, help="grade at this seed instead of the course's")
    args = parser.parse_args(argv)
    from grader.sandbox.client import Zygote  # started before torch loads here

    zygote = Zygote.start()
    try:
        graded = grade_corpus(corpus(), zygote=zygote, seed=args.seed)
    finally:
        zygote.close()
    if args.verbose:
        print("\n".join(table(graded)))
        print()
    print("\n".join(figures(graded).lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
