"""A full disk never loses the class (issue 23 §4): a result that cannot be stored is named for its entry,
the batch goes on, and everything stored stays readable and exportable."""
from __future__ import annotations

import sqlite3

from test_batch import _folders, _gradebook, fake_class  # noqa: F401 - a fixture

from grader.commands.batch import controller
from grader.record.database import ClassRecord, RecordFull
from grader.record.schema import is_disk_full


def test_a_full_disk_costs_only_the_entry_being_stored(course, fake_class, tmp_path, monkeypatch):  # noqa: F811
    command, subs = fake_class
    _folders(subs, "alice", "bob", "carol")
    real_store = ClassRecord._store

    def store_until_the_disk_fills(self, run_id, result, *rest):
        if result.submission == "bob":
            raise sqlite3.OperationalError("database or disk is full")
        return real_store(self, run_id, result, *rest)

    monkeypatch.setattr(ClassRecord, "_store", store_until_the_disk_fills)
    out = tmp_path / "out"
    outcome = controller.run_batch(subs, out, course, jobs=1, command=command)

    assert outcome.unstored == ["bob"] and outcome.exit_status == 3
    assert any("'bob'" in note and "disk is full" in note and "--resume" in note for note in outcome.notes)
    assert sorted(outcome.graded) == ["alice", "bob", "carol"]
    rows = {row[0]: row for row in _gradebook(out)[2:]}
    assert set(rows) == {"alice", "carol"} and rows["carol"][1] == "graded"
    monkeypatch.undo()
    with ClassRecord.open(out) as record:  # still readable, and what it holds is whole
        assert [c.submission for c in record.current()] == ["alice", "carol"]
        assert all(c.total == 5 * len(course.ids) for c in record.current())


def test_the_record_names_a_full_disk_and_keeps_what_it_had(tmp_path):
    error = sqlite3.OperationalError("database or disk is full")
    assert is_disk_full(error) and is_disk_full(OSError(28, "No space left on device"))
    assert not is_disk_full(sqlite3.OperationalError("no such table: x"))
    assert "could not be stored" in str(RecordFull("bob", error))
