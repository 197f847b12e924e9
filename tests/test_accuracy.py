"""The feedback benchmark as a floor: the accuracy corpus (tests/accuracy/)
graded through the real engine must never do worse than FLOOR.

Raise FLOOR as diagnoses land (benchmarks/feedback.py prints today's figures);
never lower it to make a change pass."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from grader.course.catalogue import load_course

from accuracy_corpus import CorpusError, corpus, internals_in, names_the_mistake, parse

# Today's figures (benchmarks/feedback.py at the course seed, and the same at seeds 1 and 2): accepted of 116
# correct; refused, named and hinted (the `hint:` lines alone name the mistake) of 313 wrong; the most
# refusals with no words for the mistake at all (opaque) and the most submissions whose feedback may
# still show the grader's machinery (both at their target, 0).
FLOOR = {"accepted": 116, "refused": 313, "named": 303, "hinted": 299, "opaque_at_most": 0, "internals_at_most": 0}

REPO = Path(__file__).resolve().parent.parent


def _benchmark():
    spec = importlib.util.spec_from_file_location("feedback_benchmark", REPO / "benchmarks" / "feedback.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_corpus_is_big_enough_and_well_formed(course):
    cases = corpus()
    assert sum(c.correct for c in cases) >= 30
    assert sum(not c.correct for c in cases) >= 60
    assert {c.exercise for c in cases} == {spec.id for spec in load_course(REPO).exercises}  # every exercise


def test_words_groups_are_all_required_and_alternatives_any(tmp_path):
    path = tmp_path / "exercise1" / "wrong_x.py"
    path.parent.mkdir()
    path.write_text("# expect: wrong\n# expect-words: too large | too big\n# expect-words: averages\nx = 1\n")
    case = parse(path)
    assert case.words == (("too large", "too big"), ("averages",))
    assert names_the_mistake(case, "It is 3 times TOO BIG: the loss averages")
    assert not names_the_mistake(case, "It is 3 times too big")
    assert not names_the_mistake(case, "the loss averages")


def test_malformed_declarations_are_refused(tmp_path):
    (tmp_path / "exercise1").mkdir()
    for text in ("x = 1\n", "# expect: wrong\n", "# expect: correct\n# expect-words: a\n"):
        path = tmp_path / "exercise1" / "case.py"
        path.write_text(text)
        with pytest.raises(CorpusError):
            parse(path)


def test_internals_are_found():
    assert internals_in('File "/tmp/torchgrade-ab12/exercise1.py", line 3') == ["/tmp/torchgrade"]
    assert internals_in("your loss is 4 times too large") == []


@pytest.mark.slow  # grades the whole accuracy corpus: CI runs it (pytest -m slow)
def test_feedback_does_not_slide_back(zygote):
    benchmark = _benchmark()
    figures = benchmark.figures(benchmark.grade_corpus(corpus(), zygote=zygote))
    print("\n".join(figures.lines()))
    assert figures.accepted >= FLOOR["accepted"], figures
    assert figures.refused >= FLOOR["refused"], figures
    assert figures.named >= FLOOR["named"], figures
    assert figures.hinted >= FLOOR["hinted"], figures
    assert figures.opaque <= FLOOR["opaque_at_most"], figures
    assert figures.internals <= FLOOR["internals_at_most"], figures
