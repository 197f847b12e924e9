"""The memory of rebuilding OUT from the class record: flat in the class size?

    python benchmarks/bench_record_memory.py [--sizes 1000 10000 30000] [--against REF]

At the end of every ``grade batch`` (local or on a cluster), ``gradebook.csv``
and ``index.html`` are rebuilt from the class record
(``classbook.build_outputs_from_record``). This grades the solutions and the
stubs once (every exercise of the course: real messages, hints and mismatch
tables), stores N results in a fresh class record (copies of those two under
N names, alternating), then rebuilds OUT in a fresh process and prints that
process's peak RSS before and after the rebuild, and the rebuild's time.
With --against REF the same is measured with that commit's grader (a
temporary worktree), side by side, and whether both wrote the same
gradebook.csv and index.html. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# In a fresh process: import what the rebuild needs, note the peak RSS, rebuild, note it again.
REBUILD = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from grader.record.classbook import build_outputs_from_record
from grader.course.catalogue import load_course
from grader.record.database import ClassRecord
course = load_course(Path(sys.argv[1]))
out = Path(sys.argv[2])
with ClassRecord.open(out) as record:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    summary = build_outputs_from_record(record, out, title=course.title, course_ids=course.ids)
    elapsed = time.perf_counter() - started
print(json.dumps({"rss_before_mb": before / 1024, "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                  / 1024, "rebuild_s": elapsed, "counted": summary.count}))
"""


def graded_pair(scratch: Path) -> list[dict]:
    """The solutions and the stubs, graded by this checkout, as plain results."""
    subs = scratch / "pair"
    subs.mkdir()
    shutil.copytree(REPO / "solutions", subs / "solutions")
    shutil.copytree(REPO / "exercises", subs / "stubs")
    out = scratch / "pair-out"
    boot = f"import sys; sys.path.insert(0, {str(REPO)!r}); from grader.cli import run; run()"
    subprocess.run([sys.executable, "-c", boot, "batch", str(subs), "--out", str(out)], cwd=REPO, check=True,
                   capture_output=True)
    return [json.loads((out / "submissions" / name / "results.json").read_text(encoding="utf-8"))
            for name in ("solutions", "stubs")]


def fill(out: Path, pair: list[dict], n: int) -> None:
    """A class record holding ``n`` results: the pair's, under n names."""
    sys.path.insert(0, str(REPO))
    from grader.course.catalogue import load_course
    from grader.outputs.results_json import from_gradescope
    from grader.record.database import ClassRecord

    course = load_course(REPO)
    results = [from_gradescope(plain) for plain in pair]
    with ClassRecord.open(out) as record:
        run = record.begin_run(grader_version="bench", seed=results[0].seed, course_title=course.title,
                               course_fingerprint="bench", exercise_ids=course.ids)
        for number in range(n):
            result = dataclasses.replace(results[number % 2], submission=f"student{number:06d}")
            record.store(run, result, files_hash="bench")
        record.finish_run(run)


def rebuild(checkout: Path, out: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", REBUILD, str(checkout), str(out)], cwd=checkout, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 30000])
    parser.add_argument("--against", help="a git commit to measure beside this checkout")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-record-memory-"))
    checkouts = {"this checkout": REPO}
    try:
        if args.against:
            other = scratch / "against"
            subprocess.run(["git", "worktree", "add", "--detach", str(other), args.against], cwd=REPO, check=True,
                           capture_output=True)
            checkouts = {args.against: other, **checkouts}
        pair = graded_pair(scratch)
        for n in args.sizes:
            template = scratch / f"record-{n}"
            fill(template, pair, n)
            files = []
            for label, checkout in checkouts.items():
                out = scratch / f"out-{n}-{len(label)}"
                shutil.copytree(template, out)
                figures = rebuild(checkout, out)
                files.append([(out / name).read_bytes() for name in ("gradebook.csv", "index.html")])
                print(json.dumps({"submissions": n, "grader": label, **{k: round(v, 1) if isinstance(v, float) else v
                                                                       for k, v in figures.items()},
                                  "rebuild_mb": round(figures["rss_peak_mb"] - figures["rss_before_mb"], 1),
                                  "gradebook_kb": len(files[-1][0]) // 1024, "index_kb": len(files[-1][1]) // 1024,
                                  "same_files_as_first": files[-1] == files[0]}), flush=True)
                shutil.rmtree(out)
            shutil.rmtree(template)
    finally:
        if args.against:
            subprocess.run(["git", "worktree", "remove", "--force", str(scratch / "against")], cwd=REPO,
                           capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
