"""The accuracy corpus: tests/accuracy/exerciseN/*.py, submissions written the
way students write them, each declaring what its feedback must be
(tests/accuracy/README.md gives the format). Pure: parsing and judging only."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ACCURACY = Path(__file__).resolve().parent / "accuracy"

# What no student may ever read: the grader's machinery (issue 15, item 6).
INTERNALS = ("/tmp/torchgrade", "state_dict", "load_state_dict", "Missing key", "internal grader error",
             "suites/", "Scalars are not close", "grader/", "fixture")


@dataclass(frozen=True)
class Case:
    path: Path
    exercise: str  # "exercise2", from the folder
    correct: bool
    # Every group must match; a group matches when any of its alternatives
    # occurs in the feedback, case-insensitively.
    words: tuple[tuple[str, ...], ...]

    @property
    def blind(self) -> bool:
        """Written blind: by someone shown only the stubs and the students' README."""
        return self.path.parent.parent.name.startswith("blind")

    @property
    def name(self) -> str:
        return f"{self.path.parent.parent.name + '/' if self.blind else ''}{self.exercise}/{self.path.stem}"


class CorpusError(ValueError):
    """A corpus file whose declarations are missing or malformed."""


def parse(path: Path) -> Case:
    text = path.read_text()
    expect = re.findall(r"^# expect: (correct|wrong)\s*$", text, flags=re.MULTILINE)
    if len(expect) != 1:
        raise CorpusError(f"{path}: needs exactly one '# expect: correct' or '# expect: wrong' line")
    groups = tuple(tuple(a.strip() for a in line.split(" | ") if a.strip())
                   for line in re.findall(r"^# expect-words: (.+)$", text, flags=re.MULTILINE))
    correct = expect[0] == "correct"
    if correct and groups:
        raise CorpusError(f"{path}: a correct submission declares no feedback words")
    if not correct and not groups:
        raise CorpusError(f"{path}: a wrong submission must declare '# expect-words: ...'")
    return Case(path=path, exercise=path.parent.name, correct=correct, words=groups)


def corpus(root: Path = ACCURACY) -> list[Case]:
    """Every case: the corpus grown with the grader in view, then the blind ones (``blind/``, ``blind2/``: each written by someone else, blind)."""
    return [parse(path) for path in [*sorted(root.glob("exercise*/*.py")), *sorted(root.glob("blind*/exercise*/*.py"))]]


def names_the_mistake(case: Case, feedback: str) -> bool:
    """True when every declared word group has an alternative in the feedback."""
    folded = feedback.casefold()
    return all(any(alternative.casefold() in folded for alternative in group) for group in case.words)


def internals_in(feedback: str) -> list[str]:
    return [marker for marker in INTERNALS if marker in feedback]
