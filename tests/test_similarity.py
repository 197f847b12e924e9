"""Similarity across a class: code fingerprints survive what a copier changes
for free, what the class shares is no evidence, and the same wrong answers
weigh more than the same right ones."""
from __future__ import annotations

from pathlib import Path

from grader.similarity.code import boilerplate_of, fingerprint_set, fingerprints, normalised_units
from grader.similarity.ranking import Evidence, clusters, rank_exercise, rarity

ROOT = Path(__file__).resolve().parent.parent

ORIGINAL = '''
import torch


def train_step(model, data, target, lr):
    """One step of gradient descent."""
    prediction = model(data)
    loss = ((prediction - target) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter -= lr * parameter.grad
            parameter.grad.zero_()
    return loss.item()


def evaluate(model, data, target):
    with torch.no_grad():
        errors = (model(data) - target).abs()
        return errors.max().item(), errors.mean().item()
'''

# Renamed, reordered, comments and blank lines changed: the same code.
DISGUISED = '''
import torch

def evaluate(net, xs, ys):
    # how far off are we
    with torch.no_grad():
        e = (net(xs) - ys).abs()

        return e.max().item(), e.mean().item()
def train_step(net, xs, ys, step_size):
    out = net(xs)  # forward
    l = ((out - ys) ** 2).mean()
    l.backward()
    with torch.no_grad():
        for p in net.parameters():
            p -= step_size * p.grad
            p.grad.zero_()

    return l.item()
'''

# Written by another hand: a different approach to the same task.
OTHER = '''
import torch
import torch.nn.functional as F


def train_step(model, data, target, lr):
    optimiser = torch.optim.SGD(model.parameters(), lr=lr)
    optimiser.zero_grad()
    loss = F.mse_loss(model(data), target)
    loss.backward()
    optimiser.step()
    return float(loss)


def evaluate(model, data, target):
    model.eval()
    diff = torch.abs(model(data) - target)
    return diff.max().item(), diff.mean().item()
'''


def test_renaming_reordering_comments_and_blank_lines_change_no_fingerprint():
    assert fingerprint_set(DISGUISED) == fingerprint_set(ORIGINAL)
    assert len(fingerprint_set(ORIGINAL)) >= 6


def test_another_way_of_writing_it_shares_little():
    original, other = fingerprint_set(ORIGINAL), fingerprint_set(OTHER)
    assert len(original & other) <= len(original) // 3


def test_names_a_module_gives_and_attributes_stay_local_names_go():
    units = normalised_units("import torch\n\ndef f(x):\n    return torch.sum(x * 2)  # sum\n")
    assert [" ".join(t.text for t in unit) for unit in units] == [
        "import torch ;", "def V ( V ) : ; { return torch . sum ( V * N ) ; }"]


def test_fingerprints_say_where_they_are():
    lines = {line for fp in fingerprints(ORIGINAL) for line in range(fp.first_line, fp.last_line + 1)}
    assert 7 in lines and 16 not in lines  # code is cited; the blank line between the functions is not


def test_the_stub_and_the_reference_are_boilerplate():
    stub = (ROOT / "exercises/exercise1.py").read_text()
    solution = (ROOT / "solutions/exercise1.py").read_text()
    boilerplate = boilerplate_of([stub, solution])
    assert fingerprint_set(solution, boilerplate) == frozenset()
    assert fingerprint_set(stub, boilerplate) == frozenset()
    # A submission copying the reference's lines and adding its own keeps only its own.
    own = solution + "\n\ndef unusual_extra(values):\n    return sorted(values, key=abs)[::-1][:3]\n"
    kept = fingerprint_set(own, boilerplate)
    assert kept and kept <= fingerprint_set("def unusual_extra(values):\n    return sorted(values, key=abs)[::-1][:3]\n")


def test_rarity_falls_as_the_class_shares_a_passage():
    assert rarity(2, 200) == 1.0
    assert 0 < rarity(6, 200) < rarity(3, 200) < 1.0
    assert rarity(150, 200) == 0.0  # what most of the class writes is no evidence
    assert rarity(1, 200) == 0.0


def _class(shared_by: int, size: int = 60) -> list[Evidence]:
    """``shared_by`` submissions hold fingerprints 1..5; each also holds ten of its own."""
    return [Evidence(f"s{n:02}", frozenset(range(1000 * (n + 1), 1000 * (n + 1) + 10))
                     | (frozenset(range(1, 6)) if n < shared_by else frozenset()))
            for n in range(size)]


def test_a_passage_two_submissions_share_alone_outranks_one_many_share():
    rare = rank_exercise("e", _class(2))
    common = rank_exercise("e", _class(6))
    assert rare[0].a == "s00" and rare[0].b == "s01" and rare[0].unique_fingerprints == 5
    assert common[0].code_score < rare[0].code_score


def _marks(kinds: str, tag: str) -> tuple[str, ...]:
    return tuple(f"{kind}:{tag}{n}" for n, kind in enumerate(kinds))


def test_the_same_wrong_answers_rank_above_the_same_right_ones():
    right = _marks("rrrrrr", "ref")
    wrong_together = _marks("wwwwrr", "odd")
    evidence = ([Evidence("copy_a", marks=wrong_together), Evidence("copy_b", marks=wrong_together)]
                + [Evidence(f"honest{n}", marks=right) for n in range(2)]
                + [Evidence(f"rest{n}", marks=_marks("wwwwww", f"own{n}-")) for n in range(20)])
    pairs = rank_exercise("e", evidence)
    assert (pairs[0].a, pairs[0].b) == ("copy_a", "copy_b")
    assert pairs[0].same_wrong == 4 and "same wrong answer on 4 of 6 calls" in pairs[0].behaviour_words()
    honest = next(p for p in pairs if p.a == "honest0")
    assert honest.behaviour_score < pairs[0].behaviour_score / 5


def test_a_declared_mistake_counts_for_little():
    mistake, wrong = _marks("mmmm", "known"), _marks("wwww", "odd")
    evidence = ([Evidence("m1", marks=mistake), Evidence("m2", marks=mistake),
                 Evidence("w1", marks=wrong), Evidence("w2", marks=wrong)]
                + [Evidence(f"rest{n}", marks=_marks("wwww", f"own{n}-")) for n in range(20)])
    scores = {(p.a, p.b): p.behaviour_score for p in rank_exercise("e", evidence)}
    assert scores[("m1", "m2")] < scores[("w1", "w2")] / 4


def test_clusters_join_pairs_above_the_threshold():
    wrong = _marks("wwww", "odd")
    evidence = [Evidence(n, marks=wrong) for n in ("a", "b", "c")] + [
        Evidence(f"rest{n}", marks=_marks("wwww", f"own{n}-")) for n in range(20)]
    found = clusters(rank_exercise("e", evidence), threshold=0.5)
    assert [c.members for c in found] == [("a", "b", "c")]
    assert clusters(rank_exercise("e", evidence), threshold=1.01) == []


# -- grade similar, end to end on a tiny OUT ----------------------------------------
ODD_LOSS = ("import torch\n\n\ndef model(x, w, b):\n    return w * x + b\n\n\n"
            "def loss_fn(y_hat, y):\n    total = ((y_hat - y) ** 2).sum()\n    count = y.numel() - 1\n"
            "    return total / count\n")


def _tiny_class(root: Path) -> tuple[Path, Path]:
    """Five students on exercise1: two share an unusual wrong loss (one of them renamed
    and zipped), two hand in the reference's code, one its own."""
    import zipfile

    from grader.record.database import ClassRecord
    from grader.results import ExerciseResult, SubmissionResult, TestResult

    folder, out = root / "submissions", root / "out"
    folder.mkdir()
    solution = (ROOT / "solutions/exercise1.py").read_text()
    sources = {"ana": ODD_LOSS, "ben": ODD_LOSS.replace("total", "s").replace("count", "n") + "# done\n",
               "cleo": solution, "dan": solution,
               "eve": "import torch\n\ndef model(x, w, b):\n    return torch.add(torch.mul(w, x), b)\n\n"
                      "def loss_fn(y_hat, y):\n    return torch.nn.functional.mse_loss(y_hat, y)\n"}
    for name, text in sources.items():
        if name == "ben":
            with zipfile.ZipFile(folder / "ben.zip", "w") as archive:
                archive.writestr("exercise1.py", text)
        else:
            (folder / name).mkdir()
            (folder / name / "exercise1.py").write_text(text)
    right = [f"r:{n:010x}" for n in range(6)]
    odd = right[:2] + ["w:00000000aa", "w:00000000bb", "w:00000000cc", "w:00000000dd"]
    marks = {"ana": odd, "ben": odd, "cleo": right, "dan": right, "eve": right}
    out.mkdir()
    with ClassRecord.open(out) as record:
        run = record.begin_run(grader_version="t", seed=0, course_title="c", course_fingerprint="f",
                               exercise_ids=["exercise1"])
        for name, answers in marks.items():
            passed = answers == right
            test = TestResult(name="t", title="t", max_points=1.0, passed=passed)
            record.store(run, SubmissionResult(name, (ExerciseResult(
                "exercise1", "Fix the model", (test,), 0, answers=tuple(answers)),), 0), files_hash="h")
        record.finish_run(run)
    return folder, out


def test_grade_similar_writes_the_page_the_csv_and_the_record(tmp_path):
    import csv
    import sqlite3

    from click.testing import CliRunner

    from grader.cli import main

    folder, out = _tiny_class(tmp_path)
    result = CliRunner().invoke(main, ["similar", str(out), "--submissions", str(folder), "--threshold", "0.4",
                                       "--course", str(ROOT)])
    assert result.exit_code == 0, result.output
    assert "1 pair at or above 0.4" in result.output
    rows = list(csv.reader((out / "similarity.csv").open()))
    assert rows[0] == ["exercise", "submission a", "submission b", "score", "code evidence", "behaviour evidence"]
    assert (rows[1][0], rows[1][1], rows[1][2]) == ("exercise1", "ana", "ben")
    assert "same wrong answer on 4 of 6 calls" in rows[1][5] and "no known mistake does" in rows[1][5]
    assert float(rows[1][3]) > 0.9 and "found in no other submission" in rows[1][4]
    # The two handing in the reference's code share only what is boilerplate and right: never above.
    assert all(float(row[3]) < 0.4 for row in rows[1:] if {row[1], row[2]} == {"cleo", "dan"})
    page = (out / "similarity.html").read_text()
    assert "ana and ben" in page and 'class="shared"' in page and "<script" not in page
    assert "count = y.numel() - 1" in page  # ana's side, the passage ben shares under other names
    assert "cleo and dan" not in page
    stored = sqlite3.connect(out / "gradebook.sqlite").execute(
        "SELECT a, b, score FROM similar_pairs ORDER BY score DESC").fetchall()
    assert stored[0][:2] == ("ana", "ben")


def test_grade_similar_asks_for_a_graded_out(tmp_path):
    from click.testing import CliRunner

    from grader.cli import main

    result = CliRunner().invoke(main, ["similar", str(tmp_path), "--course", str(ROOT)])
    assert result.exit_code == 2 and "grade the class first" in result.output
