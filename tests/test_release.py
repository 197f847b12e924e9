"""``grade release``: the student copy of the course.

The copy is built once through the CLI and once more through the library
(the two must be identical, byte for byte). Then: nothing of the solutions
or of the hidden tests is in it (normalised ASTs and source lines, compared
with every file of the copy); it grades every public test as the course
itself does, for the solutions, the stubs and every known mistake; its
``grade exercise3`` gives full public marks offline, in seconds, and says
that hidden tests are still to come; ``grade verify``'s release checks pass
on it and fail when it is broken; and it installs from a wheel into a fresh
venv and grades there, as its README says.
"""
from __future__ import annotations

import ast
import copy
import dataclasses
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import tokenize
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.course.catalogue import load_course
from grader.cli import main
from grader.commands.release import INSTALL_COMMAND, RECORDINGS, build_release, public_suite

REPO = Path(__file__).resolve().parents[1]
SCOPE_LINE = "hidden tests run when your course grades it"
GRADE = Path(sys.executable).parent / "grade"


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    """The copy, written by `grade release` (through the CLI, in this process)."""
    out = tmp_path_factory.mktemp("release") / "student-copy"
    outcome = CliRunner().invoke(main, ["release", str(out), "--course", str(REPO)])
    assert outcome.exit_code == 0, outcome.output
    assert f"Wrote the student copy of {load_course(REPO).title!r} to {out}" in outcome.output
    return out


@pytest.fixture(scope="module")
def graded(release, zygote):
    """The course graded by itself (every test) and by its copy (public tests,
    recorded values: ``grade verify``'s release run), each on the solutions,
    the stubs and every known mistake's mutant."""
    from grader.engine import runner
    from grader.course.submissions import Submission
    from grader.commands.verify import verify_release
    from grader.course.mutants import write_mutants

    course = load_course(REPO)
    solutions = Submission("solutions", {s.filename: s.solution for s in course.exercises})
    stubs = Submission("stubs", {s.filename: s.stub for s in course.exercises})
    scratch = release.parent / "mutants"
    scratch.mkdir(exist_ok=True)
    mutants, problems = write_mutants(course.exercises, scratch)
    assert not problems
    run = runner.grade(course, [solutions, stubs, *mutants.values()], course.exercises, zygote=zygote)
    in_course = {r.submission: r for r in run.results}
    in_copy = verify_release(course, zygote)
    assert in_copy.problem is None
    return course, in_course, in_copy, mutants


# -- what is in the copy ------------------------------------------------------------------

def test_the_copy_holds_the_stubs_the_grader_and_the_public_tests_and_nothing_else(release):
    course = load_course(REPO)
    files = _files(release)
    assert {path.split("/")[0] for path in files} == {"README.md", "course.toml", "pyproject.toml", "exercises",
                                                       "grader", "suites"}
    for spec in course.exercises:
        assert files[f"exercises/{spec.filename}"] == spec.stub.read_bytes()
        assert f"{RECORDINGS}/{spec.id}.json" in files and f"{RECORDINGS}/{spec.id}.safetensors" in files
    assert course.student_files
    for student_file in course.student_files:  # the iris data set, beside the stubs
        assert files[student_file] == (course.root / student_file).read_bytes()
    assert not [path for path in files if "__pycache__" in path or path.endswith(".pyc")]
    assert {p.name for p in (release / "suites").iterdir()} == {s.suite.name for s in course.exercises}

    text = files["course.toml"].decode()
    assert 'recordings = "grader/recorded"' in text
    assert "solution" not in text and "find" not in text and "replace" not in text
    copy_course = load_course(release)
    assert copy_course.is_student_copy and copy_course.recordings == release / "grader" / "recorded"
    for spec, shipped in zip(course.exercises, copy_course.exercises, strict=True):
        assert [(m.id, m.title, m.hint, m.find, m.replace) for m in shipped.mistakes] == [
            (m.id, m.title, m.hint, "", "") for m in spec.mistakes]
        assert (shipped.id, shipped.title, shipped.points, shipped.limits, shipped.rtol, shipped.atol,
                shipped.needs, shipped.visibility) == (spec.id, spec.title, spec.points, spec.limits, spec.rtol,
                                                       spec.atol, spec.needs, spec.visibility)
        assert not shipped.solution.exists()

    pyproject = files["pyproject.toml"].decode()
    assert 'grade = "grader.cli:run"' in pyproject
    for pattern in ("outputs/templates/*.j2", "recorded/*.json", "recorded/*.safetensors"):
        assert f'"{pattern}"' in pyproject
    readme = files["README.md"].decode().splitlines()
    assert readme[2:4] == [f"    {INSTALL_COMMAND}", "    . .venv/bin/activate && grade exercise1"]


@pytest.mark.slow  # the `graded` fixture grades the course and its copy on every mutant: CI runs it
def test_the_suites_keep_exactly_the_tests_the_course_marks_public(release, graded):
    course, in_course, _, _ = graded
    for spec in course.exercises:
        tests = next(e for e in in_course["solutions"].exercises if e.exercise_id == spec.id).tests
        public = {t.name for t in tests if t.visibility == "public"}
        shipped = ast.parse((release / "suites" / spec.suite.name).read_text())
        names = {n.name for n in shipped.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")}
        assert names == public, spec.id
        assert public and len(public) < len(tests)  # this course has both kinds in every exercise


def test_release_and_verify_share_the_mutants_and_do_not_import_each_other():
    """verify builds a release to check it; release must not reach back into
    verify (it once imported its private mutant writer)."""
    import grader.commands.release as release_module

    tree = ast.parse(Path(release_module.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert "grader.commands.verify" not in imported
    assert "grader.course.mutants" in imported


def test_a_suite_loses_its_hidden_tests_and_whatever_only_they_used():
    source = textwrap.dedent('''\
        """Hidden suite: says what the hidden tests do."""
        from __future__ import annotations
        import math
        import pytest
        from grader.engine.checks import Build, Call, randn

        SHAPES = [(3,), (2, 2)]
        EDGE_CASES = [(0,), (1, 1)]  # only the hidden test uses these

        def _call(rng, shape):
            return Call("f", (randn(rng, *shape),))

        def _edge(rng, shape):
            return _call(rng, shape), math.pi

        @pytest.fixture
        def big(rng):
            return Build("Model", (1024,))

        @pytest.mark.public
        def test_public(check, rng):
            check.same(*[_call(rng, s) for s in SHAPES])

        @pytest.mark.hidden
        def test_secret(check, rng, big):
            check.same(*[_edge(rng, s)[0] for s in EDGE_CASES])

        class TestGroup:
            def test_kept(self, check):
                check.same(_call(None, (1,)))

            def test_dropped(self, check):
                pass

        class TestAllHidden:
            def test_gone(self, check):
                pass
        ''')

    result = public_suite(source, {"test_public", "test_kept"}, docstring="Public tests only.")

    tree = ast.parse(result)
    assert ast.get_docstring(tree) == "Public tests only."
    names = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert names == {"_call", "test_public", "TestGroup", "test_kept"}
    assert [t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets] == ["SHAPES"]
    imported = {a.asname or a.name for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    assert imported == {"annotations", "pytest", "Call", "randn"}
    assert "Hidden suite" not in result and "EDGE_CASES" not in result and "math" not in result
    with pytest.raises(Exception, match="test_missing"):
        public_suite(source, {"test_public", "test_missing"})


# -- nothing of the solutions or the hidden tests leaks -----------------------------------------

def _normalised(body: list[ast.stmt]) -> str:
    """A body as ``ast.dump`` with its docstring dropped and every name it
    binds or reads renamed by order of first appearance: renaming variables
    does not hide copied code."""
    body = copy.deepcopy(body[1:] if body and isinstance(body[0], ast.Expr) and isinstance(
        getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str) else body)
    module = ast.Module(body=body, type_ignores=[])
    names: dict[str, str] = {}
    for node in ast.walk(module):
        for field in ("id", "arg", "name"):
            value = getattr(node, field, None)
            if isinstance(value, str) and not isinstance(node, ast.alias):
                setattr(node, field, names.setdefault(value, f"n{len(names)}"))
    return ast.dump(module)


def _definitions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def _copy_bodies(release: Path) -> set[str]:
    return {_normalised(d.body) for path in sorted(release.rglob("*.py"))
            for d in _definitions(ast.parse(path.read_text(encoding="utf-8")))}


def _code_lines(source: str) -> list[str]:
    """Stripped source lines of code (no docstrings, comments or blank lines)."""
    docstrings = {n.lineno for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Expr)
                  and isinstance(getattr(n, "value", None), ast.Constant) and isinstance(n.value.value, str)}
    return [line.strip() for number, line in enumerate(source.splitlines(), 1)
            if line.strip() and not line.strip().startswith("#") and number not in docstrings]


def _tokens(line: str) -> int:
    try:
        return sum(t.type in (tokenize.NAME, tokenize.OP, tokenize.NUMBER, tokenize.STRING)
                   for t in tokenize.generate_tokens(io.StringIO(line).readline))
    except (tokenize.TokenError, SyntaxError):
        return len(line.split())


def test_no_solution_code_is_in_the_copy(release):
    course = load_course(REPO)
    stubs = "\n".join(spec.stub.read_text() for spec in course.exercises)
    engine = "\n".join(p.read_text() for p in sorted((REPO / "grader").rglob("*.py")) if "suites" not in p.parts)
    stub_bodies = {_normalised(d.body) for spec in course.exercises for d in _definitions(ast.parse(spec.stub.read_text()))}
    copy_bodies = _copy_bodies(release)
    texts = {path: path.read_text(encoding="utf-8") for path in sorted(release.rglob("*"))
             if path.is_file() and path.suffix != ".safetensors"}

    compared = searched = 0
    for spec in course.exercises:
        for path, text in texts.items():  # e.g. in a known mistake's recorded traceback
            for name in (str(REPO), spec.solution.relative_to(REPO).as_posix()):
                assert name not in text, f"{path.relative_to(release)} names {name}"
        compared += _assert_no_solution_body(spec, stub_bodies, copy_bodies)
        searched += _assert_no_solution_line(spec, stubs + "\n" + engine, texts, release)
    assert compared >= 10 and searched >= 15  # the comparison saw the solutions

    for path in sorted(release.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not [m for m in modules if m.split(".")[0] == "solutions"], f"{path} imports {modules}"
    assert not [p for p in release.rglob("*") if p.name.startswith("solution")]


def _assert_no_solution_body(spec, stub_bodies: set, copy_bodies: set) -> int:
    """No body of the solution's definitions is in the copy, but those handed out; returns how many were compared."""
    compared = 0
    for definition in _definitions(ast.parse(spec.solution.read_text())):
        body = _normalised(definition.body)
        if body in stub_bodies:
            continue  # handed to students on purpose
        if len(definition.body) == 1 and _tokens(ast.unparse(definition.body[0])) < 6:
            continue  # `return x`: an idiom any library holds (`return self`), as lines below are skipped
        compared += 1
        assert body not in copy_bodies, f"{spec.solution.name}: the body of {definition.name} is in the copy"
    return compared


def _assert_no_solution_line(spec, handed_out: str, texts: dict, release: Path) -> int:
    """A line of the solution that no stub and no engine file holds (``handed_out``), and that
    is more than an idiom (`loss.backward()`), must appear nowhere in the copy; returns how many were searched."""
    searched = 0
    for line in _code_lines(spec.solution.read_text()):
        if line.startswith(("import ", "from ", "def ", "class ")) or line in handed_out or _tokens(line) < 6:
            continue
        searched += 1
        for path, text in texts.items():
            assert line not in text, f"{spec.solution.name}: {line!r} is in {path.relative_to(release)}"
    return searched


@pytest.mark.slow  # the `graded` fixture grades the course and its copy on every mutant: CI runs it
def test_no_hidden_test_is_in_the_copy(release, graded):
    course, in_course, _, _ = graded
    copy_bodies = _copy_bodies(release)
    texts = {path: path.read_text(encoding="utf-8") for path in sorted(release.rglob("*"))
             if path.is_file() and path.suffix != ".safetensors"}
    hidden = 0
    for spec in course.exercises:
        tests = next(e for e in in_course["solutions"].exercises if e.exercise_id == spec.id).tests
        names = {t.name for t in tests if t.visibility == "hidden"}
        for path, text in texts.items():
            assert not [n for n in names if n in text], f"{path.relative_to(release)} names a hidden test"
        for definition in _definitions(ast.parse(spec.suite.read_text())):
            if definition.name in names:
                hidden += 1
                assert _normalised(definition.body) not in copy_bodies, f"{spec.id}: {definition.name} is in the copy"
    assert hidden == sum(t.visibility == "hidden" for e in in_course["solutions"].exercises for t in e.tests) > 0


# -- the copy grades as the course does -------------------------------------------------------

@pytest.mark.slow  # the `graded` fixture grades the course and its copy on every mutant: CI runs it
def test_the_copy_gives_every_public_test_the_verdict_the_course_gives(graded):
    course, in_course, in_copy, mutants = graded
    pairs = [("solutions", in_copy.solutions), ("stubs", in_copy.stubs),
             *((m.name, in_copy.mutants[key]) for key, m in mutants.items())]
    compared = 0
    for name, copy_result in pairs:
        for spec in course.exercises:
            def verdicts(result, public_only, spec=spec):
                exercise = next(e for e in result.exercises if e.exercise_id == spec.id)
                return {t.name: (t.passed, t.message, t.hint, t.verdict) for t in exercise.tests
                        if not public_only or t.visibility == "public"}
            expected = verdicts(in_course[name], public_only=True)
            assert verdicts(copy_result, public_only=False) == expected, f"{name}, {spec.id}"
            compared += len(expected)
    public = sum(t.visibility == "public" for e in in_course["solutions"].exercises for t in e.tests)
    assert public >= 2 * len(course.exercises) and compared == public * (2 + len(mutants))


@pytest.mark.slow  # the `graded` fixture grades the course and its copy on every mutant: CI runs it
def test_grade_verify_checks_the_copy_and_fails_a_broken_one(graded):
    from grader.commands.verify_checks import release_checks

    course, in_course, in_copy, mutants = graded

    def checks(release_runs):
        return {(spec.id, c.name): c for spec in course.exercises for c in release_checks(
            spec, next(e for e in in_course["solutions"].exercises if e.exercise_id == spec.id), release_runs)}

    passing = checks(in_copy)
    assert all(c.passed for c in passing.values()), [c for c in passing.values() if not c.passed]
    assert {name for _, name in passing} == {"release: public tests", "release: reference earns public points",
                                             "release: stub earns zero", "release: mistakes lose public points"}

    # The stubs in place of the solutions, the solutions in place of the stubs and
    # of one mistake: each fails the check that names it.
    mistake_key = next(iter(mutants))
    broken = dataclasses.replace(in_copy, solutions=in_copy.stubs, stubs=in_copy.solutions,
                                 mutants={**in_copy.mutants, mistake_key: in_copy.solutions})
    failing = {key for key, c in checks(broken).items() if not c.passed}
    assert failing == {*((s.id, "release: reference earns public points") for s in course.exercises),
                       *((s.id, "release: stub earns zero") for s in course.exercises),
                       (mistake_key[0], "release: mistakes lose public points")}
    assert "still earns" in checks(broken)[(mistake_key[0], "release: mistakes lose public points")].detail


def _offline(command: list[str]) -> list[str]:
    """In a network namespace of its own where the machine allows one."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-rn", *command]
    return command


def test_grade_exercise3_in_the_copy_gives_full_public_marks_offline(release, tmp_path):
    started = time.monotonic()
    outcome = subprocess.run(
        _offline([str(GRADE), "exercise3", "--course", str(release),
                  "--submission", str(REPO / "solutions" / "exercise3.py")]),
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started

    output = " ".join(outcome.stdout.split())
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    assert "score: 7/7" in output and f"public tests: 3/3 passed — {SCOPE_LINE}" in output
    assert "all tests passed" not in output.lower()
    html = (tmp_path / "reports" / "exercise3.html").read_text()
    assert SCOPE_LINE in html and "all tests passed" not in html.lower()
    print(f"grade exercise3 in the copy: {elapsed:.1f} s")


# -- reproducible, and refusing what it should not do ------------------------------------------

def test_building_over_an_earlier_release_gives_the_same_bytes(release, zygote, tmp_path):
    """An unused earlier release is replaced, by the same bytes."""
    shutil.copytree(release, tmp_path / "again")
    (tmp_path / "again" / "exercises" / "exercise1.py").write_text("stale")
    again = build_release(load_course(REPO), tmp_path / "again", zygote=zygote)

    first, second = _files(release), _files(again.root)
    assert list(first) == list(second) == list(again.files)
    digest = {path: hashlib.sha256(data).hexdigest() for path, data in first.items()}
    assert digest == {path: hashlib.sha256(data).hexdigest() for path, data in second.items()}


def test_release_refuses_a_folder_in_use_and_a_student_copy(release, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    busy = CliRunner().invoke(main, ["release", str(tmp_path), "--course", str(REPO)])
    again = CliRunner().invoke(main, ["release", str(tmp_path / "out"), "--course", str(release)])

    assert busy.exit_code == 2 and "not an earlier release" in busy.output
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert again.exit_code == 2 and "already a student copy" in again.output


def test_release_keeps_a_used_copy_from_being_replaced(release, tmp_path):
    """An earlier release is replaced only while it holds nothing but a
    release: a student's .venv or reports inside it are not deleted."""
    copy = tmp_path / "copy"
    shutil.copytree(release, copy)
    (copy / ".venv").mkdir()
    (copy / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    refused = CliRunner().invoke(main, ["release", str(copy), "--course", str(REPO)])

    assert refused.exit_code == 2 and ".venv" in refused.output and "has been used" in refused.output
    assert (copy / ".venv" / "pyvenv.cfg").is_file() and (copy / "course.toml").is_file()


# -- it installs and runs where students are ---------------------------------------------------

@pytest.mark.slow
def test_the_copy_installs_in_a_fresh_venv_as_its_readme_says_and_from_a_wheel(release, tmp_path):
    """The README's first line, as written, in a copy of the copy (a fresh venv,
    torch, `pip install .`, `grade exercise1`); then the same venv without it,
    installed from a wheel built from the copy, grading there."""
    student, pristine = tmp_path / "student", tmp_path / "pristine"
    shutil.copytree(release, student)
    shutil.copytree(release, pristine)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "TORCHGRADE_COURSE")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(str(Path(sys.executable).parent)))
    readme = (release / "README.md").read_text().splitlines()
    install = readme[2].strip()

    def run(command: str, cwd: Path = student, expect: int = 0) -> str:
        outcome = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
                                 timeout=300)
        assert outcome.returncode == expect, f"{command}\n{outcome.stdout[-3000:]}\n{outcome.stderr[-3000:]}"
        return " ".join(outcome.stdout.split())

    started = time.monotonic()
    hint = load_course(REPO).exercise("exercise1").mistake("b_plus_w_b").hint
    output = run(install, expect=1)  # the stub fails: the chain ends with grade's status
    assert hint in output and SCOPE_LINE in output

    activate = f". {student}/.venv/bin/activate && "
    run(activate + "pip uninstall --quiet --yes torchgrade")
    run(activate + f"pip wheel --quiet --no-deps -w {tmp_path}/dist {pristine}")
    wheel = next((tmp_path / "dist").glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for packaged in ("grader/outputs/templates/report.html.j2",
                     "grader/recorded/exercise3.json", "grader/recorded/exercise3.safetensors"):
        assert packaged in names
    run(activate + f"pip install --quiet {wheel}")
    where = run(activate + "python -c 'import grader; print(grader.__file__)'", cwd=tmp_path)
    assert "site-packages" in where

    output = run(activate + "grade exercise1", expect=1)
    assert hint in output and f"public tests: 0/2 passed — {SCOPE_LINE}" in output
    listing = run(activate + "grade list")
    assert all(spec.id in listing for spec in load_course(REPO).exercises)
    print(f"fresh venv, README install, wheel install, grading: {time.monotonic() - started:.0f} s")


def test_the_readme_s_commands_do_what_it_says(release, tmp_path, monkeypatch):
    """In the folder, as a student runs them (the install line: the venv test)."""
    folder = tmp_path / "copy"
    shutil.copytree(release, folder)
    monkeypatch.chdir(folder)
    monkeypatch.delenv("TORCHGRADE_COURSE", raising=False)
    readme = " ".join((folder / "README.md").read_text().split())
    course = load_course(REPO)

    listing = CliRunner().invoke(main, ["list"])
    assert listing.exit_code == 0 and all(spec.id in listing.output for spec in course.exercises)

    everything = CliRunner().invoke(main, ["--submission", str(REPO / "solutions")])
    output = " ".join(everything.output.split())
    assert everything.exit_code == 0, output  # "0 when every public test passes"
    assert all(spec.title in output for spec in course.exercises) and output.count(SCOPE_LINE) == len(course.exercises)
    assert (folder / "reports" / "all.html").is_file() and "`reports/all.html` for `grade`" in readme

    as_json = CliRunner().invoke(main, ["exercise1", "--json", "--no-report"])
    summary = json.loads(as_json.output)["output"]
    assert as_json.exit_code == 1 and f"exercise1 public tests: 0/2 passed — {SCOPE_LINE}" in summary

    other_seed = CliRunner().invoke(main, ["exercise1", "--seed", "7"])
    assert other_seed.exit_code == 1 and "not recorded" in other_seed.output and '("not recorded")' in readme
    assert (folder / "reports" / "exercise1.html").is_file() and "`reports/exercise1.html`" in readme


def test_a_copy_is_graded_with_its_own_suites_in_a_process_that_graded_the_course(release, zygote, tmp_path):
    """pytest names a suite by its path under the course folder: the copy's
    suites/test_exercise3.py must not be mistaken for the course's."""
    from grader.engine import runner
    from grader.course.submissions import Submission

    folder = tmp_path / "copy"
    shutil.copytree(release, folder)
    suite = folder / "suites" / "test_exercise3.py"
    suite.write_text(suite.read_text().replace('check.same(Inspect(Build(\'LinearModel\')))',
                                               'assert False, "the copy\'s own suite ran"'))
    course, copied = load_course(REPO), load_course(folder)
    solution = Submission("solutions", {"exercise3.py": REPO / "solutions" / "exercise3.py"})

    runner.grade(course, [solution], [course.exercise("exercise3")], zygote=zygote)
    run = runner.grade(copied, [solution], [copied.exercise("exercise3")], zygote=zygote)

    tests = {t.name: t for t in run.results[0].exercises[0].tests}
    assert "the copy's own suite ran" in tests["test_parameters_are_registered"].message


# ---------------------------------------------------------------------------
# Public answers are no key to the final grade (issue 23, part 6)
# ---------------------------------------------------------------------------
LOOKUP_TABLE = '''"""Implements nothing: answers the public tests from the student copy's recorded values."""
import torch

ANSWERS = {answers!r}


def _answer(name, first):
    found = ANSWERS.get((name, tuple(first.shape), round(float(first.flatten()[0]), 4)))
    if found is None:
        return torch.zeros(first.shape)
    shape, values = found
    return torch.tensor(values, dtype=torch.float32).reshape(shape)


def dloss_fn(y_hat, y):
    return _answer("dloss_fn", y_hat)


def dmodel_dw(x, w, b):
    return _answer("dmodel_dw", x)


def dmodel_db(x, w, b):
    return _answer("dmodel_db", x)


def grad_fn(x, y, y_hat, w, b):
    return _answer("grad_fn", x)
'''


class _Capturing:
    """A reference source that keeps every question it was asked and its recorded answer."""

    def __init__(self, inner) -> None:
        self.inner, self.asked = inner, []

    def reference(self, exercise):
        subject, asked = self.inner.reference(exercise), self.asked

        class Subject:
            def run(self, request):
                reply = subject.run(request)
                asked.append((request, reply))
                return reply

            def run_many(self, requests):
                return [self.run(r) for r in requests]

        return Subject()

    def mistakes(self, exercise):
        return self.inner.mistakes(exercise)


def test_a_file_of_the_copys_recorded_answers_scores_nothing_in_the_final_grading(release, zygote, tmp_path):
    """The lookup table a student can build from their copy (its public suites, seed and recordings) passes
    the public tests at home, and earns 0 in `grade batch`, which grades at the class record's own seed."""
    from grader.commands.batch import controller
    from grader.record import classbook
    from grader.course.submissions import Submission
    from grader.engine import runner
    from grader.engine.recordings import RecordedSolutions

    copy = load_course(release)
    spec = copy.exercise("exercise2")
    capturing = _Capturing(RecordedSolutions(copy.recordings))
    runner.grade(copy, [Submission("stub", {spec.filename: spec.stub})], [spec], zygote=zygote, references=capturing)
    answers = {(r.target, tuple(r.args[0].shape), round(float(r.args[0].flatten()[0]), 4)):
               (tuple(reply.value.shape), reply.value.flatten().tolist()) for r, reply in capturing.asked}
    assert len(answers) >= 6  # dloss_fn and grad_fn, three shapes each
    table = tmp_path / "class" / "lookup" / spec.filename
    table.parent.mkdir(parents=True)
    table.write_text(LOOKUP_TABLE.format(answers=answers))

    at_home = runner.grade(copy, [Submission("lookup", {spec.filename: table})], [spec], zygote=zygote)
    assert at_home.results[0].exercises[0].score >= 6, [t.message[:200] for t in at_home.results[0].exercises[0].tests]

    course = load_course(REPO)
    outcome = controller.run_batch(tmp_path / "class", tmp_path / "out", course, exercise_ids=["exercise2"], jobs=1)
    graded = {r.submission: r for r in classbook.collect_results(tmp_path / "out")}["lookup"]
    assert graded.exercises[0].score == 0
    assert graded.seed != course.seed and not outcome.notes
    assert "grading_seed" not in (release / "course.toml").read_text()
