"""How well the grader's feedback teaches: the accuracy corpus graded by the real engine.

    python benchmarks/feedback.py [--verbose] [--seed N]

Grades every submission in tests/accuracy/ (one pytest session, one zygote,
as `grade batch` does) and prints:

    correct accepted k/n   correct submissions given full marks on their exercise
    wrong refused k/m      wrong submissions that lost at least one point
    named k/m              wrong submissions whose feedback (messages and hints
                           of the failed tests) holds the words they declare
    hinted k/m             wrong submissions whose `hint:` lines alone hold them
    opaque k               refused wrong submissions with neither a message that
                           names the mistake nor any hint at all
    internals k            submissions whose feedback shows the grader's machinery

Each figure is printed for the whole corpus and for its blind part (written by
someone shown only the stubs and the README).

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
    messages: str  # the messages of the exercise's failed tests
    hints: str  # their hints

    @property
    def feedback(self) -> str:
        return "\n".join(part for part in (self.messages, self.hints) if part)

    @property
    def right(self) -> bool:
        """Accepted when correct, refused when wrong."""
        return self.full_marks == self.case.correct

    @property
    def named(self) -> bool:
        return not self.case.correct and not self.full_marks and names_the_mistake(self.case, self.feedback)

    @property
    def hinted(self) -> bool:
        return not self.case.correct and not self.full_marks and names_the_mistake(self.case, self.hints)

    @property
    def opaque(self) -> bool:
        """Refused with no words for the mistake: no message names it and no hint is given."""
        return (not self.case.correct and not self.full_marks and not self.hints.strip()
                and not names_the_mistake(self.case, self.messages))

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
    hinted: int
    opaque: int
    internals: int

    def rows(self) -> list[tuple[str, str]]:
        return [("correct accepted", f"{self.accepted}/{self.correct}"),
                ("wrong refused", f"{self.refused}/{self.wrong}"),
                ("named", f"{self.named}/{self.wrong}"),
                ("hinted", f"{self.hinted}/{self.wrong}"),
                ("opaque", f"{self.opaque}"),
                ("internals", f"{self.internals}")]

    def lines(self) -> list[str]:
        return [f"{label:16} {value}" for label, value in self.rows()]


def side_by_side(whole: Figures, blind: Figures) -> list[str]:
    """The figures of the whole corpus and of its blind part, one line each."""
    return [f"{'':16} {'whole':>8} {'blind':>8}",
            *(f"{label:16} {w:>8} {b:>8}" for (label, w), (_, b) in zip(whole.rows(), blind.rows(), strict=True))]


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
            messages = "\n".join(t.message for t in failed if t.message)
            hints = "\n".join(t.hint for t in failed if t.hint)
            graded[case.name] = Graded(case=case, full_marks=exercise.full_marks, messages=messages, hints=hints)
    return [graded[case.name] for case in cases]


def figures(graded: list[Graded]) -> Figures:
    correct = [g for g in graded if g.case.correct]
    wrong = [g for g in graded if not g.case.correct]
    return Figures(correct=len(correct), accepted=sum(g.full_marks for g in correct),
                   wrong=len(wrong), refused=sum(not g.full_marks for g in wrong),
                   named=sum(g.named for g in wrong), hinted=sum(g.hinted for g in wrong),
                   opaque=sum(g.opaque for g in wrong), internals=sum(bool(g.internals) for g in graded))


def table(graded: list[Graded]) -> list[str]:
    rows = []
    for g in graded:
        if g.case.correct:
            status = "accepted" if g.full_marks else "REFUSED"
        else:
            status = ("ACCEPTED" if g.full_marks else "hinted" if g.hinted else "named" if g.named
                      else "OPAQUE" if g.opaque else "unnamed")
        leak = f"  internals: {', '.join(g.internals)}" if g.internals else ""
        shown = g.hints.strip() or g.feedback.strip()
        first = shown.splitlines()[0][:90] if shown else ""
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
    print("\n".join(side_by_side(figures(graded), figures([g for g in graded if g.case.blind]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
