"""Reading what students hand in, and naming it: one boundary, bounded readers, names of their own.

No sandbox here: the readers (notebooks, zips, folders, entry names) are fed
hostile and garbled inputs directly, and a property-based test (hypothesis)
checks that nothing raises out of the one boundary, ``read_submission``. The
same inputs through ``grade batch`` are tests/test_hostile_batch.py's.
"""
from __future__ import annotations

import json
import os
import struct
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.commands.batch import entries, worker
from grader.course import archives, names, notebooks
from grader.course.submissions import SubmissionError, read_submission
from grader.record import exports, roster
from grader.record.database import ClassRecord
from grader.results import ExerciseResult, SubmissionResult, TestResult

FILENAMES = ["exercise1.py", "exercise2.py"]


def deep_notebook(depth: int = 600) -> bytes:
    """A valid notebook whose cell metadata nests lists ``depth`` deep (3 KB at 600)."""
    nested: list = []
    for _ in range(depth):
        nested = [nested]
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "id": "a", "metadata": {"x": nested}, "outputs": [], "execution_count": None,
         "source": "def model(x, w, b):\n    return x * w + b\n"}]}).encode()


def plain_notebook(source: str = "x = 1\n") -> bytes:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "id": "a", "metadata": {}, "outputs": [], "execution_count": None,
         "source": source}]}).encode()


# ---------------------------------------------------------------------------
# Notebooks: bounded before nbformat sees them
# ---------------------------------------------------------------------------
def test_a_notebook_nested_600_deep_is_refused_in_plain_words_not_a_recursion_error(tmp_path):
    path = tmp_path / "exercise1.ipynb"
    path.write_bytes(deep_notebook())
    assert len(path.read_bytes()) < 4000
    with pytest.raises(notebooks.NotebookError, match="nested more than 100 levels"):
        notebooks.read_module(path)
    shallow = tmp_path / "shallow.ipynb"
    shallow.write_bytes(deep_notebook(20))  # widget state and outputs nest a little: still read
    assert "def model" in notebooks.read_module(shallow).source


@pytest.mark.parametrize("make, words", [
    (lambda: {"nbformat": 4, "nbformat_minor": 5, "metadata": {"w": [0] * 1001}, "cells": []},
     "more than 1,000 values"),
    (lambda: json.loads(plain_notebook()) | {"cells": json.loads(plain_notebook())["cells"] * 11}, "11 cells, more than"),
])
def test_a_notebook_with_too_many_values_or_cells_is_refused_before_nbformat_reads_it(make, words, monkeypatch):
    import nbformat

    monkeypatch.setattr(notebooks, "MAX_JSON_VALUES", 1000)  # a million, in use: smaller here, for speed
    monkeypatch.setattr(notebooks, "MAX_CELLS", 10)
    monkeypatch.setattr(nbformat, "read", lambda *a, **k: pytest.fail("nbformat was given it"))
    with pytest.raises(notebooks.NotebookError, match=words):
        notebooks.read_notebook(json.dumps(make()).encode(), "n.ipynb")


def test_anything_nbformat_raises_is_the_notebook_s_problem(monkeypatch):
    import nbformat

    def explode(*args, **kwargs):
        raise IndexError("nbformat tripped")

    monkeypatch.setattr(nbformat, "read", explode)
    with pytest.raises(notebooks.NotebookError, match=r"not a valid notebook \(IndexError\)"):
        notebooks.read_notebook(plain_notebook(), "n.ipynb")


# ---------------------------------------------------------------------------
# The one boundary
# ---------------------------------------------------------------------------
def test_grade_submission_of_a_deep_notebook_is_a_refusal_not_an_exception(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_bytes(deep_notebook())
    submission = read_submission(path, ["exercise1.py"])
    assert submission.name == "nb" and not submission.files
    assert "nested more than 100 levels" in submission.problem
    with pytest.raises(SubmissionError):  # a path that is no submission is still the user's mistake (exit 2)
        read_submission(tmp_path / "missing", ["exercise1.py"])


def test_a_batch_entry_that_makes_a_reader_raise_anything_is_that_entry_s_refusal(tmp_path, monkeypatch):
    from grader.course import submissions

    entry = tmp_path / "alice"
    entry.mkdir()
    (entry / "exercise1.py").write_text("x = 1\n")
    for error in (RecursionError(), MemoryError(), UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"),
                  PermissionError(13, "Permission denied"), zipfile.BadZipFile("x"), KeyError("\x1b[2Jforged")):
        def explode(*args, error=error, **kwargs):
            raise error

        monkeypatch.setattr(submissions, "from_entry", explode)
        read = read_submission(entry, FILENAMES, name="alice", unpack_to=tmp_path / "zip")
        assert read.name == "alice" and read.problem.startswith("alice: ") and not read.files, error
        assert "\x1b" not in read.problem and "Traceback" not in read.problem


def test_a_fifo_named_like_a_zip_or_a_notebook_is_refused_without_being_opened(tmp_path):
    for name in ("x.zip", "x.ipynb"):
        os.mkfifo(tmp_path / name)  # opening it would wait for a writer for ever
        read = read_submission(tmp_path / name, FILENAMES, name="x", unpack_to=tmp_path / "zip")
        assert "it was not graded" in read.problem and not read.files


def test_an_entry_refused_for_its_name_is_not_read_and_keeps_its_notes(tmp_path):
    read = worker.read_entry({"name": "x", "path": str(tmp_path / "nowhere"), "refused": "bad name",
                              "notes": ["maybe bob's"]}, FILENAMES, tmp_path / "zip")
    assert read.problem == "bad name" and read.notes == ("maybe bob's",) and not (tmp_path / "zip").exists()


def test_a_zip_whose_directory_is_too_large_is_refused_before_zipfile_parses_it(tmp_path, monkeypatch):
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for number in range(5000):
            archive.writestr(f"{'x' * 200}{number}.txt", "")
    monkeypatch.setattr(zipfile, "ZipFile", lambda *a, **k: pytest.fail("zipfile parsed it"))
    with pytest.raises(archives.UnsafeArchive, match="more than the 200 allowed"):
        archives.extract_sources(path, tmp_path / "out", FILENAMES)
    # The count may lie: the directory's size is bounded on its own.
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 3, 3)
    path.write_bytes(bytes(data))
    with pytest.raises(archives.UnsafeArchive, match="directory is"):
        archives.extract_sources(path, tmp_path / "out", FILENAMES)


def test_a_zip_member_with_a_name_longer_than_a_file_name_refuses_the_zip():
    info = zipfile.ZipInfo("a" * 300 + "/exercise1.py")
    with pytest.raises(archives.UnsafeArchive, match="longer than 255"):
        archives.plan_extraction([info], FILENAMES)


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------
def _entries(tmp_path: Path, folders=(), files=()) -> list[entries.Entry]:
    for name in folders:
        (tmp_path / name).mkdir()
    for name in files:
        (tmp_path / name).write_bytes(b"")
    return entries.name_entries(sorted(tmp_path.iterdir()))


def test_bob_bob_zip_and_bob_zip_ipynb_are_three_entries_each_flagged_as_maybe_bob(tmp_path):
    named = _entries(tmp_path, folders=["bob"], files=["bob.zip", "bob.zip.ipynb", "alice.zip"])
    assert [e.name for e in named] == ["alice", "bob", "bob.zip", "bob.zip.ipynb"]
    assert named[0].notes == ()
    for entry in named[1:]:
        assert len(entry.notes) == 1 and all(n in entry.notes[0] for n in ("bob", "bob.zip", "bob.zip.ipynb"))


def test_no_two_entries_carry_the_same_name_even_ignoring_case(tmp_path):
    named = _entries(tmp_path, folders=["Carol", "x.zip"], files=["carol.zip", "x.zip.zip", "dave.py", "Dave.ipynb"])
    carried = [e.name for e in named]
    assert len({n.casefold() for n in carried}) == len(carried) == 6
    assert set(carried) == {"Carol", "carol.zip", "x.zip", "x.zip.zip", "dave.py", "Dave.ipynb"}


@pytest.mark.parametrize("raw", ["evil\nalice,graded,10", "\x1b[2Jclear", "bidi\u202eexe.zip", "c1\x9bnext",
                                 "zero\u200bwidth", "not-utf8-\udcff"])
def test_a_name_with_control_or_invisible_characters_is_refused_and_carried_escaped(raw):
    (entry,) = names.unique_names([(raw, True)])
    assert entry.refused and "rename it" in entry.refused
    assert entry.name.isprintable() and not names.has_unsafe_characters(entry.name)
    assert entry.name in entry.refused


def test_escaping_never_makes_two_names_one():
    assert names.carried_name("a\x1b") != names.carried_name("a\\x1b")
    long_names = ["\x1b" * 250 + "a", "\x1b" * 250 + "b"]
    carried = [names.carried_name(n) for n in long_names]
    assert carried[0] != carried[1] and all(len(c.encode()) <= names.MAX_NAME_BYTES for c in carried)


def test_hidden_entries_are_listed_escaped(tmp_path):
    (tmp_path / ".\x1b[31mred").mkdir()
    (tmp_path / "alice").mkdir()
    listed, hidden = entries.list_entries(tmp_path)
    assert [e.name for e in listed] == ["alice"] and hidden == [".\\x1b[31mred"]


# ---------------------------------------------------------------------------
# Exports never guess which of a student's entries counts
# ---------------------------------------------------------------------------
def _graded(name: str, points: float) -> SubmissionResult:
    tests = (TestResult(name="test_a", title="a", max_points=10.0, passed=points == 10.0),)
    return SubmissionResult(submission=name, seed=0, exercises=(ExerciseResult("exercise1", "Exercise 1", tests, seed=0),))


def test_an_export_refuses_a_roster_line_that_could_mean_several_entries(tmp_path):
    with ClassRecord.open(tmp_path / "out") as record:
        run = record.begin_run(grader_version="0", seed=0, course_title="c", course_fingerprint="f",
                               exercise_ids=["exercise1"])
        for name, points in (("bob", 0.0), ("bob.zip", 10.0), ("bob.zip.ipynb", 0.0), ("alice", 10.0)):
            record.store(run, _graded(name, points), files_hash=name)
        students = roster.parse_roster("submission,id\nalice,1\nbob,2\n")
        for format in exports.FORMATS:
            with pytest.raises(roster.RosterError) as refused:
                exports.export(record, format=format, students=students, path=tmp_path / "e.csv", assignment="hw")
            assert "line 3 (bob) could mean any of bob, bob.zip, bob.zip.ipynb" in str(refused.value)
        assert not (tmp_path / "e.csv").exists()
        record.prune(["alice", "bob.zip"], run_id=run,  # the others moved out of SUBMISSIONS, then --prune
                     reason="no longer in the submissions folder (--prune)")
        students = roster.parse_roster("submission,id\nalice,1\nbob.zip,2\n")
        outcome = exports.export(record, format="canvas", students=students, path=tmp_path / "e.csv", assignment="hw")
        assert outcome.written == ("alice", "bob.zip")


# ---------------------------------------------------------------------------
# Property: nothing raises out of the boundary
# ---------------------------------------------------------------------------
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                    max_leaves=40)
NOTEBOOK_KEYS = st.fixed_dictionaries({}, optional={
    "nbformat": st.integers(-1, 6) | JSON, "nbformat_minor": st.integers(-1, 6) | JSON, "metadata": JSON,
    "cells": st.lists(st.fixed_dictionaries({}, optional={
        "cell_type": st.sampled_from(["code", "markdown", "raw"]) | JSON, "source": st.text(max_size=40) | JSON,
        "metadata": JSON, "outputs": JSON, "execution_count": JSON, "id": JSON}), max_size=4) | JSON,
    "worksheets": JSON})
# A file name: any characters but "/" and NUL, at most 255 bytes (what a folder can hold).
FILE_NAMES = st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1,
                     max_size=40).filter(lambda n: n not in (".", "..") and len(n.encode()) <= 255)


def _garbled(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    mutable = bytearray(data)
    for position, value in flips:
        if mutable:
            mutable[position % len(mutable)] = value
    return bytes(mutable)


@st.composite
def notebook_bytes(draw) -> bytes:
    kind = draw(st.sampled_from(["json", "deep", "garbled", "bytes"]))
    if kind == "json":
        return json.dumps(draw(NOTEBOOK_KEYS)).encode()
    if kind == "deep":
        return deep_notebook(draw(st.integers(90, 700)))
    if kind == "garbled":
        return _garbled(plain_notebook(), draw(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)),
                                                        max_size=6)))
    return draw(st.binary(max_size=200))


@st.composite
def zip_bytes(draw, tmp: Path) -> bytes:
    path = tmp / "made.zip"
    path.unlink(missing_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in draw(st.lists(st.tuples(st.text(max_size=30) | st.sampled_from(
                ["exercise1.py", "a/exercise1.py", "nb.ipynb", "../x.py", "/abs.py"]),
                notebook_bytes() | st.binary(max_size=60)), max_size=5)):
            archive.writestr(name or "empty", data)
    flips = draw(st.lists(st.tuples(st.integers(0, 100_000), st.integers(0, 255)), max_size=4))
    return _garbled(path.read_bytes(), flips)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("garbled")


@pytest.mark.filterwarnings("ignore:Duplicate name")  # zipfile's, while the test makes a zip
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_garbled_notebooks_zips_and_names_never_raise_out_of_the_boundary(data, scratch):
    case = scratch / f"case{len(os.listdir(scratch))}"
    case.mkdir()
    raw_name = data.draw(FILE_NAMES, label="name")
    kind = data.draw(st.sampled_from(["notebook", "zip", "folder"]), label="kind")
    if kind == "notebook":
        path = case / f"{raw_name[:200]}.ipynb"
        path.write_bytes(data.draw(notebook_bytes()))
    elif kind == "zip":
        path = case / f"{raw_name[:200]}.zip"
        path.write_bytes(data.draw(zip_bytes(case)))
    else:
        path = case / raw_name
        path.mkdir()
        (path / "exercise2.ipynb").write_bytes(data.draw(notebook_bytes()))
        (path / data.draw(st.sampled_from(["exercise1.py", "other.ipynb", "x.py"]))).write_bytes(b"x = 1\n")
    (named,) = entries.name_entries([path])
    assert not names.has_unsafe_characters(named.name)
    for exercise_filenames in (FILENAMES, ["exercise1.py"]):
        read = worker.read_entry(named.job(), exercise_filenames, case / f"unpacked{len(exercise_filenames)}")
        assert read.name == named.name
        assert read.problem is None or "Traceback" not in read.problem
        for filename in read.files:
            read.module_source(filename) if filename not in read.file_problems else None
        if kind == "notebook":
            read_submission(path, exercise_filenames)  # grade --submission: a refusal at worst


def test_grade_exercise_with_a_600_deep_notebook_prints_a_refusal_not_a_traceback(monkeypatch, course, tmp_path):
    from click.testing import CliRunner

    from grader.cli import main

    monkeypatch.chdir(course.root)
    notebook = tmp_path / "nb.ipynb"
    notebook.write_bytes(deep_notebook())
    result = CliRunner().invoke(main, ["exercise1", "--submission", str(notebook), "--json"])
    assert result.exit_code == 1, result.output  # points missing: a verdict, not a crash (3) or a usage error (2)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    data = json.loads(result.stdout)
    assert data["score"] == 0 and "nested more than 100 levels" in data["output"]
    assert "Traceback" not in result.output and "RecursionError" not in result.output
