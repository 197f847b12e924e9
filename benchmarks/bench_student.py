"""How long a student waits: `grade exercise3` on a correct submission versus
`python -c "import torch"`, measured side by side on this machine.

    python benchmarks/bench_student.py [--runs 5] [--exercise exercise3]

Prints the median wall time of each and their ratio (the target is <= 1.5).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def wall_time(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--exercise", default="exercise3")
    args = parser.parse_args()
    grade = shutil.which("grade") or str(Path(sys.executable).parent / "grade")
    with tempfile.TemporaryDirectory() as scratch:
        submission = Path(scratch) / f"{args.exercise}.py"
        shutil.copy(REPO / "solutions" / f"{args.exercise}.py", submission)
        commands = {
            'python -c "import torch"': [sys.executable, "-c", "import torch"],
            f"grade {args.exercise}": [grade, args.exercise, "--submission", str(submission),
                                       "--report", str(Path(scratch) / "report.html")],
        }
        wall_time(commands['python -c "import torch"'], REPO)  # warm the page cache once
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):  # interleaved, so both see the same machine state
            for name, command in commands.items():
                times[name].append(wall_time(command, REPO))
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, values in times.items():
        print(f"{name:<28} median {medians[name]:.2f} s   runs: {' '.join(f'{v:.2f}' for v in values)}")
    baseline, ours = medians['python -c "import torch"'], medians[f"grade {args.exercise}"]
    print(f"ratio: {ours / baseline:.2f}x  (target <= 1.5x)")


if __name__ == "__main__":
    main()
