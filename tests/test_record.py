"""The class record (grader.record): runs, current results, refusals, overrides,
history, views and LMS exports, with results built by hand (no torch, no sandbox)."""
from __future__ import annotations

import csv
import io
import sqlite3

import pytest

from grader.course.catalogue import load_course
from grader.record import database, exports, history, roster, schema, views
from grader.record.database import ClassRecord, RecordError, RecordRefused
from grader.record.planning import check_plan, plan_run, replacements, up_to_date
from grader.record.fingerprint import course_fingerprint, files_hash
from grader.record.classbook import GRADER_FAILED_TEST
from grader.status import Status
from grader.results import ExerciseResult, SubmissionResult, TestResult
from grader.verdicts import Verdict

IDS = ("exercise1", "exercise2", "exercise3")
COURSE = "Deep learning 101"


def exercise(exercise_id: str, passed: int, *, of: int = 2, seed: int = 0, status: Status = Status.GRADED,
             problem: str | None = None) -> ExerciseResult:
    """``of`` tests worth 5 points each, the first ``passed`` of them passed."""
    tests = tuple(TestResult(name=f"test_{n}", title=f"check {n}", max_points=5.0, passed=n < passed,
                             message="" if n < passed else f"wrong answer {n}",
                             hint=None if n < passed else "look at the bias",
                             verdict=None if status is Status.GRADED else Verdict.NOT_SUBMITTED)
                  for n in range(of))
    return ExerciseResult(exercise_id=exercise_id, title=exercise_id.title(), tests=tests, seed=seed,
                          status=status, problem=problem)


def result(name: str, passed: dict[str, int], *, seed: int = 0) -> SubmissionResult:
    return SubmissionResult(submission=name, seed=seed,
                            exercises=tuple(exercise(i, n, seed=seed) for i, n in passed.items()))


def refused_result(name: str, why: str) -> SubmissionResult:
    return SubmissionResult(submission=name, seed=0, exercises=tuple(
        exercise(i, 0, status=Status.REFUSED, problem=why) for i in IDS))


def failed_result(name: str) -> SubmissionResult:
    return SubmissionResult(submission=name, seed=0, exercises=tuple(ExerciseResult(
        exercise_id=i, title=i, seed=0, status=Status.GRADER_FAILED, problem="the grader failed on this submission",
        tests=(TestResult(name=GRADER_FAILED_TEST, title="grader failed", max_points=10.0, passed=False,
                          message="its worker died twice", verdict=Verdict.GRADER_ERROR),)) for i in IDS))


def begin(record: ClassRecord, *, seed: int = 0, fingerprint: str = "v1", ids=IDS, title: str = COURSE) -> int:
    return record.begin_run(grader_version="0.1.0", seed=seed, course_title=title, course_fingerprint=fingerprint,
                            exercise_ids=ids)


@pytest.fixture
def record(tmp_path):
    with ClassRecord.open(tmp_path / "out") as opened:
        yield opened


def full_class(record: ClassRecord) -> int:
    run = begin(record)
    record.store(run, result("alice", {"exercise1": 2, "exercise2": 2, "exercise3": 2}), files_hash="a1")
    record.store(run, result("bob", {"exercise1": 1, "exercise2": 0, "exercise3": 2}), files_hash="b1")
    record.store(run, refused_result("carol", "carol.zip: an entry points outside the zip (../evil.py)"),
                 files_hash="c1")
    record.finish_run(run)
    return run


def points(record: ClassRecord) -> dict[str, dict[str, float | None]]:
    return {c.submission: {e.exercise_id: c.points(e.exercise_id) for e in c.result.exercises}
            for c in record.current()}


# -- the database --------------------------------------------------------------
def test_a_new_record_is_in_wal_mode_at_the_latest_schema_version(tmp_path):
    with ClassRecord.open(tmp_path) as record:
        assert record.schema_version == schema.SCHEMA_VERSION == len(schema.MIGRATIONS)
        assert record.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw = sqlite3.connect(tmp_path / database.DATABASE_FILE)
    tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "submissions", "gradings", "exercise_results", "test_results", "overrides", "exports"} <= tables


def test_a_record_from_a_newer_grader_is_refused_in_plain_words(tmp_path):
    ClassRecord.open(tmp_path).close()
    raw = sqlite3.connect(tmp_path / database.DATABASE_FILE)
    raw.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(RecordError, match="newer than this grader"):
        ClassRecord.open(tmp_path)


def test_results_come_back_as_they_were_stored(record):
    run = begin(record)
    stored = result("alice", {"exercise1": 1, "exercise2": 2})
    record.store(run, stored, files_hash="a1")
    (current,) = record.current()
    assert current.result == stored
    assert current.status is Status.GRADED and current.total == 15


def test_loss_curves_survive_the_record_and_a_report_rebuilt_from_it_draws_them(record, tmp_path):
    from grader.record.classbook import REPORT_FILE, submission_folder, write_current
    from grader.engine.curves import loss_curves

    curves = loss_curves([1.0, 0.6, 0.4], [1.0, 0.6, 0.9], rtol=1e-5, atol=1e-8, reveal_values=True)
    test = TestResult(name="test_train", title="train", max_points=4.0, passed=False, message="differs",
                      curves=curves, visibility="public")
    stored = SubmissionResult(submission="ken", seed=0, exercises=(
        ExerciseResult(exercise_id="exercise5", title="The training loop", tests=(test,), seed=0),))
    run = begin(record, ids=("exercise5",))
    record.store(run, stored, files_hash="k1")
    (current,) = record.current()
    assert current.result.exercises[0].tests[0].curves == curves
    write_current(tmp_path, current)
    page = (submission_folder(tmp_path, "ken") / REPORT_FILE).read_text()
    assert '<line class="parted" data-epoch="3"' in page and 'data-series="reference"' in page


def test_grading_a_subset_replaces_exactly_that_and_keeps_the_rest(record):
    full_class(record)
    before = points(record)
    run = begin(record, ids=("exercise3",))
    record.store(run, result("alice", {"exercise3": 0}), files_hash="a1")
    record.store(run, result("bob", {"exercise3": 1}), files_hash="b1")
    run = begin(record, ids=("exercise1",))
    record.store(run, result("bob", {"exercise1": 0}), files_hash="b1")
    after = points(record)
    assert after["alice"] == {**before["alice"], "exercise3": 0.0}
    assert after["bob"] == {**before["bob"], "exercise1": 0.0, "exercise3": 5.0}
    assert after["carol"] == before["carol"]
    # and the rebuilt result still holds every exercise, in course order
    alice, bob = record.current_of("alice").result, record.current_of("bob").result
    assert [e.exercise_id for e in alice.exercises] == list(IDS) and alice.score == 20
    assert [e.exercise_id for e in bob.exercises] == list(IDS) and bob.score == 5


def test_a_write_interrupted_halfway_leaves_no_trace_of_that_submission(record, monkeypatch):
    run = begin(record)
    record.store(run, result("alice", {"exercise1": 2}), files_hash="a1")
    broken = result("bob", {"exercise1": 2, "exercise2": 1})
    monkeypatch.setattr(database.json, "dumps", _failing_dumps(after=3))  # halfway through bob's tests
    with pytest.raises(RuntimeError):
        record.store(run, broken, files_hash="b1")
    monkeypatch.undo()
    assert [c.submission for c in record.current()] == ["alice"]
    for table in ("submissions", "gradings", "exercise_results"):
        assert record.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 1, table


def _failing_dumps(*, after: int):
    real, calls = database.json.dumps, []

    def dumps(*args, **kwargs):
        calls.append(1)
        if len(calls) > after:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)
    return dumps


def test_statuses_tell_a_zero_from_not_graded(record):
    full_class(record)
    run = begin(record)
    record.store(run, failed_result("dave"), files_hash="d1")
    empty = SubmissionResult(submission="erin", seed=0, exercises=tuple(
        exercise(i, 0, status=Status.NOT_SUBMITTED, problem=f"{i}.py was not submitted") for i in IDS))
    record.store(run, empty, files_hash="e1")
    statuses = {c.submission: (c.status, c.reason) for c in record.current()}
    assert statuses["bob"] == (Status.GRADED, None)
    assert statuses["carol"][0] is Status.REFUSED and "../evil.py" in statuses["carol"][1]
    assert statuses["dave"] == (Status.GRADER_FAILED, "its worker died twice")
    assert statuses["erin"] == (Status.NOT_SUBMITTED, None)
    assert record.current_of("dave").total is None  # no score, not zero
    assert record.current_of("erin").total == 0


def test_a_submission_leaves_the_class_only_when_pruned_and_history_shows_removal_and_restore(record):
    run = full_class(record)
    assert record.prune(["alice", "carol"], run_id=run, reason="no longer in the submissions folder (--prune)") \
        == ["bob"]
    assert [c.submission for c in record.current()] == ["alice", "carol"]
    bob = record.current_of("bob")
    assert bob.status is Status.REMOVED and bob.total is None
    assert record.restore(["alice", "bob", "carol"], run_id=None, reason="back in the submissions folder") == ["bob"]
    assert record.current_of("bob").status is Status.GRADED
    record.prune(["alice", "carol"], run_id=run, reason="pruned again")
    record.store(begin(record), result("bob", {"exercise1": 2}), files_hash="b2")  # graded again: back, recorded
    assert record.current_of("bob").status is Status.GRADED
    text = history.render_history(history.history(record, "bob"))
    assert f"run {run}    removed from the class  (no longer in the submissions folder (--prune))" in text
    assert "by hand  restored to the class  (back in the submissions folder)" in text
    assert "restored to the class  (graded again)" in text
    assert [c.event for c in history.history(record, "bob") if c.event] == ["removed", "restored", "removed",
                                                                              "restored"]


def test_a_record_removed_before_history_kept_removals_gets_them_in_history(tmp_path):
    before_history = schema.MIGRATIONS.index(next(m for m in schema.MIGRATIONS if "roll_events" in m))
    with ClassRecord.open(tmp_path) as record:  # as a grader without roll_events left a removed submission
        full_class(record)
        record.db.execute("UPDATE submissions SET removed_at = '2024-01-01T00:00:00+00:00' WHERE name = 'bob'")
        # Back to that grader's schema: what the migrations from there on add, undone.
        record.db.executescript("DROP TABLE roll_events; ALTER TABLE test_results DROP COLUMN curves;"
                                f"PRAGMA user_version = {before_history};")
    with ClassRecord.open(tmp_path) as record:
        assert [(c.event, c.at) for c in history.history(record, "bob") if c.event] == [
            ("removed", "2024-01-01T00:00:00+00:00")]


# -- before a run: plan and refuse ----------------------------------------------
def test_a_batch_into_the_record_of_another_course_refuses_unless_forced(record):
    full_class(record)
    plan = plan_run(record, course_title="Another course", course_fingerprint="x", seed=0, exercise_ids=IDS,
                    pending={"alice": "a1"})
    with pytest.raises(RecordRefused, match="another course.*'Deep learning 101'.*3 submission.*alice, bob, carol"):
        check_plan(plan)
    assert check_plan(plan, force=True) is plan


def test_a_new_version_of_the_same_course_is_recorded_not_refused(record):
    full_class(record)
    plan = plan_run(record, course_title=COURSE, course_fingerprint="v2", seed=0, exercise_ids=IDS,
                    pending={"alice": "a1", "bob": "b2"})
    check_plan(plan)
    assert plan.notes and "course changed" in plan.notes[0]
    why = {(r.submission, r.exercise_id): r.why for r in replacements(
        record, course_fingerprint="v2", seed=0, exercise_ids=IDS, pending={"alice": "a1", "bob": "b2"})}
    assert why[("alice", "exercise1")] == ("new course version",)
    assert why[("bob", "exercise2")] == ("new submission files", "new course version")
    assert len(why) == plan.replaced == 6  # carol is not pending: nothing of hers is replaced


def test_replacing_results_graded_with_another_seed_refuses_and_lists_them(record):
    full_class(record)
    plan = plan_run(record, course_title=COURSE, course_fingerprint="v1", seed=7, exercise_ids=("exercise3",),
                    pending={"alice": "a1", "bob": "b1"})
    with pytest.raises(RecordRefused, match=r"2 results graded with another seed than 7: alice, bob"):
        check_plan(plan)


def test_resume_skips_exactly_the_submissions_whose_results_are_current(record):
    full_class(record)
    run = begin(record)
    record.store(run, failed_result("dave"), files_hash="d1")
    fresh = up_to_date(record, course_fingerprint="v1", seed=0, exercise_ids=IDS,
                       hashes={"alice": "a1", "bob": "b2", "carol": "c1", "dave": "d1"})
    assert fresh == {"alice", "carol"}  # bob's files changed, the grader failed on dave
    record.prune(["bob"], run_id=run, reason="gone")
    record.restore(["carol"], run_id=run, reason="back")
    fresh = up_to_date(record, course_fingerprint="v1", seed=0, exercise_ids=IDS,
                       hashes={"alice": "a1", "carol": "c1", "dave": "d1"})
    assert fresh == {"alice", "carol"}  # removed (alice) or restored (carol) with the same files: nothing to grade
    assert up_to_date(record, course_fingerprint="v2", seed=0, exercise_ids=IDS, hashes={"alice": "a1"}) == set()


# -- overrides ------------------------------------------------------------------
def test_an_override_survives_a_regrade_and_can_be_removed(record):
    full_class(record)
    record.set_override("bob", "exercise2", 8, "the suite's tolerance was too tight for him")
    run = begin(record, fingerprint="v2")
    record.store(run, result("bob", {"exercise1": 1, "exercise2": 1, "exercise3": 2}), files_hash="b1")
    bob = record.current_of("bob")
    assert bob.points("exercise2") == 8 and bob.graded_points("exercise2") == 5 and bob.total == 23
    record.remove_override("bob", "exercise2")
    assert record.current_of("bob").points("exercise2") == 5


def test_an_override_s_history_starts_from_the_points_in_force_before_it(record):
    full_class(record)  # the grader gave bob 0 on exercise2
    record.set_override("bob", "exercise2", 8, "regraded by hand")
    record.set_override("bob", "exercise2", 9, "and again")
    record.remove_override("bob", "exercise2")
    text = history.render_history(history.history(record, "bob"))
    assert "exercise2: 0 → 8 [overridden]  (set by hand: regraded by hand)" in text
    assert "exercise2: 8 [overridden] → 9 [overridden]  (set by hand: and again)" in text
    assert "exercise2: 9 [overridden] → 0  (override removed)" in text
    assert all(c.before is not None for c in history.history(record, "bob") if c.run_id is None)


def test_an_override_needs_a_reason_and_points_within_the_exercise(record):
    full_class(record)
    with pytest.raises(RecordError, match="needs a reason"):
        record.set_override("bob", "exercise2", 8, "  ")
    with pytest.raises(RecordError, match="outside 0 … 10"):
        record.set_override("bob", "exercise2", 11, "bonus")
    with pytest.raises(RecordError, match="no result for 'exercise9'"):
        record.set_override("bob", "exercise9", 1, "typo")
    with pytest.raises(RecordError, match="no override"):
        record.remove_override("bob", "exercise2")


# -- history --------------------------------------------------------------------
def test_history_says_what_changed_and_why(record):
    full_class(record)
    run = begin(record, fingerprint="v2", seed=3)
    record.store(run, result("bob", {"exercise1": 2, "exercise2": 0, "exercise3": 2}, seed=3), files_hash="b2")
    record.set_override("bob", "exercise2", 4, "partial credit for the idea")
    changes = [c for c in history.history(record, "bob") if c.run_id != 1]
    regrade, override = changes
    assert (regrade.exercise_id, regrade.before, regrade.after) == ("exercise1", 5, 10)
    assert regrade.why == ("new submission files", "new course version", "new seed (0 → 3)")
    assert (override.exercise_id, override.after) == ("exercise2", 4)
    assert override.why == ("set by hand: partial credit for the idea",)
    text = history.render_history(history.history(record, "bob"))
    assert "exercise1: 5 → 10  (new submission files; new course version; new seed (0 → 3))" in text
    assert history.history(record, "alice", only_changes=True)[-1].why == ("first graded",)


# -- views ----------------------------------------------------------------------
def test_current_states_stream_by_name_case_insensitively_then_exactly(record):
    run = begin(record)
    names = ["bob", "Ébc", "alice", "Bob", "éac", "Zoë", "_x", "carol"]  # é is not ASCII: NOCASE would not fold it
    for name in names:
        record.store(run, result(name, {"exercise1": 1}), files_hash="h")
    streamed = record.each_current()
    assert next(streamed).submission == "_x"  # read as consumed, not loaded first
    assert [c.submission for c in record.each_current()] == sorted(names, key=lambda n: (n.casefold(), n))
    assert [c.submission for c in record.current()] == [c.submission for c in record.each_current()]


def test_brief_current_states_drop_messages_tables_and_output_but_keep_the_numbers(record):
    full_class(record)
    whole, brief = record.current(), list(record.each_current(brief=True))
    assert [c.result.score for c in brief] == [c.result.score for c in whole]
    assert [t.hint for c in brief for e in c.result.exercises for t in e.tests] == [
        t.hint for c in whole for e in c.result.exercises for t in e.tests]
    assert any(t.message for c in whole for e in c.result.exercises for t in e.tests)
    assert not any(t.message or t.table for c in brief for e in c.result.exercises for t in e.tests)
    assert record.exercise_maxima() == {"exercise1": 10.0, "exercise2": 10.0, "exercise3": 10.0}


def test_out_is_rebuilt_streaming_the_record_never_holding_the_class(record, monkeypatch):
    from grader.record.classbook import build_outputs_from_record

    full_class(record)
    record.set_override("bob", "exercise2", 8, "regraded by hand")
    monkeypatch.setattr(ClassRecord, "current", lambda *a, **k: pytest.fail("the whole class was loaded"))
    out = record.path.parent
    summary = build_outputs_from_record(record, out, title=COURSE, course_ids=IDS, listed=["alice", "bob", "carol",
                                                                                            "dave"])
    assert summary.count == 3 and summary.problems[0][0] == "carol"
    # The class's numbers count bob's exercise2 as set by hand (8, graded 0), as the gradebook does.
    assert {s.exercise_id: s.mean for s in summary.exercises}["exercise2"] == 6.0  # (10 + 8 + 0) / 3
    assert (summary.mean_total, summary.median_total) == (17.67, 23.0)  # 30, 23, 0
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.index("alice/report.html") < page.index("bob/report.html") < page.index("carol/report.html")
    assert "exercise2 set by hand to 8" in page and "Not graded yet: 1 submission (dave)" in page
    assert "bob,graded,5,8,10,23," in (out / "gradebook.csv").read_text(encoding="utf-8")


def test_a_name_that_a_spreadsheet_would_run_is_quoted_in_the_gradebook(record):
    run = begin(record)
    record.store(run, result("=HYPERLINK(1)", {"exercise1": 2}), files_hash="h")
    record.store(run, result("alice", {"exercise1": 1}), files_hash="h")
    path = views.write_gradebook(record, record.path.parent / "gradebook.csv", IDS)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert [row[0] for row in rows[2:]] == ["'=HYPERLINK(1)", "alice"]
    assert rows[0] == ["submission", "status", "exercise1", "total", "notes"]


def test_the_gradebook_has_status_maximum_points_overrides_and_removed_rows(record):
    full_class(record)
    record.set_override("bob", "exercise2", 8, "regraded by hand")
    record.prune(["bob", "carol"], run_id=None, reason="no longer in the submissions folder (--prune)")
    path = views.write_gradebook(record, record.path.parent / "gradebook.csv", IDS)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0] == ["submission", "status", *IDS, "total", "notes"]
    assert rows[1] == [views.MAXIMUM_ROW, "maximum", "10", "10", "10", "30", ""]
    by_name = {row[0]: row for row in rows[2:]}
    assert by_name["alice"] == ["alice", "removed", "", "", "", "", "no longer in the submissions folder"]
    assert by_name["bob"][:6] == ["bob", "graded", "5", "8", "10", "23"]
    assert "exercise2 set by hand to 8 (graded 0): regraded by hand" in by_name["bob"][6]
    assert by_name["carol"][:6] == ["carol", "refused", "0", "0", "0", "0"] and "../evil.py" in by_name["carol"][6]


def test_the_current_results_combine_each_exercises_latest_grading(record):
    full_class(record)
    run = begin(record, ids=("exercise3",))
    record.store(run, result("bob", {"exercise3": 0}), files_hash="b1")
    results = [c.result for c in record.each_current(brief=True)]
    assert [r.submission for r in results] == ["alice", "bob", "carol"]
    assert all(isinstance(r, SubmissionResult) for r in results)
    assert results[1].score == 5 and [e.exercise_id for e in results[1].exercises] == list(IDS)


# -- roster and exports ----------------------------------------------------------
ROSTER = ("submission,name,id,sis_user_id,sis_login_id,email,section\n"
          "alice,\"Liddell, Alice\",101,S1,alice1,alice@uni.edu,A\n"
          "bob,\"Builder, Bob\",102,S2,bob2,bob@uni.edu,B\n"
          "zoe,\"Zed, Zoe\",103,S3,zoe3,zoe@uni.edu,A\n")


def test_a_roster_without_an_identifier_or_submission_is_refused_with_every_problem():
    with pytest.raises(roster.RosterError) as raised:
        roster.parse_roster("name,section,colour\nAlice,A,red\n")
    message = str(raised.value)
    assert "no 'submission' column" in message and "no identifier column" in message and "'colour'" in message
    with pytest.raises(roster.RosterError, match="line 3 repeats submission 'alice'.*line 4 .* has none of"):
        roster.parse_roster("submission,email\nalice,a@x\nalice,b@x\nbob,\n")
    assert roster.parse_roster("\ufeffSubmission,Email\nalice,a@x\n")[0].email == "a@x"


def test_the_canvas_export_reads_back_as_the_record(record, tmp_path):
    full_class(record)
    record.store(begin(record), failed_result("dave"), files_hash="d1")
    record.set_override("bob", "exercise2", 8, "by hand")
    students = roster.parse_roster(ROSTER + "dave,\"Doe, Dave\",104,S4,dave4,dave@uni.edu,B\n")
    outcome = exports.export(record, format="canvas", students=students, path=tmp_path / "c.csv",
                             assignment="Homework 1 (12345)")
    rows = list(csv.reader((tmp_path / "c.csv").open(encoding="utf-8")))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Homework 1 (12345)"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][5] == "30"
    current = {c.submission: c for c in record.current()}
    assert rows[2:] == [["Liddell, Alice", "101", "S1", "alice1", "A", "30"],
                        ["Builder, Bob", "102", "S2", "bob2", "B", views.points_text(current["bob"].total)]]
    assert rows[3][5] == "23"
    assert outcome.without_student == ("carol",) and outcome.without_submission == ("zoe",)
    assert outcome.no_score == ("dave",)  # never a blank or a zero sent for a grade the grader failed to give
    assert "Students on the roster with no submission: zoe" in exports.render_outcome(outcome)


def test_the_canvas_export_can_write_only_what_changed_since_the_last(record, tmp_path):
    full_class(record)
    students = roster.parse_roster(ROSTER)
    exports.export(record, format="canvas", students=students, path=tmp_path / "1.csv", assignment="HW1")
    record.set_override("bob", "exercise1", 10, "appeal accepted")
    outcome = exports.export(record, format="canvas", students=students, path=tmp_path / "2.csv", assignment="HW1",
                             changed_only=True)
    rows = list(csv.reader((tmp_path / "2.csv").open(encoding="utf-8")))
    assert [row[0] for row in rows[2:]] == ["Builder, Bob"] and rows[2][5] == "20"
    assert outcome.unchanged == ("alice",)


def test_the_moodle_export_matches_by_id_number_or_email_and_carries_feedback(record, tmp_path):
    full_class(record)
    record.set_override("bob", "exercise2", 8, "by hand")
    students = roster.parse_roster("submission,name,sis_user_id,email\nalice,Alice,S1,\nbob,Bob,,bob@uni.edu\n"
                                   "carol,Carol,S3,carol@uni.edu\n")
    outcome = exports.export(record, format="moodle", students=students, path=tmp_path / "m.csv", assignment="HW1")
    rows = list(csv.DictReader((tmp_path / "m.csv").open(encoding="utf-8")))
    assert [(r["ID number"], r["Email address"], r["HW1"]) for r in rows] == [
        ("S1", "", "30"), ("", "bob@uni.edu", "23"), ("S3", "carol@uni.edu", "0")]
    assert "set by hand to 8" in rows[1]["Feedback"] and rows[2]["Feedback"].startswith("refused")
    assert outcome.without_student == () and outcome.unmatchable == ()


def test_the_plain_csv_export_lists_everyone_on_either_side(record, tmp_path):
    full_class(record)
    exports.export(record, format="csv", students=roster.parse_roster(ROSTER), path=tmp_path / "p.csv",
                   assignment="HW1", course_ids=IDS)
    rows = {r["submission"]: r for r in csv.DictReader((tmp_path / "p.csv").open(encoding="utf-8"))}
    assert set(rows) == {"alice", "bob", "carol", "zoe"}
    assert (rows["carol"]["status"], rows["carol"]["name"]) == ("refused", "")
    assert (rows["zoe"]["status"], rows["zoe"]["total"]) == ("no submission", "")
    assert (rows["bob"]["exercise1"], rows["bob"]["total"]) == ("5", "15")


# -- fingerprints ----------------------------------------------------------------
def test_the_course_fingerprint_changes_with_a_suite_or_a_solution_not_a_stub(tmp_path):
    root = tmp_path / "course"
    for folder in ("exercises", "solutions", "suites"):
        (root / folder).mkdir(parents=True)
    (root / "course.toml").write_text(
        '[course]\ntitle = "T"\n[[exercises]]\nid = "exercise1"\ntitle = "One"\n'
        'stub = "exercises/exercise1.py"\nsolution = "solutions/exercise1.py"\nsuite = "suites/test_exercise1.py"\n')
    for path in ("exercises/exercise1.py", "solutions/exercise1.py", "suites/test_exercise1.py", "suites/helpers.py"):
        (root / path).write_text("x = 1\n")
    course = load_course(root)
    first = course_fingerprint(root, course.exercises)
    (root / "exercises/exercise1.py").write_text("x = 2\n")
    assert course_fingerprint(root, course.exercises) == first
    for path in ("suites/helpers.py", "solutions/exercise1.py", "course.toml"):
        (root / path).write_text((root / path).read_text() + "# changed\n")
        assert course_fingerprint(root, course.exercises) != first, path
        first = course_fingerprint(root, course.exercises)


def test_the_files_hash_changes_with_any_file_and_never_follows_a_link(tmp_path):
    entry = tmp_path / "alice"
    entry.mkdir()
    (entry / "exercise1.py").write_text("a = 1\n")
    first = files_hash(entry)
    (entry / "exercise1.py").write_text("a = 2\n")
    assert files_hash(entry) != first
    secret = tmp_path / "secret.txt"
    secret.write_text("one")
    (entry / "link.py").symlink_to(secret)
    linked = files_hash(entry)
    secret.write_text("two")
    assert files_hash(entry) == linked
    assert files_hash(tmp_path / "alice") != files_hash(secret)


# -- what the commands call ---------------------------------------------------------
def test_the_commands_act_on_an_existing_record_and_rebuild_the_gradebook(tmp_path):
    from grader.commands import record as commands

    out = tmp_path / "out"
    with pytest.raises(RecordError, match="holds no class record"):
        commands.show_history(out)
    with ClassRecord.open(out) as record:
        full_class(record)
    said = commands.override(out, "bob", "exercise2", 7, reason="late fix accepted")
    assert "7 points set by hand (graded 0)" in said
    gradebook = list(csv.reader((out / "gradebook.csv").open(encoding="utf-8")))
    assert [row for row in gradebook if row[0] == "bob"][0][2:6] == ["5", "7", "10", "22"]
    assert "set by hand: late fix accepted" in commands.show_history(out, "bob")
    commands.remove_override(out, "bob", "exercise2")
    gradebook = list(csv.reader((out / "gradebook.csv").open(encoding="utf-8")))
    assert [row for row in gradebook if row[0] == "bob"][0][2:6] == ["5", "0", "10", "15"]
    (tmp_path / "roster.csv").write_text(ROSTER)
    outcome, text = commands.export_grades(out, format="canvas", roster=tmp_path / "roster.csv")
    assert outcome.path == out / "export-canvas.csv" and outcome.assignment == COURSE
    assert "no roster line (not exported): carol" in text
    with pytest.raises(RecordError, match="no submission named 'nobody'"):
        commands.show_history(out, "nobody")


# -- schema migrations and earlier OUTs -------------------------------------------
def test_a_new_migration_is_applied_once_and_keeps_the_data(tmp_path, monkeypatch):
    with ClassRecord.open(tmp_path) as record:
        full_class(record)
    latest = len(schema.MIGRATIONS) + 1
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS,
                                                 "ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT '';"))
    monkeypatch.setattr(schema, "SCHEMA_VERSION", len(schema.MIGRATIONS))
    with ClassRecord.open(tmp_path) as record:
        assert record.schema_version == latest
        assert record.db.execute("SELECT note FROM runs").fetchall()[0][0] == ""
        assert points(record)["alice"] == {"exercise1": 10, "exercise2": 10, "exercise3": 10}
    with ClassRecord.open(tmp_path) as record:  # opened again: nothing to apply (it would fail: duplicate column)
        assert record.schema_version == latest


def test_results_of_an_out_graded_before_the_record_are_adopted_and_kept(record):
    old = [result("alice", {"exercise1": 2, "exercise2": 1, "exercise3": 2}), refused_result("carol", "not a zip")]
    run = record.adopt(old, course_title=COURSE, files_hashes={"alice": "a1"})
    assert record.adopt(old, course_title=COURSE) is None  # once only
    assert [c.result for c in record.current()] == old
    plan = plan_run(record, course_title=COURSE, course_fingerprint="v1", seed=0, exercise_ids=("exercise3",),
                    pending={"alice": "a1", "carol": "c1"})
    check_plan(plan)
    assert plan.replaced == 2
    assert {(r.submission, r.why) for r in replacements(record, course_fingerprint="v1", seed=0, exercise_ids=(
        "exercise3",), pending={"alice": "a1", "carol": "c1"})} == {
        ("alice", ("graded again, nothing changed",)), ("carol", ("files not recorded before",))}
    assert up_to_date(record, course_fingerprint="v1", seed=0, exercise_ids=IDS,
                      hashes={"alice": "a1", "carol": "c1"}) == set()  # an adopted run's course version is unknown
    assert record.run(run).grader_version == schema.ADOPTED
