"""The hostile corpus: tests/hostile/*.py, each stating the verdict it must get
in `# expect-<what>: <value>` lines (verdict, message, note, points)."""
from __future__ import annotations

import re
from pathlib import Path

HOSTILE = Path(__file__).resolve().parent / "hostile"
CASES = sorted(HOSTILE.glob("*.py"))


def expectations(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^# expect-([a-z]+): (.+)$", path.read_text(errors="replace"), flags=re.MULTILINE))
