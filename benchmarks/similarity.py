"""How well `grade similar` finds planted copies and spares honest look-alikes.

    python benchmarks/similarity.py [--threshold 0.5] [--cache FILE] [--verbose]

The class: every answer of the accuracy corpus (tests/accuracy/exerciseN/ and
tests/accuracy/blind/exerciseN/, the latter written blind from the stubs),
each an independent student on its own exercise. Into it are planted:

- copies of an answer, each disguised one way: identifiers renamed; functions
  reordered; comments and blank lines changed; a helper function extracted;
  a copied wrong answer with a cosmetic change (renamed and re-commented);
- honest look-alikes: two students each writing the reference's short answer
  in their own names (the same correct code, found independently).

The whole class is graded once through the engine (grader.engine.runner.grade,
one session per exercise, as benchmarks/feedback.py does) for the answer
marks; --cache keeps those marks between runs. Then the pairs are ranked code
only, code + behaviour, and by copydetect 0.5.0 (its own fingerprints, the same
stub and reference as boilerplate, a pair scored by the larger of its two
similarities), and for each ranking it prints: recall of the planted pairs
among the top K (K = the number of planted pairs) and at the threshold, and
the share of honest pairs (every pair not planted) and of the honest
look-alikes at or above the threshold.
"""
from __future__ import annotations

import argparse
import ast
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from grader.similarity import code  # noqa: E402
from grader.similarity.ranking import Evidence, rank_exercise  # noqa: E402

ACCURACY = REPO / "tests" / "accuracy"


@dataclass(frozen=True)
class Student:
    name: str
    exercise: str
    source: str
    correct: bool


# -- disguises: what a copier changes for free -------------------------------------
def _local_names(tree: ast.Module, keep: set[str]) -> list[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.col_offset > 0:
            names.add(node.name)
    return sorted(names - keep - {"self"})


def rename(source: str, api: set[str], tag: str) -> str:
    tree = ast.parse(source)
    new = {name: f"{name[:1]}{tag}{n}" for n, name in enumerate(_local_names(tree, api))}

    class Renamer(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.Name:
            node.id = new.get(node.id, node.id)
            return node

        def visit_arg(self, node: ast.arg) -> ast.arg:
            node.arg = new.get(node.arg, node.arg)
            return node

        def visit_keyword(self, node: ast.keyword) -> ast.keyword:
            self.generic_visit(node)
            return node

    renamed = ast.unparse(Renamer().visit(tree))
    return renamed


def reorder(source: str, _api: set[str], _tag: str) -> str:  # the signature every disguise shares
    tree = ast.parse(source)
    head = [n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    # Definitions only reordered among themselves: a class used by a later function stays callable.
    tree.body = head + list(reversed(defs))
    return ast.unparse(tree)


def recomment(source: str, _api: set[str], tag: str) -> str:  # the signature every disguise shares
    lines = [line.split("  #")[0].rstrip() if "  #" in line else line for line in source.splitlines()
             if not line.strip().startswith("#")]
    out = []
    for line in lines:
        out.append(line)
        if line.strip().startswith("def "):
            out.append(" " * (len(line) - len(line.lstrip()) + 4) + f"# step {tag}: work it out")
        if not line.strip():
            out.append("")
    return "# my solution\n\n" + "\n".join(out) + "\n"


def extract_helper(source: str, api: set[str], tag: str) -> str:
    tree = ast.parse(source)
    for index, node in enumerate(tree.body):
        if isinstance(node, ast.FunctionDef) and isinstance(node.body[-1], ast.Return) and node.body[-1].value:
            params = [a.arg for a in node.args.args]
            helper = ast.parse(f"def _helper_{tag}({', '.join(params)}):\n    return 0").body[0]
            helper.body[0].value = node.body[-1].value  # type: ignore[attr-defined]
            node.body[-1] = ast.parse(f"return _helper_{tag}({', '.join(params)})").body[0]
            tree.body.insert(index, helper)
            return ast.unparse(tree)
    return recomment(source, api, tag)


def cosmetic_mistake(source: str, api: set[str], tag: str) -> str:
    return recomment(rename(source, api, tag), api, tag)


DISGUISES: dict[str, Callable[[str, set[str], str], str]] = {
    "renamed": rename, "reordered": reorder, "recommented": recomment, "helper": extract_helper,
    "mistake": cosmetic_mistake}


# -- the class ------------------------------------------------------------------------
def independent_students() -> list[Student]:
    found = []
    for path in sorted(ACCURACY.glob("**/exercise*/*.py")):
        exercise = path.parent.name
        hand = "blind" if "blind" in path.parts else "corpus"
        text = path.read_text(encoding="utf-8")
        found.append(Student(f"{hand}-{exercise}-{path.stem}", exercise, text, "# expect: correct" in text))
    return found


def api_names(exercise: str) -> set[str]:
    stub = ast.parse((REPO / "exercises" / f"{exercise}.py").read_text(encoding="utf-8"))
    return {n.name for n in stub.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))} | {
        t.id for n in stub.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}


def plant(students: list[Student], rng: random.Random) -> tuple[list[Student], set[tuple[str, str]],
                                                                  set[tuple[str, str]]]:
    """The class with copies and honest look-alikes added; the planted pairs; the look-alike pairs."""
    planted: set[tuple[str, str]] = set()
    alike: set[tuple[str, str]] = set()
    added = []
    by_exercise: dict[str, list[Student]] = {}
    for s in students:
        by_exercise.setdefault(s.exercise, []).append(s)
    for exercise, mine in sorted(by_exercise.items()):
        api = api_names(exercise)
        wrong = [s for s in mine if not s.correct]
        right = [s for s in mine if s.correct]
        for n, kind in enumerate(DISGUISES):
            pool = wrong if kind == "mistake" or not right or n % 2 == 0 else right
            original = rng.choice(pool)
            try:
                disguised = DISGUISES[kind](original.source, api, f"{n}")
                compile(disguised, "copy", "exec")
            except SyntaxError:
                continue
            copy = Student(f"copy-{kind}-{original.name}", exercise, disguised, original.correct)
            added.append(copy)
            planted.add(tuple(sorted((original.name, copy.name))))  # type: ignore[arg-type]
        solution = (REPO / "solutions" / f"{exercise}.py").read_text(encoding="utf-8")
        if len(solution.splitlines()) <= 40:  # a short answer many would write the same way
            one = Student(f"alike1-{exercise}", exercise, rename(solution, api, "a"), True)
            two = Student(f"alike2-{exercise}", exercise, recomment(rename(solution, api, "q"), api, "z"), True)
            added += [one, two]
            alike.add((one.name, two.name))
    return students + added, planted, alike


# -- behaviour: one grading of the class --------------------------------------------------
def answer_marks(students: list[Student], cache: Path | None) -> dict[str, tuple[str, ...]]:
    if cache is not None and cache.is_file():
        stored = json.loads(cache.read_text())
        if set(stored) >= {s.name for s in students}:
            return {k: tuple(v) for k, v in stored.items()}
    from grader.sandbox.client import Zygote  # started before torch loads here

    zygote = Zygote.start()
    try:
        from grader.course.catalogue import load_course
        from grader.course.submissions import Submission
        from grader.engine import runner

        course = load_course(REPO)
        marks: dict[str, tuple[str, ...]] = {}
        with tempfile.TemporaryDirectory() as scratch:
            for spec in course.exercises:
                mine = [s for s in students if s.exercise == spec.id]
                subs = []
                for n, s in enumerate(mine):
                    path = Path(scratch) / spec.id / str(n) / spec.filename
                    path.parent.mkdir(parents=True)
                    path.write_text(s.source)
                    subs.append(Submission(name=s.name, files={spec.filename: path}))
                for result in runner.grade(course, subs, [spec], zygote=zygote).results:
                    marks[result.submission] = result.exercises[0].answers
    finally:
        zygote.close()
    if cache is not None:
        cache.write_text(json.dumps(marks))
    return marks


# -- rankings ---------------------------------------------------------------------------
Ranked = list[tuple[float, str, str]]  # (score, a, b), a < b


def ours(students: list[Student], marks: dict[str, tuple[str, ...]], *, behaviour: bool) -> Ranked:
    ranked: Ranked = []
    for exercise in sorted({s.exercise for s in students}):
        texts = [p.read_text(encoding="utf-8") for p in (REPO / "exercises" / f"{exercise}.py",
                                                          REPO / "solutions" / f"{exercise}.py")]
        boilerplate = code.boilerplate_of(texts)
        evidence = [Evidence(s.name, code.fingerprint_set(s.source, boilerplate), marks.get(s.name, ()))
                    for s in students if s.exercise == exercise]
        ranked += [(p.score, p.a, p.b) for p in rank_exercise(exercise, evidence, use_behaviour=behaviour)]
    return sorted(ranked, reverse=True)


def copydetect_ranking(students: list[Student]) -> Ranked:
    """copydetect's own fingerprints at its defaults (noise threshold 25, guarantee 30, so k = 25 characters
    of filtered code and a window of 6); the stub's and the reference's hashes removed after the fact (its
    own ``boilerplate=`` fails under numpy 2: np.intersect1d with assume_unique on repeated hashes)."""
    import copydetect
    from copydetect.utils import get_token_coverage

    k, window = 25, 30 - 25 + 1
    ranked: Ranked = []
    with tempfile.TemporaryDirectory() as scratch:
        for exercise in sorted({s.exercise for s in students}):
            boilerplate = set().union(*(copydetect.CodeFingerprint(str(path), k, 1, filter=True).hashes for path in (
                REPO / "exercises" / f"{exercise}.py", REPO / "solutions" / f"{exercise}.py")))
            mine = [s for s in students if s.exercise == exercise]
            prints = []
            for n, s in enumerate(mine):
                path = Path(scratch) / f"{exercise}-{n}.py"
                path.write_text(s.source)
                fp = copydetect.CodeFingerprint(str(path), k, window, filter=True)
                fp.hashes = fp.hashes - boilerplate
                fp.hash_idx = {h: fp.hash_idx[h] for h in fp.hashes}
                fp.token_coverage = (get_token_coverage(fp.hash_idx, k, len(fp.filtered_code))
                                     if fp.hash_idx else 0)
                prints.append(fp)
            for i in range(len(mine)):
                for j in range(i + 1, len(mine)):
                    _, (sim1, sim2), _ = copydetect.compare_files(prints[i], prints[j])
                    a, b = sorted((mine[i].name, mine[j].name))
                    ranked.append((max(sim1, sim2), a, b))
    return sorted(ranked, reverse=True)


@dataclass(frozen=True)
class Figures:
    recall_top_k: float
    recall_at_threshold: float
    honest_flagged: float
    alike_flagged: float
    seconds: float

    def line(self, label: str) -> str:
        return (f"{label:22} recall@K {self.recall_top_k:6.1%}   recall@thr {self.recall_at_threshold:6.1%}   "
                f"honest flagged {self.honest_flagged:6.2%}   look-alikes flagged {self.alike_flagged:6.1%}   "
                f"({self.seconds:.2f} s)")


def figures(ranked: Ranked, planted: set[tuple[str, str]], alike: set[tuple[str, str]], honest_total: int,
            threshold: float, seconds: float) -> Figures:
    top = {(a, b) for _, a, b in ranked[:len(planted)]}
    flagged = {(a, b) for score, a, b in ranked if score >= threshold}
    return Figures(recall_top_k=len(top & planted) / len(planted),
                   recall_at_threshold=len(flagged & planted) / len(planted),
                   honest_flagged=len(flagged - planted) / honest_total,
                   alike_flagged=len(flagged & alike) / max(len(alike), 1), seconds=seconds)


def pairs_in(students: Sequence[Student]) -> int:
    counts: dict[str, int] = {}
    for s in students:
        counts[s.exercise] = counts.get(s.exercise, 0) + 1
    return sum(n * (n - 1) // 2 for n in counts.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--cache", type=Path, help="keep the class's answer marks here between runs")
    parser.add_argument("--verbose", "-v", action="store_true", help="the planted pairs each ranking missed")
    args = parser.parse_args(argv)
    students, planted, alike = plant(independent_students(), random.Random(args.seed))
    honest_total = pairs_in(students) - len(planted)
    print(f"class: {len(students)} submissions ({len(students) - 2 * len(alike) - len(planted)} independent), "
          f"{len(planted)} planted pairs, {len(alike)} honest look-alike pairs, {honest_total} honest pairs")
    started = time.monotonic()
    marks = answer_marks(students, args.cache)
    print(f"answer marks: {sum(bool(m) for m in marks.values())} submissions ({time.monotonic() - started:.0f} s)")
    rankings = {}
    for label, rank in (("code only", lambda: ours(students, marks, behaviour=False)),
                        ("code + behaviour", lambda: ours(students, marks, behaviour=True)),
                        ("copydetect 0.5.0", lambda: copydetect_ranking(students))):
        started = time.monotonic()
        rankings[label] = rank()
        result = figures(rankings[label], planted, alike, honest_total, args.threshold,
                         time.monotonic() - started)
        print(result.line(label))
    if args.verbose:
        for label, ranked in rankings.items():
            position = {(a, b): n for n, (_, a, b) in enumerate(ranked)}
            missed = sorted(planted - {(a, b) for _, a, b in ranked[:len(planted)]})
            print(f"\n{label}: planted pairs outside the top {len(planted)}")
            for pair in missed:
                print(f"  {position.get(pair, 'unranked')!s:>8}  {pair[0]}  {pair[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
