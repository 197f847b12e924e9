"""The README's wall table states every limit of ``Limits`` with its default."""
from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from grader.sandbox.limits import Limits

README = Path(__file__).resolve().parent.parent / "README.md"


def _wall_rows() -> list[tuple[str, str]]:
    section = README.read_text().split("## The sandbox: what it guarantees, and its limits", 1)[1]
    table = next(block for block in section.split("\n\n") if block.startswith("| wall |"))
    rows = re.findall(r"^\| (.+?) \| (.*?) \| .+ \|$", table, flags=re.MULTILINE)
    return [(wall, default) for wall, default in rows if wall != "wall" and not set(wall) <= {"-", " "}]


@pytest.mark.parametrize("name", [field.name for field in fields(Limits)])
def test_the_readme_wall_table_names_each_limit_with_its_default(name):
    rows = [(wall, default) for wall, default in _wall_rows() if f"`{name}`" in wall]
    assert len(rows) == 1, f"the README's wall table names `{name}` in {len(rows)} rows"
    default = rows[0][1]
    value = getattr(Limits(), name)
    assert re.search(rf"(?<![\d.]){value:g}(?![\d.])", default), (name, value, default)
