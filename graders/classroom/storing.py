"""Storing one graded submission: its results file and feedback pages, a copy of the graded
bytes, its gradebook row.

Beside each results file (OUTDIR/results/STUDENT.json) are the student's feedback page and its
Markdown (STUDENT.html, STUDENT.md): the student's view (`report.html.page`,
`report.markdown.page_markdown`), so hidden checks show a verdict only, ready to hand back. Their
text is kept inside the results file too (`extra_data.feedback`), so a regrade's generation,
applied or restored from the results text the gradebook keeps, writes the pages that go with
its grades and never leaves one from another generation.

The order is what makes a batch safe to kill at any moment: the results file is written
(atomically) first, then the gradebook row is committed (one transaction); a submission is
"done" only once its row is. Failing to store one grade makes that row's reason (score 0, retried
next run), never the end of the batch.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path, PurePath

from graders import api
from graders.api import SubmissionError, open_regular
from graders.atomic import copy_atomic, write_json_atomic, write_text_atomic
from graders.classroom.gradebook import Gradebook, content_hash
from graders.classroom.records import Graded, Job, OpRow, Retry, Row
from graders.model import Result
from graders.report import html
from graders.report.gradescope import gradescope
from graders.report.markdown import page_markdown

STORE = "store"  # OUTDIR/store: a copy of every graded file, by content hash (for regrades)


def results_name(student: str, folder: str) -> str:
    return f"{student}__{folder}.json" if folder else f"{student}.json"


def results_file(outdir: Path, row: Row) -> Path | None:
    """Where the row's results file is now: under OUTDIR/results, wherever OUTDIR has moved."""
    return outdir / "results" / Path(row.results_file).name if row.results_file else None


FEEDBACK = {"html": ".html", "markdown": ".md"}  # extra_data.feedback's texts, by file suffix


def feedback_files(results: Path) -> dict[str, Path]:
    """The feedback pages beside a results file, by kind ("html", "markdown")."""
    return {kind: results.with_suffix(suffix) for kind, suffix in FEEDBACK.items()}


def write_feedback(results: Path, data: dict) -> None:
    """Write the feedback pages a results file's data carries beside it (atomically, each); a
    results file from before they were kept has none, and any stale page is removed rather
    than left to disagree with the grade."""
    texts = (data.get("extra_data") or {}).get("feedback") or {}
    for kind, path in feedback_files(results).items():
        if isinstance(texts.get(kind), str):
            write_text_atomic(path, texts[kind])
        else:
            path.unlink(missing_ok=True)


def write_results(target: Path, data: dict) -> None:
    """A results file, then its feedback pages."""
    write_json_atomic(target, data)
    write_feedback(target, data)


def stored_copy(outdir: Path, digest: str, path: str | Path) -> Path:
    return Path(outdir) / STORE / f"{digest}{Path(path).suffix}"


def unscored(job: Job, reason: str, retry: Retry | None = None) -> Graded:
    """What a submission that cannot be graded gets: score 0, every op, the reason."""
    return Graded(api.unscored(job.submitted, job.assignment, reason), retry)


def failed(job: Job, reason: str) -> Graded:
    """The grade of a submission the grader failed on: score 0 with the reason, retried by the
    next run."""
    return unscored(job, reason, Retry.ERROR)


def results_text(job: Job, graded: Graded) -> str:
    """The results file's JSON text (what a regrade keeps for a staged generation)."""
    return json.dumps(_results_data(job, graded))


def _results_data(job: Job, graded: Graded) -> dict:
    """The results file: Gradescope's results.json, with who, which file and which seed."""
    data = gradescope(graded.result)
    data.setdefault("extra_data", {}).update(
        {"student": job.student, "seed": job.seed, "content_hash": job.content_hash,
         "grader": job.grader + (f"!{graded.retry.value}" if graded.retry else ""),
         "feedback": _feedback(job, graded.result)})
    return data


def _feedback(job: Job, result: Result) -> dict[str, str]:
    """The student's feedback pages, naming their file as they named it (not the folder it
    was graded from on the instructor's disk)."""
    shown = replace(result, submission=PurePath(job.submitted).name or job.submitted)
    return {"html": html.page(shown, "student"), "markdown": page_markdown(shown, "student")}


def row_of(job: Job, graded: Graded, target: Path | None) -> Row:
    """The gradebook row of a graded job (naming the file as submitted)."""
    result: Result = graded.result
    return Row(job.student, job.folder, job.submitted, job.content_hash, job.grader, job.seed,
               result.score, result.max_score, result.problem,
               str(target) if target else None, result.seconds,
               tuple(OpRow.of(op) for op in result.ops), result.assignment_note,
               tuple(result.flags), graded.retry)


def store(book: Gradebook, results_dir: Path, job: Job, graded: Graded,
          keep_copy: bool = True) -> tuple[Row, Graded]:
    """Results file first, then the gradebook row; returns the row and the grade stored (a
    grade that could not be stored is replaced by the reason it could not)."""
    target: Path | None = results_dir / results_name(job.student, job.folder)
    try:
        write_results(target, _results_data(job, graded))
        if keep_copy:
            keep(stored_copy(results_dir.parent, job.content_hash, job.path), job)
        row = row_of(job, graded, target)
        book.record(row)
    except Exception as error:
        graded = failed(job, api.grader_failure(job.submitted, error, "storing the grade of"))
        try:
            write_results(target, _results_data(job, graded))
        except OSError:  # the same file cannot be written: the row alone carries the reason
            target = None
        row = row_of(job, graded, target)
        book.record(row)
    return row, graded


def keep(copy: Path, job: Job) -> None:
    """The graded bytes, for `gradkit regrade`; kept only if they still hash as graded (a file
    that changed or vanished meanwhile is not regraded: its row is kept as it is)."""
    if job.content_hash.startswith("unreadable-") or copy.exists():
        return
    try:
        with os.fdopen(open_regular(Path(job.path)), "rb") as source:
            copy_atomic(source, copy, keep=lambda copied: content_hash(copied) == job.content_hash)
    except (OSError, SubmissionError):
        pass
