"""``grade similar OUT``: which submissions of a graded class share rare code or rare answers.

Reads the class record (each current result's answer marks, left there by
the batch's own run) and, given SUBMISSIONS, each entry's sources as the
grader ran them (a notebook's module, a zip's files: ``Submission.module_source``).
Ranks the pairs of each exercise (``grader.similarity.ranking``), then writes
them to the class record (``similar_pairs``), ``OUT/similarity.csv`` and
``OUT/similarity.html``. The words are evidence and how rare it is, never a
verdict: deciding what it means is the instructor's.
"""
from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader.commands.batch.entries import list_entries
from grader.course.catalogue import Course, ExerciseSpec, load_course
from grader.course.submissions import Submission, from_entry
from grader.errors import UserError
from grader.outputs.files import write_atomic
from grader.outputs.html import template_environment
from grader.record.database import DATABASE_FILE, ClassRecord
from grader.record.similarity import current_answer_marks, current_submissions, store_pairs
from grader.results import SandboxStatus
from grader.similarity import code
from grader.similarity.ranking import Cluster, Evidence, Pair, clusters, rank_exercise

DEFAULT_THRESHOLD = 0.5
LISTED_FROM = 0.1  # pairs scoring less are in neither the CSV nor the record: nothing rare is shared
SHOWN_PER_EXERCISE = 50  # side-by-side pairs on the page, per exercise (the CSV lists them all)
CSV_FILE, HTML_FILE = "similarity.csv", "similarity.html"
CSV_HEADER = ("exercise", "submission a", "submission b", "score", "code evidence", "behaviour evidence")


@dataclass
class SimilarityReport:
    out: Path
    threshold: float
    pairs: dict[str, list[Pair]] = field(default_factory=dict)  # by exercise, highest score first
    clusters: list[Cluster] = field(default_factory=list)
    compared_code: bool = False
    csv_path: Path | None = None
    html_path: Path | None = None

    def above(self, exercise_id: str) -> list[Pair]:
        return [p for p in self.pairs.get(exercise_id, []) if p.score >= self.threshold]


def find_similar(*, out: Path, submissions: Path | None = None, threshold: float = DEFAULT_THRESHOLD,
                 course_root: Path | None = None, course: Course | None = None) -> SimilarityReport:
    """Rank the pairs of OUT's class on each exercise and write the record's
    table, ``similarity.csv`` and ``similarity.html``. Without ``submissions``
    only the answers are compared (the sources are not in OUT)."""
    if not 0 <= threshold <= 1:
        raise UserError(f"--threshold must be between 0 and 1, not {threshold:g}")
    if not (out / DATABASE_FILE).is_file():
        raise UserError(f"{out} holds no class record ({DATABASE_FILE}): grade the class first, "
                        f"grade batch SUBMISSIONS --out {out}")
    course = course or load_course(course_root)
    report = SimilarityReport(out=out, threshold=threshold, compared_code=submissions is not None)
    with ClassRecord.open(out) as record, tempfile.TemporaryDirectory(prefix="torchgrade-similar-") as scratch:
        marks, submitted = current_answer_marks(record), current_submissions(record)
        class_ = _read_class(submissions, course, Path(scratch), exclude=out) if submissions else {}
        sources: dict[tuple[str, str], str] = {}
        for spec in course.exercises:
            evidence = _evidence(spec, marks.get(spec.id, {}), submitted.get(spec.id, set()), class_)
            report.pairs[spec.id] = rank_exercise(spec.id, evidence, minimum=LISTED_FROM)
            for pair in report.above(spec.id)[:SHOWN_PER_EXERCISE]:
                for name in (pair.a, pair.b):
                    if name in class_ and (text := _source(class_[name], spec)) is not None:
                        sources[(spec.id, name)] = text
        report.clusters = clusters((p for ps in report.pairs.values() for p in ps), threshold=threshold)
        store_pairs(record, (p for ps in report.pairs.values() for p in ps), threshold=threshold,
                    submissions=submissions)
        report.csv_path = write_atomic(out / CSV_FILE, render_csv(report.pairs))
        report.html_path = write_atomic(out / HTML_FILE, render_html(report, course, sources))
    return report


def _read_class(folder: Path, course: Course, scratch: Path, *, exclude: Path) -> dict[str, Submission]:
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder of submissions")
    entries, _ = list_entries(folder, exclude=exclude)
    filenames = [spec.filename for spec in course.exercises]
    return {entry.name: from_entry(entry.path, filenames, name=entry.name, unpack_to=scratch / str(n))
            for n, entry in enumerate(entries)}


def _source(submission: Submission, spec: ExerciseSpec) -> str | None:
    """The module the grader ran for this exercise, as text (None: none, or unreadable)."""
    if spec.filename in submission.file_problems or spec.filename not in submission.files:
        return None
    try:
        source = submission.module_source(spec.filename)
    except OSError:
        return None
    return source.decode("utf-8", "replace") if source is not None else None


def _evidence(spec: ExerciseSpec, marks: Mapping[str, tuple[str, ...]], submitted: set[str],
              class_: Mapping[str, Submission]) -> list[Evidence]:
    """Each submission's evidence on ``spec``: its fingerprints (without the
    stub's and the reference's) and its answer marks."""
    boilerplate = code.boilerplate_of(_course_texts(spec))
    names = sorted((set(marks) & submitted) | {n for n, s in class_.items() if spec.filename in s.files})
    found = []
    for name in names:
        text = _source(class_[name], spec) if name in class_ else None
        prints = code.fingerprint_set(text, boilerplate) if text is not None else frozenset()
        found.append(Evidence(name, prints, marks.get(name, ()) if name in submitted else ()))
    return found


def _course_texts(spec: ExerciseSpec) -> list[str]:
    return [path.read_text(encoding="utf-8") for path in (spec.stub, spec.solution) if path.is_file()]


def render_csv(pairs: Mapping[str, Sequence[Pair]]) -> str:
    """One row per pair: each exercise's pairs highest score first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for exercise_id, ranked in pairs.items():
        for p in ranked:
            writer.writerow([exercise_id, _cell(p.a), _cell(p.b), f"{p.score:.3f}", p.code_words(),
                             p.behaviour_words()])
    return buffer.getvalue()


def _cell(text: str) -> str:
    """A name as a spreadsheet shows it: never a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@dataclass(frozen=True)
class ShownPair:
    pair: Pair
    lines_a: list[tuple[int, str, bool]]  # (line number, text, shared?)
    lines_b: list[tuple[int, str, bool]]


def shown_pair(pair: Pair, text_a: str | None, text_b: str | None, boilerplate: frozenset[int]) -> ShownPair:
    """The pair's two sources, each line marked when it holds a passage the other shares."""
    prints_a = [fp for fp in code.fingerprints(text_a) if fp.hash not in boilerplate] if text_a else []
    prints_b = [fp for fp in code.fingerprints(text_b) if fp.hash not in boilerplate] if text_b else []
    common = {fp.hash for fp in prints_a} & {fp.hash for fp in prints_b}
    return ShownPair(pair, _marked_lines(text_a, prints_a, common), _marked_lines(text_b, prints_b, common))


def _marked_lines(text: str | None, prints: list[code.Fingerprint], common: set[int]) -> list[tuple[int, str, bool]]:
    if text is None:
        return []
    shared = {line for fp in prints if fp.hash in common for line in range(fp.first_line, fp.last_line + 1)}
    return [(n, line, n in shared) for n, line in enumerate(text.splitlines(), start=1)]


def render_html(report: SimilarityReport, course: Course, sources: Mapping[tuple[str, str], str]) -> str:
    exercises = []
    for spec in course.exercises:
        boilerplate = code.boilerplate_of(_course_texts(spec))
        shown = [shown_pair(p, sources.get((spec.id, p.a)), sources.get((spec.id, p.b)), boilerplate)
                 for p in report.above(spec.id)[:SHOWN_PER_EXERCISE]]
        exercises.append(dict(spec=spec, shown=shown, listed=len(report.pairs.get(spec.id, [])),
                              above=len(report.above(spec.id)),
                              clusters=[c for c in report.clusters if c.exercise_id == spec.id and len(c.members) > 2]))
    template = template_environment().get_template("similarity.html.j2")
    return template.render(report=report, exercises=exercises, course=course, sandbox=SandboxStatus(),
                           shown_per_exercise=SHOWN_PER_EXERCISE)
