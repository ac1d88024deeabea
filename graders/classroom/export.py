"""Grades in the file an LMS imports: Canvas's gradebook CSV, Moodle's grade import CSV, or a
plain CSV, with gradkit's student ids mapped to the LMS's through the instructor's roster.

The roster is a CSV with a `student` column (gradkit's id: the nbgrader folder or file name)
and whichever identity columns the LMS needs: `name`, `canvas_id`, `sis_user_id`,
`sis_login_id`, `section` for Canvas; `email` or `idnumber` for Moodle. Every roster student
gets a row: one with no submission gets an empty grade and is listed, not dropped; a
submission whose student the roster lacks is listed too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from graders.classroom.records import RosterEntry, Row

FORMATS = ("canvas", "moodle", "csv")
# Canvas's gradebook import: these identity columns, then one column per assignment, and a
# "Points Possible" row under the header (Canvas's own export has the same shape).
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_FROM_ROSTER = {"Student": "name", "ID": "canvas_id", "SIS User ID": "sis_user_id",
                      "SIS Login ID": "sis_login_id", "Section": "section"}
# Moodle's grade import maps a user by one identifier column, chosen on its import page.
MOODLE_COLUMNS = (("Email address", "email"), ("ID number", "idnumber"))


class RosterError(ValueError):
    """A roster gradkit cannot use; the message names the file and what is wrong."""


@dataclass
class Export:
    text: str
    missing: list[str] = field(default_factory=list)  # in the roster, no submission
    unknown: list[str] = field(default_factory=list)  # a submission, not in the roster
    ungradable: list[str] = field(default_factory=list)  # graded as 0: could not be run


def read_roster(path: Path) -> list[RosterEntry]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise RosterError(f"{path}: cannot read the roster: {error}") from None
    if not rows or "student" not in rows[0]:
        hint = ""
        if rows and "Student" in rows[0]:
            hint = ("; Canvas's 'Student' column is a name: add a lower-case 'student' column "
                    "with gradkit's ids")
        raise RosterError(f"{path}: the roster needs a 'student' column (gradkit's ids) and "
                          f"a row per student{hint}")
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):
        student = (row.get("student") or "").strip()
        if not student:
            raise RosterError(f"{path}, line {number}: empty student id")
        if student in seen:
            raise RosterError(f"{path}, line {number}: student {student!r} appears twice")
        seen.add(student)
    return [RosterEntry.of(row) for row in rows]


def latest(rows: Iterable[Row], assignment: str | None) -> dict[str, Row]:
    """One row per student (the gradebook's newest for the assignment)."""
    found: dict[str, Row] = {}
    for row in rows:
        if assignment is None or row.assignment == assignment:
            found[row.student] = row
    return found


def roster_ids(roster: list[RosterEntry]) -> list[str]:
    """gradkit's student ids, in the roster's order."""
    return [entry.student for entry in roster]


def posted_grade(row: Row | None) -> str:
    """What the LMS gets for a student: the score, or "" with no submission (left ungraded)."""
    return "" if row is None else f"{row.score:g}"


def export(rows: Iterable[Row], roster: list[RosterEntry], to: str, *,
           column: str, possible: float, assignment: str | None = None) -> Export:
    """The import file's text for `to`, with who is missing on either side. The grade column is
    `column` in every layout (the assignment's name unless the instructor gave another), so a
    file says which assignment its grades are for. `possible` is the assignment's maximum
    (Canvas's Points Possible), never read off a submission's row."""
    graded = latest(rows, assignment)
    listed = roster_ids(roster)
    result = Export("", missing=[s for s in listed if s not in graded],
                    unknown=sorted(set(graded) - set(listed)),
                    ungradable=[s for s in listed if s in graded and graded[s].problem])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    def score(student: str) -> str:
        return posted_grade(graded.get(student))

    if to == "canvas":
        writer.writerow([*CANVAS_COLUMNS, column])
        writer.writerow(["Points Possible", "", "", "", "", f"{possible:g}"])
        for entry, student in zip(roster, listed, strict=True):
            writer.writerow([getattr(entry, CANVAS_FROM_ROSTER[name]) or
                             (student if name == "Student" else "")
                             for name in CANVAS_COLUMNS] + [score(student)])
    elif to == "moodle":
        present = [(header, key) for header, key in MOODLE_COLUMNS if key in roster[0].columns]
        if not present:
            raise RosterError("a Moodle import identifies students by email or ID number: "
                              "give the roster an 'email' or 'idnumber' column")
        writer.writerow([header for header, _ in present] + [column])
        for entry, student in zip(roster, listed, strict=True):
            writer.writerow([getattr(entry, key) for _, key in present] + [score(student)])
    elif to == "csv":
        writer.writerow(["student", "name", column, "max_score", "problem"])
        for entry, student in zip(roster, listed, strict=True):
            row = graded.get(student)
            writer.writerow([student, entry.name, score(student),
                             f"{row.max_score:g}" if row else "",
                             (row.problem or "") if row else "no submission"])
    else:
        raise ValueError(f"unknown format {to!r}; one of {', '.join(FORMATS)}")
    result.text = buffer.getvalue()
    return result
