"""What changed between runs, per submission: ``grade history OUT [SUBMISSION]``.

Every grading of every exercise is in the record; a change is one exercise
graded again with different points or status, or an override set or removed,
each with its reasons (new submission files, new course version, new seed),
or a whole submission removed from the class or restored to it.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from grader.inert import inert
from grader.record.database import ClassRecord


@dataclass(frozen=True)
class Change:
    submission: str
    exercise_id: str
    at: str  # when (UTC, ISO 8601)
    run_id: int | None  # None for an override
    before: float | None  # points before; None when first graded
    after: float | None
    status_before: str | None
    status_after: str | None
    why: tuple[str, ...]
    event: str | None = None  # "removed" / "restored": the whole submission, not one exercise

    @property
    def changed(self) -> bool:
        return self.before != self.after or self.status_before != self.status_after


def history(record: ClassRecord, submission: str | None = None, *, only_changes: bool = True) -> list[Change]:
    """The changes for one submission (or all), oldest first. ``only_changes``
    leaves out re-grades that gave the same points and status (first gradings
    are always shown)."""
    changes: list[Change] = []
    previous: dict[tuple[str, str], sqlite3.Row] = {}
    for row in record.gradings(submission):
        key = (row["submission"], row["exercise_id"])
        before = previous.get(key)
        if before is None:
            change = Change(row["submission"], row["exercise_id"], row["graded_at"], row["run_id"], None,
                            row["points"], None, row["status"], ("first graded",))
        else:
            change = Change(row["submission"], row["exercise_id"], row["graded_at"], row["run_id"], before["points"],
                            row["points"], before["status"], row["status"], _reasons(before, row))
        previous[key] = row
        if before is None or change.changed or not only_changes:
            changes.append(change)
    changes.extend(_override_changes(record, submission))
    for event in record.roll_events(submission):
        changes.append(Change(event["submission"], "", event["at"], event["run_id"], None, None, None, None,
                              (event["reason"],), event=event["event"]))
    # Stable: at the same second, a grading comes before the override set after it.
    return sorted(changes, key=lambda c: (c.submission.casefold(), c.submission, c.at))


def _override_changes(record: ClassRecord, submission: str | None) -> list[Change]:
    """Each override set and removed, from the points in force before it (the
    grader's at that moment, or the override it replaced) to those after."""
    grades: dict[tuple[str, str], list[tuple[str, float, str]]] = {}
    for row in record.gradings(submission):
        grades.setdefault((row["submission"], row["exercise_id"]), []).append(
            (row["graded_at"], row["points"], row["status"]))

    def graded_at(key: tuple[str, str], moment: str) -> tuple[float | None, str | None]:
        earlier = [(points, status) for at, points, status in grades.get(key, []) if at <= moment]
        return earlier[-1] if earlier else (None, None)

    events = record.override_events(submission)
    changes: list[Change] = []
    in_force: dict[tuple[str, str], sqlite3.Row] = {}
    for event in events:
        key = (event["submission"], event["exercise_id"])
        replaced = in_force.get(key)
        before: float | None
        status_before: str | None
        if replaced is not None and replaced["removed_at"] == event["created_at"]:
            before, status_before = replaced["points"], "overridden"
        else:
            before, status_before = graded_at(key, event["created_at"])
        changes.append(Change(*key, event["created_at"], None, before, event["points"], status_before,
                              "overridden", (f"set by hand: {event['reason']}",)))
        in_force[key] = event
    for event in events:
        key = (event["submission"], event["exercise_id"])
        replaced_by_next = any(o["id"] > event["id"] and (o["submission"], o["exercise_id"]) == key
                               and o["created_at"] == event["removed_at"] for o in events)
        if event["removed_at"] and not replaced_by_next:
            after, status_after = graded_at(key, event["removed_at"])
            changes.append(Change(*key, event["removed_at"], None, event["points"], after, "overridden",
                                  status_after, ("override removed",)))
    return changes


def _reasons(before: sqlite3.Row, after: sqlite3.Row) -> tuple[str, ...]:
    why = []
    if before["files_hash"] != after["files_hash"]:
        why.append("new submission files")
    if before["course_fingerprint"] != after["course_fingerprint"]:
        why.append("new course version")
    if before["seed"] != after["seed"]:
        why.append(f"new seed ({before['seed']} → {after['seed']})")
    if before["grader_version"] != after["grader_version"]:
        why.append(f"new grader version ({before['grader_version']} → {after['grader_version']})")
    return tuple(why) or ("graded again: same files, course and seed",)


def render_history(changes: Sequence[Change]) -> str:
    """Plain text, one block per submission, one line per change."""
    if not changes:
        return "No change recorded.\n"
    lines: list[str] = []
    current = None
    for change in changes:
        if change.submission != current:
            current = change.submission
            lines.append(("\n" if lines else "") + inert(current))  # a name: one line, whatever it holds
        run = f"run {change.run_id}" if change.run_id is not None else "by hand"
        if change.event is not None:
            whole = "removed from the class" if change.event == "removed" else "restored to the class"
            lines.append(f"  {change.at}  {run:<8} {whole}  ({'; '.join(change.why)})")
            continue
        lines.append(f"  {change.at}  {run:<8} {change.exercise_id}: {_state(change.before, change.status_before)}"
                     f" → {_state(change.after, change.status_after)}  ({'; '.join(change.why)})")
    return "\n".join(lines) + "\n"


def _state(points: float | None, status: str | None) -> str:
    if points is None and status is None:
        return "—"
    if points is None:
        return str(status)
    return f"{points:g}" + (f" [{status}]" if status and status != "graded" else "")
