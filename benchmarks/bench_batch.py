"""How fast a class is graded: `grade batch` against a cold start per submission.

    python benchmarks/bench_batch.py [--n 200] [--jobs 2] [--sample 5] [--repeat 1] [--isolate exercise] [--keep DIR]
    python benchmarks/bench_batch.py --scheduler local:2 --scheduler local:1 [--n 200] [--repeat 3] [--sample 0]
    python benchmarks/bench_batch.py --against REF [--n 200] [--repeat 3] [--exercise exercise1]

Generates N synthetic submissions (correct copies of the solutions, mutants
of known mistakes, untouched stubs, and hostile ones that fail fast: sys.exit
or raise at import, os._exit in a call, a syntax error; about a fifth of
them zipped), grades them with `grade batch --jobs J` in a subprocess, and
grades a small sample the obvious other way: one fresh `grade --submission
DIR --no-report` process per submission (the same parallelism, J at a time).
Prints wall times, throughput, the largest process's peak RSS, the ratio,
and both extrapolated to 1,000 submissions x the course's exercises. With --repeat K
the batch is graded K times and the median run is reported (a shared
machine's speed varies ~10% from run to run). Prints figures; asserts
nothing about time.

With --scheduler S (repeatable: local:N, or a Dask scheduler's address),
the same submissions are also graded with `grade batch --scheduler S`, runs
alternating with the default local batch (--jobs J) so that all see the
same machine; each one's median, its throughput against the local batch's,
and whether its gradebook equals the local batch's are printed.

With --against REF (a git commit, e.g. the one before a change), the same
submissions are graded by that commit's grader (checked out in a temporary
worktree) and by this one, runs alternating so both see the same machine,
and the medians and their ratio are printed: "before and after, side by
side in one run". The CPU seconds of all processes (the steadier figure
on a shared machine) are printed beside the wall times.

With --exercise ID (repeatable), the submissions hold only those exercises'
files and every batch grades only them (`grade batch --exercise ID`).
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from grader.course.catalogue import Course, load_course  # noqa: E402  (light: no torch)

# Each hostile kind replaces every exercise file; all fail fast.
HOSTILE = {
    "exit_at_import": "import sys\nsys.exit(1)\n",
    "raise_at_import": "raise RuntimeError('refuses to be imported')\n",
    "syntax_error": "def broken(:\n    pass\n",
}
# Appended to a correct solution: every public function or class, once called, ends the process.
OS_EXIT_IN_CALL = """

import os as _os
for _name, _value in list(globals().items()):
    if callable(_value) and not _name.startswith("_") and getattr(_value, "__module__", None) == __name__:
        globals()[_name] = lambda *args, **kwargs: _os._exit(3)
"""
MIX = [("correct", 0.40), ("mutant", 0.35), ("stub", 0.15), ("hostile", 0.10)]


def submission_files(kind: str, course: Course, rng: random.Random,
                     only: Sequence[str] = ()) -> dict[str, str]:
    files = {}
    for spec in course.exercises:
        if only and spec.id not in only:
            continue
        solution = spec.solution.read_text(encoding="utf-8")
        if kind == "correct":
            files[spec.filename] = solution
        elif kind == "stub":
            files[spec.filename] = spec.stub.read_text(encoding="utf-8")
        elif kind == "mutant":  # each exercise: a known mistake, or left correct
            mistake = rng.choice([None, *spec.mistakes])
            files[spec.filename] = solution if mistake is None else spec.mutant_source(mistake)
        else:
            hostile = rng.choice([*HOSTILE, "os_exit_in_call"])
            files[spec.filename] = solution + OS_EXIT_IN_CALL if hostile == "os_exit_in_call" else HOSTILE[hostile]
    return files


def generate(folder: Path, n: int, course: Course, seed: int = 0, only: Sequence[str] = ()) -> dict[str, str]:
    """N submissions in ``folder``: about a fifth zipped (one folder down). Returns name -> kind."""
    rng = random.Random(seed)
    kinds = {}
    for number in range(n):
        kind = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX])[0]
        name = f"student{number:04d}"
        kinds[name] = kind
        files = submission_files(kind, course, rng, only)
        if rng.random() < 0.2:
            with zipfile.ZipFile(folder / f"{name}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
                for filename, text in files.items():
                    archive.writestr(f"{name}/{filename}", text)
        else:
            (folder / name).mkdir()
            for filename, text in files.items():
                (folder / name / filename).write_text(text, encoding="utf-8")
    return kinds


def grade_command() -> str:
    return shutil.which("grade") or str(Path(sys.executable).parent / "grade")


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def run_batch(subs: Path, out: Path, jobs: int, isolate: str, grader_root: Path | None = None,
              scheduler: str | None = None, exercises: Sequence[str] = ()) -> float:
    """``grade batch``; with ``grader_root``, the grader (and course) of that checkout instead of this one;
    with ``scheduler``, on that Dask cluster (this checkout's grader)."""
    arguments = ["batch", str(subs), "--out", str(out), "--jobs", str(jobs), "--isolate", isolate,
                 *(argument for exercise in exercises for argument in ("--exercise", exercise))]
    if scheduler is not None:
        arguments += ["--scheduler", scheduler]
        grader_root = REPO  # the `grade` script may be another checkout's; a cluster needs this one
    if grader_root is None:
        return timed([grade_command(), *arguments])
    boot = f"import sys; sys.path.insert(0, {str(grader_root)!r}); from grader.cli import run; run()"
    return timed([sys.executable, "-c", boot, *arguments, "--course", str(grader_root)])


def compare(subs: Path, scratch: Path, ref: str, kinds: dict[str, str], jobs: int, isolate: str,
            repeat: int, exercises: Sequence[str] = ()) -> None:
    """The same batch by ``ref``'s grader and by this one, alternating runs."""
    checkout = scratch / "against"
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(checkout), ref], cwd=REPO, check=True)
    try:
        before, after = [], []
        cpu: dict[bool, list[float]] = {False: [], True: []}  # CPU seconds of all processes: steadier under load
        graded: dict[bool, str] = {}
        for _ in range(max(1, repeat)):
            for runs, root in ((before, checkout), (after, None)):
                shutil.rmtree(scratch / "out", ignore_errors=True)
                used = resource.getrusage(resource.RUSAGE_CHILDREN)
                runs.append(run_batch(subs, scratch / "out", jobs, isolate, grader_root=root, exercises=exercises))
                now = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu[root is None].append(now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime)
                graded[root is None] = check(scratch / "out", kinds)
        b, a = statistics.median(before), statistics.median(after)
        print(f"before ({ref}): " + ", ".join(f"{r:.1f}" for r in before) + f" s; median {b:.1f} s")
        print("after (this checkout): " + ", ".join(f"{r:.1f}" for r in after) + f" s; median {a:.1f} s")
        print(f"after / before: {a / b:.3f} (throughput {100 * (b / a - 1):+.1f}%)")
        cb, ca = statistics.median(cpu[False]), statistics.median(cpu[True])
        print(f"CPU seconds, all processes: before median {cb:.1f}, after median {ca:.1f} "
              f"(after / before {ca / cb:.3f})")
        print(f"before's grades: {graded[False]}\nafter's grades: {graded[True]}")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(checkout)], cwd=REPO, check=False)


def compare_schedulers(subs: Path, scratch: Path, schedulers: list[str], kinds: dict[str, str], jobs: int,
                       isolate: str, repeat: int) -> None:
    """The local batch and each Dask scheduler on the same submissions, runs alternating."""
    labels = [None, *schedulers]
    runs: dict[str | None, list[float]] = {label: [] for label in labels}
    books: dict[str | None, list[list[str]]] = {}
    for _ in range(max(1, repeat)):
        for label in labels:
            out = scratch / f"out-{label or 'local'}".replace(":", "-").replace("/", "-")
            shutil.rmtree(out, ignore_errors=True)
            runs[label].append(run_batch(subs, out, jobs, isolate, scheduler=label))
            books[label] = [row[:-1] for row in csv.reader((out / "gradebook.csv").open())]  # notes aside
    base = statistics.median(runs[None])
    n = len(kinds)
    exercises = len(load_course(REPO).exercises)
    print(f"{n} submissions x {exercises} exercises; wall seconds per run, median; throughput vs the local batch")
    for label in labels:
        median = statistics.median(runs[label])
        name = f"grade batch --jobs {jobs}" if label is None else f"grade batch --scheduler {label}"
        same = "" if label is None else ("; same gradebook" if books[label] == books[None] else "; GRADEBOOK DIFFERS")
        print(f"  {name:<36} " + ", ".join(f"{r:.1f}" for r in runs[label]) + f" s; median {median:.1f} s, "
              f"{n / median:.2f} subs/s ({100 * (base / median - 1):+.1f}% vs local){same}")
    print(check(scratch / "out-local", kinds))


def run_baseline(folders: list[Path], jobs: int) -> float:
    """One cold `grade` process per submission, ``jobs`` at a time."""
    started = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda folder: timed([grade_command(), "--submission", str(folder), "--no-report"]), folders))
    return time.perf_counter() - started


def check(out: Path, kinds: dict[str, str]) -> str:
    """Plain figures on what the grades say (full marks for correct, zero for hostile)."""
    table = list(csv.DictReader((out / "gradebook.csv").open()))
    full = next((float(row["total"]) for row in table if row.get("status") == "maximum"),
                max(float(row["total"] or 0) for row in table))  # an older gradebook has no maximum row
    rows = {row["submission"]: float(row["total"] or "nan") for row in table
            if row["submission"] in kinds}  # not the row of maximum points
    by_kind: dict[str, list[float]] = {}
    for name, kind in kinds.items():
        by_kind.setdefault(kind, []).append(rows.get(name, float("nan")))
    verdicts: dict[str, int] = {}
    for path in [*out.glob("submissions/*/results.json"), *out.glob("*/results.json")]:  # OUT/<name>/ before
        for test in json.loads(path.read_text())["extra_data"]["torchgrade"]["exercises"]:
            for verdict in {t["verdict"] for t in test["tests"] if t["verdict"]}:
                verdicts[verdict] = verdicts.get(verdict, 0) + 1
    parts = [f"{kind}: {len(totals)} (mean {sum(totals) / len(totals):.1f}, "
             f"{sum(t == full for t in totals)} full, {sum(t == 0 for t in totals)} zero)"
             for kind, totals in sorted(by_kind.items())]
    return ("graded rows: %d of %d\n  " % (len(rows), len(kinds)) + "\n  ".join(parts)
            + "\n  verdicts (exercise results): " + ", ".join(f"{v} {n}" for v, n in sorted(verdicts.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sample", type=int, default=5, help="submissions graded the cold way")
    parser.add_argument("--repeat", type=int, default=1, help="grade the batch this many times; report the median")
    parser.add_argument("--isolate", choices=["submission", "exercise"], default="submission",
                        help="grade batch's --isolate: one sandbox per submission (default) or per exercise")
    parser.add_argument("--keep", type=Path, help="keep the submissions and OUT here")
    parser.add_argument("--exercise", action="append", default=[],
                        help="only this exercise (repeatable): in the submissions and graded")
    parser.add_argument("--against", metavar="REF", help="compare with the grader of this git commit, side by side")
    parser.add_argument("--scheduler", action="append", default=[],
                        help="also grade with grade batch --scheduler S (repeatable), side by side")
    args = parser.parse_args()
    course = load_course(REPO)
    exercises = len(args.exercise) or len(course.exercises)
    scratch = Path(tempfile.mkdtemp(prefix="bench-batch-")) if args.keep is None else args.keep
    try:
        subs, small = scratch / "submissions", scratch / "small"
        subs.mkdir(parents=True)
        small.mkdir()
        kinds = generate(subs, args.n, course, only=args.exercise)
        if args.against:
            compare(subs, scratch, args.against, kinds, args.jobs, args.isolate, args.repeat, args.exercise)
            return
        if args.scheduler:
            compare_schedulers(subs, scratch, args.scheduler, kinds, args.jobs, args.isolate, args.repeat)
            return
        generate(small, args.jobs, course, seed=1, only=args.exercise)  # one per worker: the fixed cost

        runs = []
        for _ in range(max(1, args.repeat)):
            shutil.rmtree(scratch / "out", ignore_errors=True)
            runs.append(run_batch(subs, scratch / "out", args.jobs, args.isolate, exercises=args.exercise))
        batch_s = statistics.median(runs)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        fixed_s = run_batch(small, scratch / "out-small", args.jobs, args.isolate, exercises=args.exercise)
        sample = sorted(p for p in subs.iterdir() if p.is_dir())[:args.sample]
        baseline_s = run_baseline(sample, args.jobs) if sample else float("nan")  # --sample 0: no cold runs

        rate = args.n / batch_s
        marginal = (args.n - args.jobs) / max(batch_s - fixed_s, 1e-9)  # submissions/s once workers are up
        cold_rate = len(sample) / baseline_s if sample else float("nan")
        target = 1000
        batch_1000 = fixed_s + (target - args.jobs) / marginal
        cold_1000 = target / cold_rate if sample else float("nan")
        per_item = lambda subs_per_s: f"{1000 * args.jobs / subs_per_s / exercises:.0f}"  # noqa: E731
        rows = [
            ("", "submissions", "wall s", "subs/s", "ms per exercise per worker"),
            (f"grade batch --jobs {args.jobs} --isolate {args.isolate}", args.n, f"{batch_s:.1f}", f"{rate:.2f}",
             per_item(rate)),
            (f"  of which {args.jobs} workers starting (fixed)", args.jobs, f"{fixed_s:.1f}", "", ""),
            ("  once started (marginal)", args.n - args.jobs, f"{batch_s - fixed_s:.1f}", f"{marginal:.2f}",
             per_item(marginal)),
            (f"cold process per submission, {args.jobs} at a time", len(sample), f"{baseline_s:.1f}",
             f"{cold_rate:.2f}", per_item(cold_rate)),
            (f"{target} x {exercises} exercises, batch (extrapolated)", target, f"{batch_1000:.0f}",
             f"{target / batch_1000:.2f}", ""),
            (f"{target} x {exercises} exercises, cold (extrapolated)", target, f"{cold_1000:.0f}",
             f"{cold_rate:.2f}", ""),
        ]
        widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            print("  ".join(str(cell).ljust(w) if i == 0 else str(cell).rjust(w)
                            for i, (cell, w) in enumerate(zip(row, widths, strict=False))))
        if sample:
            print(f"speed-up over a cold process per submission: {rate / cold_rate:.1f}x at N={args.n}, "
                  f"{cold_1000 / batch_1000:.1f}x extrapolated to {target}")
        if len(runs) > 1:
            print("batch runs (s): " + ", ".join(f"{r:.1f}" for r in runs) + f"; median {batch_s:.1f}")
        print(f"peak RSS of the largest process during the batch: {peak_mb:.0f} MB")
        print(check(scratch / "out", kinds))
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
