"""Where a student's error is, as the student knows it: their own file and
line, or their notebook's cell and line; never the sandbox's temporary folder.
Errors raised while the file is imported, while a function runs, and syntax
errors, for a .py file and a notebook, in the result, the HTML and results.json."""
from __future__ import annotations

import json

import pytest

from grader.course.submissions import from_path
from grader.engine import runner
from grader.outputs.html import render_html
from grader.outputs.results_json import to_gradescope

from test_notebooks import write_notebook

LOSS = "def loss_fn(y_hat, y):\n    return ((y_hat - y) ** 2).mean()\n"
SOURCES = {  # blocks apart by two blank lines: one notebook cell each, after a markdown cell
    "at_import": "import torch\n\n\ndef helper():\n    return 1 / 0\n\n\nhelper()\n\n\n"
                 "def model(x, w, b):\n    return w * x + b\n\n\n" + LOSS,
    "in_a_call": "import torch\n\n\ndef model(x, w, b):\n    y = w * x\n    return y + b.no_such_name\n\n\n" + LOSS,
    "syntax": "import torch\n\n\ndef model(x, w, b)\n    return w * x + b\n\n\n" + LOSS,
}
CITED = {
    ("at_import", "py"): ['File "exercise1.py", line 8, in <module>', 'File "exercise1.py", line 5, in helper'],
    ("at_import", "ipynb"): ["exercise1.ipynb, cell 4, line 1, in <module>", "exercise1.ipynb, cell 3, line 2, in helper"],
    ("in_a_call", "py"): ['File "exercise1.py", line 6, in model'],
    ("in_a_call", "ipynb"): ["exercise1.ipynb, cell 3, line 3, in model"],
    ("syntax", "py"): ['File "exercise1.py", line 4', "def model(x, w, b)"],
    ("syntax", "ipynb"): ["exercise1.ipynb, cell 3, line 1", "def model(x, w, b)"],
}


@pytest.fixture(scope="module")
def located(course, zygote, tmp_path_factory):
    root = tmp_path_factory.mktemp("locations")
    submissions = []
    for name, source in SOURCES.items():
        folder = root / f"{name}-py"
        folder.mkdir()
        (folder / "exercise1.py").write_text(source)
        submissions.append(from_path(folder, ["exercise1.py"], name=f"{name}-py"))
        (root / f"{name}-ipynb").mkdir()
        notebook = write_notebook(root / f"{name}-ipynb" / "exercise1.ipynb", source)
        submissions.append(from_path(notebook, ["exercise1.py"], name=f"{name}-ipynb"))
    run = runner.grade(course, submissions, [course.exercise("exercise1")], zygote=zygote,
                       options=runner.GradeOptions(timeout_s=5))
    return {r.submission: r for r in run.results}


@pytest.mark.parametrize("case", sorted(CITED), ids=lambda c: "-".join(c))
def test_an_error_cites_the_student_s_own_file_or_cell_and_line(case, located):
    result = located["-".join(case)]
    exercise = result.exercises[0]
    said = "\n".join([exercise.problem or "", *(t.message for t in exercise.tests if not t.passed)])
    for citation in CITED[case]:
        assert citation in said, said
    for shown in (said, render_html(result), json.dumps(to_gradescope(result))):
        assert "torchgrade-" not in shown and "/tmp" not in shown, shown[:2000]
