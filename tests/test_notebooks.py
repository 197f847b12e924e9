"""Notebook submissions: reading a .ipynb (IPython lines left out, unreadable
notebooks refused in plain words), which exercises a notebook answers, and
end to end: the hostile corpus and the known mistakes, converted to
notebooks, get the same scores and verdicts as the files; a whole-course
notebook, a notebook in a folder or a zip, a batch of notebooks and the CLI."""
from __future__ import annotations

import ast
import csv
import io
import json
import zipfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.engine.evidence import shows_hint
from grader.commands.batch import controller
from grader.record.classbook import submission_folder

from grader.engine import runner
from grader.cli import main
from grader.course.catalogue import load_course
from grader.course.notebooks import NotebookError, cell_python, module_from_notebook, read_module, read_notebook
from grader.course.submissions import Submission, from_entry, from_path

from corpus import HOSTILE, expectations

# Every exercise of the course, as its file is named: derived, so a new exercise needs no edit here.
EXERCISES = [spec.filename for spec in load_course(Path(__file__).resolve().parents[1]).exercises]
MODEL = "def model(x, w, b):\n    return w * x + b\n"


def notebook_from_source(source: str, *, preamble: tuple[str, ...] = ()) -> str:
    """``source`` as a notebook's JSON, the way a student would write it: a
    markdown cell, then one code cell per top-level block (blocks are
    separated by two blank lines), after any ``preamble`` cells."""
    cells = [new_markdown_cell("## My answer"), *(new_code_cell(text) for text in preamble)]
    cells += [new_code_cell(block.strip("\n")) for block in source.split("\n\n\n") if block.strip()]
    return nbformat.writes(new_notebook(cells=cells))


def write_notebook(path: Path, source: str, **kwargs) -> Path:
    path.write_text(notebook_from_source(source, **kwargs), encoding="utf-8")
    return path


def module_of(*cells: str) -> tuple[str, tuple[str, ...]]:
    module = module_from_notebook(read_notebook(nbformat.writes(new_notebook(
        cells=[new_code_cell(c) for c in cells])).encode(), "nb.ipynb"), "nb.ipynb")
    return module.source, module.notes


# ---------------------------------------------------------------------------
# IPython lines (pure)
# ---------------------------------------------------------------------------
def test_line_magics_shell_escapes_and_help_requests_are_left_out_and_noted():
    source, notes = module_of("%matplotlib inline\nimport torch\n!pip install torch\nfiles = !ls\ntorch.nn.Linear?",
                              MODEL)
    assert "%" not in source and "!" not in source and "?" not in source
    assert "import torch" in source and MODEL.strip() in source
    assert len(notes) == 1
    for quoted in ("`%matplotlib inline`", "`!pip install torch`", "`files = !ls`", "`torch.nn.Linear?`"):
        assert quoted in notes[0]
    assert notes[0].startswith("nb.ipynb: left out 4 IPython lines")


def test_percent_and_bang_inside_strings_and_brackets_are_python():
    cell = ('template = """\n%s is kept\n!this too\n"""\n'
            'ratio = (10\n         % 3)\n'
            'x = 7 \\\n% 4\n'
            '%time y = 2')
    python, dropped = cell_python(cell)
    assert dropped == ["`%time y = 2`"]
    assert "%s is kept" in python and "!this too" in python and "% 3)" in python and "\n% 4" in python
    namespace: dict = {}
    exec(compile(python, "cell", "exec"), namespace)
    assert namespace["ratio"] == 1 and namespace["x"] == 3


def test_a_magic_inside_a_block_leaves_a_valid_block():
    python, dropped = cell_python("for i in range(3):\n    %time f(i)\n    total = i\n!ls \\\n   -la\ndone = True")
    assert dropped == ["`%time f(i)`", "`!ls \\`"]
    ast.parse(python)
    assert "-la" not in python and "done = True" in python


def test_python_cell_magics_keep_their_body_and_others_drop_the_cell():
    assert cell_python("%%time\nx = 1\n")[0].strip() == "x = 1"
    assert cell_python("\n%%capture out\ny = 2\n")[0].strip() == "y = 2"
    python, dropped = cell_python("%%bash\nrm -rf /\n")
    assert python is None and dropped == ["(the whole cell: `%%bash` does not run Python)"]
    source, notes = module_of("%%writefile helper.py\nprint('hi')", MODEL)
    assert "print" not in source and "`%%writefile helper.py` does not run Python" in notes[0]


def test_a_notebook_without_magics_has_no_notes_and_keeps_its_code():
    source, notes = module_of(MODEL, "")
    assert notes == () and MODEL.strip() in source


# ---------------------------------------------------------------------------
# Notebooks that cannot be graded (pure)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("data, reason", [
    (b"", "is empty"),
    (b"  \n", "is empty"),
    (b'{"cells": [SECRET', "is not valid JSON"),
    (b"\xff\xfe not text", "it is not UTF-8 text"),
    (b"[1, 2, 3]", "is not a Jupyter notebook"),
    (b'{"cells": []}', "is not a Jupyter notebook"),
    (b'{"nbformat": "four", "nbformat_minor": 0}', "not a number"),
    (b'{"nbformat": 2, "nbformat_minor": 0, "worksheets": []}', "old notebook format 2"),
    (b'{"nbformat": 5, "nbformat_minor": 0, "cells": []}', "notebook format 5, newer than"),
    (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": "SECRET"}', "is not a valid notebook"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
])
def test_unreadable_notebooks_get_a_plain_reason_without_their_contents(tmp_path, data, reason):
    path = tmp_path / "work.ipynb"
    path.write_bytes(data)
    with pytest.raises(NotebookError) as caught:
        read_module(path)
    assert reason in str(caught.value) and str(caught.value).startswith("work.ipynb ")
    assert "SECRET" not in str(caught.value)


def test_a_notebook_too_large_to_read_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("grader.course.notebooks.MAX_NOTEBOOK_BYTES", 1000)
    path = write_notebook(tmp_path / "big.ipynb", MODEL + "# " + "x" * 2000)
    with pytest.raises(NotebookError, match="big.ipynb is more than the .* a notebook may be: clear its outputs"):
        read_module(path)


def test_notebooks_without_python_are_refused(tmp_path):
    for cells, reason in [([new_markdown_cell("# notes only")], "holds no code cells"),
                          ([new_code_cell("")], "its code cells are empty"),
                          ([new_code_cell("!pip install torch\n%matplotlib inline")], "only IPython magics")]:
        path = tmp_path / "empty.ipynb"
        nbformat.write(new_notebook(cells=cells), path)
        with pytest.raises(NotebookError, match=reason):
            read_module(path)


def test_a_format_3_notebook_is_upgraded_and_read(tmp_path):
    from nbformat.v3 import new_code_cell as v3_cell, new_notebook as v3_notebook, new_worksheet

    path = tmp_path / "old.ipynb"
    path.write_text(nbformat.writes(v3_notebook(worksheets=[new_worksheet(cells=[v3_cell(input=MODEL)])]), version=3))
    assert MODEL.strip() in read_module(path).source


# ---------------------------------------------------------------------------
# Which exercises a notebook answers (no sandbox)
# ---------------------------------------------------------------------------
def test_a_notebook_named_after_an_exercise_answers_it_and_any_other_answers_all(tmp_path):
    write_notebook(tmp_path / "Exercise3.ipynb", MODEL)
    write_notebook(tmp_path / "homework.ipynb", MODEL)
    assert list(from_path(tmp_path / "Exercise3.ipynb", EXERCISES).files) == ["exercise3.py"]
    assert list(from_path(tmp_path / "homework.ipynb", EXERCISES).files) == EXERCISES
    assert list(from_path(tmp_path / "homework.ipynb", ["exercise2.py"]).files) == ["exercise2.py"]


def test_in_a_folder_python_files_win_and_named_notebooks_answer_their_exercise(tmp_path):
    (tmp_path / "exercise1.py").write_text(MODEL)
    write_notebook(tmp_path / "exercise1.ipynb", "raise SystemExit(1)")
    write_notebook(tmp_path / "exercise3.ipynb", MODEL)
    (tmp_path / ".ipynb_checkpoints").mkdir()
    write_notebook(tmp_path / ".ipynb_checkpoints" / "exercise4-checkpoint.ipynb", MODEL)
    found = from_entry(tmp_path, EXERCISES, name="s", unpack_to=tmp_path.parent / "unused")
    assert found.files == {"exercise1.py": tmp_path / "exercise1.py", "exercise3.py": tmp_path / "exercise3.ipynb"}
    assert found.module_source("exercise1.py") == MODEL.encode()
    assert b"return w * x + b" in found.module_source("exercise3.py")


def test_a_notebook_named_after_an_exercise_not_graded_answers_nothing(tmp_path):
    write_notebook(tmp_path / "exercise1.ipynb", MODEL)
    write_notebook(tmp_path / "exercise3.ipynb", MODEL)
    only_3 = from_entry(tmp_path, ["exercise3.py"], name="s", unpack_to=tmp_path.parent / "unused")
    assert only_3.files == {"exercise3.py": tmp_path / "exercise3.ipynb"}
    only_2 = from_entry(tmp_path, ["exercise2.py", "exercise4.py"], name="s", unpack_to=tmp_path.parent / "unused2")
    assert only_2.files == {} and "holds none of exercise2.py or exercise4.py" in only_2.problem
    alone = from_path(tmp_path / "exercise1.ipynb", ["exercise2.py", "exercise4.py"])
    assert alone.files == {} and "exercise1.ipynb is named after an exercise other than" in alone.problem


def test_two_general_notebooks_in_one_folder_are_ambiguous(tmp_path):
    write_notebook(tmp_path / "draft.ipynb", MODEL)
    write_notebook(tmp_path / "final.ipynb", MODEL)
    found = from_entry(tmp_path, EXERCISES, name="s", unpack_to=tmp_path.parent / "unused")
    assert found.files == {} and "holds 2 notebooks not named after an exercise" in found.problem


def test_an_unreadable_notebook_fails_its_exercises_only(tmp_path):
    (tmp_path / "exercise1.py").write_text(MODEL)
    (tmp_path / "exercise2.ipynb").write_text("not json")
    found = from_entry(tmp_path, EXERCISES, name="s", unpack_to=tmp_path.parent / "unused")
    assert found.problem is None and set(found.files) == {"exercise1.py", "exercise2.py"}
    assert "exercise2.ipynb is not a notebook: it is not valid JSON" in found.file_problems["exercise2.py"]
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "exercise2.ipynb").write_text("not json")
    found = from_entry(alone, EXERCISES, name="s", unpack_to=tmp_path.parent / "unused2")
    assert found.files == {} and "not valid JSON" in found.problem


def test_a_zip_may_hold_notebooks_one_folder_down(tmp_path):
    with zipfile.ZipFile(tmp_path / "alice.zip", "w") as archive:
        archive.writestr("work/exercise2.ipynb", notebook_from_source(MODEL))
        archive.writestr("work/.ipynb_checkpoints/exercise2-checkpoint.ipynb", "junk")
        archive.writestr("work/data.csv", "1,2")
    found = from_entry(tmp_path / "alice.zip", EXERCISES, name="alice", unpack_to=tmp_path / "unpacked")
    assert list(found.files) == ["exercise2.py"] and found.problem is None
    assert sorted(p.name for p in (tmp_path / "unpacked").iterdir()) == ["exercise2.ipynb"]


def test_a_linked_notebook_in_a_batch_folder_is_not_followed(tmp_path):
    write_notebook(tmp_path / "secret.ipynb", MODEL)
    folder = tmp_path / "bob"
    folder.mkdir()
    (folder / "exercise1.ipynb").symlink_to(tmp_path / "secret.ipynb")
    found = from_entry(folder, EXERCISES, name="bob", unpack_to=tmp_path / "unused")
    assert found.files == {} and found.notes == ("exercise1.ipynb is a symbolic link; it was not graded",)
    (tmp_path / "carol.ipynb").symlink_to(tmp_path / "secret.ipynb")
    linked = from_entry(tmp_path / "carol.ipynb", EXERCISES, name="carol", unpack_to=tmp_path / "unused2")
    assert linked.files == {} and "is a symbolic link" in linked.problem


# ---------------------------------------------------------------------------
# End to end: the same scores and verdicts as the files
# ---------------------------------------------------------------------------
HOSTILE_AS_NOTEBOOKS = ["always_equal", "escape_sequences_in_message", "exit_at_import", "flood_output",
                        "keyboard_interrupt_at_import", "memory_bomb", "missing_name", "mutates_inputs", "patches_torch_testing",
                        "reads_environment", "reads_solutions", "segfault", "sleep_at_import", "syntax_error",
                        "tensor_subclass", "writes_outside"]


def _outcomes(exercise) -> tuple:
    return exercise.score, [(t.name, t.passed, t.verdict) for t in exercise.tests]


@pytest.fixture(scope="module")
def hostile_pairs(course, zygote, tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile-notebooks")
    submissions = []
    for name in HOSTILE_AS_NOTEBOOKS:
        path = HOSTILE / f"{name}.py"
        submissions.append(Submission(name=f"{name}.py", files={"exercise1.py": path}))
        notebook = write_notebook(folder / f"{name}.ipynb", path.read_text())
        submissions.append(from_path(notebook, ["exercise1.py"], name=f"{name}.ipynb"))
    options = runner.GradeOptions(timeout_s=3, memory_mb=512)
    run = runner.grade(course, submissions, [course.exercise("exercise1")], zygote=zygote, options=options)
    return {r.submission: r.exercises[0] for r in run.results}


@pytest.mark.slow  # the whole hostile corpus graded once as notebooks: CI runs it (pytest -m slow)
@pytest.mark.parametrize("name", HOSTILE_AS_NOTEBOOKS)
def test_a_hostile_notebook_gets_the_same_verdict_as_the_file(name, hostile_pairs):
    as_file, as_notebook = hostile_pairs[f"{name}.py"], hostile_pairs[f"{name}.ipynb"]
    assert _outcomes(as_notebook) == _outcomes(as_file)
    expect = expectations(HOSTILE / f"{name}.py")
    assert as_notebook.score == float(expect["points"])
    failures = [t for t in as_notebook.tests if not t.passed]
    if "verdict" in expect:
        assert expect["verdict"] in {t.verdict for t in failures}
    if "message" in expect:
        assert any(expect["message"] in t.message for t in failures)
    assert as_notebook.notes == as_file.notes


def notebook_mistakes(course):
    """Two known mistakes of each exercise (grade verify grades every one as a file; a notebook only
    changes how the source is read, the same for every mistake)."""
    return [(spec, mistake) for spec in course.exercises for mistake in spec.mistakes[:2]]


@pytest.fixture(scope="module")
def mistake_pairs(course, zygote, tmp_path_factory):
    """Every known mistake as its file and as a notebook named after its
    exercise (with a magic and a shell escape a student would leave in)."""
    root = tmp_path_factory.mktemp("mistake-notebooks")
    filenames = [s.filename for s in course.exercises]
    submissions = []
    for spec, mistake in notebook_mistakes(course):
        source = spec.mutant_source(mistake)
        as_file, as_notebook = root / f"{mistake.id}.py", root / f"{mistake.id}.nb"
        as_file.mkdir()
        as_notebook.mkdir()
        (as_file / spec.filename).write_text(source)
        write_notebook(as_notebook / f"{spec.id}.ipynb", source,
                       preamble=("%matplotlib inline\n!pip install torch",))
        submissions += [from_path(as_file, filenames), from_path(as_notebook, filenames)]
    run = runner.grade(course, submissions, list(course.exercises), zygote=zygote)
    return {r.submission: r for r in run.results}


def test_known_mistakes_as_notebooks_get_the_same_scores_and_hints(course, mistake_pairs):
    for spec, mistake in notebook_mistakes(course):
        as_file, as_notebook = mistake_pairs[f"{mistake.id}.py"], mistake_pairs[f"{mistake.id}.nb"]
        assert [_outcomes(e) for e in as_notebook.exercises] == [_outcomes(e) for e in as_file.exercises]
        graded = next(e for e in as_notebook.exercises if e.exercise_id == spec.id)
        assert graded.score < graded.max_score
        assert any(shows_hint(t.hint, mistake.hint) for t in graded.tests if not t.passed)
        assert any("`%matplotlib inline`" in note and "`!pip install torch`" in note for note in graded.notes)


def test_one_notebook_answers_every_exercise_from_the_names_it_defines(course, zygote, tmp_path):
    solutions = "\n\n\n".join(spec.solution.read_text() for spec in course.exercises)
    partial = "\n\n\n".join(spec.solution.read_text() for spec in course.exercises[:2])
    filenames = [s.filename for s in course.exercises]
    submissions = [from_path(write_notebook(tmp_path / "course.ipynb", solutions), filenames),
                   from_path(write_notebook(tmp_path / "first_two.ipynb", partial), filenames)]
    whole, first_two = runner.grade(course, submissions, list(course.exercises), zygote=zygote).results
    assert whole.score == whole.max_score == sum(s.points for s in course.exercises)
    assert [e.score for e in first_two.exercises[:2]] == [10, 10]
    later = first_two.exercises[2:]
    assert all(e.score == 0 and e.submitted for e in later)
    assert all("missing name" in {t.verdict for t in e.tests} for e in later)


def test_a_notebook_that_trains_forever_at_import_gets_the_time_limit(course, zygote, tmp_path):
    notebook = write_notebook(tmp_path / "exercise1.ipynb", MODEL, preamble=("while True:\n    pass",))
    run = runner.grade(course, [from_path(notebook, ["exercise1.py"])], [course.exercise("exercise1")],
                       zygote=zygote, options=runner.GradeOptions(timeout_s=1))
    exercise = run.results[0].exercises[0]
    assert exercise.score == 0 and {t.verdict for t in exercise.tests} == {"time limit"}


def test_a_batch_of_notebooks_goes_on_past_broken_ones(course, tmp_path):
    subs, out = tmp_path / "submissions", tmp_path / "out"
    subs.mkdir()
    write_notebook(subs / "alice.ipynb", course.exercise("exercise1").solution.read_text())
    (subs / "bob.ipynb").write_text('{"cells": [')
    (subs / "carol.ipynb").write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}))
    with zipfile.ZipFile(subs / "dave.zip", "w") as archive:
        archive.writestr("dave/exercise1.ipynb",
                         notebook_from_source(course.exercise("exercise1").solution.read_text()))
    outcome = controller.run_batch(subs, out, course, exercise_ids=["exercise1"], jobs=1)
    assert not outcome.failed
    # after the header and the row of maximum points: status, exercise1, total (a refusal is not a plain zero)
    rows = {row[0]: row[1:4] for row in list(csv.reader(io.StringIO((out / "gradebook.csv").read_text())))[2:]}
    assert rows == {"alice": ["graded", "10", "10"], "bob": ["refused", "0", "0"], "carol": ["refused", "0", "0"],
                    "dave": ["graded", "10", "10"]}
    problems = dict(outcome.summary.problems)
    assert "bob.ipynb is not a notebook: it is not valid JSON" in problems["bob"]
    assert "carol.ipynb holds no code cells" in problems["carol"]
    bob = json.loads((submission_folder(out, "bob") / "results.json").read_text())
    assert all("bob.ipynb is not a notebook" in test["output"] and "was not submitted" not in test["output"]
               for test in bob["tests"])


def test_grade_takes_a_notebook_as_the_submission(monkeypatch, course, tmp_path):
    monkeypatch.chdir(course.root)
    notebook = write_notebook(tmp_path / "mine.ipynb", course.exercise("exercise1").solution.read_text(),
                              preamble=("%matplotlib inline",))
    report = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["exercise1", "--submission", str(notebook), "--json", "--report", str(report)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["score"] == data["max_score"] == 10
    assert "`%matplotlib inline`" in data["output"]
    assert "mine.ipynb: left out 1 IPython line " in report.read_text()


def test_a_notebook_importing_a_library_not_installed_is_told_which_and_how_to_install_it(course, zygote, tmp_path):
    """scikit-learn is imported as sklearn: the verdict names the library and the pip command."""
    notebook = write_notebook(tmp_path / "exercise1.ipynb", course.exercise("exercise1").solution.read_text(),
                              preamble=("from sklearn.metrics import mean_squared_error",))
    run = runner.grade(course, [from_path(notebook, ["exercise1.py"])], [course.exercise("exercise1")],
                       zygote=zygote)
    exercise = run.results[0].exercises[0]
    assert exercise.score == 0 and {t.verdict for t in exercise.tests} == {"import error"}
    message = exercise.tests[0].message
    assert "imports sklearn, which is not installed where it was graded" in message
    assert "`pip install scikit-learn`" in message and "requirements" in message
