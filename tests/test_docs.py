"""The documentation site: it builds with `mkdocs build --strict` (a broken link or
anchor, or a page left out of the nav, fails it), and its reference names every
option of every command under that command."""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from grader.cli import main

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "docs" / "reference.md"


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None,
                    reason="mkdocs and mkdocs-material are not installed: pip install -e '.[docs]'")
def test_the_site_builds_strict_with_no_broken_link(tmp_path):
    outcome = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                             cwd=REPO, capture_output=True, text=True, timeout=120,
                             env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert outcome.returncode == 0, outcome.stdout[-3000:] + outcome.stderr[-3000:]
    assert (tmp_path / "site" / "reference" / "index.html").is_file()


def _reference_section(command: str) -> str:
    title = "grade exerciseN" if command == "exercise" else f"grade {command}"
    options = REFERENCE.read_text().split("\n## Options\n", 1)[1].split("\n## ", 1)[0]
    sections = re.split(r"^### ", options, flags=re.M)
    matching = [section for section in sections if section.startswith(f"`{title}`\n")]
    assert len(matching) == 1, f"docs/reference.md has {len(matching)} sections for `{title}` under Options"
    return matching[0]


@pytest.mark.parametrize("command", sorted(main.commands))
def test_the_reference_names_every_option_of_each_command(command):
    section = _reference_section(command)
    options = [p.opts[0] for p in main.commands[command].params if p.param_type_name == "option"]
    assert [o for o in options if f"`{o}`" not in section] == []
