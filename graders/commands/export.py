"""`gradkit export OUTDIR --to canvas|moodle|csv --roster ROSTER.csv`: grades for the LMS.

Reads OUTDIR's gradebook (what `gradkit grade --out OUTDIR` wrote) and writes the file the LMS
imports (`graders/classroom/export.py`), then lists the roster's students with no submission
and the submissions the roster does not know, so nobody is dropped silently. With `--upload`
(Canvas only) the same grades are also posted to the Canvas assignment through canvasapi, with
the token read from $CANVAS_API_TOKEN, never from the command line where `ps` would show it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from graders.commands import VERBS, UsageError


def add_parser(subparsers) -> None:
    from graders.classroom.export import FORMATS

    parser = subparsers.add_parser(
        "export", help=VERBS["export"],
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
    canvas = parser.add_argument_group("posting to Canvas (needs gradkit[lms])")
    canvas.add_argument("--upload", action="store_true",
                        help="also post the grades to Canvas (token from $CANVAS_API_TOKEN)")
    canvas.add_argument("--comment", action="store_true",
                        help="also post each student's feedback (the Markdown page the batch "
                             "wrote, OUTDIR/results/STUDENT.md) as a comment on their "
                             "submission; posting again adds it again")
    canvas.add_argument("--canvas-url", metavar="URL",
                        help="the Canvas site, e.g. https://canvas.example.edu")
    canvas.add_argument("--course", type=int, metavar="ID", help="the Canvas course id")
    canvas.add_argument("--canvas-assignment", type=int, metavar="ID",
                        help="the Canvas assignment id (in its URL: .../assignments/ID)")
    parser.set_defaults(run=run)


def _check_upload(args: argparse.Namespace) -> None:
    canvas = {"--canvas-url": args.canvas_url, "--course": args.course,
              "--canvas-assignment": args.canvas_assignment}
    if not args.upload:
        given = [flag for flag, value in canvas.items() if value is not None]
        given += ["--comment"] if args.comment else []
        if given:
            raise UsageError(f"{given[0]} is for posting to Canvas: add --upload")
        return
    if args.to != "canvas":
        raise UsageError("--upload posts to Canvas: use it with --to canvas")
    missing = [flag for flag, value in canvas.items() if value is None]
    if missing:
        raise UsageError(f"--upload needs {', '.join(missing)}")


def run(args: argparse.Namespace) -> int:
    from graders.atomic import write_text_atomic
    from graders.classroom.batch import graded_as, max_score
    from graders.classroom.export import RosterError, export, latest, read_roster
    from graders.classroom.gradebook import Gradebook
    from graders.spec.assignments import ConfigError

    _check_upload(args)
    if not (args.outdir / "gradebook.sqlite").is_file():
        raise UsageError(f"{args.outdir}: no gradebook.sqlite; run gradkit grade ... --out "
                         f"{args.outdir} first")
    try:
        roster = read_roster(args.roster)
        with Gradebook(args.outdir) as book:
            rows = list(book.rows())
            names = sorted({row.assignment for row in rows})
            graded = graded_as(book, args.assignment if args.assignment is not None
                               else names[0] if len(names) == 1 else "")
        if len(names) > 1 and args.assignment is None:  # one grade column per import file
            raise UsageError(f"{args.outdir} has grades for {len(names)} assignments "
                             f"({', '.join(names)}): export one at a time with --assignment "
                             "NAME")
        if args.assignment is not None and args.assignment not in names:
            raise UsageError(f"--assignment {args.assignment}: {args.outdir} has no grades "
                             f"for it (it has {', '.join(n or 'unnamed' for n in names)})")
        column = (args.column or args.assignment or ", ".join(n for n in names if n)
                  or graded.name)
        possible = max_score(graded)
        done = export(rows, roster, args.to, column=column, possible=possible,
                      assignment=args.assignment)
    except (RosterError, ConfigError) as error:
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
    other = sorted(student for student, row in latest(rows, args.assignment).items()
                   if row.max_score != possible)
    if other:  # graded before the batch decided the assignment, or under another config
        print(f"note: out of {possible:g} points ({graded.name}), but graded out of another "
              f"maximum: {', '.join(other)}; `gradkit regrade {args.outdir}` grades them as "
              f"{graded.name}")
    if args.upload:
        _post(args, rows, roster, target, possible)
    return 0


def _feedback_reader(outdir: Path):
    """A row's feedback Markdown, as the batch wrote it beside the row's results file."""
    from graders.classroom.storing import feedback_files, results_file

    def read(row) -> str | None:
        target = results_file(outdir, row)
        page = feedback_files(target)["markdown"] if target else None
        return page.read_text(encoding="utf-8") if page and page.is_file() else None

    return read


def _post(args: argparse.Namespace, rows: list, roster: list,
          target: Path, possible: float) -> None:
    """Post to Canvas; a refusal is one line (exit 2) after the import file is written."""
    import os

    from graders.classroom.canvas_upload import TOKEN_VARIABLE, UploadError, grade_data, upload

    try:
        plan = grade_data(rows, roster, args.assignment,
                          feedback=_feedback_reader(args.outdir) if args.comment else None)
        done = upload(plan, url=args.canvas_url, token=os.environ.get(TOKEN_VARIABLE, ""),
                      course=args.course, assignment=args.canvas_assignment)
    except UploadError as error:
        raise UsageError(f"{error} ({target} was written)") from None
    print(f"posted {len(done.posted)} grades to Canvas assignment {done.assignment_name!r} "
          f"({done.state})")
    if args.comment:
        print(f"with {len(done.comments)} feedback comments")
    for student in done.no_comment:
        print(f"no comment: {student} (no feedback page in {args.outdir}/results: graded "
              "before pages were kept; `gradkit regrade --apply` writes them)")
    for student in done.not_posted:
        print(f"not posted: {student} (no submission; the Canvas grade is left as it is)")
    for student in done.no_canvas_id:
        print(f"not posted: {student} (no canvas_id in the roster)")
    if done.points_possible is not None and float(done.points_possible) != possible:
        print(f"note: the Canvas assignment is out of {float(done.points_possible):g} points, "
              f"gradkit's out of {possible:g}; grades were posted as points")
