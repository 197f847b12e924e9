"""Speed and memory of similarity at scale: N submissions x 10 exercises.

    python benchmarks/bench_similar.py [--sizes 250 500 1000]

Builds a synthetic class from the accuracy corpus (each submission one of the
corpus's answers with its names renamed at random, so no two are the same
text) and synthetic answer marks (a few shared wrong answers, mostly the
reference's), then times what `grade similar` does after the batch:
fingerprint every source (stub and reference as boilerplate) and rank every
exercise through the inverted index. Prints CPU seconds (the machine is shared) and the peak resident
memory of the process so far (ru_maxrss) after each size: the work grows with the rare items shared,
never with every pair's token lists.
"""
from __future__ import annotations

import argparse
import random
import re
import sys
import time
import resource
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from grader.similarity import code  # noqa: E402
from grader.similarity.ranking import Evidence, rank_exercise  # noqa: E402

EXERCISES = [f"exercise{n}" for n in range(1, 11)]


def corpus() -> dict[str, list[str]]:
    return {e: [p.read_text(encoding="utf-8") for p in sorted((REPO / "tests/accuracy").glob(f"**/{e}/*.py"))]
            for e in EXERCISES}


def disguised(text: str, rng: random.Random) -> str:
    """Rename a few local-looking names so each submission's text is its own."""
    names = sorted(set(re.findall(r"\b([a-z_][a-z0-9_]{2,})\s*=", text)))
    for name in rng.sample(names, min(len(names), 3)):
        text = re.sub(rf"\b{name}\b", f"{name}_{rng.randrange(10**6)}", text)
    return text


def run(size: int, texts: dict[str, list[str]], rng: random.Random) -> tuple[float, float, int]:
    started = time.process_time()
    pairs = 0
    for exercise in EXERCISES:
        course = [(REPO / d / f"{exercise}.py").read_text(encoding="utf-8") for d in ("exercises", "solutions")]
        boilerplate = code.boilerplate_of(course)
        wrong_answers = [f"w:{n:010x}" for n in range(40)]
        evidence = []
        for n in range(size):
            source = disguised(rng.choice(texts[exercise]), rng)
            marks = tuple(rng.choice(wrong_answers) if rng.random() < 0.2 else f"r:{c:010x}" for c in range(12))
            evidence.append(Evidence(f"s{n:05}", code.fingerprint_set(source, boilerplate), marks))
        pairs += len(rank_exercise(exercise, evidence, minimum=0.1))
        del evidence
    elapsed = time.process_time() - started
    return elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 500, 1000])
    args = parser.parse_args(argv)
    texts = corpus()
    for size in args.sizes:
        elapsed, peak_mb, pairs = run(size, texts, random.Random(size))
        print(f"{size:5} submissions x 10 exercises: {elapsed:6.1f} s, peak {peak_mb:6.1f} MB, {pairs} pairs listed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
