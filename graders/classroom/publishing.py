"""The class's files, written from the gradebook's rows: grades.csv, summary.md/json, summary.html,
and feedback.html (the index of every student's feedback page, `storing` writes the pages).

They are regenerated at the end of every batch and whenever a regrade's apply or restore makes
another generation current, so they always say what the gradebook says. To add a column to
grades.csv, add a field to `records.Row` (and fill it in `storing.row_of`), then write it in
`export_csv`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from graders import __version__, api
from graders.atomic import open_atomic, write_text_atomic
from graders.classroom import dashboard, summary
from graders.classroom.gradebook import PUBLISH_PENDING, Gradebook
from graders.classroom.records import Row
from graders.classroom.storing import feedback_files, results_file, write_results
from graders.report.encode import csv_cell
from graders.spec.optable import COURSE, Assignment


def publish(rows: list[Row], assignment: Assignment | None, outdir: Path,
            isolation: str) -> None:
    """grades.csv, summary.md/json, summary.html and feedback.html, all from the gradebook's
    rows."""
    columns = assignment or whole_course()
    export_csv(rows, columns, outdir / "grades.csv")
    write_text_atomic(outdir / INDEX, feedback_index(rows, outdir))
    summary.write(rows, columns, outdir)
    dashboard.write(rows, summary.summarize(rows, columns)[0], outdir, isolation=isolation,
                    grader=__version__, assignment=assignment)


INDEX = "feedback.html"  # OUTDIR's index of the students' feedback pages


def feedback_index(rows: list[Row], outdir: Path) -> str:
    """OUTDIR/feedback.html: one line per student (score, why not graded, what to look at) with
    links to their feedback page and its Markdown, relative so OUTDIR can be moved or zipped;
    a page that is not there (graded before pages were kept) is said, not linked."""
    from urllib.parse import quote

    from graders.report import html

    entries = []
    for row in sorted(rows, key=lambda r: (r.assignment, r.student)):
        target = results_file(outdir, row)
        links = {kind: f"results/{quote(path.name)}"
                 for kind, path in (feedback_files(target) if target else {}).items()
                 if path.exists()}
        entries.append((row, links))
    return html.render("feedback_index.html.j2", entries=entries)


def publish_generation(outdir: Path, book: Gradebook) -> None:
    """Write the files of the generation a regrade's apply or restore made current (results
    files from the gradebook's copy of their text, grades.csv, the summaries); until they are
    written, the gradebook marks them pending, and the next grade or regrade writes them."""
    results = book.results_of(book.generation())
    rows = list(book.rows())
    for row in rows:
        text = results.get((row.student, row.assignment))
        if text and row.results_file:
            write_results(results_file(outdir, row), json.loads(text))
    settings = book.batch_settings()
    publish(rows, settings.config, outdir, api.planned_isolation(settings.strong))
    book.set_setting(PUBLISH_PENDING, "")


def finish_publishing(outdir: Path, book: Gradebook) -> None:
    """Finish an apply or restore that was interrupted after the gradebook changed."""
    if book.setting(PUBLISH_PENDING):
        publish_generation(outdir, book)


def whole_course() -> Assignment:
    """Every task of the course in course order: grades.csv's columns for a mixed batch."""
    return Assignment("course", tuple(key for a in COURSE for key in a.ops))


def export_csv(rows: list[Row], assignment: Assignment, path: Path) -> None:
    """grades.csv: one row per student, a column of points per op, total, the problem, and
    the note (a file that looks like another assignment, then the row's flags: a cell
    interrupted, an op's time limit hit). Every text cell goes through `csv_cell`; numbers
    are the grader's own."""
    present = {op.op for row in rows for op in row.ops}
    ops = [key for key in assignment.ops if key in present]
    ops += sorted(present - set(ops))
    with_assignment = any(row.assignment for row in rows)
    header = ["student", *(["assignment"] if with_assignment else []), *ops,
              "total", "max_score", "problem", "note"]
    with open_atomic(path, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            points = {op.op: op.points for op in row.ops}
            writer.writerow([csv_cell(row.student),
                             *([csv_cell(row.assignment)] if with_assignment else []),
                             *(f"{points[key]:g}" if key in points else "" for key in ops),
                             f"{row.score:g}", f"{row.max_score:g}", csv_cell(row.problem or ""),
                             csv_cell("; ".join(filter(None, [row.note, *row.flags])))])
