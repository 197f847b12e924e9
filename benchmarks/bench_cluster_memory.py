"""The client's memory on a cluster: flat in the number of submissions?

    python benchmarks/bench_cluster_memory.py [--sizes 1000 10000] [--scheduler local:2]

For each size N, generates N small submissions of ONE exercise (exercise1:
half the solution, half the stub; one exercise keeps 10,000 submissions
feasible on a 2-core machine) and grades them with ``grade batch --exercise
exercise1 --scheduler S`` in a fresh client process, which then reports its
own peak RSS (``ru_maxrss`` of that process alone: the worker processes are
not counted; with ``local:N`` the Dask scheduler runs inside the client, so
it is counted). Prints, per N: wall time, throughput, the client's peak RSS
while grading and at the end (after OUT's gradebook and summary are rebuilt
from the class record, as a local batch does), and their growth per 1,000
submissions. Asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# The client: this checkout's CLI, then its own peak RSS (KB on Linux) on stderr: once when grading is
# over (before OUT's gradebook and summary are rebuilt from the class record), and once at the end.
CLIENT = """
import resource, sys
sys.path.insert(0, {repo!r})
from grader.cli import main
from grader.commands.batch import controller
rebuild = controller.build_outputs_from_record
def measured(*args, **kwargs):
    print("GRADED_RSS_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
    return rebuild(*args, **kwargs)
controller.build_outputs_from_record = measured
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    print("PEAK_RSS_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def generate(folder: Path, n: int) -> None:
    solution = (REPO / "solutions" / "exercise1.py").read_bytes()
    stub = (REPO / "exercises" / "exercise1.py").read_bytes()
    for number in range(n):
        entry = folder / f"student{number:05d}"
        entry.mkdir()
        (entry / "exercise1.py").write_bytes(solution if number % 2 == 0 else stub)


def grade(subs: Path, out: Path, scheduler: str) -> tuple[float, int, int, str]:
    command = [sys.executable, "-c", CLIENT.format(repo=str(REPO)), "batch", str(subs), "--out", str(out),
               "--exercise", "exercise1", "--scheduler", scheduler]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    found = {line.split()[0]: int(line.split()[1]) for line in done.stderr.splitlines()
             if line.startswith(("PEAK_RSS_KB", "GRADED_RSS_KB"))}
    if "PEAK_RSS_KB" not in found:
        raise SystemExit(f"the client did not finish:\n{done.stderr[-3000:]}")
    graded = sum(1 for _ in out.glob("submissions/*/results.json"))
    return elapsed, found.get("GRADED_RSS_KB", 0), found["PEAK_RSS_KB"], f"{graded} results.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--scheduler", default="local:2")
    parser.add_argument("--keep", type=Path, help="keep the submissions and OUT here")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-cluster-memory-")) if args.keep is None else args.keep
    rows = []
    try:
        for n in args.sizes:
            subs = scratch / f"subs-{n}"
            subs.mkdir(parents=True)
            generate(subs, n)
            elapsed, graded_kb, peak_kb, graded = grade(subs, scratch / f"out-{n}", args.scheduler)
            rows.append({"submissions": n, "wall_s": round(elapsed, 1), "subs_per_s": round(n / elapsed, 1),
                         "client_peak_rss_mb_while_grading": round(graded_kb / 1024, 1),
                         "client_peak_rss_mb": round(peak_kb / 1024, 1), "graded": graded})
            print(json.dumps(rows[-1]), flush=True)
            shutil.rmtree(subs)
        if len(rows) > 1:
            first, last = rows[0], rows[-1]
            for key, what in (("client_peak_rss_mb_while_grading", "while grading"),
                              ("client_peak_rss_mb", "at the end (OUT rebuilt from the record)")):
                growth = (last[key] - first[key]) / ((last["submissions"] - first["submissions"]) / 1000)
                print(f"client peak RSS {what}: {first[key]} MB at {first['submissions']}, {last[key]} MB at "
                      f"{last['submissions']} submissions ({growth:+.2f} MB per 1,000 more)")
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
