"""The closed set of verdicts: the reference's table (docs/reference.md) lists exactly the members of ``Verdict``."""
from __future__ import annotations

import json
import re
from pathlib import Path

from grader.verdicts import Verdict

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "reference.md"


def test_the_reference_table_lists_every_verdict_and_nothing_else():
    rows = re.findall(r"^\| \*([^*]+)\* \| (.+) \|$", REFERENCE.read_text(), flags=re.M)
    assert [(name, meaning) for name, meaning in rows] == [(v.value, v.explanation) for v in Verdict]


def test_a_verdict_reads_and_serialises_as_its_words():
    assert str(Verdict.TIME_LIMIT) == f"{Verdict.TIME_LIMIT}" == "time limit"
    assert json.dumps({"verdict": Verdict.CRASHED}) == '{"verdict": "crashed"}'
    assert Verdict("import error") is Verdict.IMPORT_ERROR
