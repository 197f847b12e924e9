"""`grade watch` against a cold `grade exerciseN`, side by side in one run.

For each exercise: start `grade watch EXERCISE --submission FOLDER`, then save
the file SAVES times (the stub and the solution in turn, so every save changes
the verdict) and time each save from the moment the file is written to the
moment `grade watch` prints its verdict; then time a cold `grade EXERCISE` on
the same file COLD times. Also the watch process's resident memory (with its
zygote's) after the first and the last save, to show it stays flat.

    python benchmarks/bench_watch.py                       # every exercise, 50 saves, 3 cold runs
    python benchmarks/bench_watch.py --exercise exercise1 --saves 500   # memory over 500 saves
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GRADE = [sys.executable, "-m", "grader"]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants (the zygote and its rooms), in MB."""
    total, frontier = 0, [pid]
    while frontier:
        current = frontier.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        frontier.extend(int(c) for c in children)
    return total / 1024


def watch_saves(exercise: str, versions: list[str], saves: int) -> tuple[list[float], float, float]:
    folder = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    target = folder / f"{exercise}.py"
    target.write_text(versions[0])
    process = subprocess.Popen([*GRADE, "watch", exercise, "--submission", str(folder), "--no-report",
                                "--course", str(REPO)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               cwd=folder, env={**os.environ, "COLUMNS": "200"})
    assert process.stdout is not None

    def until_graded() -> None:
        for line in process.stdout:
            if "graded in" in line:
                return
        raise RuntimeError(f"grade watch stopped: exit {process.wait()}")

    until_graded()
    times, first_mb = [], 0.0
    try:
        for number in range(saves):
            started = time.perf_counter()
            target.write_text(versions[(number + 1) % len(versions)])
            until_graded()
            times.append(time.perf_counter() - started)
            if number == 0:
                first_mb = rss_mb(process.pid)
        last_mb = rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    return times, first_mb, last_mb


def cold_runs(exercise: str, source: str, runs: int) -> list[float]:
    folder = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    (folder / f"{exercise}.py").write_text(source)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([*GRADE, exercise, "--submission", str(folder / f"{exercise}.py"), "--no-report",
                        "--course", str(REPO)], capture_output=True, cwd=folder, check=False)
        times.append(time.perf_counter() - started)
    shutil.rmtree(folder, ignore_errors=True)
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exercise", action="append", help="repeatable; default: every exercise")
    parser.add_argument("--saves", type=int, default=50)
    parser.add_argument("--cold", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from grader.course.catalogue import load_course

    course = load_course(REPO)
    exercises = args.exercise or [spec.id for spec in course.exercises]
    print(f"{'exercise':<11} {'watch median':>13} {'p95':>8} {'cold median':>12} {'faster':>7} "
          f"{'memory first → last save':>26}")
    for exercise in exercises:
        spec = course.exercise(exercise)
        versions = [spec.stub.read_text(), spec.solution.read_text()]
        times, first_mb, last_mb = watch_saves(exercise, versions, args.saves)
        cold = cold_runs(exercise, versions[1], args.cold)
        watch_median, cold_median = statistics.median(times), statistics.median(cold)
        print(f"{exercise:<11} {watch_median * 1000:>10.0f} ms {percentile(times, 0.95) * 1000:>5.0f} ms "
              f"{cold_median:>10.2f} s {cold_median / watch_median:>6.0f}x "
              f"{first_mb:>12.0f} MB → {last_mb:.0f} MB", flush=True)


if __name__ == "__main__":
    main()
