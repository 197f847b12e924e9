"""The figures the documentation would otherwise type: how many tests the grader's
own suite holds (the fast ones `pytest` runs, and the slow ones `pytest -m slow`
adds), and, when asked, how long each of those runs and `grade verify` take on
this machine.

    python benchmarks/suite_figures.py                  # counts only (pytest --collect-only)
    python benchmarks/suite_figures.py --time verify    # also time `grade verify`
    python benchmarks/suite_figures.py --time pytest --time slow --time verify

Timing the whole suite takes as long as the suite: run it on a quiet machine,
not beside other work. Nothing is asserted; it prints.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMMANDS = {
    "pytest": [sys.executable, "-m", "pytest", "-q"],
    "slow": [sys.executable, "-m", "pytest", "-q", "-m", "slow"],
    "verify": [sys.executable, "-c", "from grader.cli import run; run()", "verify"],
}


def collected(marker: str) -> int:
    """How many tests `pytest -m MARKER` would run (collection only: nothing runs)."""
    outcome = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0",
                              "-m", marker], cwd=REPO, capture_output=True, text=True, check=False)
    found = re.search(r"(\d+)(?:/\d+)? tests? collected", outcome.stdout)
    if found is None:
        sys.exit(f"pytest --collect-only said:\n{outcome.stdout[-2000:]}{outcome.stderr[-2000:]}")
    return int(found.group(1))


def wall_time_s(command: list[str]) -> tuple[float, int]:
    started = time.perf_counter()
    outcome = subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started, outcome.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time", action="append", choices=sorted(COMMANDS), default=[],
                        help="also time this command (repeatable)")
    args = parser.parse_args()
    print(f"pytest: {collected('not slow')} tests (the slow ones skipped)")
    print(f"pytest -m slow: {collected('slow')} tests")
    for name in args.time:
        elapsed_s, status = wall_time_s(COMMANDS[name])
        print(f"{' '.join(COMMANDS[name][2:]) if name != 'verify' else 'grade verify'}: "
              f"{elapsed_s:.0f} s wall (exit status {status})")


if __name__ == "__main__":
    main()
