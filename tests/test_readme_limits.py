"""The reference's wall table (docs/reference.md, "Limits") states every limit of ``Limits`` with its default."""
from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from grader.sandbox.limits import Limits

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "reference.md"


def _wall_rows() -> list[tuple[str, str]]:
    section = REFERENCE.read_text().split("\n## Limits\n", 1)[1].split("\n## ", 1)[0]
    table = next(block for block in section.split("\n\n") if block.startswith("| wall |"))
    rows = re.findall(r"^\| (.+?) \| (.*?) \| .+ \|$", table, flags=re.MULTILINE)
    return [(wall, default) for wall, default in rows if wall != "wall" and not set(wall) <= {"-", " "}]


@pytest.mark.parametrize("name", [field.name for field in fields(Limits)])
def test_the_reference_wall_table_names_each_limit_with_its_default(name):
    rows = [(wall, default) for wall, default in _wall_rows() if f"`{name}`" in wall]
    assert len(rows) == 1, f"the reference's wall table names `{name}` in {len(rows)} rows"
    default = rows[0][1]
    value = getattr(Limits(), name)
    assert re.search(rf"(?<![\d.]){value:g}(?![\d.])", default), (name, value, default)
