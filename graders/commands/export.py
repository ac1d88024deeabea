"""`gradkit export OUTDIR --to canvas|moodle|csv --roster ROSTER.csv`: grades for the LMS.

Reads OUTDIR's gradebook (what `gradkit grade --out OUTDIR` wrote) and writes the file the LMS
imports (`graders/classroom/export.py`), then lists the roster's students with no submission
and the submissions the roster does not know, so nobody is dropped silently.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from graders.commands import UsageError


def add_parser(subparsers) -> None:
    from graders.classroom.export import FORMATS

    parser = subparsers.add_parser(
        "export", help="write a batch's grades as a Canvas, Moodle or plain CSV import file",
        description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path, metavar="OUTDIR", help="a batch's --out folder")
    parser.add_argument("--to", required=True, choices=FORMATS, help="the LMS's import format")
    parser.add_argument("--roster", required=True, type=Path,
                        help="CSV: a 'student' column (gradkit's ids) and the LMS's identity "
                             "columns (name, canvas_id, sis_user_id, sis_login_id, section; "
                             "email or idnumber for Moodle)")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write (default OUTDIR/grades-FORMAT.csv)")
    parser.add_argument("--column", default=None,
                        help="the LMS's assignment column (default: the assignment's name; "
                             "Canvas matches an existing column by 'Name (id)')")
    parser.add_argument("--assignment", default=None,
                        help="export only this assignment's rows (a mixed batch)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from graders.atomic import write_text_atomic
    from graders.classroom.export import RosterError, export, read_roster
    from graders.classroom.gradebook import Gradebook

    if not (args.outdir / "gradebook.sqlite").is_file():
        raise UsageError(f"{args.outdir}: no gradebook.sqlite; run gradkit grade ... --out "
                         f"{args.outdir} first")
    try:
        roster = read_roster(args.roster)
        with Gradebook(args.outdir) as book:
            rows = list(book.rows())
        names = sorted({row.assignment for row in rows})
        column = args.column or args.assignment or ", ".join(names) or "gradkit"
        done = export(rows, roster, args.to, column=column, assignment=args.assignment)
    except RosterError as error:
        raise UsageError(str(error)) from None
    target = args.out or args.outdir / f"grades-{args.to}.csv"
    write_text_atomic(target, done.text)
    print(f"wrote {target}: {len(roster)} students, column {column!r}")
    for student in done.missing:
        print(f"no submission: {student} (in the roster; exported with an empty grade)")
    for student in done.ungradable:
        print(f"not gradable: {student} (exported as 0; see grades.csv for why)")
    for student in done.unknown:
        print(f"not in the roster: {student} (a submission; not exported)")
    return 0
