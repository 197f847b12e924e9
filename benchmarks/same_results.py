"""Whether two OUT folders hold the same grades: before and after a speed change.

    python benchmarks/same_results.py OUT_BEFORE OUT_AFTER

Grade the same submissions at the same seed twice (say `bench_batch.py
--keep DIR` with two graders, or `--against REF`), then compare: the
gradebook.csv, every submission's results.json and report.html, and every
table of the class record (gradebook.sqlite). What differs by nature from
one run to the next is left out: timings (``elapsed_s``, ``execution_time``,
"in 1.2 s"), dates (columns ending ``_at``), row ids (columns ``id`` and
``*_id`` but ``exercise_id``) and the grader's version; and the hash of a
wrong answer's mark (``m:``/``w:`` in ``answers`` and ``answer_marks``; its
status is compared): a wrong answer that holds a model's random start (an
Inspect of a freshly built module) hashes differently at every run, the same
grader twice included. Prints what differs
and exits 1 when anything does; prints a one-line summary and exits 0 when
nothing does.
"""
from __future__ import annotations

import csv
import json
import re
import sqlite3
import sys
from pathlib import Path
from typing import Any

VOLATILE_KEYS = {"elapsed_s", "execution_time"}
# Timings and dates in text: "in 1.23 s", "23.894", "2026-12-07 20:35" (a report's footer, a summary line).
VOLATILE_TEXT = re.compile(r"\d+(\.\d+)? ?(s|ms|seconds)\b"
                           r"|\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?(\.\d+)?(Z|[+-]\d\d:\d\d)?")

WRONG_ANSWER_HASH = re.compile(r"\b([mw]):[0-9a-f]{10}\b")


def steady_text(text: str) -> str:
    return WRONG_ANSWER_HASH.sub(r"\1:#", VOLATILE_TEXT.sub("<t>", text))


def steady(value: Any) -> Any:
    """A results.json value without what changes between two runs of the same grading."""
    if isinstance(value, dict):
        return {k: steady(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [steady(v) for v in value]
    if isinstance(value, str):
        return steady_text(value)
    return value


def steady_column(name: str) -> bool:
    return not (name == "id" or (name.endswith("_id") and name != "exercise_id") or name.endswith("_at")
                or name in VOLATILE_KEYS or name == "grader_version")


def record_rows(path: Path) -> dict[str, list[tuple]]:
    """Every table of a class record: its steady columns, rows sorted."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        found = {}
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from the record itself
            keep = [i for i, column in enumerate(cursor.description) if steady_column(column[0])]
            found[table] = sorted((tuple(steady_text(repr(row[i])) for i in keep) for row in cursor), key=repr)
        return found


def differences(before: Path, after: Path) -> list[str]:
    found = []
    books = [list(csv.reader((out / "gradebook.csv").open(encoding="utf-8"))) for out in (before, after)]
    if books[0] != books[1]:
        found.append("gradebook.csv differs")
    names = [sorted(p.name for p in (out / "submissions").iterdir()) for out in (before, after)]
    if names[0] != names[1]:
        found.append(f"submissions differ: {sorted(set(names[0]) ^ set(names[1]))[:10]}")
    for name in sorted(set(names[0]) & set(names[1])):
        for filename, read in (("results.json", lambda p: steady(json.loads(p.read_text(encoding="utf-8")))),
                               ("report.html", lambda p: steady(p.read_text(encoding="utf-8")))):
            a, b = (out / "submissions" / name / filename for out in (before, after))
            if a.exists() != b.exists() or (a.exists() and read(a) != read(b)):
                found.append(f"submissions/{name}/{filename} differs")
    records = [record_rows(out / "gradebook.sqlite") for out in (before, after)]
    for table in sorted(set(records[0]) | set(records[1])):
        if records[0].get(table) != records[1].get(table):
            found.append(f"gradebook.sqlite table {table} differs "
                         f"({len(records[0].get(table, []))} rows before, {len(records[1].get(table, []))} after)")
    return found


def main() -> int:
    before, after = (Path(a) for a in sys.argv[1:3])
    found = differences(before, after)
    for line in found:
        print(line)
    count = len(list((after / "submissions").iterdir()))
    print(f"{'DIFFERENT' if found else 'same'}: {count} submissions' gradebook rows, results.json, report.html "
          "and class record compared (timings, dates and row ids aside)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
