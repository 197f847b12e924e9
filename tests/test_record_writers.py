"""Two writers on one class record at once (a second batch into the same OUT, a command storing an
override while a batch runs): the second waits for the first (``BUSY_TIMEOUT_MS``), never fails or loses a row."""
from __future__ import annotations

import sqlite3
import threading
import time

from grader.record import database
from grader.record.database import ClassRecord
from grader.results import ExerciseResult, SubmissionResult, TestResult

HELD_S = 0.6  # how long the other writer holds the write lock: well under BUSY_TIMEOUT_MS


def a_result(name: str) -> SubmissionResult:
    tests = (TestResult("test_x", "x works", 5.0, True),)
    return SubmissionResult(name, (ExerciseResult("exercise1", "e", tests, seed=0),), seed=0)


def begin(record: ClassRecord) -> int:
    return record.begin_run(grader_version="0.1.0", seed=0, course_title="c", course_fingerprint="v1",
                            exercise_ids=("exercise1",))


def hold_the_write_lock(path, held: threading.Event) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # a writer in the middle of its transaction
    other.execute("CREATE TABLE IF NOT EXISTS other_writer (x)")
    held.set()
    time.sleep(HELD_S)
    other.execute("COMMIT")
    other.close()


def test_a_second_writer_waits_for_the_first_and_stores_everything(tmp_path):
    with ClassRecord.open(tmp_path) as record:
        run = begin(record)
        held = threading.Event()
        other = threading.Thread(target=hold_the_write_lock, args=(tmp_path / database.DATABASE_FILE, held))
        other.start()
        held.wait(5)
        started = time.monotonic()
        record.store(run, a_result("ken"), files_hash="h")  # waits, then writes
        waited = time.monotonic() - started
        other.join()
        assert waited > HELD_S / 2  # it did wait for the other writer (not a lucky ordering)
        assert [c.submission for c in record.current()] == ["ken"]


def test_two_records_open_on_one_out_both_store_their_rows(tmp_path):
    names = [f"s{n:02d}" for n in range(20)]
    errors: list[BaseException] = []

    def store(share: list[str]) -> None:
        try:
            with ClassRecord.open(tmp_path) as record:
                run = begin(record)
                for name in share:
                    record.store(run, a_result(name), files_hash="h")
        except BaseException as error:
            errors.append(error)

    writers = [threading.Thread(target=store, args=(names[k::2],)) for k in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert errors == []
    with ClassRecord.open(tmp_path) as record:
        assert sorted(c.submission for c in record.current()) == names
